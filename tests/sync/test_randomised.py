"""A randomised run (hypothesis): several devices create, edit and delete rows and sync
through a server that drops connections, loses answers and fails with 500s. At the end,
with the faults gone, every replica equals the server and no acknowledged edit is lost:
each write the server accepted is the final state (or has its content), or was seen by a
later write, or sits in its device's conflict history, or its device wrote that row again
later."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.sync.errors import SyncError

from .devices import Device, server_snapshot

pytestmark = pytest.mark.postgres

AUDIT_SQL = """
create table if not exists public.test_audit (
    user_id uuid, id uuid, version bigint, seen_version bigint, device_id text,
    deleted boolean, data jsonb, at timestamptz not null default clock_timestamp());
create or replace function public.test_audit_fn() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
    insert into public.test_audit (user_id, id, version, seen_version, device_id, deleted, data)
    values (new.user_id, new.id, new.version, new.seen_version, new.device_id, new.deleted,
            new.data);
    return new;
end $$;
drop trigger if exists test_audit on public.recap_rows;
create trigger test_audit after insert or update on public.recap_rows
    for each row execute function public.test_audit_fn();
"""

N_DEVICES = 3
FAULTS = (None, None, "drop_before", "drop_after_commit", "error_500")

operation = st.one_of(
    st.tuples(st.just("create"), st.integers(0, N_DEVICES - 1)),
    st.tuples(st.just("edit"), st.integers(0, N_DEVICES - 1), st.integers(0, 50),
              st.sampled_from(["alpha", "beta", "gamma", "delta"])),
    st.tuples(st.just("edit"), st.integers(0, N_DEVICES - 1), st.integers(0, 50),
              st.sampled_from(["alpha", "beta", "gamma", "delta"])),
    st.tuples(st.just("delete"), st.integers(0, N_DEVICES - 1), st.integers(0, 50)),
    st.tuples(st.just("sync"), st.integers(0, N_DEVICES - 1), st.sampled_from(FAULTS)),
)


@pytest.fixture(scope="module")
def audited(pg_dsn: str) -> str:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(AUDIT_SQL)
    return pg_dsn


def _live_rows(device: Device) -> list[tuple[str, str]]:
    return sorted(key for key, (deleted, _) in device.snapshot().items() if not deleted)


def _edit(device: Device, kind: str, row_id: str, word: str) -> None:
    field = {"meeting": "title", "action_item": "text", "email_draft": "body"}[kind]
    device.edit(kind, row_id, **{field: f"{word} from {device.name}"})


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(operation, min_size=5, max_size=25))
def test_random_devices_edits_deletes_and_faults_converge_without_losing_edits(
        ops: list[tuple[Any, ...]], server: Any, audited: str) -> None:
    email = f"h{uuid.uuid4().hex[:10]}@example.test"
    user = {"email": email, "password": "pw", "id": server.create_user(email, "pw")}
    root = Path(tempfile.mkdtemp(prefix="recap-hyp-"))
    devices = [Device(root, f"d{i}", server, user, batch_size=4, page_size=6)
               for i in range(N_DEVICES)]
    try:
        # A shared starting point, so that edits on different devices meet on the same rows.
        devices[0].add_meeting("shared one", items=1, segments=1)
        devices[0].add_meeting("shared two", items=1, segments=1)
        for device in devices:
            device.sync()
        for op in ops:
            device = devices[op[1]]
            if op[0] == "create":
                device.add_meeting(f"m-{uuid.uuid4().hex[:4]}", items=1, segments=1)
            elif op[0] in ("edit", "delete"):
                rows = _live_rows(device)
                if not rows:
                    continue
                kind, row_id = rows[op[2] % len(rows)]
                if op[0] == "edit":
                    _edit(device, kind, row_id, op[3])
                else:
                    device.delete(kind, row_id)
            else:
                server.faults.forced = [op[2]] if op[2] else []
                with contextlib.suppress(SyncError):  # a fault: the next round carries on
                    device.sync()
                server.faults.forced = []

        for _ in range(2):  # faults gone: everyone pushes, then everyone pulls
            for device in devices:
                device.sync()

        final = server_snapshot(audited, user["id"])
        for device in devices:
            assert device.snapshot() == final, f"{device.name} differs from the server"
            assert device.engine.pending_count() == 0
        _assert_no_acknowledged_edit_lost(audited, user["id"], devices)
    finally:
        for device in devices:
            device.close()


def _assert_no_acknowledged_edit_lost(dsn: str, user_id: str, devices: list[Device]) -> None:
    with psycopg.connect(dsn) as conn:
        writes = conn.execute(
            "select id::text, version, seen_version, device_id, deleted, data, at"
            " from public.test_audit where user_id = %s order by at", (user_id,)).fetchall()
        final = {row_id: (version, deleted, data) for row_id, version, deleted, data in
                 conn.execute("select id::text, version, deleted, data from public.recap_rows"
                              " where user_id = %s", (user_id,)).fetchall()}
    history = {d.device_id: d.history() for d in devices}
    for row_id, version, _seen, device_id, deleted, data, at in writes:
        if final[row_id] == (version, deleted, data) or final[row_id][1:] == (deleted, data):
            continue  # the final state, or the same content as it
        later = [w for w in writes if w[0] == row_id and w[1] > version]
        if any(w[2] >= version for w in later):
            continue  # a later write had seen it
        if any(w[3] == device_id for w in later):
            continue  # its own device moved on and wrote the row again
        kept = [h for h in history[device_id] if h.row_id == row_id]
        if any(h.deleted == deleted and h.data == data for h in kept):
            continue  # kept in the device's conflict history
        if any(h.recorded_at >= at for h in kept):
            continue  # a later local version of it was kept instead
        raise AssertionError(f"accepted write {row_id} v{version} by {device_id} was lost: "
                             f"{deleted} {data}; final {final[row_id]}; history {kept}")
