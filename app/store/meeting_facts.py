"""Facts for a meeting's details panel: how long each stage took and what its AI calls cost.

Read in one short session and returned as plain dataclasses (safe to hand to the GUI thread).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.store.db import Database
from app.store.models import Job, LLMCall


@dataclass(frozen=True)
class StageTiming:
    stage: str
    state: str
    seconds: float | None  # None while it has not finished
    attempts: int
    error: str


@dataclass(frozen=True)
class LedgerSummary:
    calls: int
    local_calls: int
    cost_usd: float
    models: list[str]

    @property
    def local_share(self) -> float:
        return self.local_calls / self.calls if self.calls else 1.0


@dataclass(frozen=True)
class MeetingFacts:
    stages: list[StageTiming]
    ledger: LedgerSummary


def meeting_facts(db: Database, meeting_id: str) -> MeetingFacts:
    with db.session() as s:
        jobs = list(s.scalars(select(Job).where(Job.meeting_id == meeting_id)
                              .order_by(Job.position)))
        calls = list(s.scalars(select(LLMCall).where(LLMCall.meeting_id == meeting_id)))
        stages = [StageTiming(
            j.stage, j.state,
            (j.finished_at - j.started_at).total_seconds()
            if j.started_at and j.finished_at and j.finished_at >= j.started_at else None,
            j.attempts, j.error) for j in jobs]
        models = sorted({f"{c.backend}:{c.model}" for c in calls})
        ledger = LedgerSummary(len(calls), sum(1 for c in calls if c.is_local),
                               round(sum(c.cost_usd for c in calls), 6), models)
    return MeetingFacts(stages, ledger)

