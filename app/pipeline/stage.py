"""What a pipeline stage is. Stages are small objects the runner drives in order, per meeting.

A stage reads what it needs from the database in a short session, computes without holding a
write transaction, then writes its results in another short session. It reports progress as a
fraction and checks ``cancel`` often. Its outcome tells the runner what to persist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from app.errors import Cancelled

if TYPE_CHECKING:
    from app.container import Container


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
    container: Container
    progress: Callable[[float], None]
    cancel: threading.Event
    # Stage-owned notes kept from a previous attempt (e.g. where transcription stopped).
    detail: dict[str, Any] = field(default_factory=dict)
    # Where CPU-heavy native calls go (see app/pipeline/compute.py); None: a thread per call.
    compute: Executor | None = None

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise StageCancelled()


class Stage(Protocol):
    """A stage runs on the compute thread as a whole, unless it sets `offloads_compute` (then it
    runs on the caller's thread and sends only its heavy native calls to `ctx.compute`, keeping
    its own Python off a thread whose priority may have been lowered)."""

    name: str  # persisted in jobs.stage: keep stable
    label: str  # for people: "Transcribing"

    def run(self, ctx: StageContext) -> StageResult: ...
