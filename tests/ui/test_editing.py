"""Edits made in the window are saved and survive a restart of the app."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.store.queries import meeting_detail
from app.ui.detail.action_items_tab import DONE, DUE, OWNER, TEXT
from tests.ui.conftest import WindowFactory, add_meeting, close

pytestmark = pytest.mark.gui

ITEMS = [
    {"text": "Send the budget to finance", "owner": "Ana", "due_text": "by Friday",
     "quote": "I will send the budget to finance by Friday", "quote_start_ms": 4000},
    {"text": "Book the venue", "owner": "", "quote": "someone should book the venue",
     "quote_start_ms": 8000},
]
LINES = ["Welcome everyone.", "I will send the budget to finance by Friday.",
         "Someone should book the venue."]


def open_meeting(qtbot: QtBot, window: object, meeting_id: str) -> None:
    window.meetings.select(meeting_id)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: window.detail.detail is not None  # type: ignore[attr-defined]
                    and window.detail.detail.row.id == meeting_id,  # type: ignore[attr-defined]
                    timeout=10_000)


def test_action_item_edits_persist_across_restart(qtbot: QtBot,
                                                  make_window: WindowFactory) -> None:
    window = make_window()
    meeting_id = add_meeting(window.container, "Budget review", LINES, items=ITEMS)
    window.reload()
    qtbot.waitUntil(lambda: len(window.meetings.model.rows) == 1, timeout=10_000)
    open_meeting(qtbot, window, meeting_id)
    table = window.detail.action_items.table
    assert window.detail.action_items.row_values(0) == {
        "done": False, "text": "Send the budget to finance", "owner": "Ana", "due": ""}

    # Edit as a person would: tick it, change the owner, give the second item a date.
    table.item(0, DONE).setCheckState(Qt.CheckState.Checked)
    table.item(0, OWNER).setText("Ben")
    table.item(1, DUE).setText("2026-12-04")
    table.item(1, TEXT).setText("Book the venue for the offsite")
    db = window.container.db

    def saved() -> bool:
        items = meeting_detail(db, meeting_id).action_items
        return (items[0].done and items[0].owner == "Ben"
                and items[1].due_date == date(2026, 12, 4)
                and items[1].text == "Book the venue for the offsite")

    qtbot.waitUntil(saved, timeout=10_000)
    # A date that is not one is refused with a message, and nothing is saved.
    with qtbot.waitSignal(window.detail.action_items.invalid_input, timeout=5_000) as bad:
        table.item(0, DUE).setText("next Friday")
    assert "YYYY-MM-DD" in bad.args[0]

    close(window)
    again = make_window()  # a fresh start: new container, same Recap home
    qtbot.waitUntil(lambda: len(again.meetings.model.rows) == 1, timeout=10_000)
    open_meeting(qtbot, again, meeting_id)
    actions = again.detail.action_items
    assert actions.row_values(0) == {"done": True, "text": "Send the budget to finance",
                                     "owner": "Ben", "due": ""}
    assert actions.row_values(1) == {"done": False, "text": "Book the venue for the offsite",
                                     "owner": "", "due": "2026-12-04"}
    # Edits bumped the version (so sync knows to send them).
    with again.container.db.session() as s:
        from app.store.models import ActionItem

        versions = sorted(a.version for a in s.query(ActionItem).all())
    assert min(versions) >= 2


def test_quote_link_jumps_to_the_transcript(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    meeting_id = add_meeting(window.container, "Budget review", LINES, items=ITEMS)
    window.reload()
    qtbot.waitUntil(lambda: len(window.meetings.model.rows) == 1, timeout=10_000)
    open_meeting(qtbot, window, meeting_id)
    button = window.detail.action_items.table.cellWidget(0, 4)
    button.click()  # type: ignore[union-attr]
    assert window.detail.tabs.currentWidget() is window.detail.transcript
    assert window.detail.transcript.table.currentRow() == 1  # the segment at 4 s


def test_transcript_and_email_edits_are_saved(qtbot: QtBot,
                                              make_window: WindowFactory) -> None:
    window = make_window()
    meeting_id = add_meeting(window.container, "Budget review", LINES,
                             email="Hi all, thanks for coming.")
    window.reload()
    qtbot.waitUntil(lambda: len(window.meetings.model.rows) == 1, timeout=10_000)
    open_meeting(qtbot, window, meeting_id)
    window.detail.transcript.table.item(0, 1).setText("Welcome, everyone!")
    email = window.detail.email
    assert email.body.toPlainText() == "Hi all, thanks for coming."
    email.recipients.setText("team@example.com")
    email.recipients.textEdited.emit("team@example.com")
    email.body.setPlainText("Hi all, thanks for coming. Budget by Friday.")
    db = window.container.db

    def saved() -> bool:
        detail = meeting_detail(db, meeting_id)
        return (detail.segments[0].text == "Welcome, everyone!" and detail.email is not None
                and detail.email.body.endswith("Budget by Friday.")
                and detail.email.recipients == "team@example.com")

    qtbot.waitUntil(saved, timeout=10_000)
    assert email.polish_button.isEnabled() is False  # no cloud allowed, no key
    assert "Allow Claude" in email.polish_button.toolTip()
