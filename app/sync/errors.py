"""What can go wrong while syncing, each as one human line plus a fix.

``transient`` tells the worker whether trying again later can help (network down, server
busy) or whether the user must act first (not signed in, wrong password, privacy mode).
"""

from __future__ import annotations

from app.errors import RecapError


class SyncError(RecapError):
    transient = False


class SyncNotConfigured(SyncError):
    def __init__(self) -> None:
        super().__init__(
            "Sync is not set up.",
            "Put your Supabase project URL and anon key in settings (sync.supabase_url, "
            "sync.supabase_anon_key), then run `recap sync --sign-in`.",
        )


class SyncBlocked(SyncError):
    def __init__(self) -> None:
        super().__init__("Privacy mode is on, so nothing is synced.",
                         "Turn privacy mode off in settings to sync.")


class NotSignedIn(SyncError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "You are not signed in to sync" + (f" ({detail})." if detail else "."),
            "Run `recap sync --sign-in` (or sign in from Settings → Sync).",
        )


class ServerUnreachable(SyncError):
    transient = True

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "The sync server could not be reached" + (f" ({detail})." if detail else "."),
            "Your notes are safe on this device; sync retries by itself when the network is "
            "back.",
        )


class ServerRejected(SyncError):
    """The server answered with an error it will give again (wrong schema, permissions)."""

    def __init__(self, detail: str,
                 fix: str = "Check that the SQL in migrations/supabase/ is applied to your "
                            "project.", code: str = "") -> None:
        super().__init__(f"The sync server refused the request: {detail}.", fix)
        self.code = code  # PostgREST's or PostgreSQL's error code, when the server gave one


class InsecureSyncUrl(SyncError):
    """A project URL off this machine that is not https: the password would travel in clear."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"The sync project URL {url} is not https, so your password, sign-in and notes "
            "would cross the network unencrypted.",
            "Use the project's https:// URL (plain http is only for a server on this machine).",
        )
