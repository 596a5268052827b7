"""What a pipeline stage is. Stages are small objects the runner drives in order, per meeting.

A stage gets what it works with when it is built (the database, an engine factory, settings
getters: see app/container.py, where the ordered list is made) and, per run, a small
``StageContext``: which meeting, where to report progress, the cancel flag, its own notes from
an earlier attempt, and where heavy native work goes. It reads what it needs from the database
in a short session, computes without holding a write transaction, then writes its results in
another short session. It reports progress as a fraction and checks ``cancel`` often. Its
outcome tells the runner what to persist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from app.errors import Cancelled

T = TypeVar("T")


class Outcome(StrEnum):
    DONE = "done"
    WAITING = "waiting"  # cannot run yet (no local model reachable); retried later by itself
    NEEDS_ATTENTION = "needs_attention"  # ran, but the result needs a person (reason given)
    FAILED = "failed"  # the meeting cannot go on (bad audio)


@dataclass
class StageResult:
    outcome: Outcome
    message: str = ""  # one human line
    fix: str = ""  # what the user can do about it
    detail: dict[str, Any] = field(default_factory=dict)  # timings, models used, ...


class StageCancelled(Cancelled):
    pass


@dataclass
class StageContext:
    meeting_id: str
    progress: Callable[[float], None]
    cancel: threading.Event
    # Stage-owned notes kept from a previous attempt (e.g. where transcription stopped).
    detail: dict[str, Any] = field(default_factory=dict)
    # Where CPU-heavy native calls go (see app/pipeline/compute.py); None: a thread per call.
    compute: Executor | None = None

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise StageCancelled()

    def submit(self, work: Callable[[], T]) -> Future[T]:
        """Start heavy native work (whisper.cpp, a model) where it belongs: on the compute
        thread, or, with none given, on a thread of its own."""
        if self.compute is not None:
            return self.compute.submit(work)
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(work())
            except BaseException as exc:  # re-raised by future.result() on the stage's thread
                future.set_exception(exc)

        threading.Thread(target=run, name="recap-stage-work", daemon=True).start()
        return future


class Stage(Protocol):
    """A stage runs on the compute thread as a whole, unless it sets ``offloads_compute`` (then
    it runs on the caller's thread and sends only its heavy native calls to ``ctx.submit``,
    keeping its own Python off a thread whose priority may have been lowered)."""

    name: str  # persisted in jobs.stage: keep stable
    label: str  # for people: "Transcribing"
    offloads_compute: bool

    def run(self, ctx: StageContext) -> StageResult: ...
