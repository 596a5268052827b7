"""Text from data (a synced title, an error, a model's quote) is shown as the characters it
is made of: markup in it is not rendered (no image, no link, no bold)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from app.store.models import Meeting
from tests.ui.conftest import WindowFactory, add_meeting

pytestmark = pytest.mark.gui

HOSTILE = ('<img src="https://tracker.invalid/pixel.png"><a href="https://evil.invalid/">'
           'Open the invoice</a><b>urgent</b>')


def shown(text: str, rich: bool) -> str:
    """The characters on screen for `text` shown as rich text or not."""
    doc = QTextDocument()
    if rich:
        doc.setHtml(text)
    else:
        doc.setPlainText(text)
    return doc.toPlainText()


def label_shows(label: QLabel) -> str:
    """What a QLabel puts on screen, by Qt's documented rule: rich text when its format says
    so, or when the format is "auto" and the text looks like markup (Qt.mightBeRichText)."""
    fmt = label.textFormat()
    rich = fmt == Qt.TextFormat.RichText or (
        fmt == Qt.TextFormat.AutoText and QtGuiNamespace.mightBeRichText(label.text()))
    return shown(label.text(), rich)


def tooltip_as_shown(tip: str) -> str:
    """The characters a tooltip shows (Qt renders it as rich text when it looks like some)."""
    return shown(tip, QtGuiNamespace.mightBeRichText(tip))


def test_markup_in_synced_text_shows_literally(qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    c = window.container
    meeting_id = add_meeting(c, HOSTILE, ["Hello there."],
                             items=[{"text": "Pay it", "owner": "Sam", "quote": HOSTILE,
                                     "quote_start_ms": 0, "due_text": HOSTILE}],
                             status="needs_attention")
    with c.db.session() as s:
        s.get_one(Meeting, meeting_id).error = HOSTILE  # e.g. a message synced from elsewhere
    window.reload()
    qtbot.waitUntil(lambda: window.meetings.visible_titles() == [HOSTILE], timeout=10_000)
    window.meetings.select(meeting_id)
    detail = window.detail
    qtbot.waitUntil(lambda: detail.detail is not None and detail.detail.row.id == meeting_id,
                    timeout=10_000)

    assert label_shows(detail.title) == HOSTILE
    assert HOSTILE in label_shows(detail.subtitle)  # the date line, with the error
    assert HOSTILE in label_shows(detail.details.status)

    model = window.meetings.model
    for column in (0, 3):
        tip = model.data(model.index(0, column), Qt.ItemDataRole.ToolTipRole)
        assert HOSTILE in tooltip_as_shown(tip)
    quote_button = detail.action_items.table.cellWidget(0, 4)
    assert isinstance(quote_button, QPushButton)
    assert tooltip_as_shown(quote_button.toolTip()) == f"“{HOSTILE}”"
    due = detail.action_items.table.item(0, 3)
    assert tooltip_as_shown(due.toolTip()) == f"Said: “{HOSTILE}”"
