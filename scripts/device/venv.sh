#!/usr/bin/env bash
# Build .venv-device (or $DEVICE_VENV): a CPU stand-in for the H200 image with its transformers
# and tokenizers versions (scripts/device/image_requirements.txt), and the cp3XX wheels the smoke
# run installs offline like the device does (.whl-cp3XX, scripts/device/fetch_wheels.sh).
# Nothing of bridgelab is installed into it: check.sh puts the repo on PYTHONPATH, as there.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${DEVICE_VENV:-.venv-device}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.installed"
want=$(cat scripts/device/image_requirements.txt constraints/ci.txt | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # constraints/ci.txt pins the CPU torch wheel (never plain torch: that pulls CUDA)
  "$VENV/bin/python" -m pip install -q -c constraints/ci.txt -r scripts/device/image_requirements.txt
  echo "$want" > "$STAMP"
fi
PYVER=$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
PYTHON="$VENV/bin/python" bash scripts/device/fetch_wheels.sh --python-version "$PYVER"
