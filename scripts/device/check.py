"""The GPU check's driver (run by scripts/device/check.sh; docs/gpu.md).

Runs each phase in a subprocess of its own process group under its own time budget, all within
one deadline: a phase that overruns is stopped (SIGTERM, then SIGKILL) and recorded as
`timeout`, a phase that fails is recorded with its exit code and log tail, and the phases after
it still run. Then it writes, into --out, at most 8 files: device_check.json (everything),
device_check.md (the tables and the results row for docs/gpu.md), device_check.log (each
phase's log tail) and the report's main PNGs.

Phases (GPU mode; --smoke runs the same phases on CPU at tiny scale):
  env         versions, GPU, attention implementation, DeepSpeed's accelerator
  throughput  Qwen2.5-0.5B preset, bf16, seq 2048, ZeRO-1, synthetic shards, ~30 timed steps
              through the real trainer (bridgelab.pretrain.throughput): tokens/s, MFU, memory
  study       `bridgelab study -c configs/study/gpu_mini.yaml`, the whole chain and its report
  compile     the throughput phase again with model.compile=true, if the time left allows
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MAX_FILES = 8  # what the device tool brings back from $OUT
MAX_LOG_BYTES = 4 * 2**20
# the report's figures worth bringing back, in order of interest (at most 5 fit beside the
# json, the markdown and the log)
# the calibration curve and the alignment over CPT steps first: at GPU scale the question is
# whether CPT reaches the alignment the calibration says transfer needs (issue 13)
MAIN_PNGS = ("calibration.png", "alignment.png", "transfer_curves.png", "pretrain_loss.png",
             "cpt_loss.png")  # fmt: skip
RESERVE_S = 20  # kept back from the deadline for writing the results

# The tiny scale of --smoke: the same study file with its vars scaled down to the tiny world
# and model on CPU (configs/study/gpu_mini.yaml documents the vars).
SMOKE_STUDY = [
    "stages.synth.config=configs/synth/tiny.yaml",
    "vars.en_cultures='1'", "vars.vocab='1000'", "vars.device=cpu", "vars.dtype=fp32",
    "vars.preset=tiny", "vars.seq_len='64'", "vars.batch='8'", "vars.pretrain_steps='20'",
    "vars.pretrain_warmup='2'", "vars.pretrain_hf_step='10'", "vars.cpt_steps='4'",
    "vars.cpt_warmup='1'", "vars.cpt_hf_step='2'", "vars.probe_batch='32'",
    "vars.cal_weights='[0.0, 0.5, 1.0]'", "vars.cal_sentences='32'", "vars.cal_swap='8'",
]  # fmt: skip
GPU_THROUGHPUT = ["--preset", "qwen2.5-0.5b", "--seq-len", "2048", "--micro-batch-size", "16",
                  "--warmup", "5", "--timed", "30", "--dtype", "bf16", "--zero-stage", "1",
                  "--device", "cuda"]  # fmt: skip
# a loss chunk of 64 tokens splits the smoke's 256-token micro-batch into 4 checkpointed chunks,
# the code path the GPU run's 32,768 tokens take with chunks of 8,192 (also under compile)
SMOKE_THROUGHPUT = ["--preset", "tiny", "--seq-len", "64", "--micro-batch-size", "4",
                    "--warmup", "2", "--timed", "5", "--dtype", "fp32", "--zero-stage", "1",
                    "--device", "cpu", "--vocab-size", "0", "--loss-chunk-size", "64"]  # fmt: skip
# (phase, planned budget in seconds): GPU, smoke
BUDGETS = {
    "gpu": {"env": 60, "throughput": 150, "study": 300, "compile": 180},  # of 540 s
    "smoke": {"env": 60, "throughput": 90, "study": 150, "compile": 150},
}
MIN_COMPILE_S = 90  # below this the compiled run cannot finish its compilation: skip it


def env_report() -> dict[str, Any]:
    """Versions and hardware, gathered in a child process (imports can be slow or fail)."""
    import importlib.metadata as md
    import platform

    info: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    for dist in ("torch", "transformers", "tokenizers", "deepspeed", "pydantic", "bm25s",
                 "numpy", "scipy", "sentence-transformers", "accelerate", "safetensors",
                 "faiss-cpu", "flash-attn", "datasets"):  # fmt: skip
        try:
            info[dist] = md.version(dist)
        except md.PackageNotFoundError:
            info[dist] = None
    import torch

    info["torch_cuda"] = torch.version.cuda
    info["cuda_available"] = torch.cuda.is_available()
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["gpu"] = props.name
        info["gpu_count"] = torch.cuda.device_count()
        info["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        info["gpu_capability"] = f"{props.major}.{props.minor}"
        info["gpu_multiprocessors"] = props.multi_processor_count
        info["bf16_supported"] = torch.cuda.is_bf16_supported()
    smi = shutil.which("nvidia-smi")
    if smi:
        query = "--query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit"
        out = subprocess.run([smi, query, "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=30)  # fmt: skip
        info["nvidia_smi"] = out.stdout.strip() or out.stderr.strip()
    from bridgelab.pretrain.model import resolve_attention

    info["attn_implementation_auto_bf16"] = resolve_attention("auto", "bf16")
    import deepspeed
    from deepspeed.accelerator import get_accelerator

    info["deepspeed_accelerator"] = get_accelerator()._name
    info["deepspeed_file"] = deepspeed.__file__
    return info


class Phase:
    def __init__(self, name: str, cmd: list[str], budget_s: float, log: Path):
        self.name, self.cmd, self.budget_s, self.log = name, cmd, budget_s, log

    def run(self) -> dict[str, Any]:
        print(f"== {self.name}: budget {self.budget_s:.0f} s: {' '.join(self.cmd)}", flush=True)
        t0 = time.time()
        with open(self.log, "w", encoding="utf-8") as fh:
            # a process group of its own, so a timeout stops every process the phase started
            proc = subprocess.Popen(self.cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # fmt: skip
            status = "ok"
            try:
                rc = proc.wait(timeout=self.budget_s)
            except subprocess.TimeoutExpired:
                status = "timeout"
                # SIGTERM first: the trainer saves its state and exits on it
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    rc = proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    rc = proc.wait()
            else:
                if rc != 0:
                    status = "failed"
        seconds = round(time.time() - t0, 1)
        print(f"== {self.name}: {status} (rc {rc}) in {seconds} s", flush=True)
        return {"status": status, "rc": rc, "seconds": seconds,
                "budget_s": round(self.budget_s), "log_tail": tail(self.log, 40)}  # fmt: skip


def tail(path: Path, lines: int) -> str:
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    # progress bars redraw with carriage returns: keep each line's last state
    rows = [row.rsplit("\r", 1)[-1] for row in text.splitlines()]
    return "\n".join(rows[-lines:])


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="results folder ($OUT)")
    parser.add_argument("--work", required=True, type=Path, help="scratch folder")
    parser.add_argument("--smoke", action="store_true", help="every phase at tiny scale on CPU")
    parser.add_argument("--deadline", type=float, help="epoch seconds by which all must end")
    parser.add_argument("--budget", type=float, default=540, help="seconds, if no --deadline")
    parser.add_argument("--skip", nargs="*", default=[], help="phases not to run")
    parser.add_argument("--env-json", type=Path, help=argparse.SUPPRESS)  # the env child
    args = parser.parse_args(argv)
    if args.env_json:
        args.env_json.write_text(json.dumps(env_report(), indent=2), encoding="utf-8")
        return 0

    started = time.time()
    deadline = args.deadline or started + args.budget
    mode = "smoke" if args.smoke else "gpu"
    out, work = args.out, args.work
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    plans = dict(BUDGETS[mode])
    study_dir = work / "study"
    report: dict[str, Any] = {
        "mode": mode,
        "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
        "deadline_s": round(deadline - started),
        "phases": {},
    }

    def left() -> float:
        return deadline - RESERVE_S - time.time()

    def run_phase(name: str, cmd: list[str], minimum: float = 10) -> dict[str, Any] | None:
        budget = min(plans[name], left())
        if name in args.skip:
            report["phases"][name] = {"status": "skipped", "reason": "--skip"}
            return None
        if budget < minimum:
            report["phases"][name] = {
                "status": "skipped",
                "reason": f"{max(budget, 0):.0f} s left of the deadline, needs {minimum:.0f}",
            }
            print(f"== {name}: skipped ({report['phases'][name]['reason']})", flush=True)
            return None
        result = Phase(name, cmd, budget, work / f"{name}.log").run()
        report["phases"][name] = result
        return result

    # env
    env_json = work / "env.json"
    run_phase("env", [py, str(Path(__file__).resolve()), "--out", str(out), "--work",
                      str(work), "--env-json", str(env_json)])  # fmt: skip
    report["env"] = read_json(env_json)

    # throughput, eager
    tp_args = SMOKE_THROUGHPUT if args.smoke else GPU_THROUGHPUT
    tp_json = work / "throughput.json"
    run_phase("throughput", [py, "-m", "bridgelab.pretrain.throughput", "--root",
                             str(work / "throughput"), "--json", str(tp_json), *tp_args])  # fmt: skip
    report["throughput"] = read_json(tp_json)

    # the mini study
    study_cmd = [py, "-m", "bridgelab.cli", "study", "-c", "configs/study/gpu_mini.yaml",
                 f"out_dir={study_dir}"]  # fmt: skip
    if args.smoke:
        study_cmd += SMOKE_STUDY
    # the study comes first after the eager numbers: it may use the time the compile phase
    # would need down to its planned budget ("compile if time allows")
    plans["study"] = max(plans["study"], left() - MIN_COMPILE_S - 10)
    run_phase("study", study_cmd, minimum=60)
    report["study"] = {
        "status_file": read_json(study_dir / "study.json"),
        "headline": read_json(study_dir / "report" / "headline.json"),
    }

    # throughput, torch.compile
    cp_json = work / "throughput_compile.json"
    run_phase("compile", [py, "-m", "bridgelab.pretrain.throughput", "--root",
                          str(work / "throughput_compile"), "--json", str(cp_json), *tp_args,
                          "--compile"], minimum=MIN_COMPILE_S)  # fmt: skip
    report["throughput_compile"] = read_json(cp_json)

    report["seconds"] = round(time.time() - started, 1)
    write_outputs(report, out, work, study_dir)
    bad = [n for n, p in report["phases"].items() if p["status"] not in ("ok", "skipped")]
    print(f"device check ({mode}) in {report['seconds']} s; phases: "
          + ", ".join(f"{n} {p['status']}" for n, p in report["phases"].items()))  # fmt: skip
    return 1 if bad else 0


# ---------------------------------------------------------------- outputs


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def headline_summary(headline: dict[str, Any] | None) -> str:
    """One line for the results table: pretraining loss and the transfer tests."""
    if not headline:
        return "no report"
    parts = []
    loss = headline.get("pretrain_loss") or {}
    if loss:
        parts.append(f"pretrain loss {_fmt(loss.get('first'), '.2f')}->"
                     f"{_fmt(loss.get('last'), '.2f')}")  # fmt: skip
    rows = headline.get("transfer") or []
    if rows:
        sig = [r for r in rows if r.get("significant")]
        best = max(rows, key=lambda r: r.get("diff") or 0)
        parts.append(f"bridge-nobridge: {len(sig)}/{len(rows)} directions significant, "
                     f"largest {best['direction']} {best['diff']:+.3f}")  # fmt: skip
    cells = headline.get("exposure_tests") or []
    if cells:  # the transfer cells alone: the whole-language test mixes in direct knowledge
        sig = sum(bool(r.get("significant")) for r in cells)
        parts.append(f"transfer cells: {sig}/{len(cells)} significant")
    reached = (headline.get("alignment_reached") or {}).get("retrieval")
    if reached is not None:
        parts.append(f"max retrieval P@1 {reached:.2f}")
    return "; ".join(parts) or "no headline numbers"


def render_markdown(report: dict[str, Any]) -> str:
    env = report.get("env") or {}
    lines = [f"# Device check ({report['mode']}), {report['started']}", ""]
    lines += ["## Phases", "", "| phase | status | seconds | budget s |", "|---|---|---|---|"]
    for name, p in report["phases"].items():
        status = p["status"] + (f" (rc {p['rc']})" if p.get("status") == "failed" else "")
        if p.get("reason"):
            status += f": {p['reason']}"
        lines.append(
            f"| {name} | {status} | {_fmt(p.get('seconds'))} | {_fmt(p.get('budget_s'))} |"
        )
    lines += ["", f"Total {report.get('seconds')} s.", "", "## Environment", ""]
    for key in ("gpu", "nvidia_smi", "gpu_memory_gib", "gpu_capability", "cpus", "python",
                "torch", "torch_cuda", "transformers", "tokenizers", "deepspeed",
                "deepspeed_accelerator", "attn_implementation_auto_bf16", "flash-attn",
                "bm25s", "faiss-cpu"):  # fmt: skip
        lines.append(f"- {key}: {_fmt(env.get(key))}")
    lines += ["", "## Throughput (through bridgelab's trainer, DeepSpeed)", ""]
    lines += ["| run | model | tokens/step | tokens/s | MFU | model TFLOP/s | step s (median) "
              "| peak mem GiB | attention |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    tp = None
    for label, key in (("eager", "throughput"), ("torch.compile", "throughput_compile")):
        tp_row = report.get(key)
        if not tp_row:
            status = report["phases"].get("compile" if key.endswith("compile") else "throughput")
            lines.append(f"| {label} | - | - | - | - | - | - | - | "
                         f"{(status or {}).get('status', 'not run')} |")  # fmt: skip
            continue
        tp = tp or tp_row
        lines.append(
            f"| {label} | {tp_row['preset']} {tp_row['dtype']} ZeRO-{tp_row['zero_stage']} "
            f"| {tp_row['tokens_per_step']:,} | {tp_row['tokens_per_s']:,.0f} "
            f"| {_fmt(tp_row.get('mfu'), '.1%')} | {_fmt(tp_row.get('model_tflops_per_s'))} "
            f"| {tp_row['step_time_s_median']} | {_fmt(tp_row.get('max_mem_gib_allocated'))} "
            f"| {tp_row['attn_implementation']} |"
        )
    if tp:
        peak = tp.get("peak_tflops")
        against = (f"MFU against {peak:g} TFLOP/s (H100/H200 SXM dense bf16)" if peak
                   else "no MFU off the GPU")  # fmt: skip
        lines += ["", f"FLOPs/token {tp['flops_per_token']:.4g} ({tp['flops_formula']}; "
                  f"{tp['parameters']:,} parameters, vocab {tp['vocab_size']:,}, seq "
                  f"{tp['seq_len']}); {against}. {tp['timed_steps']} timed steps after "
                  f"{tp['warmup_steps']} warm-up steps {tp['warmup_step_time_s']} s."]  # fmt: skip
        if tp.get("sdpa_kernels"):
            lines.append(f"SDPA kernels (standalone call, model shapes): {tp['sdpa_kernels']}")
    study = report.get("study") or {}
    status = (study.get("status_file") or {}).get("stages", {})
    lines += ["", "## GPU mini study (configs/study/gpu_mini.yaml)", "",
              "| stage | status | seconds |", "|---|---|---|"]  # fmt: skip
    for name, s in status.items():
        lines.append(f"| {name} | {s.get('status')} | {_fmt(s.get('seconds'))} |")
    if not status:
        lines.append("| (no stage finished) | - | - |")
    elif (report["phases"].get("study") or {}).get("status") != "ok":
        lines += ["", "The study phase did not finish: stages missing above did not complete."]
    headline = study.get("headline")
    lines += ["", f"Headline: {headline_summary(headline)}", ""]
    if headline and headline.get("transfer"):
        lines += ["| culture | direction | bridge - nobridge | p (adjusted) | significant |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for r in headline["transfer"]:
            lines.append(f"| {r['culture']} | {r['direction']} | {r['diff']:+.3f} | "
                         f"{_fmt(r.get('p_adjusted'), '.3g')} | {r.get('significant')} |")  # fmt: skip
    if headline and headline.get("calibration"):
        # the positive control (calibrate stage): does an oracle clone's transfer show?
        lines += ["", "| calibration direction | scorer | oracle transfer | untrained | chance |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for r in headline["calibration"]:
            lines.append(f"| {r.get('direction')} | {r.get('scorer')} | "
                         f"{_fmt(r.get('oracle_transfer'), '.3f')} | "
                         f"{_fmt(r.get('untrained_transfer'), '.3f')} | "
                         f"{_fmt(r.get('chance'), '.2f')} |")  # fmt: skip
    tests = (headline or {}).get("alignment_tests") or []
    if tests:
        sig = sum(bool(t.get("significant")) for t in tests)
        lines += ["", f"Alignment bridge vs nobridge: {sig} of {len(tests)} tests significant."]
    if headline and headline.get("validation"):
        lines += ["", "| corpus | recall@k | judge precision | count MAE |", "|---|---|---|---|"]
        for r in headline["validation"]:
            lines.append(f"| {r['corpus']} | {_fmt(r.get('recall_at_k'), '.3f')} | "
                         f"{_fmt(r.get('judge_precision'), '.3f')} | "
                         f"{_fmt(r.get('count_mae'), '.2f')} |")  # fmt: skip
    lines += ["", "## Row for docs/gpu.md", "", results_row(report), ""]
    return "\n".join(lines)


def results_row(report: dict[str, Any]) -> str:
    """The docs/gpu.md results-table row of this run."""
    env = report.get("env") or {}
    tp = report.get("throughput") or {}
    cp = report.get("throughput_compile") or {}
    study = report.get("study") or {}
    seconds = (study.get("status_file") or {}).get("seconds")
    date = report["started"][:10]
    return (
        f"| {date} | {env.get('gpu', '-')} | torch {env.get('torch', '-')}, transformers "
        f"{env.get('transformers', '-')}, deepspeed {env.get('deepspeed', '-')} "
        f"| {_fmt(tp.get('tokens_per_s'), ',.0f')} | {_fmt(tp.get('mfu'), '.1%')} "
        f"| {_fmt(cp.get('tokens_per_s'), ',.0f')} | {_fmt(cp.get('mfu'), '.1%')} "
        f"| {_fmt(tp.get('max_mem_gib_allocated'))} | {_fmt(seconds)} "
        f"| {headline_summary(study.get('headline'))} |"
    )


def write_outputs(report: dict[str, Any], out: Path, work: Path, study_dir: Path) -> None:
    """device_check.{json,md,log} and up to 5 PNGs: never more than MAX_FILES files."""
    (out / "device_check.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md = render_markdown(report)
    (out / "device_check.md").write_text(md, encoding="utf-8")
    with open(out / "device_check.log", "w", encoding="utf-8") as fh:
        budget = MAX_LOG_BYTES // max(len(report["phases"]), 1)
        for name in report["phases"]:
            log = work / f"{name}.log"
            if log.is_file():
                text = tail(log, 2000)[-budget:]
                fh.write(f"===== {name} ({log})\n{text}\n")
    room = MAX_FILES - 3
    png_dir = study_dir / "report" / "png"
    for name in MAIN_PNGS[:room]:
        if (png_dir / name).is_file():
            shutil.copyfile(png_dir / name, out / name)
    print(md)


if __name__ == "__main__":
    sys.exit(main())
