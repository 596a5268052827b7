"""A real crash: the process running a sync round is killed with SIGKILL in the middle of its
batches. Restarting on the same database file finishes the job: nothing is pushed twice,
nothing is left pending, the SQLite file is intact."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from .devices import Device, server_snapshot

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import sys, keyring
    sys.path.insert(0, {repo!r})
    from keyring.backend import KeyringBackend

    class Mem(KeyringBackend):
        priority = 1
        store = {{}}
        def get_password(self, s, u): return self.store.get((s, u))
        def set_password(self, s, u, p): self.store[(s, u)] = p
        def delete_password(self, s, u): self.store.pop((s, u), None)

    keyring.set_keyring(Mem())
    from pathlib import Path
    from tests.supabase_standin.server import StandIn
    from tests.sync.devices import Device

    class Server:
        url = {url!r}
        anon_key = {anon!r}

    device = Device(Path({root!r}), "a", Server, {user!r}, batch_size=5)
    print("ready", flush=True)
    device.sync()
    print("finished", flush=True)
""")


def test_sigkill_mid_batches_then_restart_converges(tmp_path: Path, server: Any, pg_dsn: str,
                                                     user: dict[str, Any]) -> None:
    first = Device(tmp_path, "a", server, user)
    for i in range(5):
        first.add_meeting(f"Killed {i}", items=3)  # 25 rows: five batches of five
    first.close()

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(repo=str(REPO), url=server.url,
                                            anon=server.anon_key, root=str(tmp_path),
                                            user={"email": user["email"],
                                                  "password": user["password"]})],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pushes = {"n": 0}
    killed = threading.Event()

    def kill_on_third_push(fn: str) -> None:
        if fn == "recap_push":
            pushes["n"] += 1
            if pushes["n"] == 3:
                os.kill(child.pid, signal.SIGKILL)  # batches 1-2 answered, 3 in flight
                killed.set()

    server.on_rpc = kill_on_third_push
    child.wait(timeout=120)
    server.on_rpc = None
    assert killed.is_set(), child.stderr.read() if child.stderr else ""
    assert child.returncode == -signal.SIGKILL

    with sqlite3.connect(tmp_path / "a.sqlite3") as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    again = Device(tmp_path, "a", server, user)
    assert 0 < again.engine.pending_count() < 25  # some batches were acknowledged
    again.sync()
    assert again.engine.pending_count() == 0
    with psycopg.connect(pg_dsn) as conn:
        versions = [v for (v,) in conn.execute(
            "select version from public.recap_rows where user_id = %s", (user["id"],))]
    assert len(versions) == 25 and set(versions) == {1}  # each row written exactly once
    assert again.snapshot() == server_snapshot(pg_dsn, user["id"])
    again.close()
