#!/usr/bin/env bash
# Creates (or checks) a virtual environment with one of the supported OpenMMLab stacks and cpn_mm
# installed editable. Idempotent: a second run only checks a stamp and imports, in seconds.
#
#   bash tools/setup_env.sh                  # or: make setup
#   STACK=torch2.1 bash tools/setup_env.sh   # or: make setup STACK=torch2.1
#   bash tools/setup_env.sh --plan           # print the resolved paths and decisions, do nothing
#
# Environment variables (relative paths are taken from the directory the script is started in,
# a leading '~' is expanded, spaces are fine):
#   STACK           requirements/stacks/<STACK>.txt: 'pinned' (default; torch 2.14.1, NumPy 2) or
#                   'torch2.1' (torch 2.1.2, NumPy 1.26: the MMPose environment most users have,
#                   with cpn_mm installed by the README's second route, `pip install -e .`)
#   PYTHON          interpreter to build the venv from: any Python setup.py's python_requires
#                   admits for which pip finds the stack's torch (default: python3.11, the tested
#                   version, else python3)
#   VENV            where the venv goes (default: <repo>/.venv, <repo>/.venv-<STACK> for others)
#   CPN_MM_CACHE    cache outside the clone for wheels we compile (default: ~/.cache/cpn_mm)
#   MAX_JOBS        parallel compile jobs for mmcv (default: number of cores)
#
# mmcv 2.1.0's setup.py compiles its CUDA ops whenever torch.cuda.is_available() is true
# (FORCE_CUDA=0 does not stop it). So on a machine with a GPU: with nvcc on PATH (or in
# $CUDA_HOME/bin) the CUDA ops are built; without it the CPU ops are built with the GPU hidden
# from the build (CUDA_VISIBLE_DEVICES=), and mmcv's ops then only take CPU tensors.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INVOKED_FROM="$(pwd)"

# abspath PATH: '~' expanded, relative paths resolved against the starting directory.
abspath() {
  local p="$1"
  case "$p" in
    "~") p="$HOME" ;;
    "~/"*) p="$HOME/${p#\~/}" ;;
  esac
  case "$p" in
    /*) ;;
    *) p="$INVOKED_FROM/$p" ;;
  esac
  # normalise without requiring the path to exist
  realpath -ms -- "$p"
}

# resolve_python NAME_OR_PATH: an absolute interpreter path (a bare name is looked up on PATH).
resolve_python() {
  local p="$1"
  case "$p" in
    */*) abspath "$p" ;;
    "~"*) abspath "$p" ;;
    *) command -v "$p" || echo "$p" ;;
  esac
}

PLAN_ONLY=0
[ "${1:-}" = "--plan" ] && PLAN_ONLY=1

STACK="${STACK:-pinned}"
STACK_FILE="$ROOT/requirements/stacks/$STACK.txt"
if [ ! -f "$STACK_FILE" ]; then
  echo "[setup] STACK=$STACK: no such stack; expected one of:" \
    "$(cd "$ROOT/requirements/stacks" && ls -- *.txt | sed 's/\.txt$//' | tr '\n' ' ')" >&2
  exit 2
fi
stack_pin() { sed -n "s/^$1==//p" "$STACK_FILE"; }
TORCH_VERSION="$(stack_pin torch)"
if [ "$STACK" = pinned ]; then DEFAULT_VENV="$ROOT/.venv"; else DEFAULT_VENV="$ROOT/.venv-$STACK"; fi
VENV="$(abspath "${VENV:-$DEFAULT_VENV}")"
CACHE="$(abspath "${CPN_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cpn_mm}")"
WHEELS="$CACHE/wheels"
MMCV_VERSION=2.1.0
XTCOCO_VERSION=1.14.3
STAMP="$VENV/.cpn_mm_setup"
# the oldest Python cpn_mm supports: setup.py's python_requires
PYTHON_MIN="$(sed -n "s/.*python_requires='>=\([0-9.]*\)'.*/\1/p" "$ROOT/setup.py")"
# What mim needs (README "mim"), held from the install of cpn_mm on: setuptools 77.0.3 (torch
# 2.14.1's minimum) to 79. Below 80, `pip install -e .` (pip < 25.3, no pyproject.toml) still runs
# setup.py develop, which leaves the distribution in the sources where mim 0.3.9 looks for a
# package's configs and tools (setuptools 80's develop makes a PEP 660 install instead, which
# mim cannot find); pkg_resources, which mim and mmengine 0.10.7 import, is there until 82 and
# warns on import from 80.9.
MIM_TOOLS=("setuptools>=77.0.3,<80" "pip<25.3")
if [ -z "${PYTHON:-}" ]; then
  if command -v python3.11 >/dev/null; then PYTHON=python3.11; else PYTHON=python3; fi
