"""Files dropped anywhere on the window, text fields included, become meetings.

The filter sits on the window's QWindow, which receives every drag before handing it to the
widget under the pointer: child widgets (a text field, the transcript) would otherwise take a
drop of files as text, or refuse it. Not an application-wide filter: that would call into
Python for every event the GUI thread handles, each call waiting for the GIL while the
pipeline's threads run Python (stalls as processing starts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QWidget

_DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def dropped_files(event: Any) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class FileDrops(QObject):
    dropped = Signal(list)  # list[Path]

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        window.setAcceptDrops(True)
        window.winId()  # makes the top-level QWindow now, so it can be watched before show()
        self._handle = window.windowHandle()
        self._handle.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _DRAG_EVENTS:
            files = dropped_files(event)
            if files:
                if event.type() == QEvent.Type.Drop:
                    self.dropped.emit(files)
                event.acceptProposedAction()  # type: ignore[attr-defined]
                return True
        return super().eventFilter(watched, event)

    def stop(self) -> None:
        self._handle.removeEventFilter(self)
