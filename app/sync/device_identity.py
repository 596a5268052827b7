"""One device id per install, even when a profile is copied.

Sync tells devices apart by the ``device_id`` in settings: the server accepts a write without
a conflict when the current version is the writer's own. Two installs sharing an id (a profile
copied to another machine or folder, or a backup restored over another install) would
silently overwrite each other's edits. So each profile also carries an ``install_id``, and the
same id is recorded outside the profile, in a small registry in the platform's state folder,
keyed by this machine and the profile's folder. A profile whose install id is not the one
recorded for where it now lives has been copied (or moved) here: it takes a new device id,
and sync treats it as the other device it now is (nothing is lost; at worst a moved profile
syncs as a new device). A profile from before this check is simply registered.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import uuid
from pathlib import Path

import platformdirs

from app.settings import Settings

log = logging.getLogger(__name__)

ENV_REGISTRY = "RECAP_INSTALLS_DIR"  # tests and portable setups put the registry elsewhere
_MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))


def registry_dir() -> Path:
    override = os.environ.get(ENV_REGISTRY)
    if override:
        return Path(override)
    return Path(platformdirs.user_state_dir("Recap-installs", appauthor=False))


def _machine_id() -> str:
    """This machine's id where the system keeps one (Linux, Windows); "" elsewhere, where
    the profile's folder alone keys the registry."""
    for path in _MACHINE_ID_FILES:
        try:
            return path.read_text(encoding="ascii").strip()
        except OSError:
            continue
    if sys.platform == "win32":
        try:
            import winreg

            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE,
                                r"SOFTWARE\Microsoft\Cryptography") as key:
                return str(winreg.QueryValueEx(key, "MachineGuid")[0])
        except OSError:
            pass
    return ""


def _record_path(profile: Path) -> Path:
    key = f"{_machine_id()}\0{profile.expanduser().resolve()}".encode()
    return registry_dir() / f"{hashlib.sha256(key).hexdigest()[:32]}.json"


def _recorded(path: Path) -> str | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("install_id")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _record(path: Path, install_id: str, profile: Path) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"install_id": install_id, "profile": str(profile)}),
                       encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not record this install in %s: %s", path.parent, exc)
        return False
    return True


def ensure_own_device_id(settings: Settings, profile: Path) -> bool:
    """Give a copied profile its own device id; returns whether ``settings`` changed (the
    caller saves them). ``profile`` is the folder holding the settings file."""
    path = _record_path(profile)
    recorded = _recorded(path)
    if settings.install_id and recorded == settings.install_id:
        return False  # the install that lives here
    install_id = uuid.uuid4().hex
    if not _record(path, install_id, profile):
        return False  # cannot tell copies apart here: keep everything as it is
    if settings.install_id:
        old = settings.device_id
        settings.device_id = uuid.uuid4().hex
        log.warning("this profile was copied from another install (device %s); it syncs as "
                    "a new device, %s", old, settings.device_id)
    settings.install_id = install_id
    return True
