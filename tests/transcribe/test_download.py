"""Downloads against a loopback HTTP server: resume, checksums, disk full, errors, cancel."""

from __future__ import annotations

import errno
import hashlib
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from app import download
from app.download import (
    DownloadCancelled,
    DownloadError,
    Expected,
    download_file,
)
from tests.transcribe.model_server import ModelServer

SIZE = 3 * (1 << 20) + 12345  # a little over three 1 MiB chunks


@pytest.fixture
def payload() -> bytes:
    return np.random.default_rng(7).integers(0, 256, SIZE, dtype=np.uint8).tobytes()


def _paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "models" / "ggml-x.bin", tmp_path / "cache" / "ggml-x.bin.part"


def _leftovers(folder: Path) -> list[Path]:
    """Files left behind, except the empty lock file that guards the partial download."""
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix != ".lock"]


def _fetch(server: ModelServer, tmp_path: Path, **kw: Any) -> download.Downloaded:
    target, part = _paths(tmp_path)
    kw.setdefault("retry_delay", 0)
    return download_file(f"{server.url}/ggml-x.bin", target, part, **kw)


def test_download_reports_progress_and_matches_checksums(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    model_server.add("ggml-x.bin", payload)
    seen: list[tuple[int, int | None]] = []
    result = _fetch(model_server, tmp_path, progress=lambda d, t: seen.append((d, t)),
                    expected=Expected(size=SIZE, sha1=hashlib.sha1(payload).hexdigest(),
                                      sha256=hashlib.sha256(payload).hexdigest()))
    assert result.path.read_bytes() == payload
    assert result.sha256 == hashlib.sha256(payload).hexdigest()
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == SIZE and len(done) >= 3
    assert all(total == SIZE for _, total in seen)
    assert _leftovers(_paths(tmp_path)[1].parent) == []  # no .part or metadata left


def test_cut_connection_resumes_with_a_range_request(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    cut = 1_500_000
    model_server.add("ggml-x.bin", payload, cut_after=cut)
    result = _fetch(model_server, tmp_path, expected=Expected(sha256=hashlib.sha256(payload)
                                                              .hexdigest()))
    assert result.path.read_bytes() == payload
    ranges = [r["range"] for r in model_server.requests]
    assert ranges[0] == ""
    # The retry asked only for what was missing, from wherever the cut left the part file.
    assert len(ranges) == 2 and ranges[1].startswith("bytes=")
    resumed_at = int(ranges[1][6:].rstrip("-"))
    assert 0 < resumed_at <= cut


def test_stalled_transfer_times_out_and_resumes(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    model_server.add("ggml-x.bin", payload, stall_after=1_300_000)
    result = _fetch(model_server, tmp_path, client_factory=lambda: httpx.Client(timeout=0.5))
    assert result.path.read_bytes() == payload
    assert model_server.requests[-1]["range"] == "bytes=1300000-"


def test_redirect_to_a_cdn_is_followed_and_resumes_there(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    model_server.add("cdn/blob", payload, cut_after=700_000)
    model_server.redirects["/ggml-x.bin"] = "/cdn/blob"
    result = _fetch(model_server, tmp_path)
    assert result.path.read_bytes() == payload
    cdn = [r for r in model_server.requests if r["path"] == "/cdn/blob"]
    assert len(cdn) == 2 and cdn[1]["range"].startswith("bytes=")  # Range survives the hop


def test_interrupted_download_is_resumed_by_the_next_attempt(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    served = model_server.add("ggml-x.bin", payload, cut_after=2_000_000)
    target, part = _paths(tmp_path)
    with pytest.raises(DownloadError, match="interrupted") as info:
        _fetch(model_server, tmp_path, retries=0)
    assert "continues where it stopped" in info.value.fix
    assert not target.exists()
    kept = part.stat().st_size
    assert 0 < kept <= 2_000_000
    _fetch(model_server, tmp_path)
    assert target.read_bytes() == payload
    assert model_server.requests[-1]["range"] == f"bytes={kept}-"
    assert model_server.requests[-1]["if-range"] == served.etag


def test_changed_file_on_server_restarts_instead_of_mixing(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    model_server.add("ggml-x.bin", payload, cut_after=1_000_000)
    with pytest.raises(DownloadError):
        _fetch(model_server, tmp_path, retries=0)
    newer = payload[::-1]
    model_server.add("ggml-x.bin", newer)  # new ETag: If-Range makes the server send it all
    result = _fetch(model_server, tmp_path)
    assert result.path.read_bytes() == newer


def test_bad_checksum_is_rejected_and_leaves_nothing(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    model_server.add("ggml-x.bin", payload)
    target, part = _paths(tmp_path)
    with pytest.raises(DownloadError, match="checksum") as info:
        _fetch(model_server, tmp_path, expected=Expected(sha1="0" * 40))
    assert info.value.fix
    assert not target.exists() and not part.exists()
    assert _leftovers(tmp_path) == []


class _FillingDisk:
    """A file that accepts `room` bytes, then fails like a full disk."""

    def __init__(self, real: Any, room: int) -> None:
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.real.write(data[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return int(self.real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> _FillingDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


def test_disk_full_leaves_no_half_file(
    model_server: ModelServer, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_server.add("ggml-x.bin", payload)
    monkeypatch.setattr(download, "_open_part",
                        lambda path, mode: _FillingDisk(path.open(mode), 1_200_000))
    target, part = _paths(tmp_path)
    with pytest.raises(DownloadError, match="disk space"):
        _fetch(model_server, tmp_path)
    assert not target.exists() and not part.exists()
    assert _leftovers(tmp_path) == []
    assert not target.parent.exists() or list(target.parent.iterdir()) == []


def test_too_little_free_space_is_refused_before_downloading(
    model_server: ModelServer, payload: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_server.add("ggml-x.bin", payload)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))  # type: ignore[attr-defined]  # noqa: E501
    with pytest.raises(DownloadError, match=r"needs about 3 MB"):
        _fetch(model_server, tmp_path)
    assert _leftovers(tmp_path) == []


def test_missing_file_is_a_404_message(model_server: ModelServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="404") as info:
        _fetch(model_server, tmp_path)
    assert "recap models list" in info.value.fix
    assert _leftovers(tmp_path) == []


def test_offline_is_a_human_message(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target, part = _paths(tmp_path)
    with pytest.raises(DownloadError, match="offline") as info:
        download_file(f"http://127.0.0.1:{port}/ggml-x.bin", target, part, retry_delay=0)
    assert "recap models import" in info.value.fix


def test_cancel_stops_and_the_next_download_continues(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    model_server.add("ggml-x.bin", payload)
    target, part = _paths(tmp_path)
    calls: list[int] = []

    def progress(done: int, total: int | None) -> None:
        calls.append(done)

    with pytest.raises(DownloadCancelled):
        _fetch(model_server, tmp_path, progress=progress, cancel=lambda: len(calls) >= 1)
    assert not target.exists()
    assert part.stat().st_size == calls[-1] < SIZE
    _fetch(model_server, tmp_path)
    assert target.read_bytes() == payload
    assert model_server.requests[-1]["range"] == f"bytes={calls[-1]}-"


def test_second_download_of_the_same_file_is_told_it_is_busy(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    model_server.add("ggml-x.bin", payload)
    target, part = _paths(tmp_path)
    lock = part.with_name(part.name + ".lock")
    script = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
              "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(30)")
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", script, str(lock)], stdout=subprocess.PIPE,
                              text=True)  # another Recap process, downloading the same model
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(DownloadError, match="already being downloaded"):
            _fetch(model_server, tmp_path)
        assert model_server.requests == [] and not part.exists()
    finally:
        holder.kill()
        holder.wait()
    assert _fetch(model_server, tmp_path).path.read_bytes() == payload  # free again


def test_all_traffic_goes_through_the_client_factory(
    model_server: ModelServer, payload: bytes, tmp_path: Path
) -> None:
    model_server.add("ggml-x.bin", payload)
    built: list[httpx.Client] = []

    def factory() -> httpx.Client:
        client = httpx.Client()
        built.append(client)
        return client

    _fetch(model_server, tmp_path, client_factory=factory)
    assert len(built) == 1

    class PrivacyOn(Exception):
        pass

    def refuse() -> httpx.Client:
        raise PrivacyOn("nothing leaves this device")

    before = len(model_server.requests)
    with pytest.raises(PrivacyOn):
        _fetch(model_server, tmp_path / "other", client_factory=refuse)
    assert len(model_server.requests) == before
