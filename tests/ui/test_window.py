"""The window around the meetings: search, shortcuts, rename/delete/undo, settings and the
keychain, geometry, no tray, the first-run state, polishing the email with Claude."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QInputDialog
from pytestqt.qtbot import QtBot

from app.secrets import ANTHROPIC_KEY, SERVICE
from app.store.queries import list_meetings, meeting_detail
from app.ui.polish_dialog import PolishDialog
from app.ui.settings_dialog import SettingsDialog
from tests.conftest import MemoryKeyring
from tests.llm.fake_model import claude_answer
from tests.llm.standins import AnthropicStandIn
from tests.ui.conftest import WindowFactory, add_meeting, close

pytestmark = pytest.mark.gui


def titles(window: object) -> list[str]:
    return sorted(window.meetings.visible_titles())  # type: ignore[attr-defined]


def three_meetings(qtbot: QtBot, window: object) -> dict[str, str]:
    c = window.container  # type: ignore[attr-defined]
    ids = {
        "Budget review": add_meeting(c, "Budget review", ["The budget is due on Friday."]),
        "Hiring sync": add_meeting(c, "Hiring sync", ["We interview two candidates."]),
        "Garden plans": add_meeting(c, "Garden plans", ["Plant tomatoes near the budget shed."],
                                    status="needs_attention"),
    }
    window.reload()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: len(titles(window)) == 3, timeout=10_000)
    return ids


def test_search_filters_the_list(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    three_meetings(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.meetings.search_box
    qtbot.keyClicks(window.meetings.search_box, "budg")  # a prefix matches
    qtbot.waitUntil(lambda: titles(window) == ["Budget review", "Garden plans"], timeout=10_000)
    window.meetings.search_box.setText("candidates")
    qtbot.waitUntil(lambda: titles(window) == ["Hiring sync"], timeout=10_000)
    window.meetings.search_box.setText("nothing-like-this")
    qtbot.waitUntil(lambda: titles(window) == [], timeout=10_000)
    assert window.stack.currentWidget() is window.splitter  # no results is not a first run
    window.meetings.search_box.clear()
    qtbot.waitUntil(lambda: len(titles(window)) == 3, timeout=10_000)
    window.meetings.filter_box.setCurrentText("Needs attention")
    qtbot.waitUntil(lambda: titles(window) == ["Garden plans"], timeout=10_000)


def test_rename_delete_and_undo_from_the_keyboard(qtbot: QtBot, make_window: WindowFactory,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window()
    ids = three_meetings(qtbot, window)
    window.meetings.select(ids["Hiring sync"])
    window.meetings.table.setFocus()
    monkeypatch.setattr(QInputDialog, "getText",
                        lambda *a, **k: ("Hiring sync (final round)", True))
    qtbot.keyClick(window.meetings.table, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: "Hiring sync (final round)" in titles(window), timeout=10_000)

    window.meetings.select(ids["Budget review"])
    qtbot.keyClick(window.meetings.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: "Budget review" not in titles(window), timeout=10_000)
    assert "undo" in window.status.currentMessage().lower()
    db = window.container.db
    assert {r.title for r in list_meetings(db)} == {"Hiring sync (final round)", "Garden plans"}
    qtbot.keyClick(window.meetings.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "Budget review" in titles(window), timeout=10_000)
    assert len(meeting_detail(db, ids["Budget review"]).segments) == 1


def test_claude_key_goes_to_the_keychain_never_to_disk(
        qtbot: QtBot, make_window: WindowFactory, memory_keyring: MemoryKeyring,
        recap_home: Path) -> None:
    window = make_window()
    key = "sk-ant-test-7f3a9c1e5b2d4f6a8c0e"
    dialog = SettingsDialog(window.container, window.tasks, window)
    qtbot.addWidget(dialog)
    dialog.cloud_allowed.setChecked(True)
    dialog.api_key.setText(key)
    dialog.monthly_cap.setValue(12.5)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    assert memory_keyring.store[(SERVICE, ANTHROPIC_KEY)] == key
    assert window.container.settings.llm.cloud_allowed
    assert '"monthly_cloud_budget_usd": 12.5' in (recap_home / "config" / "settings.json"
                                                  ).read_text()
    close(window)  # flushes window state and logs to disk too
    needle = key.encode()
    leaks = [p for p in recap_home.rglob("*") if p.is_file() and needle in p.read_bytes()]
    assert leaks == []
    # Opening settings again shows a key is stored, without showing it.
    from app.ui.tasks import TaskRunner

    again = SettingsDialog(window.container, TaskRunner())
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.key_stored, timeout=10_000)
    assert again.api_key.text() == "" and "keychain" in again.api_key.placeholderText()
    again.reject()


def test_window_works_without_a_tray_and_remembers_its_size(
        qtbot: QtBot, make_window: WindowFactory, recap_home: Path) -> None:
    window = make_window()  # offscreen: no system tray exists
    assert window.tray is not None and not window.tray.available
    window.notify("Meeting ready", "Budget review: notes are ready.")
    assert "notes are ready" in window.status.currentMessage()
    assert window.window_actions.record.isEnabled()  # recording needs no tray either
    assert "Ctrl+R" in window.window_actions.record.toolTip()
    window.resize(720, 530)  # the offscreen screen is 800 x 600
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (720, 530), timeout=5_000)
    close(window)
    assert (recap_home / "config" / "window.ini").exists()
    again = make_window(use_tray=False)
    assert (again.width(), again.height()) == (720, 530)


def test_first_run_says_what_is_missing(qtbot: QtBot, make_window: WindowFactory,
                                        ollama: object) -> None:
    ollama.stop()  # type: ignore[attr-defined]  # no local model reachable
    window = make_window()
    assert window.stack.currentWidget() is window.empty
    qtbot.waitUntil(lambda: window.empty.missing.isVisible(), timeout=20_000)
    assert "Ollama" in window.empty.missing.text()
    assert "not running" in window.status.model_label.text()
    # Nothing is blocked: import is there.
    assert window.empty.import_button.isEnabled()


def test_polish_with_claude_asks_before_replacing(
        qtbot: QtBot, make_window: WindowFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    claude = AnthropicStandIn(answer=claude_answer)
    claude.start()
    try:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", claude.url)
        from app.secrets import set_secret

        set_secret(ANTHROPIC_KEY, claude.api_key)
        window = make_window()
        window.container.settings.llm.cloud_allowed = True
        window.polish.refresh()
        body = "Hi all, thanks for your time today."
        meeting_id = add_meeting(window.container, "Budget review", ["Hello."], email=body)
        window.reload()
        qtbot.waitUntil(lambda: len(titles(window)) == 1, timeout=10_000)
        window.meetings.select(meeting_id)
        email = window.detail.email
        qtbot.waitUntil(lambda: email.body.toPlainText() == body, timeout=10_000)
        qtbot.waitUntil(email.polish_button.isEnabled, timeout=10_000)

        # First time: the user keeps their own draft; nothing changes.
        email.polish_button.click()
        qtbot.waitUntil(lambda: isinstance(window.polish.dialog,
                                           PolishDialog), timeout=30_000)
        dialog = window.polish.dialog
        assert "thank you" in dialog.after_view.toPlainText()
        assert "thanks" in dialog.before_view.toPlainText()
        dialog.done(QDialog.DialogCode.Rejected)
        assert meeting_detail(window.container.db, meeting_id).email.body == body

        # Second time: accepted, the polished text replaces the draft.
        window.polish.dialog = None
        email.polish_button.click()
        qtbot.waitUntil(lambda: isinstance(window.polish.dialog, PolishDialog), timeout=30_000)
        window.polish.dialog.done(QDialog.DialogCode.Accepted)
        qtbot.waitUntil(lambda: "thank you" in (
            meeting_detail(window.container.db, meeting_id).email.body), timeout=10_000)
        qtbot.waitUntil(lambda: "thank you" in email.body.toPlainText(), timeout=10_000)
    finally:
        claude.stop()


def test_a_meeting_starting_shows_processing_at_once_and_keeps_the_selection(
        qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    c = window.container
    budget = add_meeting(c, "Budget review", ["The budget is due on Friday."])
    hiring = add_meeting(c, "Hiring sync", ["We interview two candidates."], status="queued")
    window.reload()
    qtbot.waitUntil(lambda: len(titles(window)) == 2, timeout=10_000)
    window.meetings.select(budget)
    table = window.meetings.model

    def state(meeting_id: str) -> str:
        return str(table.data(table.index(table.row_for(meeting_id), 3)))

    assert state(hiring) == "Queued"
    window.queue.started.emit(hiring)  # what the processing queue says as it takes it up
    # Shown in the same turn of the event loop (no list re-read), the user's row still chosen.
    assert state(hiring) == "Processing"
    assert window.meetings.current_id() == budget
    assert window.detail.meeting_id == budget
