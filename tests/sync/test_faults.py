"""Sync under faults: lost answers, crashes mid-batch, a misbehaving server, expired tokens,
edits made while a push is in flight."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.sync import apply as apply_module
from app.sync import outbox
from app.sync.errors import NotSignedIn, ServerUnreachable, SyncError

from .devices import Device, server_snapshot

pytestmark = pytest.mark.postgres


class Killed(BaseException):
    """Stands for the process dying at a chosen line."""


def server_versions(dsn: str, user_id: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select id::text, version from public.recap_rows where user_id = %s", (user_id,)
        ).fetchall()
    return dict(rows)


def sync_until_done(*devices: Device, attempts: int = 40) -> None:
    for device in devices:
        for _ in range(attempts):
            try:
                device.sync()
                break
            except SyncError:
                continue
        else:
            raise AssertionError(f"{device.name} never completed a round")


def test_lost_push_answer_then_retry_creates_no_duplicates(
    tmp_path: Path, server: Any, user: dict[str, Any], pg_dsn: str
) -> None:
    a = Device(tmp_path, "a", server, user)
    a.sync()  # times the server's clock: the next round needs no timing request before its push
    a.add_meeting("Lost answer", items=3)
    server.faults.forced = ["drop_after_commit"]  # the push commits, its answer never arrives
    with pytest.raises(ServerUnreachable):
        a.sync()
    assert a.engine.pending_count() == 5  # not acknowledged, so still pending
    first = server_versions(pg_dsn, user["id"])
    assert len(first) == 5
    report = a.sync()  # same batch again: answered from the mutation log
    assert report.accepted == 5
    assert server_versions(pg_dsn, user["id"]) == first  # nothing applied twice
    assert all(v == 1 for v in first.values())
    assert a.engine.pending_count() == 0
    assert a.snapshot() == server_snapshot(pg_dsn, user["id"])
    a.close()


def test_killed_after_server_commit_before_local_ack(
    tmp_path: Path, server: Any, user: dict[str, Any], pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = Device(tmp_path, "a", server, user, batch_size=4)
    for i in range(3):
        a.add_meeting(f"Crash {i}", items=2)  # 12 rows: three batches of four

    calls = {"n": 0}
    real = outbox.mark_acknowledged

    def die_on_second_batch(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed
        real(*args, **kwargs)

    monkeypatch.setattr(outbox, "mark_acknowledged", die_on_second_batch)
    with pytest.raises(Killed):
        a.sync()
    monkeypatch.setattr(outbox, "mark_acknowledged", real)
    a.close()
    assert a.engine.pending_count() == 8  # batch 1 acknowledged, batch 2 lost with the process

    again = Device(tmp_path, "a", server, user, batch_size=4)  # restart on the same file
    again.sync()
    assert again.engine.pending_count() == 0
    versions = server_versions(pg_dsn, user["id"])
    assert len(versions) == 12 and set(versions.values()) == {1}
    assert again.snapshot() == server_snapshot(pg_dsn, user["id"])
    again.close()


def test_killed_while_applying_a_pulled_page(
    tmp_path: Path, server: Any, user: dict[str, Any], pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = Device(tmp_path, "a", server, user)
    for i in range(4):
        a.add_meeting(f"Pulled {i}", items=2)
    a.sync()
    b = Device(tmp_path, "b", server, user, page_size=5)
    calls = {"n": 0}
    real = apply_module.PulledRows.apply_rows

    def die_on_third_page(self: Any, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed
        real(self, *args, **kwargs)

    monkeypatch.setattr(apply_module.PulledRows, "apply_rows", die_on_third_page)
    with pytest.raises(Killed):
        b.sync()
    monkeypatch.setattr(apply_module.PulledRows, "apply_rows", real)
    b.close()
    b = Device(tmp_path, "b", server, user, page_size=5)
    b.sync()
    assert b.snapshot() == a.snapshot() == server_snapshot(pg_dsn, user["id"])
    b.close()
    a.close()


def test_server_that_drops_errors_and_stalls_at_random(
    tmp_path: Path, server: Any, user: dict[str, Any], pg_dsn: str
) -> None:
    server.faults.stall_s = 1.2
    a = Device(tmp_path, "a", server, user, timeout_s=0.8, batch_size=3, page_size=4)
    b = Device(tmp_path, "b", server, user, timeout_s=0.8, batch_size=3, page_size=4)
    ids = [a.add_meeting(f"A{i}", items=1) for i in range(3)]
    ids += [b.add_meeting(f"B{i}", items=1) for i in range(3)]
    server.faults.rate = 0.35
    server.faults._rng.seed(7)
    sync_until_done(a, b, a)
    a.edit("meeting", ids[3], title="renamed on A")
    b.delete("meeting", ids[0])
    sync_until_done(a, b, a)
    server.faults.rate = 0.0
    a.sync()
    b.sync()
    assert a.snapshot() == b.snapshot() == server_snapshot(pg_dsn, user["id"])
    assert a.get("meeting", ids[3])["title"] == "renamed on A"  # type: ignore[index]
    assert b.get("meeting", ids[0])["deleted"] is True  # type: ignore[index]
    a.close()
    b.close()


def test_expired_access_token_is_refreshed_and_the_round_succeeds(
    tmp_path: Path, server: Any, user: dict[str, Any], memory_keyring: Any
) -> None:
    server.access_ttl_s = 1
    a = Device(tmp_path, "a", server, user)
    first_token = next(iter(memory_keyring.store.values()))
    a.add_meeting("Token")
    server.access_ttl_s = 3600  # tokens issued from now on (the refreshed one) last
    time.sleep(2.1)  # the first access token is now expired
    before = server.requests.count("/auth/v1/token")
    a.sync()
    assert server.requests.count("/auth/v1/token") == before + 1  # one refresh, then success
    assert a.engine.pending_count() == 0
    assert next(iter(memory_keyring.store.values())) != first_token  # rotated token kept
    a.close()


def test_refresh_token_lives_in_the_keychain_and_sign_out_forgets_it(
    tmp_path: Path, server: Any, user: dict[str, Any], memory_keyring: Any
) -> None:
    from app.sync.client import SupabaseRpc

    a = Device(tmp_path, "a", server, user)
    a.add_meeting("Keychain")
    a.close()
    assert len(memory_keyring.store) == 1
    # A new start of the app: no password, the keychain token signs it in.
    fresh = SupabaseRpc(server.url, server.anon_key, user["email"])
    assert fresh.user_id() == user["id"]
    fresh.sign_out()
    assert memory_keyring.store == {}
    later = SupabaseRpc(server.url, server.anon_key, user["email"])
    with pytest.raises(NotSignedIn):
        later.call("recap_pull", {"p_after": 0})


def test_edit_made_while_a_push_is_in_flight_is_not_marked_synced(
    tmp_path: Path, server: Any, user: dict[str, Any], pg_dsn: str
) -> None:
    a = Device(tmp_path, "a", server, user)
    mid = a.add_meeting("In flight")
    locked: dict[str, bool] = {}

    def edit_during_push(fn: str) -> None:
        if fn != "recap_push" or locked:
            return
        # While the request is on the wire, the user edits, and the database is not locked.
        probe = sqlite3.connect(a.db.path, timeout=0.5)
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        probe.close()
        locked["free"] = True
        a.edit("meeting", mid, title="edited while sending")

    server.on_rpc = edit_during_push
    pushes = server.requests.count("/rest/v1/rpc/recap_push")
    a.sync()
    assert locked == {"free": True}
    # The first answer acknowledged the old version only; the same round sent the edit again.
    assert server.requests.count("/rest/v1/rpc/recap_push") == pushes + 2
    assert a.engine.pending_count() == 0
    assert (
        server_snapshot(pg_dsn, user["id"])[("meeting", mid)][1]["title"] == "edited while sending"
    )
    a.close()


def test_worker_thread_syncs_on_change_backs_off_and_wakes_when_network_returns(
    tmp_path: Path, server: Any, user: dict[str, Any]
) -> None:
    from app.sync.worker import SyncWorker, watch_local_changes

    a = Device(tmp_path, "a", server, user, timeout_s=2)
    statuses: list[Any] = []
    network = {"up": True}
    worker = SyncWorker(
        a.engine,
        interval_s=3600,
        on_status=statuses.append,
        probe=lambda: network["up"],
        backoff_base_s=60,
        probe_interval_s=0.05,
    )
    unwatch = watch_local_changes(a.db, worker)
    worker.start()
    _wait(lambda: worker.rounds == 1)
    time.sleep(0.3)
    assert worker.rounds == 1  # its own round's writes do not wake it again
    a.add_meeting("Background")  # a committed local edit wakes the worker by itself
    _wait(lambda: worker.rounds == 2)
    assert statuses[-1].state == "idle" and statuses[-1].pending == 0
    assert statuses[-1].last_synced_at is not None

    network["up"] = False
    server.faults.kinds = ("drop_before",)
    server.faults.rate = 1.0
    a.add_meeting("While offline")
    _wait(lambda: any(s.state == "offline" for s in statuses))
    offline = next(s for s in statuses if s.state == "offline")
    assert offline.pending == 4 and offline.last_error
    time.sleep(0.3)
    assert worker.rounds == 2  # backing off (30 s or more), not hammering the server
    server.faults.rate = 0.0
    server.faults.kinds = ("drop_before", "drop_after_commit", "error_500", "stall")
    network["up"] = True  # the probe sees the server again: sync long before the backoff ends
    _wait(lambda: worker.rounds == 3, timeout=5)
    assert statuses[-1].state == "idle" and statuses[-1].pending == 0
    started = time.monotonic()
    assert worker.stop(timeout_s=5)
    assert time.monotonic() - started < 2
    assert statuses[-1].state == "stopped"
    unwatch()
    a.close()


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def test_worker_stops_cleanly_mid_round(tmp_path: Path, server: Any, user: dict[str, Any]) -> None:
    from app.sync.worker import SyncWorker

    a = Device(tmp_path, "a", server, user)
    a.add_meeting("Stop")
    gate = threading.Event()
    server.on_rpc = lambda fn: gate.wait(5)
    worker = SyncWorker(a.engine, interval_s=3600)
    worker.start()
    time.sleep(0.2)  # the push is waiting on the server
    stopper = threading.Thread(target=worker.stop, kwargs={"timeout_s": 5})
    stopper.start()
    gate.set()
    stopper.join(6)
    assert not worker.running
    assert a.engine.pending_count() == 0  # the round in flight finished, then the thread ended
    a.close()
