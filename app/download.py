"""Download one large file over HTTP: progress, resume, checksums, cancel, atomic install.

The bytes go to a `.part` file; an interrupted transfer resumes from where it stopped with an
HTTP Range request (guarded by If-Range, so a file that changed on the server starts over).
Only a complete file whose size and checksums match is moved to the target name, so the
target is either absent or whole. Disk full and checksum failures delete the `.part` file;
a cut connection or a cancel keeps it, to resume next time.

All network access goes through `client_factory`, the one place where the app's privacy
setting ("nothing leaves this device") can refuse to build a client.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit

import httpx

from app.errors import Cancelled, RecapError
from app.file_lock import exclusive

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]  # (bytes done, total bytes or None if unknown)
Cancel = Callable[[], bool]
ClientFactory = Callable[[], httpx.Client]

_CHUNK = 1 << 20
_SPACE_MARGIN = 16 << 20  # keep some room free for the database and logs


class DownloadError(RecapError):
    """A download failed; the message is for people, `fix` says what to try."""


class DownloadCancelled(DownloadError, Cancelled):
    def __init__(self) -> None:
        super().__init__("The download was cancelled.",
                         "Start it again to continue where it stopped.")


def default_client_factory(**options: Any) -> httpx.Client:
    """A download client; ``options`` come from the network gate (``client_options``), which
    checks every hop of a redirect (model hosts redirect to their CDN)."""
    settings: dict[str, Any] = {
        "follow_redirects": True,
        "trust_env": False,  # no proxy from the environment: the gate's options name one
        "timeout": httpx.Timeout(30.0, connect=15.0),
        "headers": {"User-Agent": "Recap model downloader"},
    }
    return httpx.Client(**{**settings, **options})


class Gate(Protocol):
    """What a download asks of the network gate (``app.net.NetworkGate``)."""

    def client_options(self, purpose: str, *, follow_redirects: bool = False) -> dict[str, Any]:
        ...


def gated_client_factory(gate: Gate) -> ClientFactory:
    """Download clients that pass the network gate on every request and every redirect hop."""
    return lambda: default_client_factory(
        **gate.client_options("a model download", follow_redirects=True))


@dataclass(frozen=True)
class Expected:
    """What the finished file must match; any field left None is not checked."""

    size: int | None = None
    sha256: str | None = None
    sha1: str | None = None


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    sha256: str
    sha1: str


class _Interrupted(Exception):
    """The transfer stopped early in a way worth resuming."""


def _open_part(path: Path, mode: str) -> BinaryIO:
    # One seam for the tests to simulate a full disk.
    return path.open(mode)  # type: ignore[return-value]


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _disk_full(part: Path, needed: int | None = None) -> DownloadError:
    for leftover in (part, _meta_path(part)):
        leftover.unlink(missing_ok=True)
    need = f" (it needs about {needed / 1e6:.0f} MB more)" if needed else ""
    return DownloadError(f"Not enough free disk space to download the model{need}.",
                         "Free some space on the disk that holds Recap's data, then retry.")


def _meta_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _read_validator(part: Path) -> str | None:
    try:
        meta = json.loads(_meta_path(part).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = meta.get("validator") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else None


def _save_validator(part: Path, response: httpx.Response) -> None:
    # A strong ETag (or Last-Modified) lets a later resume check the file is still the same.
    etag = response.headers.get("etag")
    validator = etag if etag and not etag.startswith("W/") else response.headers.get(
        "last-modified")
    if validator:
        _meta_path(part).write_text(json.dumps({"validator": validator}), encoding="utf-8")


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    """`bytes 100-199/1000` -> (100, 1000); `bytes */1000` -> (-1, 1000)."""
    if not value or not value.startswith("bytes "):
        return None
    span, _, total = value[6:].partition("/")
    size = int(total) if total.isdigit() else None
    if span == "*":
        return -1, size
    start = span.split("-", 1)[0]
    return (int(start), size) if start.isdigit() else None


def _http_error(url: str, status: int) -> DownloadError:
    if status == 404:
        return DownloadError(f"The model file is not on the server (HTTP 404): {url}",
                             "Check the model name with `recap models list --all`.")
    if status in (401, 403):
        return DownloadError(f"The server refused the download (HTTP {status}).",
                             "Try again later, or import a model file with `recap models import`.")
    return DownloadError(f"The download server answered HTTP {status} for {_host(url)}.",
                         "Try again later.")


def _fetch(client: httpx.Client, url: str, part: Path, progress: Progress | None,
           cancel: Cancel | None) -> None:
    """Bring `part` up to the full file, resuming what is there. Raises _Interrupted."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
        validator = _read_validator(part)
        if validator:
            headers["If-Range"] = validator
    with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
        status = response.status_code
        if status == 416 and have:
            span = _content_range(response.headers.get("content-range"))
            if span and span[1] == have:
                return  # the part file already holds the whole thing
            part.unlink()
            raise _Interrupted("stale partial file")
        if status >= 400:
            raise _http_error(url, status)
        if status == 206:
            span = _content_range(response.headers.get("content-range"))
            if not span or span[0] != have:
                part.unlink()
                raise _Interrupted("server resumed at the wrong place")
            total = span[1]
            mode = "ab"
        else:
            have, mode = 0, "wb"
            length = response.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
        _save_validator(part, response)
        if total is not None:
            free = shutil.disk_usage(part.parent).free
            if free < total - have + _SPACE_MARGIN:
                raise _disk_full(part, total - have)
        try:
            with _open_part(part, mode) as f:
                reported = have
                # Whatever the network hands over is written at once, so a cut loses nothing
                # already received; progress is reported once per MiB.
                for chunk in response.iter_bytes():
                    if cancel is not None and cancel():
                        raise DownloadCancelled()
                    f.write(chunk)
                    have += len(chunk)
                    if progress is not None and (have - reported >= _CHUNK or have == total):
                        progress(have, total)
                        reported = have
                if progress is not None and have != reported:
                    progress(have, total)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise _disk_full(part) from exc
            raise DownloadError(f"Could not write the download: {exc.strerror or exc}",
                                "Check the data folder is writable, then retry.") from exc
    if total is not None and have < total:
        raise _Interrupted(f"got {have} of {total} bytes")


