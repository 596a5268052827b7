"""The log never holds meeting text: a push the server refuses (PostgREST's `details` quote
the failing row) and a pulled row set aside leave ids, codes and sizes in the log, not content."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.cli import main
from app.paths import app_paths
from app.settings import Settings, SyncSettings, save_settings

from .devices import Device

pytestmark = pytest.mark.postgres

TITLE = "Zanzibar takeover, strictly confidential"


def _cli_device(server: Any, user: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings(Settings(device_id="cli-device", sync=SyncSettings(
        enabled=True, supabase_url=server.url, supabase_anon_key=server.anon_key,
        email=user["email"])), app_paths().ensure().settings_file)
    monkeypatch.setattr("sys.stdin", io.StringIO(user["password"] + "\n"))
    assert main(["sync", "--sign-in", "--password-stdin"]) == 0


def test_a_push_the_server_refuses_leaves_no_meeting_text_in_the_log(
        server: Any, user: dict[str, Any], pg_dsn: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from app.container import Container
    from app.store.models import Meeting

    _cli_device(server, user, monkeypatch)
    container = Container()
    with container.db.session() as s:
        s.add(Meeting(title=TITLE, summary="Zanzibar: offer at 4.2 million"))
    container.close()
    # A rule on the server refuses this row; PostgreSQL's error detail quotes the whole row.
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("alter table public.recap_rows add constraint test_no_zanzibar"
                      f" check (data->>'title' is distinct from '{TITLE}')")
        try:
            assert main(["sync"]) == 1
        finally:
            admin.execute("alter table public.recap_rows drop constraint test_no_zanzibar")
    assert "refused" in capsys.readouterr().err
    log = app_paths().log_file.read_text(encoding="utf-8")
    assert "23514" in log  # what happened is there...
    assert "Zanzibar" not in log  # ...and what the meeting says is not


def test_a_row_set_aside_leaves_its_id_but_not_its_content_in_the_log(
        tmp_path: Path, server: Any, user: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    a = Device(tmp_path, "a", server, user)
    bad = str(uuid.uuid4())
    now = datetime.now(UTC).isoformat()
    a.rpc.call("recap_push", {
        "p_device": "device-elsewhere", "p_client_now": now,
        "p_mutations": [{"mutation_id": uuid.uuid4().hex, "kind": "meeting", "id": bad,
                         "base_version": 0, "deleted": False, "updated_at": now,
                         "data": {"title": TITLE, "occurred_at": "Zanzibar time"}}]})
    a.close()
    _cli_device(server, user, monkeypatch)
    assert main(["sync"]) == 0
    log = app_paths().log_file.read_text(encoding="utf-8")
    assert bad in log
    assert "Zanzibar" not in log
