"""Sync in the window, against the Supabase stand-in on the real PostgreSQL: signing in from
Settings → Sync, edits reaching the server with the status bar saying so, a wrong password,
signing out, privacy mode, and quitting while a round is stuck on the network."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from app.paths import app_paths
from app.secrets import SERVICE, set_secret
from app.settings import SyncSettings, load_settings, save_settings
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import SettingsDialog
from tests.conftest import MemoryKeyring
from tests.supabase_standin.server import StandIn
from tests.ui.conftest import WindowFactory, add_meeting
from tests.ui.test_plain_text import tooltip_as_shown

pytestmark = [pytest.mark.gui, pytest.mark.postgres]

TOKEN_PREFIX = "supabase_refresh_token:"


def sync_label(window: MainWindow) -> str:
    return window.status.sync_label.text()


def record_sync_labels(window: MainWindow) -> list[str]:
    """Every text the sync label shows from now on (the status bar's slot runs first)."""
    seen = [sync_label(window)]
    window.sync.status_changed.connect(lambda _status: seen.append(sync_label(window)))
    return seen


def tokens(keychain: MemoryKeyring) -> dict[str, str]:
    return {
        name: value
        for (service, name), value in keychain.store.items()
        if service == SERVICE and name.startswith(TOKEN_PREFIX)
    }


def open_sync_settings(qtbot: QtBot, window: MainWindow) -> SettingsDialog:
    window.window_actions.settings.trigger()
    dialog = window.settings_dialog
    qtbot.waitUntil(lambda: dialog.sync.account.text() != "Checking sign-in…", timeout=10_000)
    return dialog


def sign_in(
    qtbot: QtBot, window: MainWindow, server: StandIn, user: dict[str, Any], password: str
) -> SettingsDialog:
    dialog = open_sync_settings(qtbot, window)
    page = dialog.sync
    page.url.setText(server.url)
    page.anon_key.setText(server.anon_key)
    page.email.setText(user["email"])
    qtbot.keyClicks(page.password, password)
    qtbot.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
    return dialog


def signed_in_window(
    qtbot: QtBot, make_window: WindowFactory, server: StandIn, user: dict[str, Any]
) -> MainWindow:
    window = make_window()
    dialog = sign_in(qtbot, window, server, user, user["password"])
    qtbot.waitUntil(lambda: dialog.sync.signed_in_as == user["email"], timeout=30_000)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    qtbot.waitUntil(lambda: sync_label(window).startswith("Sync: synced"), timeout=30_000)
    return window


def server_title(pg_dsn: str, user_id: str, meeting_id: str) -> str | None:
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "select data->>'title' from public.recap_rows"
            " where user_id = %s and kind = 'meeting' and id = %s",
            (user_id, meeting_id),
        ).fetchone()
    return None if row is None else row[0]


def rename(
    qtbot: QtBot, window: MainWindow, meeting_id: str, title: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.meetings.select(meeting_id)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (title, True))
    window.window_actions.rename.trigger()