def _digests(path: Path) -> tuple[str, str]:
    sha256, sha1 = hashlib.sha256(), hashlib.sha1()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            sha256.update(block)
            sha1.update(block)
    return sha256.hexdigest(), sha1.hexdigest()


def _verify(part: Path, expected: Expected) -> tuple[str, str]:
    size = part.stat().st_size
    sha256, sha1 = _digests(part)
    bad = (
        (expected.size is not None and size != expected.size)
        or (expected.sha256 is not None and sha256 != expected.sha256.lower())
        or (expected.sha1 is not None and sha1 != expected.sha1.lower())
    )
    if bad:
        part.unlink(missing_ok=True)
        _meta_path(part).unlink(missing_ok=True)
        log.warning("checksum mismatch for %s: size %d sha256 %s sha1 %s, expected %s",
                    part, size, sha256, sha1, expected)
        raise DownloadError("The downloaded file is damaged (its checksum does not match).",
                            "Download it again; if that keeps failing, the server copy changed.")
    return sha256, sha1


def install_atomically(source: Path, target: Path) -> None:
    """Move a finished file to `target` so that `target` is never seen half-written."""
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # Different file systems (cache and data apart): copy beside the target, then rename.
        tmp = target.with_name(f".{target.name}.incoming")
        try:
            with source.open("rb") as src, tmp.open("wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        source.unlink()
    if os.name == "posix":
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def download_file(
    url: str,
    target: Path,
    part: Path,
    *,
    client_factory: ClientFactory = default_client_factory,
    expected: Expected | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    retries: int = 3,
    retry_delay: float = 1.0,
    check: Callable[[Path], object] | None = None,
) -> Downloaded:
    """Download `url` to `target` through the resumable `part` file.

    `check` may inspect the finished `.part` file before it is installed and raise to refuse
    it (the part file is then deleted).
    """
    expected = expected or Expected()
    part.parent.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(part.with_name(part.name + ".lock"), _busy):
        return _download(url, target, part, client_factory, expected, progress, cancel,
                         retries, retry_delay, check)


def _busy() -> DownloadError:
    return DownloadError("This model is already being downloaded by another Recap window.",
                         "Wait for that download to finish.")


def _download(url: str, target: Path, part: Path, client_factory: ClientFactory,
              expected: Expected, progress: Progress | None, cancel: Cancel | None,
              retries: int, retry_delay: float,
              check: Callable[[Path], object] | None) -> Downloaded:
    attempt = 0
    with client_factory() as client:
        while True:
            try:
                _fetch(client, url, part, progress, cancel)
                break
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                log.info("cannot connect to %s: %s", url, exc)
                raise DownloadError(f"Could not reach {_host(url)}: this device seems offline.",
                                    "Check the internet connection, or import a model file "
                                    "you already have with `recap models import FILE`.") from exc
            except (httpx.TransportError, _Interrupted) as exc:
                attempt += 1
                log.warning("download of %s interrupted (%s), attempt %d", url, exc, attempt)
                if attempt > retries:
                    raise DownloadError(
                        f"The download from {_host(url)} kept being interrupted.",
                        "Run the same download again: it continues where it stopped.",
                    ) from exc
                time.sleep(retry_delay * attempt)
    sha256, sha1 = _verify(part, expected)
    if check is not None:
        try:
            check(part)
        except BaseException:
            part.unlink(missing_ok=True)
            _meta_path(part).unlink(missing_ok=True)
            raise
    try:
        install_atomically(part, target)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _disk_full(part) from exc
        raise
    _meta_path(part).unlink(missing_ok=True)
    size = target.stat().st_size
    log.info("downloaded %s to %s (%d bytes, sha256 %s)", url, target, size, sha256)
    return Downloaded(target, size, sha256, sha1)
