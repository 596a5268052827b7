"""What the status bar says about sync: a few words for the label, the whole story for its
tooltip, and the one human line to show when something needs the user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.formatting import local_minute, recent_time
from app.sync.errors import NotSignedIn
from app.sync.status import (
    CANNOT_START,
    NEEDS_ATTENTION,
    OFF,
    OFFLINE,
    PRIVACY,
    SIGN_IN_NEEDED,
    SYNCING,
    SyncStatus,
)

if TYPE_CHECKING:
    from app.settings import Settings

SET_UP = "Set up sync in Settings → Sync."
SIGN_IN = "Sign in from Settings → Sync."
# The start of every "not signed in" message, whatever the detail in brackets.
_NOT_SIGNED_IN = str(NotSignedIn()).rstrip(".")


def _last(status: SyncStatus) -> str:
    when = status.last_synced_at
    return f"Last synced {local_minute(when)}." if when else "Not synced yet."


def describe_sync(settings: Settings, status: SyncStatus | None) -> tuple[str, str, str]:
    """(label, tooltip, problem): ``problem`` is one line for the user, "" when all is well."""
    if settings.privacy_mode or (status is not None and status.state == PRIVACY):
        return "Sync: off", "Privacy mode is on: nothing is synced.", ""
    if status is None:
        if not settings.sync.enabled:
            return "Sync: off", SET_UP, ""
        return "Sync: starting…", "", ""
    state, pending = status.state, status.pending
    if state == OFF:
        return "Sync: off", SET_UP, ""
    if state == SIGN_IN_NEEDED:
        return "Sync: sign-in needed", SIGN_IN, ""
    line = f"{status.last_error} {status.fix}".strip()
    if state in (NEEDS_ATTENTION, CANNOT_START):
        if status.last_error.startswith(_NOT_SIGNED_IN):
            return "Sync: sign-in needed", line, line
        return "Sync: needs attention", line, line
    waiting = f", {pending} pending" if pending else ""
    if state == OFFLINE:
        return f"Sync: offline{waiting}", f"{line} {_last(status)}", line
    if state == SYNCING:
        return (
            f"Sync: {pending} pending, syncing…" if pending else "Sync: syncing…",
            _last(status),
            "",
        )
    if pending:  # idle, with edits made while the round ran
        return f"Sync: {pending} pending", _last(status), ""
    when = status.last_synced_at
    return (f"Sync: synced {recent_time(when)}" if when else "Sync: synced"), _last(status), ""
