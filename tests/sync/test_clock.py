"""Clock correction: an edit pushed slowly is still ordered by when it was made.

The server used to correct a device's clock by what it measured one way at push time, which
counts the push's latency too: an edit delayed in transit by three seconds looked three
seconds later than it was, and beat an edit made a second after it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.sync.engine import Rpc
from tests.supabase_standin.fixtures import ADMIN_DSN, AUTH_SCHEMA, supabase_sql_files
from tests.supabase_standin.server import StandIn

from .devices import Device

pytestmark = pytest.mark.postgres


class DelayedPushes:
    """A slow link for pushes: each reaches the server `delay_s` after the device sent it."""

    def __init__(self, rpc: Rpc, delay_s: float) -> None:
        self.rpc = rpc
        self.delay_s = delay_s

    def user_id(self) -> str:
        return self.rpc.user_id()

    def call(self, fn: str, params: dict[str, Any]) -> Any:
        if fn == "recap_push":
            time.sleep(self.delay_s)
        return self.rpc.call(fn, params)


def _shared_item(a: Device, b: Device) -> str:
    a.add_meeting("Clock check")
    a.sync()
    b.sync()  # both have now timed round trips with the server
    return next(k[1] for k in b.snapshot() if k[0] == "action_item")


def test_an_earlier_edit_pushed_slowly_loses_to_a_later_one(
    tmp_path: Path, server: Any, user: dict[str, Any]
) -> None:
    a = Device(tmp_path, "a", server, user)
    b = Device(tmp_path, "b", server, user)
    try:
        item = _shared_item(a, b)
        a.edit("action_item", item, text="A's wording, first")
        time.sleep(1.0)
        b.edit("action_item", item, text="B's wording, a second later")
        b.sync()
        a.engine.rpc = DelayedPushes(a.rpc, delay_s=3.0)  # a starved CPU or a slow network
        a.sync()
        b.sync()
        for device in (a, b):
            assert device.get("action_item", item)["text"] == "B's wording, a second later"  # type: ignore[index]
        assert [(h.reason, h.data["text"]) for h in a.history(item)] == [
            ("lost", "A's wording, first")
        ]
    finally:
        a.close()
        b.close()


def test_the_offset_is_measured_within_half_a_round_trip_and_forgotten_on_a_clock_step(
    tmp_path: Path, server: Any, user: dict[str, Any]
) -> None:
    ahead = Device(tmp_path, "ahead", server, user, skew=timedelta(hours=1))
    try:
        started = time.monotonic()
        ahead.sync()
        round_s = time.monotonic() - started
        offset = ahead.engine.clock_offset.estimate()
        assert offset is not None
        assert abs(offset + 3600) <= round_s / 2  # each exchange took less than the round
        ahead.skew += timedelta(minutes=5)  # the user sets the clock: the measurement is void
        assert ahead.engine.clock_offset.estimate() is None
        ahead.sync()
        offset = ahead.engine.clock_offset.estimate()
        assert offset is not None and abs(offset + 3900) < 5
    finally:
        ahead.close()


@pytest.fixture
def server_with_old_sql() -> Iterator[StandIn]:
    """A stand-in whose recap_push predates p_clock_offset (it answers as before)."""
    name = f"recap_sync_old_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
    standin = None
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(AUTH_SCHEMA.read_text())
            for path in supabase_sql_files():
                conn.execute(path.read_text())
            conn.execute("""
                alter function public.recap_push(text, timestamptz, jsonb, double precision)
                    rename to recap_push_now;
                create function public.recap_push(p_device text, p_client_now timestamptz,
                                                  p_mutations jsonb) returns jsonb
                    language sql security invoker set search_path = ''
                    as $$ select public.recap_push_now(p_device, p_client_now, p_mutations) $$;
                grant execute on function public.recap_push(text, timestamptz, jsonb)
                    to authenticated;""")
        standin = StandIn(dsn).start()
        yield standin
    finally:
        if standin is not None:
            standin.stop()
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def test_a_server_with_older_sql_still_syncs(tmp_path: Path, server_with_old_sql: StandIn) -> None:
    old = server_with_old_sql
    email = f"u{uuid.uuid4().hex[:10]}@example.test"
    user = {"email": email, "password": "pw", "id": old.create_user(email, "pw")}
    a = Device(tmp_path, "a", old, user)
    b = Device(tmp_path, "b", old, user)
    try:
        a.add_meeting("Old server")
        pushes = old.requests.count("/rest/v1/rpc/recap_push")
        # The clock is timed before the first push, which carries the offset, is refused and
        # is sent again without it.
        report = a.sync()
        assert old.requests.count("/rest/v1/rpc/recap_push") == pushes + 2
        assert report.accepted == 4 and a.engine.pending_count() == 0
        a.add_meeting("Old server, again")
        a.sync()  # the engine remembers: one push
        assert old.requests.count("/rest/v1/rpc/recap_push") == pushes + 3
        b.sync()
        assert a.snapshot() == b.snapshot()
    finally:
        a.close()
        b.close()
