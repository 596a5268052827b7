"""Builds the sync pieces from the container's settings (used by the CLI and the GUI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from app.sync.client import SupabaseRpc
from app.sync.engine import SyncEngine
from app.sync.errors import SyncBlocked
from app.sync.status import SyncStatus
from app.sync.worker import SyncWorker, watch_local_changes

if TYPE_CHECKING:
    from app.container import Container


def build_rpc(container: Container) -> SupabaseRpc:
    settings = container.settings
    if settings.privacy_mode:
        raise SyncBlocked()
    return SupabaseRpc(settings.sync.supabase_url, settings.sync.supabase_anon_key,
                       settings.sync.email, gate=container.net_gate)


def build_engine(container: Container, rpc: SupabaseRpc | None = None) -> SyncEngine:
    return SyncEngine(container.db, rpc or build_rpc(container), container.settings.device_id)


def build_worker(container: Container,
                 on_status: Callable[[SyncStatus], None] | None = None) -> SyncWorker:
    """The GUI's worker: call ``start()``, and ``stop()`` on quit. Local edits wake it."""
    rpc = build_rpc(container)
    worker = SyncWorker(build_engine(container, rpc),
                        interval_s=container.settings.sync.interval_s,
                        on_status=on_status, probe=rpc.probe)
    watch_local_changes(container.db, worker)
    return worker
