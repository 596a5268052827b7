"""A recording that ends early (an interrupted copy) is processed as far as it goes, and the
meeting says so where the user looks: under its title."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.store.queries import list_meetings
from tests.ui.conftest import BAD, WindowFactory
from tests.ui.test_import_queue import drop_files

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_dropped_file_that_ends_early_is_transcribed_with_a_note(
        qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    drop_files(window.empty.missing.parentWidget(), [BAD / "truncated.flac"])
    qtbot.waitUntil(lambda: len(window.import_queue.rows) == 1, timeout=20_000)
    qtbot.waitUntil(lambda: window.queue.is_idle() and not window.import_queue.has_running(),
                    timeout=240_000)
    [row] = list_meetings(window.container.db)
    assert row.status == "ready", row.error

    window.meetings.select(row.id)
    detail = window.detail
    note = "truncated.flac ends early: only 4.9 s of 12.3 s could be read"
    qtbot.waitUntil(lambda: note in detail.subtitle.text()
                    and detail.transcript.segment_count() > 0, timeout=10_000)