fi
PYTHON="$(resolve_python "$PYTHON")"

# find_nvcc: prints the nvcc that would compile mmcv's CUDA ops, or nothing.
# An nvcc that does not run (e.g. a wrapper left without its toolkit) does not count.
find_nvcc() {
  local n
  for n in "$(command -v nvcc 2>/dev/null)" "${CUDA_HOME:+$CUDA_HOME/bin/nvcc}"; do
    if [ -n "$n" ] && [ -x "$n" ] && "$n" --version >/dev/null 2>&1; then echo "$n"; return; fi
  done
}

# mmcv_build_mode TORCH_CUDA: 'cpu' (no GPU), 'cuda' (GPU and nvcc) or 'cpu-hidden-gpu'
# (GPU, no nvcc). TORCH_CUDA is 1 when torch.cuda.is_available() is true.
mmcv_build_mode() {
  if [ "$1" != 1 ]; then echo cpu
  elif [ -n "$(find_nvcc)" ]; then echo cuda
  else echo cpu-hidden-gpu
  fi
}

# torch_cuda_available PY: 1 or 0. CPN_MM_TORCH_CUDA=0/1 overrides the check (used by the tests).
torch_cuda_available() {
  if [ -n "${CPN_MM_TORCH_CUDA:-}" ]; then echo "$CPN_MM_TORCH_CUDA"; return; fi
  if [ -x "$1" ]; then
    "$1" -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null || echo 0
  else
    echo 0
  fi
}

if [ "$PLAN_ONLY" = 1 ]; then
  MODE="$(mmcv_build_mode "$(torch_cuda_available "$VENV/bin/python")")"
  echo "ROOT=$ROOT"
  echo "STACK=$STACK"
  echo "TORCH=$TORCH_VERSION"
  echo "PYTHON=$PYTHON"
  echo "PYTHON_MIN=$PYTHON_MIN"
  echo "VENV=$VENV"
  echo "CACHE=$CACHE"
  echo "WHEELS=$WHEELS"
  echo "MMCV_BUILD=$MODE"
  echo "MMCV_WHEELS=$WHEELS/mmcv-${MODE%-hidden-gpu}-torch$TORCH_VERSION"
  case "$MODE" in
    cuda) echo "MMCV_BUILD_ENV=MMCV_WITH_OPS=1 FORCE_CUDA=1 NVCC=$(find_nvcc)" ;;
    *) echo "MMCV_BUILD_ENV=MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=" ;;
  esac
  exit 0
fi

step() { CURRENT_STEP="$1"; echo "[setup] $1"; }
fail() {
  echo "[setup] FAILED at step: ${CURRENT_STEP:-start}" >&2
  echo "[setup] what to try: $1" >&2
  exit 1
}
trap 'fail "read the output above; rerun with \"bash -x tools/setup_env.sh\" to see the failing command"' ERR

