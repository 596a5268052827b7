"""The server functions themselves, called in SQL as the `authenticated` role: a batch
delivered twice changes nothing, the change order never skips a late commit, and the
conflict rule picks the same winner whatever order concurrent writes arrive in."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

pytestmark = pytest.mark.postgres


def _session(dsn: str, user_id: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn.replace("user=postgres", "user=authenticator"))
    conn.execute("select set_config('role', 'authenticated', false),"
                 " set_config('request.jwt.claims', %s, false)",
                 (json.dumps({"sub": user_id, "role": "authenticated"}),))
    conn.commit()
    return conn


def _push(conn: psycopg.Connection[Any], device: str, mutations: list[dict[str, Any]],
          commit: bool = True) -> dict[str, Any]:
    row = conn.execute("select public.recap_push(%s, now(), %s)",
                       (device, Jsonb(mutations))).fetchone()
    if commit:
        conn.commit()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def _pull(conn: psycopg.Connection[Any], after: int = 0) -> list[dict[str, Any]]:
    row = conn.execute("select public.recap_pull(%s, 1000)", (after,)).fetchone()
    conn.commit()
    assert row is not None
    return row[0]["rows"]  # type: ignore[no-any-return]


def _mutation(row_id: str, title: str, base: int = 0, deleted: bool = False,
              stamp: str = "2026-01-01T00:00:00+00:00") -> dict[str, Any]:
    return {"mutation_id": uuid.uuid4().hex, "kind": "meeting", "id": row_id,
            "base_version": base, "deleted": deleted, "updated_at": stamp,
            "data": {"title": title}}


def test_a_batch_delivered_twice_changes_nothing_the_second_time(pg_dsn: str,
                                                                 user: dict[str, Any]) -> None:
    with _session(pg_dsn, user["id"]) as conn:
        batch = [_mutation(str(uuid.uuid4()), f"t{i}") for i in range(3)]
        first = _push(conn, "dev-1", batch)
        state = _pull(conn)
        second = _push(conn, "dev-1", batch)
        assert _pull(conn) == state  # same rows, versions and change sequence
        assert [r["accepted"] for r in second["results"]] == [True] * 3
        assert [r["version"] for r in second["results"]] == \
            [r["version"] for r in first["results"]] == [1, 1, 1]
        assert [r["seq"] for r in state] == [1, 2, 3]


def test_pull_order_never_skips_a_push_that_commits_late(pg_dsn: str,
                                                         user: dict[str, Any]) -> None:
    slow = _session(pg_dsn, user["id"])
    fast = _session(pg_dsn, user["id"])
    reader = _session(pg_dsn, user["id"])
    _push(slow, "dev-slow", [_mutation(str(uuid.uuid4()), "slow")], commit=False)
    done = threading.Event()

    def push_fast() -> None:
        _push(fast, "dev-fast", [_mutation(str(uuid.uuid4()), "fast")])
        done.set()

    worker = threading.Thread(target=push_fast)
    worker.start()
    # The second push waits for the first to commit instead of taking a later number and
    # becoming visible first (which would make a reader's cursor jump past the slow one).
    assert not done.wait(0.7)
    assert _pull(reader) == []
    slow.commit()
    worker.join(10)
    assert done.is_set()
    rows = _pull(reader)
    assert [(r["seq"], r["data"]["title"]) for r in rows] == [(1, "slow"), (2, "fast")]
    for conn in (slow, fast, reader):
        conn.close()


def test_concurrent_writes_resolve_the_same_way_in_any_arrival_order(
        pg_dsn: str, user: dict[str, Any]) -> None:
    writes = [
        ("dev-a", _mutation("", "edit at 10:00", base=1, stamp="2026-01-01T10:00:00+00:00")),
        ("dev-b", _mutation("", "edit at 10:05", base=1, stamp="2026-01-01T10:05:00+00:00")),
        ("dev-c", _mutation("", "", base=1, deleted=True, stamp="2026-01-01T10:09:00+00:00")),
        ("dev-d", _mutation("", "edit at 10:05", base=1, stamp="2026-01-01T10:05:00+00:00")),
    ]
    finals = set()
    with _session(pg_dsn, user["id"]) as conn:
        for order in itertools.permutations(writes):
            row_id = str(uuid.uuid4())  # a fresh row for each arrival order
            _push(conn, "dev-origin", [_mutation(row_id, "original")])
            for device, mutation in order:
                # Each device sends its clock as it is, so stamps are taken at face value.
                _push(conn, device, [{**mutation, "id": row_id,
                                      "mutation_id": uuid.uuid4().hex}])
            final = next(r for r in _pull(conn) if r["id"] == row_id)
            finals.add((final["device_id"], final["deleted"], final["data"]["title"]))
    # The delete saw none of the edits, so it loses to them; between the edits the later
    # stamp wins, and at equal stamps the larger device id.
    assert finals == {("dev-d", False, "edit at 10:05")}


def test_a_device_measured_offset_is_used_but_never_above_the_one_way_measurement(
        pg_dsn: str, user: dict[str, Any]) -> None:
    """The device's clock reads 10 s behind the server's on arrival (latency included)."""
    with _session(pg_dsn, user["id"]) as conn:
        server_now = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
        made = (server_now - timedelta(seconds=70)).isoformat()
        stamps = {}
        for offset in (None, 2.5, 3600.0):
            row_id = str(uuid.uuid4())
            conn.execute("select public.recap_push(%s, now() - interval '10 seconds', %s, %s)",
                         ("dev-1", Jsonb([_mutation(row_id, "t", stamp=made)]), offset))
            pulled = conn.execute("select public.recap_pull(0, 1000)").fetchone()[0]  # type: ignore[index]
            (row,) = [r for r in pulled["rows"] if r["id"] == row_id]
            stamps[offset] = datetime.fromisoformat(row["updated_at"])
        conn.commit()
    assert stamps[None] == server_now - timedelta(seconds=60)  # one way, as before
    assert stamps[2.5] == server_now - timedelta(seconds=67.5)  # the device's measurement
    assert stamps[3600.0] == server_now - timedelta(seconds=60)  # capped: never later
