"""Run core calls off the GUI thread and hand their results back on it.

A small take on Anki's background operations: ``TaskRunner.submit(fn, on_done, on_error)`` runs
``fn`` on a worker thread of a private QThreadPool; the result (or the exception) comes back
through the relay, so the callbacks always run on the GUI thread. Callbacks of a runner that
was shut down are dropped, so a closing window never gets called into half-destroyed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool

from app.ui.relay import Relay

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], deliver: Callable[[Any], None],
                 fail: Callable[[BaseException], None]) -> None:
        super().__init__()
        self.fn = fn
        self.deliver = deliver
        self.fail = fail

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # handed to the GUI thread; the log keeps the traceback
            log.info("background task failed: %s", exc, exc_info=True)
            self.fail(exc)
        else:
            self.deliver(result)


class TaskRunner(QObject):
    def __init__(self, parent: QObject | None = None, *, threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._relay = Relay(self)
        self._closed = False
        self.on_unhandled_error: Failed | None = None

    def submit(self, fn: Callable[[], Any], on_done: Done | None = None,
               on_error: Failed | None = None) -> None:
        if self._closed:
            return
        self._pool.start(_Job(fn, self._relay.wrap(lambda result: self._deliver(on_done, result)),
                              self._relay.wrap(lambda exc: self._deliver_error(on_error, exc))))

    def _deliver(self, callback: Done | None, result: Any) -> None:
        if callback is not None and not self._closed:
            callback(result)

    def _deliver_error(self, callback: Failed | None, exc: BaseException) -> None:
        if self._closed:
            return
        if callback is not None:
            callback(exc)
        elif self.on_unhandled_error is not None:
            self.on_unhandled_error(exc)

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until queued work is done (for shutdown and tests)."""
        return self._pool.waitForDone(timeout_ms)

    def shutdown(self, timeout_ms: int = 5_000) -> None:
        self._closed = True
        self._pool.clear()
        self._pool.waitForDone(timeout_ms)