fingerprint() {
  cat "$ROOT"/requirements/*.txt "$STACK_FILE" "$ROOT/tools/setup_env.sh" "$ROOT/setup.py" \
    | sha256sum | cut -d' ' -f1
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ] \
   && (cd / && "$VENV/bin/python" -c "import mmcv.ops, mmpose, mmdet, xtcocotools, cpn_mm" 2>/dev/null); then
  echo "[setup] environment at $VENV is up to date"
  exit 0
fi

step "find Python >= $PYTHON_MIN (setup.py's python_requires)"
"$PYTHON" -c "import sys; assert sys.version_info[:2] >= tuple(map(int, '$PYTHON_MIN'.split('.'))), sys.version" \
  || fail "install Python >= $PYTHON_MIN (3.11 is the tested one) or set PYTHON=/path/to/python3.11"
PYTHON_VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

step "create virtual environment at $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" \
  || fail "check that the venv module is installed (Debian: apt-get install python3-venv)"
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
# every install below is held to the stack's torch, torchvision and NumPy
PIPC=("${PIP[@]}" install -c "$STACK_FILE")
mkdir -p "$WHEELS"

step "install the $STACK stack's torch $TORCH_VERSION, torchvision and NumPy ($STACK_FILE)"
"${PIPC[@]}" -q -r "$STACK_FILE" \
  || fail "torch $TORCH_VERSION for Python $PYTHON_VERSION must be reachable by pip (local wheel folder or registry)"

step "install build tools (wheel, ninja, cython)"
"${PIPC[@]}" -q -r "$ROOT/requirements/build.txt" || fail "check access to the package registry"

MODE="$(mmcv_build_mode "$(torch_cuda_available "$PY")")"
MMCV_WHEELS="$WHEELS/mmcv-${MODE%-hidden-gpu}-torch$TORCH_VERSION"
# torch 2.14's headers need C++20, torch 2.1's build with mmcv 2.1.0's C++17 (both tested); the
# cut between them at 2.10 is untested for the releases in between
CXX_STD="$("$PY" -c 'import torch; v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]); print("c++20" if v >= (2, 10) else "c++17")')"
case "$MODE" in
  cuda) BUILD_ENV=(MMCV_WITH_OPS=1 FORCE_CUDA=1) ; WHAT="CPU and CUDA ops (nvcc: $(find_nvcc))" ;;
  *) BUILD_ENV=(MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=) ; WHAT="CPU ops" ;;
esac
if [ "$MODE" = cpu-hidden-gpu ]; then
  echo "[setup] note: torch sees a GPU but no CUDA compiler (nvcc) was found, so mmcv's ops are"
  echo "[setup]   compiled for the CPU only. cpn_mm's models, training and testing run on the GPU;"
  echo "[setup]   mmcv ops on CUDA tensors (e.g. an MMDetection detector's NMS/RoIAlign) do not,"
  echo "[setup]   so tools/demo.py runs such a detector on the CPU. Install a CUDA toolkit that"
  echo "[setup]   matches torch's CUDA ($("$PY" -c 'import torch; print(torch.version.cuda)' 2>/dev/null))"
  echo "[setup]   and rerun to build the CUDA ops."
fi
step "build mmcv $MMCV_VERSION with $WHAT (cached in $MMCV_WHEELS)"
if ! ls "$MMCV_WHEELS"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  SRC="$(mktemp -d)"
  # mmcv 2.1.0's setup.py imports pkg_resources (gone in setuptools 70); torch wants >=77 at run
  # time, so the old setuptools is only there for this build.
  "${PIPC[@]}" -q "setuptools<70"
  "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation "mmcv==$MMCV_VERSION" -d "$SRC" \
    || fail "could not fetch the mmcv $MMCV_VERSION source archive from the package registry"
  tar -xzf "$SRC/mmcv-$MMCV_VERSION.tar.gz" -C "$SRC"
  sed -i "s/c++17/$CXX_STD/g" "$SRC/mmcv-$MMCV_VERSION/setup.py"
  grep -q "$CXX_STD" "$SRC/mmcv-$MMCV_VERSION/setup.py" || fail "mmcv's setup.py no longer names c++17; patch it by hand"
  mkdir -p "$MMCV_WHEELS"
  echo "[setup] compiling mmcv ops (CPU ops: about 7 minutes on 2 idle cores, longer on a busy machine; CUDA ops: much longer)..."
  T0=$SECONDS
  # CFLAGS=-g0: no debug information (Python's own build flags carry -g), the same optimised
  # code; writing the debug sections of the template-heavy ops is part of the compile time
  (cd "$SRC/mmcv-$MMCV_VERSION" && env "${BUILD_ENV[@]}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    CFLAGS="${CFLAGS:-} -g0" \
    "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$MMCV_WHEELS" .) \
    || fail "mmcv compilation failed: check that gcc/g++ and the Python headers are installed"
  echo "[setup] mmcv compiled in $(( (SECONDS - T0) / 60 )) min $(( (SECONDS - T0) % 60 )) s"
  rm -rf "$SRC"
fi
"${PIPC[@]}" -q "${MIM_TOOLS[@]}"
"${PIP[@]}" install -q --no-deps --force-reinstall "$MMCV_WHEELS"/mmcv-"$MMCV_VERSION"-*.whl

step "build xtcocotools $XTCOCO_VERSION from source against the installed NumPy (cached)"
NP_WHEELS="$WHEELS/numpy-$("$PY" -c 'import numpy; print(numpy.__version__)')"
if ! ls "$NP_WHEELS"/xtcocotools-"$XTCOCO_VERSION"-*.whl >/dev/null 2>&1; then
  "${PIP[@]}" wheel -q --no-cache-dir --no-deps --no-binary xtcocotools --no-build-isolation \
    "xtcocotools==$XTCOCO_VERSION" -w "$NP_WHEELS" || fail "xtcocotools build failed: needs cython, numpy and a C compiler"
fi
"${PIP[@]}" install -q --no-deps --force-reinstall "$NP_WHEELS"/xtcocotools-"$XTCOCO_VERSION"-*.whl

step "install the OpenMMLab stack (mmengine, mmdet, mmpose --no-deps), the converters' TensorFlow, OpenVINO and test tools"
grep -vE '^(mmcv|mmpose|xtcocotools)==|^xtcocotools$' "$ROOT/requirements/runtime.txt" > "$VENV/.runtime-reqs.txt"
"${PIPC[@]}" -q -r "$VENV/.runtime-reqs.txt" -r "$ROOT/requirements/tests.txt" \
  -r "$ROOT/requirements/convert.txt" -r "$ROOT/requirements/openvino.txt" "${MIM_TOOLS[@]}" \
  || fail "check access to the package registry"
"${PIP[@]}" install -q --no-deps mmpose==1.3.2 || fail "check access to the package registry"

# earlier versions of this script linked <site-packages>/cpn_mm to the sources for mim
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
[ ! -L "$SITE/cpn_mm" ] || rm "$SITE/cpn_mm"
if [ "$STACK" = pinned ]; then
  step "install cpn_mm (editable)"
  "${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT" || fail "see the pip error above"
else
  # the README's second route, as a user with this MMPose environment types it; it must leave
  # the environment's torch, mmcv and NumPy as they are
  step "install cpn_mm into the existing MMPose environment: pip install -e ."
  before="$("$PY" -m pip freeze --all | grep -iE '^(torch|torchvision|numpy|mmcv|mmengine|mmdet|mmpose)==' | sort)"
  (cd "$ROOT" && "${PIP[@]}" install -q -e .) || fail "see the pip error above"
  after="$("$PY" -m pip freeze --all | grep -iE '^(torch|torchvision|numpy|mmcv|mmengine|mmdet|mmpose)==' | sort)"
  [ "$before" = "$after" ] || fail "pip install -e . changed the MMPose environment:
$(diff <(echo "$before") <(echo "$after"))"
fi

step "check that mim finds cpn_mm's configs and tools"
(cd / && "$PY" -W ignore -c 'import os.path as osp, sys
from mim.utils import get_installed_path
root = get_installed_path("cpn_mm")
sys.exit(None if osp.isfile(osp.join(root, ".mim", "tools", "train.py")) else root)') \
  || fail "mim looks for cpn_mm's tools in the folder named above: the install was not setup.py develop (see MIM_TOOLS in this script)"

step "check that the stack imports"
"$PY" -c "import torch, numpy, mmcv.ops, mmpose, mmdet, xtcocotools, cpn_mm; print('[setup] $STACK: torch', torch.__version__, '| numpy', numpy.__version__, '| mmcv', mmcv.__version__, '| mmpose', mmpose.__version__, '| cpn_mm', cpn_mm.__version__)" \
  || fail "an import failed: delete $VENV and rerun; if mmcv is broken delete $MMCV_WHEELS too"
fingerprint > "$STAMP"
echo "[setup] done in $((SECONDS / 60)) min $((SECONDS % 60)) s: activate with 'source $VENV/bin/activate'"
