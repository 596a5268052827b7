"""A push is cut into batches by count and by size, and one round still sends everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.sync import outbox

from .devices import Device, server_snapshot

pytestmark = pytest.mark.postgres


def test_large_rows_go_in_several_batches_within_one_round(
        tmp_path: Path, server: Any, user: dict[str, Any], pg_dsn: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "BATCH_BYTES", 3000)  # stands for megabytes of transcript
    a = Device(tmp_path, "a", server, user, batch_size=500)
    for i in range(6):
        a.add_meeting(f"Long meeting {i}", items=1, segments=20)
    before = server.requests.count("/rest/v1/rpc/recap_push")
    a.sync()
    pushes = server.requests.count("/rest/v1/rpc/recap_push") - before
    assert pushes >= 3  # one request could not carry it all...
    assert a.engine.pending_count() == 0  # ...and the one round sent every row
    assert a.snapshot() == server_snapshot(pg_dsn, user["id"])
    a.close()
