"""The background sync worker: one thread that runs sync rounds when something changed
locally, on a timer, and when the network comes back; backs off exponentially with jitter
while the server is unreachable; stops cleanly; reports status through a callback.

The callback runs on the worker thread: the GUI turns it into a Qt signal.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.store import tracking
from app.store.db import Database
from app.store.models import SyncedMixin
from app.sync.apply import RoundReport
from app.sync.engine import SyncEngine
from app.sync.errors import SyncError
from app.sync.status import SyncStatus

log = logging.getLogger(__name__)


def backoff_delay(failures: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    ceiling = min(max_s, base_s * float(2 ** max(0, failures - 1)))
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


class SyncWorker:
    def __init__(self, engine: SyncEngine, *, interval_s: float = 60.0,
                 on_status: Callable[[SyncStatus], None] | None = None,
                 probe: Callable[[], bool] | None = None, backoff_base_s: float = 2.0,
                 backoff_max_s: float = 300.0, probe_interval_s: float = 10.0,
                 rng: random.Random | None = None) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.on_status = on_status
        self.probe = probe
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.probe_interval_s = probe_interval_s
        self.rng = rng or random.Random()
        self.last_report: RoundReport | None = None
        self.rounds = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- controls (any thread) ----------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="recap-sync", daemon=True)
        self._thread.start()

    def notify_change(self) -> None:
        """A local edit was committed: sync soon."""
        self._wake.set()

    sync_now = notify_change

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Ask the thread to finish; a round in flight completes its current request first
        (bounded by the client timeout). Returns whether the thread ended in time."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        blocked = False  # the user must act (sign in, turn privacy mode off): wait for a nudge
        self._wake.set()  # first round right away
        while not self._stop.is_set():
            if failures:
                delay = backoff_delay(failures, self.backoff_base_s, self.backoff_max_s,
                                      self.rng)
                self._wait_for_network(delay)
            else:
                self._wake.wait(None if blocked else self.interval_s)
            if self._stop.is_set():
                break
            self._wake.clear()
            self._emit("syncing")
            try:
                self.last_report = self.engine.run_round()
                failures, blocked = 0, False
                self._emit("idle")
                self.rounds += 1
            except SyncError as exc:
                self._remember(str(exc))
                if exc.transient:
                    failures += 1
                    self._emit("offline", str(exc), exc.fix)
                else:
                    failures, blocked = 0, True
                    self._emit("needs_attention", str(exc), exc.fix)
            except Exception as exc:  # a bug must not kill sync for the session
                log.exception("sync round failed")
                failures += 1
                self._remember(f"Sync failed unexpectedly: {exc}")
                self._emit("offline", f"Sync failed unexpectedly: {exc}")
        self._emit("stopped")

    def _wait_for_network(self, delay_s: float) -> None:
        """Sleep ``delay_s``, but wake early when asked to, or when the probe says the
        server answers again after it did not."""
        remaining = delay_s
        was_down = False
        while remaining > 0 and not self._stop.is_set():
            step = min(remaining, self.probe_interval_s)
            if self._wake.wait(step):
                return
            remaining -= step
            if self.probe is None:
                continue
            up = self.probe()
            if up and was_down:
                log.info("sync server reachable again")
                return
            was_down = not up

    def _remember(self, message: str) -> None:
        try:
            self.engine.record_error(message)
        except Exception:  # the database may be busy or closing; status still goes out
            log.debug("could not record sync error", exc_info=True)

    def _emit(self, state: str, error: str = "", fix: str = "") -> None:
        if self.on_status is None:
            return
        try:
            sync_state = self.engine.state()
            status = SyncStatus(state=state, last_synced_at=sync_state.last_synced_at,
                                pending=self.engine.pending_count(),
                                last_error=error or sync_state.last_error, fix=fix)
            self.on_status(status)
        except Exception:
            log.exception("sync status callback failed")


_DIRTY = "recap_sync_dirty"


def watch_local_changes(db: Database, worker: SyncWorker) -> Callable[[], None]:
    """Wake the worker after every commit that edited synced rows on this device (rows that
    sync itself applied do not count). Returns a function that stops watching."""
    factory: Any = db._factory  # this database's sessions only, not every Session in-process

    def after_flush(session: Session, _context: Any) -> None:
        if session.info.get(tracking._REMOTE):
            return
        if any(isinstance(obj, SyncedMixin)
               for obj in chain(session.new, session.dirty, session.deleted)):
            session.info[_DIRTY] = True

    def after_commit(session: Session) -> None:
        if session.info.pop(_DIRTY, False):
            worker.notify_change()

    event.listen(factory, "after_flush", after_flush)
    event.listen(factory, "after_commit", after_commit)

    def stop() -> None:
        event.remove(factory, "after_flush", after_flush)
        event.remove(factory, "after_commit", after_commit)

    return stop
