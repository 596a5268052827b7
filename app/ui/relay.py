"""The one way work on another thread reaches the GUI thread.

Core callbacks (a recorder's level, sync's status, download progress, a finished background
task) run on the thread that does the work; Qt widgets may be touched only on the GUI thread.
``Relay.post(fn, *args)`` emits a queued signal carrying the call, and the relay, living on the
GUI thread, makes it there. ``Relay.wrap(fn)`` gives a callable to hand to the core.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot


class Relay(QObject):
    _call = Signal(object, tuple)  # the callable, its arguments

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Queued even when posted from the GUI thread: the call runs after the poster returns.
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def post(self, fn: Callable[..., object], *args: Any) -> None:
        """Call ``fn(*args)`` on the GUI thread, soon (safe from any thread)."""
        self._call.emit(fn, args)

    def wrap(self, fn: Callable[..., object]) -> Callable[..., None]:
        """``fn`` made safe to call from any thread: each call is posted."""
        return lambda *args: self.post(fn, *args)

    @Slot(object, tuple)
    def _run(self, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
        fn(*args)
