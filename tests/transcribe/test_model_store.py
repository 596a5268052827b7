"""The model store: built-in models made and checked, imports, downloads, errors people read."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from app.download import DownloadError
from app.transcribe import ct2_ggml
from app.transcribe.catalog import DEFAULT_MODEL
from app.transcribe.model_store import ModelError, ModelStore
from tests.transcribe.model_server import ModelServer

NAME = "tiny.en-q8_0"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _store(tmp_path: Path, **kw: object) -> ModelStore:
    kw.setdefault("retry_delay", 0)
    return ModelStore(tmp_path / "models", tmp_path / "cache", **kw)  # type: ignore[arg-type]


def _seed(tmp_path: Path, converted: Path) -> Path:
    """A models folder holding real copies (not links: some tests damage them) of the model."""
    models = tmp_path / "models"
    models.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(converted, models / converted.name)
    manifest = json.loads((converted.parent / "manifest.json").read_text(encoding="utf-8"))
    manifest["models"] = {NAME: manifest["models"][NAME]}
    (models / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return models / converted.name


def test_built_in_model_is_made_on_first_use_and_recorded(tmp_path: Path) -> None:
    store = _store(tmp_path)
    before = {m.name: m for m in store.list_installed()}
    assert before[NAME].kind == "embedded" and not before[NAME].ready and before[NAME].default
    seen: list[int] = []
    path = store.ensure_embedded(NAME, progress=lambda done, total: seen.append(done))
    assert path.parent == tmp_path / "models" and seen and seen == sorted(seen)
    manifest = json.loads((tmp_path / "models" / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["models"][NAME]
    assert entry["kind"] == "embedded" and entry["sha256"] == _sha256(path)
    assert entry["size"] == path.stat().st_size
    assert sorted(p.name for p in path.parent.iterdir()) == ["ggml-tiny.en-q8_0.bin",
                                                           "manifest.json"]  # no temp files
    stamp = path.stat().st_ino, path.stat().st_mtime_ns
    # A later run (new store) checks the file and keeps it as it is.
    again = _store(tmp_path).path_for(NAME)
    assert again == path and (path.stat().st_ino, path.stat().st_mtime_ns) == stamp
    model = {m.name: m for m in _store(tmp_path).list_installed()}[NAME]
    assert model.ready and model.size == path.stat().st_size and not model.multilingual


@pytest.mark.parametrize("damage", ["flip bytes", "cut short", "delete"])
def test_damaged_built_in_model_is_made_again(tmp_path: Path, tiny_q8: Path,
                                              damage: str) -> None:
    path = _seed(tmp_path, tiny_q8)
    good = _sha256(path)
    if damage == "flip bytes":  # same size: only the checksum can tell
        with path.open("r+b") as f:
            f.seek(path.stat().st_size // 2)
            f.write(b"\xff" * 64)
    elif damage == "cut short":
        with path.open("r+b") as f:
            f.truncate(path.stat().st_size // 3)
    else:
        path.unlink()
    assert not path.exists() or _sha256(path) != good
    assert _store(tmp_path).path_for(NAME) == path
    assert _sha256(path) == good


def test_leftovers_of_a_killed_conversion_are_swept(tmp_path: Path, tiny_q8: Path) -> None:
    path = _seed(tmp_path, tiny_q8)
    stale = path.with_name(f".{path.name}.abc123.tmp")
    fresh = path.with_name(f".{path.name}.def456.tmp")  # maybe another process, right now
    for leftover in (stale, fresh):
        leftover.write_bytes(b"half a model")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    assert _store(tmp_path).path_for(NAME) == path
    assert not stale.exists() and fresh.exists()


def test_interrupted_conversion_leaves_no_file(tmp_path: Path) -> None:
    class Quit(Exception):
        pass

    def stop_half_way(done: int, total: int) -> None:
        if done > total // 2:
            raise Quit()

    store = _store(tmp_path)
    with pytest.raises(Quit):
        store.ensure_embedded(NAME, progress=stop_half_way)
    assert list((tmp_path / "models").iterdir()) == []
    assert not {m.name: m for m in store.list_installed()}[NAME].ready


def test_disk_full_while_preparing_leaves_no_half_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = ct2_ggml._HashingWriter.write
    room = [10_000_000]

    def filling_disk(self: ct2_ggml._HashingWriter, data: bytes | memoryview) -> int:
        room[0] -= len(data)
        if room[0] < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(ct2_ggml._HashingWriter, "write", filling_disk)
    with pytest.raises(ModelError, match="disk space") as info:
        _store(tmp_path).path_for(NAME)
    assert "Free some space" in info.value.fix
    assert list((tmp_path / "models").iterdir()) == []


def test_unknown_and_missing_models_name_the_fix(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with pytest.raises(ModelError) as info:
        store.path_for("small.en")
    assert "not installed" in str(info.value)
    assert info.value.fix == "Download it with `recap models download small.en`."
    with pytest.raises(ModelError) as info:
        store.resolve("smal.en")
    assert "Did you mean small.en?" in str(info.value) and "recap models list" in info.value.fix
    assert store.resolve("ggml-Tiny.en-q8_0.bin") == NAME  # file names and case are forgiven
    assert not (tmp_path / "models").exists()  # resolve never converts anything


def test_import_checks_the_file_then_copies_it(tmp_path: Path, tiny_q8: Path) -> None:
    store = _store(tmp_path)
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"<html>Sign in to the hotel wifi</html>" * 100)
    with pytest.raises(ModelError) as info:
        store.import_file(junk)
    assert "notes.bin is not a Whisper model" in str(info.value) and "ggml" in info.value.fix
    half = tmp_path / "half.bin"
    half.write_bytes(tiny_q8.read_bytes()[: tiny_q8.stat().st_size // 2])
    with pytest.raises(ModelError, match="cut short"):
        store.import_file(half)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").glob("*.bin"))

    imported = store.import_file(tiny_q8, name="My-Tiny")
    assert imported.name == "my-tiny" and imported.kind == "imported"
    assert _sha256(imported.path) == _sha256(tiny_q8)
    listed = {m.name: m for m in store.list_installed(default="my-tiny")}
    assert listed["my-tiny"].default and not listed[DEFAULT_MODEL].default
    assert store.path_for("my-tiny") == imported.path
    assert store.path_for(str(tiny_q8)) == tiny_q8  # a path to a model file works as is
    with pytest.raises(ModelError, match="built-in model"):
        store.import_file(tiny_q8, name="tiny.en")

    store.delete("my-tiny")
    assert not imported.path.exists()
    with pytest.raises(ModelError, match="no Whisper model called 'my-tiny'"):
        store.path_for("my-tiny")
    with pytest.raises(ModelError, match="not installed"):
        store.delete("my-tiny")


def test_download_installs_and_records_an_official_model(
    tmp_path: Path, tiny_q8: Path, model_server: ModelServer
) -> None:
    model_server.add("ggml-base.en-q8_0.bin", tiny_q8.read_bytes())
    store = _store(tmp_path, base_url=model_server.url)
    seen: list[tuple[int, int | None]] = []
    path = store.download("base.en-q8_0", progress=lambda d, t: seen.append((d, t)))
    assert path == tmp_path / "models" / "ggml-base.en-q8_0.bin"
    assert seen[-1] == (tiny_q8.stat().st_size, tiny_q8.stat().st_size)
    model = {m.name: m for m in store.list_installed()}["base.en-q8_0"]
    assert model.kind == "downloaded" and model.ready and not model.multilingual
    assert store.verify("base.en-q8_0")
    assert store.download("base.en-q8_0") == path  # already there: no second transfer
    assert len(model_server.requests) == 1
    assert [i.installed for i in store.catalog() if i.name == "base.en-q8_0"] == [True]


def test_download_refuses_what_is_not_a_whisper_model(
    tmp_path: Path, tiny_q8: Path, model_server: ModelServer
) -> None:
    model_server.add("ggml-small.en-q8_0.bin", b"<html>captive portal</html>" * 5000)
    model_server.add("ggml-tiny.bin", tiny_q8.read_bytes())  # not the published tiny: bad SHA-1
    store = _store(tmp_path, base_url=model_server.url)
    with pytest.raises(ModelError, match="server did not send a Whisper model") as info:
        store.download("small.en-q8_0")
    assert "sign-in page" in info.value.fix
    with pytest.raises(DownloadError, match="checksum"):
        store.download("tiny")
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".lock"]
    assert leftovers == []


def test_built_in_models_never_touch_the_network(tmp_path: Path, tiny_q8: Path) -> None:
    _seed(tmp_path, tiny_q8)

    def no_network() -> httpx.Client:
        raise AssertionError("network used")

    store = _store(tmp_path, client_factory=no_network)
    assert store.download(NAME) == tmp_path / "models" / tiny_q8.name


def test_privacy_gate_in_the_client_factory_stops_downloads(
    tmp_path: Path, model_server: ModelServer
) -> None:
    def privacy_mode() -> httpx.Client:
        raise ModelError("Privacy mode is on: nothing leaves this device.",
                         "Turn privacy mode off to download models.")

    store = _store(tmp_path, base_url=model_server.url, client_factory=privacy_mode)
    with pytest.raises(ModelError, match="Privacy mode"):
        store.download("base.en")
    assert model_server.requests == []


def test_catalog_offers_the_official_models() -> None:
    items = {i.name: i for i in ModelStore(Path("/nonexistent"), Path("/nonexistent")).catalog()}
    for name in ("tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en",
                 "medium", "large-v3", "large-v3-turbo", "large-v3-turbo-q8_0"):
        assert items[name].multilingual == (".en" not in name)
    assert items[NAME].source == "embedded"
    assert items["large-v3"].checksum and items["small.en"].checksum
    sizes = [i.size_mb for i in items.values()]
    assert sizes == sorted(sizes)
