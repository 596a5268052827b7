"""Lint and types are part of the test run: ruff on everything, mypy on the whole app (strict
on the core)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "app", "tests", "benchmarks",
                             "scripts", "packaging", "migrations"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_core() -> None:
    # The whole app: strict on everything but the Qt layer (pyproject.toml lists the modules).
    result = subprocess.run([sys.executable, "-m", "mypy", "app"], cwd=REPO, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
