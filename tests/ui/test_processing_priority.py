"""Why the window stays responsive while a meeting is processed, checked where it is decided.

Whisper.cpp's threads must run below the window's CPU priority (on two cores they would
otherwise starve it), and the pipeline's own Python (decoding, saving each segment) must not:
a low-priority thread that holds the GIL when the scheduler pre-empts it freezes every Python
thread, the window's included, for as long as the machine is busy elsewhere (measured: stalls
of 60-170 ms on a loaded 2-core machine). Linux only: elsewhere the OS favours the foreground
app by itself and Recap leaves priorities alone.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import event

from app.store.models import Segment
from app.store.queries import list_meetings
from tests.ui.conftest import SPEECH, WindowFactory

pytestmark = [
    pytest.mark.gui,
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread priorities: Linux"),
]


def niceness(native_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, native_id)


def threads_below(normal: int) -> set[int]:
    """The process's threads running at a lower priority than the window's."""
    below = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            if niceness(int(task.name)) > normal:
                below.add(int(task.name))
        except (OSError, ValueError):  # the thread ended meanwhile
            continue
    return below


def test_whisper_runs_below_the_window_and_segments_are_saved_at_its_priority(
        qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    normal = niceness(threading.get_native_id())
    saves: list[tuple[int, set[int]]] = []  # (saver's niceness, threads below the window)

    def on_save(*_args: object) -> None:
        saves.append((niceness(threading.get_native_id()), threads_below(normal)))

    event.listen(Segment, "before_insert", on_save)
    try:
        window.import_paths([SPEECH / "project-update.flac"])
        qtbot.waitUntil(lambda: bool(window.queue.pending()), timeout=20_000)
        qtbot.waitUntil(lambda: window.queue.is_idle(), timeout=240_000)
    finally:
        event.remove(Segment, "before_insert", on_save)

    (meeting,) = list_meetings(window.container.db)
    assert meeting.status == "ready", meeting.error
    assert len(saves) >= 2
    # Every segment was saved at the window's priority...
    assert {nice for nice, _below in saves} == {normal}
    # ...while whisper worked below it: the thread calling it and the worker it started
    # (transcription threads = 2 in these tests).
    assert all(len(below) >= 2 for _nice, below in saves), saves
