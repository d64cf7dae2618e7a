#!/usr/bin/env bash
# Install GemmaChat and everything it needs into .venv (idempotent).
#
# llama-cpp-python is compiled from source with fixed CPU flags: with the
# default native flags it crashed on these machines (SIGSEGV in the AMX
# matmul path). pip's wheel cache ignores CMAKE_ARGS, so the wheel is built
# with the cache off and kept in a folder named after the flags, the version
# and this CPU: a wheel built with other flags is never silently reused.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
LLAMA_CPP_VERSION=0.3.36
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m)
python_tag=$(.venv/bin/python -c 'import sys; print(sys.implementation.cache_tag)')
build_key=$(printf '%s|%s|%s|%s' "$LLAMA_CPP_VERSION" "$LLAMA_CMAKE_ARGS" \
  "$python_tag" "$cpu_flags" | sha256sum | cut -c1-16)
wheel_dir="${XDG_CACHE_HOME:-$HOME/.cache}/gemmachat/llama-wheels/$build_key"
marker=.venv/.llama-cpp-build-key

if [ "$(cat "$marker" 2>/dev/null)" != "$build_key" ] ||
   ! .venv/bin/python -c 'import llama_cpp' 2>/dev/null; then
  if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "Building llama-cpp-python $LLAMA_CPP_VERSION (about 5 minutes)..."
    mkdir -p "$wheel_dir"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" .venv/bin/python -m pip wheel --quiet \
      --no-cache-dir --no-deps --no-binary llama-cpp-python \
      --wheel-dir "$wheel_dir" "llama-cpp-python==$LLAMA_CPP_VERSION"
  fi
  .venv/bin/python -m pip install --quiet --force-reinstall \
    "$wheel_dir"/llama_cpp_python-*.whl
  .venv/bin/python -m pip install --quiet "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
  echo "$build_key" > "$marker"
fi
