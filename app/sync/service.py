"""Opens the sync client from the settings, refusing while privacy mode is on."""

from __future__ import annotations

from app.net import NetworkGate
from app.settings import Settings
from app.sync.client import SupabaseRpc
from app.sync.errors import SyncBlocked


def open_rpc(settings: Settings, gate: NetworkGate) -> SupabaseRpc:
    if settings.privacy_mode:
        raise SyncBlocked()
    sync = settings.sync
    return SupabaseRpc(sync.supabase_url, sync.supabase_anon_key, sync.email, gate=gate)
