#!/usr/bin/env bash
# The prepared GPU check (docs/gpu.md): installs the carried wheels offline, prints the
# environment, then runs scripts/device/check.py's phases (env, throughput, the gpu_mini study,
# torch.compile throughput), each under its own time budget, all ending before the deadline
# (default 540 s after this script starts, inside the device tool's 600 s limit). Results:
# device_check.{json,md,log} and the report's main PNGs in $OUT (or --out).
#
#   bash scripts/device/check.sh                     # on the H200, with carry [".whl"]
#   bash scripts/device/check.sh --smoke --python .venv-device/bin/python --out /tmp/x
#                                                    # every phase at tiny scale on CPU
# options: --smoke, --out DIR, --python PY (default python3), --wheels DIR (default .whl for
# Python 3.12, else .whl-cpXY from fetch_wheels.sh --python-version X.Y), --budget SECONDS,
# --skip PHASE... (env, throughput, study, compile)
set -uo pipefail
START=$(date +%s)
cd "$(dirname "$0")/../.."
REPO=$(pwd)

SMOKE=""
OUT_DIR="${OUT:-}"
PY=python3
WHEELS=""
BUDGET=""
SKIP=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=--smoke; shift ;;
    --out) OUT_DIR="$2"; shift 2 ;;
    --python) PY="$2"; shift 2 ;;
    --wheels) WHEELS="$2"; shift 2 ;;
    --budget) BUDGET="$2"; shift 2 ;;
    --skip) shift; while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do SKIP+=("$1"); shift; done ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "check.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$OUT_DIR" ]; then
  echo "check.sh: no results folder: set \$OUT (the device tool does) or pass --out DIR" >&2
  exit 2
fi
if [ -z "$BUDGET" ]; then
  if [ -n "$SMOKE" ]; then BUDGET=420; else BUDGET=540; fi
fi
PYVER=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")') || {
  echo "check.sh: cannot run $PY" >&2; exit 2; }
if [ -z "$WHEELS" ]; then
  if [ "$PYVER" = 3.12 ]; then WHEELS=.whl; else WHEELS=".whl-cp${PYVER/./}"; fi
fi
if ! ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  echo "check.sh: no wheels in $WHEELS/: run scripts/device/fetch_wheels.sh --python-version" \
       "$PYVER here and name the folder in the run's carry" >&2
  exit 2
fi
mkdir -p "$OUT_DIR"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bridgelab-device.XXXXXX")

echo "== install: $(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS into $TMP/site (offline, --no-deps)"
# --no-deps: the image already has torch and the rest; wheels.py checked the set is complete
"$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --disable-pip-version-check --root-user-action=ignore --target "$TMP/site" "$WHEELS"/*.whl \
  || { echo "check.sh: offline install of $WHEELS failed" >&2; exit 3; }
export PYTHONPATH="$TMP/site:$REPO${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
export MPLBACKEND=Agg
if [ -n "$SMOKE" ]; then
  # CPU smoke: one thread per process keeps it light beside other jobs
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" CUDA_VISIBLE_DEVICES=""
else
  # one GPU, one host: NCCL's bootstrap needs only loopback, and the VM may have no other
  # interface it would pick by default
  export NCCL_SOCKET_IFNAME="${NCCL_SOCKET_IFNAME:-lo}"
fi

echo "== environment"
echo "date: $(date -u +%FT%TZ)  host: $(uname -srm)  cpus: $(getconf _NPROCESSORS_ONLN)  mode: ${SMOKE:-gpu}"
echo "python: $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
free -g 2>/dev/null | sed -n 2p | awk '{print "memory: " $2 " GiB"}'
df -h "$TMP" | tail -1 | awk '{print "scratch disk: " $4 " free"}'
if command -v nvidia-smi >/dev/null 2>&1 && [ -z "$SMOKE" ]; then nvidia-smi -L; fi
"$PY" - <<'PYEOF'
import importlib.metadata as md
names = ["torch", "transformers", "tokenizers", "deepspeed", "pydantic", "bm25s", "numpy"]
print("  ".join(f"{n} {md.version(n)}" for n in names))
PYEOF

ARGS=(--out "$OUT_DIR" --work "$TMP/work" --deadline "$((START + BUDGET))")
[ -n "$SMOKE" ] && ARGS+=(--smoke)
[ ${#SKIP[@]} -gt 0 ] && ARGS+=(--skip "${SKIP[@]}")
"$PY" scripts/device/check.py "${ARGS[@]}"
RC=$?
echo "== results in $OUT_DIR: $(ls "$OUT_DIR" | tr '\n' ' ')"
# the scratch folder holds GBs of model states on the GPU run; results are already in OUT
rm -rf "$TMP"
echo "== check.sh done in $(( $(date +%s) - START )) s (budget $BUDGET s), exit $RC"
exit $RC
