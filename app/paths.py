"""Where Recap keeps its files.

Every per-user folder comes from platformdirs, except when ``RECAP_HOME`` is set: then all of
them live under that one folder, so tests and portable installs never touch the real profile.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

APP_NAME = "Recap"
ENV_HOME = "RECAP_HOME"


@dataclass(frozen=True)
class AppPaths:
    data: Path
    cache: Path
    logs: Path
    config: Path

    @property
    def database(self) -> Path:
        return self.data / "recap.sqlite3"

    @property
    def backups(self) -> Path:
        return self.data / "backups"

    @property
    def models(self) -> Path:
        return self.data / "models"

    @property
    def recordings(self) -> Path:
        return self.data / "recordings"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @property
    def log_file(self) -> Path:
        return self.logs / "recap.log"

    def ensure(self) -> AppPaths:
        """Make the folders, private; tighten whatever is already in them (see private_files)."""
        from app.private_files import private_dir, tighten

        for folder in (self.data, self.cache, self.logs, self.config, self.models, self.recordings):
            private_dir(folder)
        for root in (self.data, self.cache, self.logs, self.config):
            tighten(root)
        return self


def app_paths(home: str | os.PathLike[str] | None = None) -> AppPaths:
    """Resolve the user folders; ``home`` (or $RECAP_HOME) puts them all in one place."""
    root = home if home is not None else os.environ.get(ENV_HOME)
    if root:
        base = Path(root).expanduser().resolve()
        return AppPaths(data=base / "data", cache=base / "cache", logs=base / "logs",
                        config=base / "config")
    return AppPaths(
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
    )


def _shipped_dir(folder: str) -> Path:
    """A top-level folder of the source tree, wherever Recap runs from.

    From a checkout (and a PyInstaller bundle, which keeps the same layout) it sits beside
    ``app/``; an installed wheel carries it as the package ``app.<folder>``.
    """
    beside = Path(__file__).resolve().parent.parent / folder
    if beside.is_dir():
        return beside
    return Path(str(resources.files(f"app.{folder}")))


def resource_path(*parts: str) -> Path:
    """A file shipped in ``resources/``."""
    return _shipped_dir("resources").joinpath(*parts)


def migrations_path() -> Path:
    """The Alembic script folder (``migrations/``)."""
    return _shipped_dir("migrations")


def bundled_models_dir() -> Path | None:
    """Ready-made models shipped inside a frozen (PyInstaller) app, or None from source.

    The installers carry the built-in Whisper model already converted, in ``models/`` of the
    bundle, so the first launch needs neither the weights package nor a conversion.
    """
    if not getattr(sys, "frozen", False):
        return None
    return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "models"
