"""What the user controls: keep-on-this-device-only, privacy mode, and the `recap sync` CLI."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.paths import app_paths
from app.settings import Settings, SyncSettings, save_settings
from app.sync.errors import SyncBlocked

from .devices import Device, server_snapshot

pytestmark = pytest.mark.postgres


def test_local_only_meetings_stay_on_the_device_and_withdrawn_ones_leave_the_server(
    tmp_path: Path, server: Any, pg_dsn: str, user: dict[str, Any]
) -> None:
    a = Device(tmp_path, "a", server, user)
    b = Device(tmp_path, "b", server, user)
    private = a.add_meeting("Therapy notes")
    a.edit("meeting", private, local_only=True)
    shared = a.add_meeting("Standup")
    a.sync()
    b.sync()
    on_server = server_snapshot(pg_dsn, user["id"])
    assert ("meeting", private) not in on_server
    assert not any(data.get("meeting_id") == private for _, data in on_server.values())
    assert b.get("meeting", private) is None
    assert "source_path" not in on_server[("meeting", shared)][1]  # nor any audio

    a.edit("meeting", shared, local_only=True)  # "keep on this device only", after the fact
    a.sync()
    b.sync()
    assert server_snapshot(pg_dsn, user["id"]) == {}  # content withdrawn: empty tombstones
    assert b.get("meeting", shared)["deleted"] is True  # type: ignore[index]
    kept = a.get("meeting", shared)
    assert kept is not None and kept["deleted"] is False and kept["title"] == "Standup"
    assert a.engine.pending_count() == 0
    a.close()
    b.close()


def _configure(server: Any, user: dict[str, Any], privacy: bool = False) -> None:
    paths = app_paths().ensure()
    settings = Settings(
        device_id="cli-device",
        privacy_mode=privacy,
        sync=SyncSettings(
            enabled=True,
            supabase_url=server.url,
            supabase_anon_key=server.anon_key,
            email=user["email"],
        ),
    )
    save_settings(settings, paths.settings_file)


def test_privacy_mode_turns_sync_off_before_any_connection(
    server: Any, user: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from app.container import Container
    from app.sync.service import open_rpc

    _configure(server, user, privacy=True)
    seen = len(server.requests)
    container = Container()
    with pytest.raises(SyncBlocked):
        open_rpc(container.settings, container.net_gate)
    container.close()
    assert main(["sync"]) == 1
    assert "Privacy mode is on" in capsys.readouterr().err
    assert len(server.requests) == seen  # nothing left the device


def test_cli_signs_in_syncs_and_reports_status(
    server: Any,
    user: dict[str, Any],
    pg_dsn: str,
    memory_keyring: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _configure(server, user)
    monkeypatch.setattr("sys.stdin", io.StringIO(user["password"] + "\n"))
    assert main(["sync", "--sign-in", "--password-stdin"]) == 0
    assert "Signed in" in capsys.readouterr().out
    assert len(memory_keyring.store) == 1  # the refresh token, in the keychain only
    settings_text = app_paths().settings_file.read_text()
    assert user["password"] not in settings_text
    assert next(iter(memory_keyring.store.values())) not in settings_text

    from app.container import Container
    from app.store.models import Meeting

    container = Container()
    with container.db.session() as s:
        s.add(Meeting(title="From the CLI"))
    container.close()
    assert main(["--json", "sync", "--status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["pending"] == 1 and status["last_synced_at"] is None and status["signed_in"]

    assert main(["sync"]) == 0
    assert "sent 1" in capsys.readouterr().out
    assert [d["title"] for _, d in server_snapshot(pg_dsn, user["id"]).values()] == ["From the CLI"]

    assert main(["--json", "sync", "--status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["pending"] == 0 and status["last_synced_at"] and status["last_error"] == ""

    assert main(["sync", "--sign-out"]) == 0
    assert memory_keyring.store == {}


def _meeting_on_both_devices(tmp_path: Path, server: Any, user: dict[str, Any],
                             monkeypatch: pytest.MonkeyPatch, title: str) -> tuple[str, Device]:
    """Sign this device in through the CLI, create a meeting, sync it to a second device."""
    from app.container import Container
    from app.store.models import Meeting

    _configure(server, user)
    monkeypatch.setattr("sys.stdin", io.StringIO(user["password"] + "\n"))
    assert main(["sync", "--sign-in", "--password-stdin"]) == 0
    container = Container()
    with container.db.session() as s:
        meeting = Meeting(title=title)
        s.add(meeting)
    container.close()
    assert main(["sync"]) == 0  # also times the server's clock, and keeps the measurement
    other = Device(tmp_path, "other", server, user)
    other.sync()
    return meeting.id, other


def _rename_here(meeting_id: str, title: str) -> None:
    from app.container import Container
    from app.store.models import Meeting

    container = Container()
    with container.db.session() as s:
        s.get(Meeting, meeting_id).title = title  # type: ignore[union-attr]
    container.close()


def test_cli_lists_a_conflict_loser_and_restores_it(
    tmp_path: Path,
    server: Any,
    user: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    meeting_id, other = _meeting_on_both_devices(tmp_path, server, user, monkeypatch,
                                                 "Quarterly review")
    _rename_here(meeting_id, "Q3 review (mine)")
    # A second later: beyond the clock correction's error (half a round trip).
    time.sleep(1.0)
    other.edit("meeting", meeting_id, title="Q3 review (theirs)")
    assert main(["sync"]) == 0  # mine reaches the server first...
    other.sync()  # ...theirs, made later, wins
    assert main(["sync"]) == 0
    capsys.readouterr()

    assert main(["sync", "--history"]) == 0
    listing = capsys.readouterr().out
    assert "Q3 review (mine)" in listing and "Replaced by a change" in listing
    assert main(["--json", "sync", "--history"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert main(["sync", "--restore", str(entry["id"])]) == 0
    assert main(["sync"]) == 0
    other.sync()
    assert other.get("meeting", meeting_id)["title"] == "Q3 review (mine)"  # type: ignore[index]
    assert main(["sync", "--restore", "999"]) == 1
    assert "no longer exists" in capsys.readouterr().err
    other.close()


def _slow_pushes(fn: str) -> None:
    """A slow link for pushes: each reaches the server three seconds after it was sent."""
    if fn == "recap_push":
        time.sleep(3.0)


def test_a_one_shot_sync_whose_push_is_slow_loses_to_an_edit_made_a_second_later(
    tmp_path: Path,
    server: Any,
    user: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.container import Container
    from app.store.models import Meeting

    meeting_id, other = _meeting_on_both_devices(tmp_path, server, user, monkeypatch, "Budget")
    _rename_here(meeting_id, "Budget (mine, first)")
    time.sleep(1.0)
    other.edit("meeting", meeting_id, title="Budget (theirs, a second later)")
    other.sync()

    seen = len(server.requests)
    server.on_rpc = _slow_pushes  # a starved CPU or a slow network
    try:
        assert main(["sync"]) == 0  # a new process: mine arrives last, three seconds late
    finally:
        server.on_rpc = None
    calls = [r.removeprefix("/rest/v1/rpc/") for r in server.requests[seen:] if "/rpc/" in r]
    assert calls[0] == "recap_push"  # corrected by the kept measurement, no timing first
    other.sync()
    assert other.get("meeting", meeting_id)["title"] == "Budget (theirs, a second later)"  # type: ignore[index]
    container = Container()
    with container.db.session() as s:
        assert s.get(Meeting, meeting_id).title == "Budget (theirs, a second later)"  # type: ignore[union-attr]
    container.close()
    capsys.readouterr()
    assert main(["sync", "--history"]) == 0
    assert "Budget (mine, first)" in capsys.readouterr().out  # kept, not lost
    other.close()
