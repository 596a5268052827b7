"""Background sync for the window: starts the sync worker (app/actions/sync.py) when sync is set
up, signed in and allowed (privacy mode off), relays its status to the GUI thread, and stops it
on quit, when privacy mode goes on, and before starting again with new settings.

Starting and stopping run on a short-lived thread, one at a time: a worker stops only after
the request it has in flight (bounded by the client's timeout), and the window must not
freeze meanwhile. Quitting does not wait that long: the worker's thread is a daemon, and a
round cut short by the exit is finished by the next one (the sync protocol is crash-safe).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.actions import UseCases
from app.errors import RecapError
from app.settings import Settings
from app.sync.status import (
    CANNOT_START,
    NOT_RUNNING,
    OFF,
    SIGN_IN_NEEDED,
    STOPPED,
    SyncStatus,
    why_off,
)
from app.ui.relay import Relay

if TYPE_CHECKING:
    from app.actions.sync import RunningSync

log = logging.getLogger(__name__)

QUIT_WAIT_S = 2.0  # how long quitting waits for a round in flight
RESTART_WAIT_S = 60.0  # a settings change waits for it (off the GUI thread) before restarting


class SyncController(QObject):
    status_changed = Signal(object)  # SyncStatus, on the GUI thread

    def __init__(self, use_cases: UseCases, settings: Callable[[], Settings],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.use_cases = use_cases
        self.settings = settings
        self.status: SyncStatus = SyncStatus(OFF)
        self._relay = Relay(self)
        self._generation = 0  # bumped by every restart: reports of older workers are dropped
        self._lock = threading.Lock()  # one start or stop at a time
        self._running: RunningSync | None = None
        self._closed = False
        self._applied = ""  # the settings the worker was last started for

    @property
    def running(self) -> bool:
        running = self._running
        return running is not None and running.running

    def _settings_key(self) -> str:
        settings = self.settings()
        return f"{settings.privacy_mode}:{settings.device_id}:{settings.sync.model_dump_json()}"

    def settings_changed(self) -> None:
        """Settings were saved: restart only if what sync depends on changed."""
        if self._settings_key() != self._applied:
            self.restart()

    def restart(self) -> None:
        """Apply the current settings: stop the worker if one runs, start one if wanted."""
        if self._closed:
            return
        self._applied = self._settings_key()
        self._generation += 1
        generation = self._generation
        off = why_off(self.settings())
        if off:
            self._deliver(generation, SyncStatus(off))
            if self._running is None:
                return  # nothing to stop: no thread needed
        threading.Thread(
            target=self._apply, args=(generation, not off), daemon=True,
            name="recap-sync-control",
        ).start()

    def sync_now(self) -> None:
        running = self._running
        if running is not None:
            running.sync_now()

    def shutdown(self) -> None:
        """On quit: stop reporting, and give a round in flight a moment to finish."""
        self._closed = True
        self._generation += 1
        running, self._running = self._running, None
        if running is not None and not running.stop(QUIT_WAIT_S):
            log.info("sync round still in flight at quit; the next start finishes it")

    # -- off the GUI thread --------------------------------------------------------------
    def _apply(self, generation: int, wanted: bool) -> None:
        with self._lock:
            running, self._running = self._running, None
            if running is not None and not running.stop(RESTART_WAIT_S):
                log.warning("sync worker did not stop in %.0f s", RESTART_WAIT_S)
            if not wanted or generation != self._generation or self._closed:
                return
            try:
                started = self._start(generation)
                if started is not None and (self._closed or generation != self._generation):
                    started.stop(QUIT_WAIT_S)  # the window quit or restarted meanwhile
                    started = None
                self._running = started
            except Exception as exc:  # a setting the client refuses: say so, keep the app going
                log.info("sync not started: %s", exc)
                fix = exc.fix if isinstance(exc, RecapError) else ""
                failed = SyncStatus(CANNOT_START, last_error=str(exc), fix=fix)
                self._relay.post(self._deliver, generation, failed)

    def _start(self, generation: int) -> RunningSync | None:
        def report(status: SyncStatus) -> None:  # on the worker's thread
            if not self._closed:
                self._relay.post(self._deliver, generation, status)

        started = self.use_cases.sync.start_worker(report)
        if started is None:
            self._relay.post(self._deliver, generation, SyncStatus(SIGN_IN_NEEDED))
        return started

    # -- on the GUI thread ---------------------------------------------------------------
    def _deliver(self, generation: int, status: SyncStatus) -> None:
        if generation != self._generation or self._closed or status.state == STOPPED:
            return
        self.status = status
        self.status_changed.emit(status)


def worker_active(status: SyncStatus) -> bool:
    """Does this status come from a running worker (so "Sync now" can do something)?"""
    return status.state not in NOT_RUNNING
