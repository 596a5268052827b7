"""Dropping recordings on the window: each becomes a meeting with its own progress, broken
files say why while the rest finish, and cancel stops a file (which can be resumed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.store.queries import list_meetings, meeting_detail
from tests.ui.conftest import BAD, SPEECH, WindowFactory, long_speech_wav

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def drop_files(target: QWidget, paths: list[Path]) -> None:
    """A real drag-and-drop as the window system delivers it: enter, then drop, sent to the
    top-level QWindow at the point where ``target`` is (Qt hands it on to the widget there)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    top = target.window()
    point = QPointF(target.mapTo(top, target.rect().center()))
    handle = top.windowHandle()
    assert handle is not None
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(handle, enter)
    assert enter.isAccepted(), "the window refused the drag"
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(handle, drop)
    assert drop.isAccepted()


def test_dropped_batch_becomes_meetings_and_broken_files_say_why(
        qtbot: QtBot, make_window: WindowFactory, tmp_path: Path) -> None:
    window = make_window()
    assert window.stack.currentWidget() is window.empty  # first run: the empty state
    notes = tmp_path / "agenda.txt"
    notes.write_text("not a recording")
    good = [SPEECH / "hello.wav", SPEECH / "garden.m4a"]
    broken = BAD / "not-audio.mp3"
    # Dropped on a child widget (the empty state's label area): anywhere on the window works.
    drop_files(window.empty.missing.parentWidget(), [*good, broken, notes])

    queue = window.import_queue
    qtbot.waitUntil(lambda: len(queue.rows) == 4, timeout=20_000)
    assert any("agenda.txt" in m and "not an audio or video file" in m for m in queue.messages())
    qtbot.waitUntil(lambda: window.queue.is_idle() and not queue.has_running(),
                    timeout=240_000)
    qtbot.waitUntil(lambda: len(window.meetings.model.rows) == 3, timeout=10_000)

    rows = {r.title: r for r in list_meetings(window.container.db)}
    assert rows["Hello"].status == "ready", rows["Hello"].error
    assert rows["Garden"].status == "ready", rows["Garden"].error
    assert rows["Not audio"].status == "failed"
    assert queue.state_text(rows["Hello"].id) == "Ready"
    assert queue.state_text(rows["Garden"].id) == "Ready"
    failed_text = queue.state_text(rows["Not audio"].id)
    assert failed_text and failed_text != "Ready" and "\n" not in failed_text

    # The list shows states; the window left the empty state.
    assert window.stack.currentWidget() is window.splitter
    table = window.meetings.model

    def states() -> dict[str, str]:
        return {r.title: table.data(table.index(i, 3)) for i, r in enumerate(table.rows)}

    qtbot.waitUntil(lambda: states() == {"Hello": "Ready", "Garden": "Ready",
                                         "Not audio": "Failed"}, timeout=10_000)

    # The notes came from the (stand-in) local model: the email draft exists.
    garden = meeting_detail(window.container.db, rows["Garden"].id)
    assert "garden" in garden.transcript.lower()
    assert garden.email is not None and garden.email.body

    # Open it: transcript segments are shown; clicking one plays the file from there.
    window.meetings.select(rows["Garden"].id)
    transcript = window.detail.transcript
    qtbot.waitUntil(lambda: transcript.segment_count() == len(garden.segments), timeout=10_000)
    last = transcript.segment_count() - 1
    transcript.table.cellClicked.emit(last, 1)
    player = window.detail.player
    assert Path(player.source()) == (SPEECH / "garden.m4a").resolve()
    assert player.requested_ms == garden.segments[last].start_ms
    assert player.player.source().toLocalFile() == str((SPEECH / "garden.m4a").resolve())


def test_cancel_stops_running_and_queued_files(qtbot: QtBot, make_window: WindowFactory,
                                               tmp_path: Path) -> None:
    window = make_window()
    long_file = long_speech_wav(tmp_path / "long-review.wav", 150)
    short = shutil.copy(SPEECH / "hello.wav", tmp_path / "short-call.wav")
    window.import_paths([long_file, Path(short)])
    queue = window.import_queue
    qtbot.waitUntil(lambda: len(queue.rows) == 2, timeout=20_000)
    ids = {Path(r.name.text()).stem: key for key, r in queue.rows.items()}
    # The second file is still waiting: cancel it first, then the first once it transcribes.
    queue.rows[ids["short-call"]].cancel_button.click()
    qtbot.waitUntil(lambda: "Transcribing" in queue.state_text(ids["long-review"]),
                    timeout=60_000)
    queue.rows[ids["long-review"]].cancel_button.click()
    qtbot.waitUntil(lambda: window.queue.is_idle() and not queue.has_running(),
                    timeout=60_000)

    db = window.container.db
    for key in ids.values():
        detail = meeting_detail(db, key)
        assert detail.row.status == "needs_attention"
        assert "Cancelled" in detail.row.error
        assert queue.state_text(key).startswith("Needs attention")
    # The long one stopped part-way: not all of its 150 s were transcribed.
    long_detail = meeting_detail(db, ids["long-review"])
    assert not long_detail.segments or long_detail.segments[-1].end_ms < 140_000
