#!/usr/bin/env bash
# Rebuild pywhispercpp (whisper.cpp 1.8.5) from its PyPI source for THIS machine's CPU
# (AVX-512, VNNI, BF16 where present), replacing the portable AVX2 wheel in .venv.
#
# Measured here (AMD EPYC with AVX-512 VNNI, tiny.en q8_0, 2 threads, load about 6): the
# decoder 22.5 -> 9.5 ms a token (2.3x faster); the encoder unchanged (2.3 s a window). The
# result runs only on CPUs with the same instructions: never ship it in an installer (an older
# CPU would die with "illegal instruction"); it is for a from-source install on the machine
# that will run it. Needs a C++ compiler (apt-get install -y build-essential); cmake and ninja
# come from PyPI. Takes 10-15 minutes on 2 cores.
#   scripts/build_native_whisper.sh          # from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('pywhispercpp'))")
# pywhispercpp's setup.py hands every environment variable to CMake as -DNAME=VALUE.
GGML_NATIVE=ON CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
  .venv/bin/python -m pip install --no-deps --force-reinstall --no-binary pywhispercpp \
  "pywhispercpp==$VERSION"
.venv/bin/python -c "import _pywhispercpp as pw; print(pw.whisper_print_system_info())"