def test_sign_in_from_settings_then_an_edit_goes_from_pending_to_synced(
    qtbot: QtBot,
    make_window: WindowFactory,
    server: StandIn,
    user: dict[str, Any],
    pg_dsn: str,
    memory_keyring: MemoryKeyring,
    recap_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = make_window()
    meeting_id = add_meeting(window.container, "Budget review", ["The budget is due Friday."])
    window.reload()
    qtbot.waitUntil(lambda: window.meetings.visible_titles() == ["Budget review"], timeout=10_000)
    assert sync_label(window) == "Sync: off"
    assert not window.window_actions.sync_now.isEnabled()

    dialog = sign_in(qtbot, window, server, user, user["password"])
    qtbot.waitUntil(
        lambda: dialog.sync.account.text() == f"Signed in as {user['email']}", timeout=30_000
    )
    assert dialog.sync.password.text() == ""  # the password does not stay in the widget
    assert len(tokens(memory_keyring)) == 1  # the refresh token went to the keychain
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    # The first round sends the meeting that was already there.
    qtbot.waitUntil(lambda: sync_label(window).startswith("Sync: synced"), timeout=30_000)
    assert server_title(pg_dsn, user["id"], meeting_id) == "Budget review"
    assert window.window_actions.sync_now.isEnabled()

    seen = record_sync_labels(window)
    rename(qtbot, window, meeting_id, "Budget review (final)", monkeypatch)
    qtbot.waitUntil(lambda: any("1 pending" in text for text in seen), timeout=30_000)
    qtbot.waitUntil(
        lambda: server_title(pg_dsn, user["id"], meeting_id) == "Budget review (final)",
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: sync_label(window).startswith("Sync: synced"), timeout=30_000)
    first_pending = next(i for i, text in enumerate(seen) if "1 pending" in text)
    assert any(text.startswith("Sync: synced") for text in seen[first_pending:])

    # Secrets stay in the keychain: neither the password nor the token is in any file.
    token = next(iter(tokens(memory_keyring).values())).encode()
    window.close()
    leaks = [
        p
        for p in recap_home.rglob("*")
        if p.is_file() and (user["password"].encode() in p.read_bytes() or token in p.read_bytes())
    ]
    assert leaks == []


def test_a_wrong_password_says_so_in_one_line(
    qtbot: QtBot,
    make_window: WindowFactory,
    server: StandIn,
    user: dict[str, Any],
    memory_keyring: MemoryKeyring,
) -> None:
    window = make_window()
    dialog = sign_in(qtbot, window, server, user, "not my password")
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Sign-in failed"), timeout=30_000)
    text = dialog.message.text()
    assert "password" in text and "\n" not in text and "Traceback" not in text
    assert dialog.sync.account.text() == "Not signed in"
    assert dialog.sync.sign_in_button.isEnabled()  # the user can try again
    assert tokens(memory_keyring) == {}
    dialog.accept()
    assert sync_label(window) in ("Sync: off", "Sync: sign-in needed")
    assert not window.sync.running


def test_sign_out_forgets_the_token_and_stops_syncing(
    qtbot: QtBot,
    make_window: WindowFactory,
    server: StandIn,
    user: dict[str, Any],
    memory_keyring: MemoryKeyring,
) -> None:
    window = signed_in_window(qtbot, make_window, server, user)
    assert window.sync.running and len(tokens(memory_keyring)) == 1
    dialog = open_sync_settings(qtbot, window)
    assert dialog.sync.account.text() == f"Signed in as {user['email']}"
    qtbot.mouseClick(dialog.sync.sign_out_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.sync.account.text() == "Not signed in", timeout=30_000)
    assert tokens(memory_keyring) == {}
    assert "/auth/v1/logout" in server.requests  # revoked on the server too
    qtbot.waitUntil(lambda: not window.sync.running, timeout=30_000)
    assert sync_label(window) == "Sync: off"
    assert not window.window_actions.sync_now.isEnabled()
    dialog.accept()
    assert not window.container.settings.sync.enabled


def test_privacy_mode_stops_sync_before_anything_more_is_sent(
    qtbot: QtBot,
    make_window: WindowFactory,
    server: StandIn,
    user: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = signed_in_window(qtbot, make_window, server, user)
    meeting_id = add_meeting(window.container, "Therapy notes", ["Private."])
    window.reload()
    qtbot.waitUntil(lambda: "Therapy notes" in window.meetings.visible_titles(), timeout=10_000)
    dialog = open_sync_settings(qtbot, window)
    dialog.privacy.setChecked(True)
    assert not dialog.sync.sign_in_button.isEnabled()
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    assert sync_label(window) == "Sync: off"
    assert "Privacy mode" in window.status.sync_label.toolTip()
    qtbot.waitUntil(lambda: not window.sync.running, timeout=30_000)
    sent = len(server.requests)
    rename(qtbot, window, meeting_id, "Therapy notes (private)", monkeypatch)
    qtbot.waitUntil(
        lambda: "Therapy notes (private)" in window.meetings.visible_titles(), timeout=10_000
    )
    qtbot.wait(1500)  # a worker still running would have pushed the edit by now
    assert len(server.requests) == sent


def test_quitting_does_not_wait_for_a_round_stuck_on_the_network(
    qtbot: QtBot, make_window: WindowFactory, server: StandIn, user: dict[str, Any]
) -> None:
    window = signed_in_window(qtbot, make_window, server, user)
    stuck = threading.Event()
    server.faults.stall_s = 10.0  # the server holds the next call this long, then hangs up
    server.faults.forced = ["stall"]
    server.on_rpc = lambda _fn: stuck.set()
    try:
        window.window_actions.sync_now.trigger()  # File › Sync now
        qtbot.waitUntil(stuck.is_set, timeout=10_000)
        started = time.monotonic()
        window.close()
        took = time.monotonic() - started
        assert not window.isVisible()
        assert took < 4.0, f"closing took {took:.1f} s while a sync round was stuck"
    finally:
        server.faults.stall_s = 1.5


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("trouble", ["server down", "sign-in expired"])
def test_a_sync_problem_is_one_line_in_the_status_bar(
    qtbot: QtBot,
    make_window: WindowFactory,
    server: StandIn,
    user: dict[str, Any],
    memory_keyring: MemoryKeyring,
    trouble: str,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}" if trouble == "server down" else server.url
    paths = app_paths().ensure()
    settings = load_settings(paths.settings_file)
    settings.sync = SyncSettings(
        enabled=True, supabase_url=url, supabase_anon_key=server.anon_key, email=user["email"]
    )
    save_settings(settings, paths.settings_file)
    # Signed in once; the token has since been revoked (or the server is not there).
    set_secret(f"{TOKEN_PREFIX}{url}:{user['email']}", "revoked-refresh-token")
    window = make_window()
    label = window.status.sync_label
    if trouble == "server down":
        qtbot.waitUntil(lambda: label.text() == "Sync: offline", timeout=30_000)
        assert "could not be reached" in label.toolTip()
        assert window.window_actions.sync_now.isEnabled()  # "try again now" makes sense here
    else:
        qtbot.waitUntil(lambda: label.text() == "Sync: sign-in needed", timeout=30_000)
        assert "sign-in expired" in label.toolTip()
        assert tokens(memory_keyring) == {}  # the dead token is forgotten
    message = window.status.currentMessage()
    # Said in the message area too (the tooltip shows it as text: see test_plain_text).
    assert message and tooltip_as_shown(label.toolTip()).startswith(message)
    assert "\n" not in message and "Traceback" not in message
