"""Lint and types are part of the test run: ruff on everything, mypy strict on the core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CORE = ["app/store", "app/audio", "app/transcribe", "app/pipeline", "app/llm", "app/sync",
        "app/cli", "app/speakers", "app/paths.py", "app/settings.py", "app/net.py",
        "app/secrets.py", "app/container.py", "app/export.py", "app/logging_setup.py"]


def test_ruff_is_clean() -> None:
    result = subprocess.run([str(BIN / "ruff"), "check", "app", "tests", "benchmarks", "scripts",
                             "packaging", "migrations"], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_core() -> None:
    result = subprocess.run([str(BIN / "mypy"), *CORE], cwd=REPO, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
