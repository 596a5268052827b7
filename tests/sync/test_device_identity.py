"""A copied profile gets its own device id, so two installs that started as one still have
their concurrent edits settled as a conflict (the loser kept in history), not overwritten."""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.paths import app_paths
from app.settings import Settings, SyncSettings, load_settings, save_settings

pytestmark = pytest.mark.postgres


def _use(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECAP_HOME", str(home))


def _device_id() -> str:
    from app.container import Container

    container = Container()
    container.close()
    return load_settings(app_paths().settings_file).device_id


def test_a_copied_profile_takes_a_new_device_id_and_the_original_keeps_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "first"
    _use(first, monkeypatch)
    original = _device_id()
    assert _device_id() == original  # stable from one start to the next
    shutil.copytree(first, tmp_path / "copy")
    _use(tmp_path / "copy", monkeypatch)
    copied = _device_id()
    assert copied != original
    assert _device_id() == copied
    _use(first, monkeypatch)
    assert _device_id() == original


def test_a_profile_from_before_the_check_keeps_its_device_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(tmp_path / "old", monkeypatch)
    save_settings(Settings(device_id="made-by-an-older-version"),
                  app_paths().ensure().settings_file)
    assert _device_id() == "made-by-an-older-version"
    assert _device_id() == "made-by-an-older-version"


def _title(meeting_id: str) -> str:
    from app.container import Container
    from app.store.models import Meeting

    container = Container()
    with container.db.session() as s:
        title = s.get_one(Meeting, meeting_id).title
    container.close()
    return title


def _rename(meeting_id: str, title: str) -> None:
    from app.container import Container
    from app.store.models import Meeting

    container = Container()
    with container.db.session() as s:
        s.get_one(Meeting, meeting_id).title = title
    container.close()


def test_edits_from_a_copied_profile_are_a_conflict_not_a_silent_overwrite(
        tmp_path: Path, server: Any, user: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from app.container import Container
    from app.store.models import Meeting

    first = tmp_path / "first"
    _use(first, monkeypatch)
    save_settings(Settings(sync=SyncSettings(
        enabled=True, supabase_url=server.url, supabase_anon_key=server.anon_key,
        email=user["email"])), app_paths().ensure().settings_file)
    monkeypatch.setattr("sys.stdin", io.StringIO(user["password"] + "\n"))
    assert main(["sync", "--sign-in", "--password-stdin"]) == 0
    container = Container()
    with container.db.session() as s:
        meeting = Meeting(title="Budget review")
        s.add(meeting)
    container.close()
    assert main(["sync"]) == 0

    shutil.copytree(first, tmp_path / "copy")  # the same profile, now a second install
    _rename(meeting.id, "Budget review (first install)")
    assert main(["sync"]) == 0
    time.sleep(1.0)  # beyond the clock correction's error
    _use(tmp_path / "copy", monkeypatch)
    _rename(meeting.id, "Budget review (the copy)")
    assert main(["sync"]) == 0  # the later edit wins, as a conflict
    _use(first, monkeypatch)
    assert main(["sync"]) == 0
    assert _title(meeting.id) == "Budget review (the copy)"
    capsys.readouterr()
    assert main(["sync", "--history"]) == 0
    assert "Budget review (first install)" in capsys.readouterr().out  # kept, not lost
