"""Sync benchmark: the cost of a sync round grows with the number of changes, not with the
size of the database.

Runs against the real PostgreSQL at 127.0.0.1:5432 (a throwaway database, dropped at the end)
behind the loopback Supabase stand-in used by the tests, with two devices on SQLite files.
For each database size (default 1,000 and 10,000 meetings, each with 5 transcript segments,
2 action items and an email draft) it measures:

* first sync, device A: push everything;   first sync, device B: pull everything;
* a round with no changes;                 rounds with 10 / 100 / 1,000 changes (A pushes,
                                            then B pulls them);
* the peer approach, a snapshot sync that re-reads everything each round (pull from 0).

Wall times on a shared machine follow its load, so the first push also reports the CPU it
took: in this process (the client and the stand-in server) and in the PostgreSQL backends
serving the stand-in (Linux, from /proc), with the load average at the start and the end.

Usage: python benchmarks/sync.py [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import keyring
import psycopg
from keyring.backend import KeyringBackend
from sqlalchemy import insert, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.store.models import ActionItem, EmailDraft, Meeting, Segment, utcnow  # noqa: E402
from tests.supabase_standin.server import StandIn  # noqa: E402
from tests.sync.devices import Device  # noqa: E402

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


class _MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


def fill(device: Device, meetings: int) -> list[str]:
    """Bulk-insert meetings with their segments, action items and email draft."""
    now = utcnow()
    common = {"created_at": now, "updated_at": now, "version": 1, "device_id": device.device_id}
    ids = [str(uuid.uuid4()) for _ in range(meetings)]
    with device.db.session() as s:
        s.execute(insert(Meeting), [
            {**common, "id": mid, "title": f"Meeting {i}", "occurred_at": now,
             "summary": "We agreed to ship the beta on Friday. " * 4,
             "decisions": ["ship beta", "hire a designer"]} for i, mid in enumerate(ids)])
        s.execute(insert(Segment), [
            {**common, "id": str(uuid.uuid4()), "meeting_id": mid, "idx": k,
             "start_ms": k * 4000, "end_ms": k * 4000 + 3900,
             "text": "so the plan is to finish the onboarding flow before the release"}
            for mid in ids for k in range(5)])
        s.execute(insert(ActionItem), [
            {**common, "id": str(uuid.uuid4()), "meeting_id": mid, "position": k,
             "text": f"Follow up on item {k}", "owner": "Ana", "quote": "I'll do it"}
            for mid in ids for k in range(2)])
        s.execute(insert(EmailDraft), [
            {**common, "id": str(uuid.uuid4()), "meeting_id": mid, "subject": "Recap",
             "body": "Hi all, here is what we agreed. " * 5} for mid in ids])
    return ids


def change(device: Device, ids: list[str], count: int, tag: str) -> None:
    with device.db.session() as s:
        for mid in ids[:count]:
            item = s.scalars(select(ActionItem).where(ActionItem.meeting_id == mid)).first()
            assert item is not None
            item.done = not item.done
            item.text = f"{item.text} ({tag})"


def _backend_cpu(dsn: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving the stand-in (Linux only)."""
    name = dsn.rsplit("dbname=", 1)[1]
    with psycopg.connect(ADMIN) as conn:
        pids = [row[0] for row in conn.execute(
            "select pid from pg_stat_activity where datname = %s and usename = 'authenticator'",
            (name,))]
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def run_size(server: StandIn, root: Path, meetings: int) -> dict[str, float]:
    email = f"bench{meetings}-{uuid.uuid4().hex[:6]}@example.test"
    server.create_user(email, "pw")
    user = {"email": email, "password": "pw"}
    a = Device(root / f"n{meetings}", "a", server, user, timeout_s=120, batch_size=500,
               page_size=1000)
    b = Device(root / f"n{meetings}", "b", server, user, timeout_s=120, batch_size=500,
               page_size=1000)
    ids = fill(a, meetings)
    rows = meetings * 4
    out: dict[str, float] = {}
    a.rpc.call("recap_pull", {"p_after": 2**62, "p_limit": 1})  # the stand-in's backend opens
    cpu, pg_cpu = time.process_time(), _backend_cpu(server.dsn)
    out["first sync A (push)"], rep = timed(a.sync)
    out["  CPU, client+stand-in"] = time.process_time() - cpu
    out["  CPU, PostgreSQL"] = _backend_cpu(server.dsn) - pg_cpu
    assert rep.accepted == rows, rep
    out["first sync B (pull)"], rep = timed(b.sync)
    assert rep.applied == rows, rep
    idle = [timed(a.sync) for _ in range(3)]  # best of three: a round this short is noisy
    out["no changes, A"] = min(t for t, _ in idle)
    assert all(rep.pushed == 0 and rep.pulled == 0 for _, rep in idle)
    for label in (10, 100, 1000):
        count = min(label, meetings)
        change(a, ids, count, f"round {label}")
        out[f"{label:>5} changes, A push"], rep = timed(a.sync)
        assert rep.accepted == count, rep
        out[f"{label:>5} changes, B pull"], rep = timed(b.sync)
        assert rep.applied == count, rep
    out["peer: snapshot re-read"], _ = timed(lambda: _full_pull(a))
    a.close()
    b.close()
    return out


def _full_pull(device: Device) -> int:
    """What a sync without a change cursor must do every round: read every row again."""
    after, total = 0, 0
    while True:
        page = device.rpc.call("recap_pull", {"p_after": after, "p_limit": 1000})["rows"]
        if not page:
            return total
        total += len(page)
        after = page[-1]["seq"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    keyring.set_keyring(_MemoryKeyring())
    load_before = os.getloadavg()[0]
    name = f"recap_sync_bench_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute((REPO / "tests" / "supabase_standin" / "auth_schema.sql").read_text())
            for sql in sorted((REPO / "migrations" / "supabase").glob("*.sql")):
                conn.execute(sql.read_text())
        server = StandIn(dsn).start()
        results: dict[int, dict[str, float]] = {}
        with tempfile.TemporaryDirectory(prefix="recap-sync-bench-") as tmp:
            for size in args.sizes:
                (Path(tmp) / f"n{size}").mkdir()
                results[size] = run_size(server, Path(tmp), size)
                print(f"... {size} meetings done", file=sys.stderr, flush=True)
        server.stop()
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
    sizes = args.sizes
    print(f"\nload average (1 min) at the start {load_before:.1f}, at the end "
          f"{os.getloadavg()[0]:.1f}")
    print(f"\n{'seconds':28}" + "".join(f"{f'{n:,} mtgs':>14}" for n in sizes)
          + (f"{'ratio':>9}" if len(sizes) > 1 else ""))
    for key in results[sizes[0]]:
        row = [results[n][key] for n in sizes]
        ratio = f"{row[-1] / row[0]:9.2f}" if len(sizes) > 1 and row[0] else ""
        print(f"{key:28}" + "".join(f"{v:14.3f}" for v in row) + ratio)
    print(f"\n(rows per meeting: 4 synced rows; {sizes[-1] // sizes[0] if len(sizes) > 1 else 1}x "
          "the data between the columns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
