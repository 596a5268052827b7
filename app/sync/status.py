"""Where sync stands, as the worker reports it and the faces show it.

A light module (no SQLAlchemy, no network client): the window names these states before it
has loaded anything of sync itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.settings import Settings

# Reported by the running worker.
SYNCING = "syncing"
IDLE = "idle"
OFFLINE = "offline"
NEEDS_ATTENTION = "needs_attention"
STOPPED = "stopped"
# Said when no worker runs, and why.
OFF = "off"  # not set up, or turned off
PRIVACY = "privacy"  # privacy mode is on
SIGN_IN_NEEDED = "sign_in_needed"
CANNOT_START = "cannot_start"  # the settings were refused before any worker ran
NOT_RUNNING = (OFF, PRIVACY, SIGN_IN_NEEDED, CANNOT_START)


@dataclass(frozen=True)
class SyncStatus:
    state: str  # one of the states above
    last_synced_at: datetime | None = None
    pending: int = 0
    last_error: str = ""
    fix: str = ""
    retry_in_s: float | None = None


def why_off(settings: Settings) -> str:
    """Why no sync worker should run (``PRIVACY`` or ``OFF``), or "" when one should."""
    if settings.privacy_mode:
        return PRIVACY
    sync = settings.sync
    return "" if sync.enabled and sync.supabase_url and sync.supabase_anon_key else OFF
