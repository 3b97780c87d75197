#!/usr/bin/env bash
# Creates (or checks) the project's virtual environment with the pinned OpenMMLab stack and cpn_mm
# installed editable. Idempotent: a second run only checks a stamp and imports, in seconds.
#
#   bash tools/setup_env.sh          # or: make setup
#
# Environment variables:
#   PYTHON          interpreter to build the venv from (default: python3.11, else python3)
#   VENV            where the venv goes (default: <repo>/.venv)
#   CPN_MM_CACHE    cache outside the clone for wheels we compile (default: ~/.cache/cpn_mm)
#   MAX_JOBS        parallel compile jobs for mmcv (default: number of cores)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
CACHE="${CPN_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cpn_mm}"
WHEELS="$CACHE/wheels"
MMCV_VERSION=2.1.0
XTCOCO_VERSION=1.14.3
STAMP="$VENV/.cpn_mm_setup"

step() { CURRENT_STEP="$1"; echo "[setup] $1"; }
fail() {
  echo "[setup] FAILED at step: ${CURRENT_STEP:-start}" >&2
  echo "[setup] what to try: $1" >&2
  exit 1
}
trap 'fail "read the output above; rerun with \"bash -x tools/setup_env.sh\" to see the failing command"' ERR

fingerprint() {
  cat "$ROOT"/requirements/*.txt "$ROOT/tools/setup_env.sh" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ] \
   && (cd / && "$VENV/bin/python" -c "import mmcv.ops, mmpose, mmdet, xtcocotools, cpn_mm" 2>/dev/null); then
  echo "[setup] environment at $VENV is up to date"
  exit 0
fi

step "find Python 3.11"
if [ -z "${PYTHON:-}" ]; then
  if command -v python3.11 >/dev/null; then PYTHON=python3.11; else PYTHON=python3; fi
fi
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || fail "install Python 3.11 (torch 2.14.1/torchvision 0.29.1 are provided for it) or set PYTHON=/path/to/python3.11"

step "create virtual environment at $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" \
  || fail "check that the venv module is installed (Debian: apt-get install python3-venv)"
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
mkdir -p "$WHEELS"

step "install torch 2.14.1 and torchvision 0.29.1"
"${PIP[@]}" install -q torch==2.14.1 torchvision==0.29.1 "$(grep '^numpy' "$ROOT/requirements/runtime.txt")" \
  || fail "torch 2.14.1/torchvision 0.29.1 must be reachable by pip (local wheel folder or registry)"

step "install build tools (wheel, ninja, cython)"
"${PIP[@]}" install -q -r "$ROOT/requirements/build.txt" || fail "check access to the package registry"

step "build mmcv $MMCV_VERSION with CPU ops (cached in $WHEELS)"
if ! ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  SRC="$(mktemp -d)"
  # mmcv 2.1.0's setup.py imports pkg_resources (gone in setuptools 70); torch wants >=77 at run
  # time, so the old setuptools is only there for this build.
  "${PIP[@]}" install -q "setuptools<70"
  "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation "mmcv==$MMCV_VERSION" -d "$SRC" \
    || fail "could not fetch the mmcv $MMCV_VERSION source archive from the package registry"
  tar -xzf "$SRC/mmcv-$MMCV_VERSION.tar.gz" -C "$SRC"
  # torch 2.14's headers need C++20; mmcv 2.1.0 asks for C++17.
  sed -i 's/c++17/c++20/g' "$SRC/mmcv-$MMCV_VERSION/setup.py"
  grep -q 'c++20' "$SRC/mmcv-$MMCV_VERSION/setup.py" || fail "mmcv's setup.py no longer names c++17; patch it by hand"
  echo "[setup] compiling mmcv ops (6-15 minutes on 2 cores)..."
  (cd "$SRC/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$WHEELS" .) \
    || fail "mmcv compilation failed: check that gcc/g++ and the Python headers are installed"
  rm -rf "$SRC"
fi
# torch 2.14.1 needs setuptools>=77.0.3; mmengine 0.10.7 imports pkg_resources (gone in 81)
"${PIP[@]}" install -q "setuptools>=77.0.3,<81"
"${PIP[@]}" install -q --no-deps "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl

step "build xtcocotools $XTCOCO_VERSION from source against the installed NumPy (cached)"
NP_WHEELS="$WHEELS/numpy-$("$PY" -c 'import numpy; print(numpy.__version__)')"
if ! ls "$NP_WHEELS"/xtcocotools-"$XTCOCO_VERSION"-*.whl >/dev/null 2>&1; then
  "${PIP[@]}" wheel -q --no-deps --no-binary xtcocotools --no-build-isolation \
    "xtcocotools==$XTCOCO_VERSION" -w "$NP_WHEELS" || fail "xtcocotools build failed: needs cython, numpy and a C compiler"
fi
"${PIP[@]}" install -q --no-deps --force-reinstall "$NP_WHEELS"/xtcocotools-"$XTCOCO_VERSION"-*.whl

step "install the OpenMMLab stack (mmengine, mmdet, mmpose --no-deps) and test tools"
grep -vE '^(mmcv|mmpose|xtcocotools)==|^xtcocotools$' "$ROOT/requirements/runtime.txt" > "$VENV/.runtime-reqs.txt"
"${PIP[@]}" install -q -r "$VENV/.runtime-reqs.txt" -r "$ROOT/requirements/tests.txt" \
  || fail "check access to the package registry"
"${PIP[@]}" install -q --no-deps mmpose==1.3.2 || fail "check access to the package registry"

step "install cpn_mm (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT" || fail "see the pip error above"
# mim looks packages up as <site-packages>/<name> (with configs/tools in <name>/.mim); a PEP 660
# editable install has no such folder, so link it to the sources.
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
ln -sfn "$ROOT/cpn_mm" "$SITE/cpn_mm"

step "check that the stack imports"
"$PY" -c "import mmcv.ops, mmpose, mmdet, xtcocotools, cpn_mm; print('[setup] mmcv', mmcv.__version__, '| mmpose', mmpose.__version__, '| cpn_mm', cpn_mm.__version__)" \
  || fail "an import failed: delete $VENV and rerun; if mmcv is broken delete $WHEELS/mmcv-* too"
fingerprint > "$STAMP"
echo "[setup] done: activate with 'source $VENV/bin/activate'"
