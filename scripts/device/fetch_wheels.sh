#!/usr/bin/env bash
# Download, here, the wheels of what the GPU check needs and the H200 image lacks
# (scripts/device/requirements.txt), into an ignored folder that travels with `carry`.
#
#   scripts/device/fetch_wheels.sh                          # cp312 wheels into .whl/ (the device)
#   scripts/device/fetch_wheels.sh --python-version 3.11    # cp311 into .whl-cp311/ (CPU smoke)
#   options: --dest DIR, --max-mib N (default 60: the tree plus wheels must stay under it)
#
# Binary wheels come for manylinux x86-64 whatever this machine is; deepspeed, an sdist, is built
# here into a pure-python py3-none-any wheel with DS_BUILD_OPS=0 (no compiled ops). Wheels
# already in DEST are kept, so a second run only checks. Then scripts/device/wheels.py checks
# that the set is complete (every runtime requirement carried or in the image) and the size.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYVER=3.12
DEST=""
MAX_MIB=60
PYTHON="${PYTHON:-python3}"
while [ $# -gt 0 ]; do
  case "$1" in
    --python-version) PYVER="$2"; shift 2 ;;
    --dest) DEST="$2"; shift 2 ;;
    --max-mib) MAX_MIB="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "fetch_wheels.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$PYVER" in
  3.[0-9]|3.[0-9][0-9]) ;;
  *) echo "fetch_wheels.sh: --python-version must look like 3.12, got '$PYVER'" >&2; exit 2 ;;
esac
TAG="cp${PYVER/./}"
if [ -z "$DEST" ]; then
  if [ "$PYVER" = 3.12 ]; then DEST=.whl; else DEST=".whl-$TAG"; fi
fi
mkdir -p "$DEST"

# pip matches manylinux_2_N exactly: name the common ones (older tags first)
PLATFORMS=(--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux_2_24_x86_64 --platform manylinux_2_27_x86_64
           --platform manylinux_2_28_x86_64 --platform manylinux_2_34_x86_64)

have_wheel() {  # NAME VERSION: is a wheel of exactly that version in DEST?
  local stem
  stem="$(echo "$1" | tr 'A-Z-.' 'a-z__')-$2-"
  ls "$DEST" 2>/dev/null | tr 'A-Z' 'a-z' | grep -q "^${stem}.*\.whl$"
}

grep -v '^\s*#' scripts/device/requirements.txt | sed 's/#.*//' | while read -r line; do
  [ -z "$line" ] && continue
  name="${line%%==*}"
  version="${line##*==}"
  if have_wheel "$name" "$version"; then
    continue
  fi
  if [ "$name" = deepspeed ]; then
    echo "building deepspeed==$version into a py3-none-any wheel (DS_BUILD_OPS=0)"
    DS_BUILD_OPS=0 "$PYTHON" -m pip wheel -q --no-deps "deepspeed==$version" -w "$DEST"
  else
    echo "downloading $name==$version ($TAG manylinux x86-64 or pure python)"
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --implementation cp \
      --python-version "$PYVER" --abi "$TAG" --abi abi3 --abi none "${PLATFORMS[@]}" \
      -d "$DEST" "$name==$version"
  fi
done
"$PYTHON" scripts/device/wheels.py "$DEST" --python-version "$PYVER" --max-mib "$MAX_MIB"
