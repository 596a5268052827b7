"""Fixtures for the model store tests: converted models (made once) and a loopback model host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.transcribe.model_store import ModelStore
from tests.transcribe.model_server import ModelServer, running_model_server


@pytest.fixture(scope="session")
def tiny_q8(whisper_tiny_q8: Path) -> Path:
    """The built-in tiny.en-q8_0 model, converted once for the whole session (tests/conftest)."""
    return whisper_tiny_q8


@pytest.fixture(scope="session")
def tiny_f16(shared_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in tiny.en (float16) model, converted once for the whole session."""
    store = ModelStore(shared_models_dir, tmp_path_factory.mktemp("cache"))
    return store.ensure_embedded("tiny.en")


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with running_model_server() as server:
        yield server
