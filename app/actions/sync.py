"""Sync as a person sees it: where it stands, a round now, signing in and out, the versions that
lost a conflict and bringing one back, and the background worker the window runs.

Signing in and out act at once and save the settings (as `recap sync --sign-in` does and the
window's Settings › Sync does): the password is sent once and never kept; only the refresh
token is, in the OS keychain. Every client goes through the privacy gate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.actions.changes import SETTINGS, Changes
from app.net import NetworkGate
from app.settings import Settings
from app.store.db import Database
from app.store.models import ActionItem, EmailDraft, Meeting, Segment, SyncedMixin
from app.sync import history, set_aside
from app.sync.apply import RoundReport
from app.sync.client import SupabaseRpc
from app.sync.engine import SyncEngine
from app.sync.errors import SyncBlocked, SyncNotConfigured
from app.sync.status import SyncStatus
from app.sync.worker import SyncWorker, watch_local_changes


@dataclass(frozen=True)
class SyncOverview:
    enabled: bool  # set up, and allowed (privacy mode off)
    privacy_mode: bool
    project_url: str
    email: str
    signed_in: bool
    last_synced_at: datetime | None
    pending: int
    last_error: str
    set_aside: list[SetAsideEntry]  # received rows that could not be used here


@dataclass(frozen=True)
class SetAsideEntry:
    """A pulled row that failed its checks or could not be applied on this device; tried
    again when a newer version arrives, or with a full round."""

    id: str
    kind: str
    version: int
    reason: str
    recorded_at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    kind: str
    row_id: str
    reason: str
    deleted: bool
    recorded_at: datetime
    restored_at: datetime | None
    data: dict[str, Any]

    @property
    def label(self) -> str:
        return str(self.data.get("title") or self.data.get("text") or self.data.get("subject")
                   or self.row_id)

    @property
    def why(self) -> str:
        return history.REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class Restored:
    row_id: str
    changes: Changes


@dataclass
class RunningSync:
    """A background worker and what it needs stopped with it."""

    worker: SyncWorker
    rpc: SupabaseRpc
    unwatch: Callable[[], None]

    @property
    def running(self) -> bool:
        return self.worker.running

    def sync_now(self) -> None:
        self.worker.sync_now()

    def stop(self, timeout_s: float) -> bool:
        self.unwatch()
        stopped = self.worker.stop(timeout_s)
        if stopped:  # closing the client under a request in flight is not thread-safe
            self.rpc.close()
        return stopped


class Sync:
    def __init__(self, db: Database, settings: Callable[[], Settings],
                 save_settings: Callable[[], None], gate: NetworkGate) -> None:
        self.db = db
        self.settings = settings
        self.save_settings = save_settings
        self.gate = gate

    def _rpc(self, url: str | None = None, anon_key: str | None = None,
             email: str | None = None) -> SupabaseRpc:
        s = self.settings()
        if s.privacy_mode:
            raise SyncBlocked()
        return SupabaseRpc(url or s.sync.supabase_url, anon_key or s.sync.supabase_anon_key,
                           s.sync.email if email is None else email, gate=self.gate)

    def _engine(self, rpc: SupabaseRpc | None) -> SyncEngine:
        return SyncEngine(self.db, rpc, self.settings().device_id)  # type: ignore[arg-type]

    # -- where it stands -----------------------------------------------------------------
    def signed_in_as(self) -> str:
        """The account whose token is in the keychain ("" for none). No network."""
        sync = self.settings().sync
        if not (sync.supabase_url and sync.supabase_anon_key and sync.email):
            return ""
        rpc = SupabaseRpc(sync.supabase_url, sync.supabase_anon_key, sync.email)
        return sync.email if rpc.signed_in() else ""

    def overview(self) -> SyncOverview:
        s = self.settings()
        engine = self._engine(None)  # reads the local state only
        state = engine.state()
        signed_in = bool(s.sync.supabase_url and s.sync.supabase_anon_key) and SupabaseRpc(
            s.sync.supabase_url, s.sync.supabase_anon_key, s.sync.email).signed_in()
        with self.db.session() as session:
            aside = [SetAsideEntry(**row) for row in set_aside.listed(session)]
        return SyncOverview(s.sync.enabled and not s.privacy_mode, s.privacy_mode,
                            s.sync.supabase_url, s.sync.email, signed_in, state.last_synced_at,
                            engine.pending_count(), state.last_error, aside)

    # -- doing it ------------------------------------------------------------------------
    def run_round(self, full: bool = False) -> RoundReport:
        """One round now: send what changed here, apply what changed elsewhere (``full``:
        re-read every row from the server, rows set aside included)."""
        if not self.settings().sync.enabled:
            raise SyncNotConfigured()
        rpc = self._rpc()
        engine = self._engine(rpc)
        try:
            return engine.run_round(full=full)
        except Exception as exc:
            engine.record_error(str(exc))
            raise
        finally:
            rpc.close()

    def start_worker(self, on_status: Callable[[SyncStatus], None]) -> RunningSync | None:
        """Sync in the background (after local edits, on a timer, when the network is back);
        None when no account is signed in (no network is used to find that out)."""
        rpc = self._rpc()
        if not rpc.signed_in():  # reads the keychain only
            rpc.close()
            return None
        worker = SyncWorker(self._engine(rpc), interval_s=self.settings().sync.interval_s,
                            on_status=on_status, probe=rpc.probe)
        unwatch = watch_local_changes(self.db, worker)
        worker.start()
        return RunningSync(worker, rpc, unwatch)

    # -- the account ---------------------------------------------------------------------
    def sign_in(self, email: str, password: str, *, url: str | None = None,
                anon_key: str | None = None) -> Changes:
        """Sign in to the project (the saved one, or ``url`` and ``anon_key``) and turn sync
        on; the settings are saved."""
        rpc = self._rpc(url, anon_key, email)
        try:
            rpc.sign_in(email, password)
        finally:
            rpc.close()
        sync = self.settings().sync
        if url and anon_key:
            sync.supabase_url, sync.supabase_anon_key = url, anon_key
        sync.email = email
        sync.enabled = True
        self.save_settings()
        return SETTINGS

    def sign_out(self) -> Changes:
        """Forget the token (revoking it on the server when it can be reached) and turn sync
        off; notes stay on this device. Refused in privacy mode (the token would be sent)."""
        sync = self.settings().sync
        if sync.supabase_url and sync.supabase_anon_key:
            rpc = self._rpc()
            try:
                rpc.sign_out()
            finally:
                rpc.close()
        sync.enabled = False
        self.save_settings()
        return SETTINGS

    # -- conflicts -----------------------------------------------------------------------
    def history(self) -> list[HistoryEntry]:
        """Versions that lost a conflict with another device, newest first."""
        with self.db.session() as session:
            return [HistoryEntry(e.id, e.kind, e.row_id, e.reason, e.deleted, e.recorded_at,
                                 e.restored_at, e.data) for e in history.list_history(session)]

    def restore(self, history_id: int) -> Restored:
        """Make that version the current one again (an ordinary edit: it syncs)."""
        with self.db.session() as session:
            row = history.restore(session, history_id)
            row_id = row.id
            meeting_id = row.id if isinstance(row, Meeting) else _meeting_of(row)
        return Restored(row_id, Changes.meeting(meeting_id))


def _meeting_of(row: Segment | ActionItem | EmailDraft | SyncedMixin) -> str:
    assert isinstance(row, Segment | ActionItem | EmailDraft), type(row)
    return row.meeting_id
