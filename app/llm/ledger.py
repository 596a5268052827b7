"""The ledger: one row per language-model call, and the cost reports built from it.

Cloud cost comes from the price table in settings (USD per million tokens); local cost is an
energy estimate (watts while generating x time x price of a kWh). Rows are written in their own
short session right after each call, so a crash never loses what was already paid for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Integer, cast, func, select

from app.llm.backend import ChatResult
from app.settings import LLMSettings
from app.store.db import Database
from app.store.models import LLMCall, Meeting

log = logging.getLogger(__name__)


def cloud_price(settings: LLMSettings, model: str) -> tuple[float, float]:
    if model in settings.prices_per_mtok:
        return settings.prices_per_mtok[model]
    # Unknown model: assume the dearest listed price, so the budget errs on the safe side.
    log.warning("no price for %s; using the highest listed", model)
    return max(settings.prices_per_mtok.values(), default=(15.0, 75.0))


def call_cost(settings: LLMSettings, *, is_local: bool, model: str, prompt_tokens: int,
              output_tokens: int, latency_ms: int) -> float:
    if is_local:
        kwh = settings.local_watts * (latency_ms / 3_600_000) / 1000
        return kwh * settings.electricity_usd_per_kwh
    price_in, price_out = cloud_price(settings, model)
    return (prompt_tokens * price_in + output_tokens * price_out) / 1_000_000


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class MeetingCost:
    meeting_id: str | None
    title: str
    calls: int
    local_calls: int
    cost_usd: float


@dataclass(frozen=True)
class CostReport:
    meetings: list[MeetingCost]
    calls: int
    local_calls: int
    tokens: int
    local_tokens: int
    month_cloud_usd: float
    monthly_cap_usd: float

    @property
    def local_call_share(self) -> float:
        return self.local_calls / self.calls if self.calls else 1.0

    @property
    def local_token_share(self) -> float:
        return self.local_tokens / self.tokens if self.tokens else 1.0


_LOCAL = cast(LLMCall.is_local, Integer)


class Ledger:
    def __init__(self, db: Database, settings: Callable[[], LLMSettings]) -> None:
        self.db = db
        self.settings = settings

    def record(self, *, meeting_id: str | None, stage: str, prompt_version: str,
               backend: str, model: str, is_local: bool, outcome: str, error: str = "",
               result: ChatResult | None = None, latency_ms: int = 0) -> LLMCall:
        prompt_tokens = result.prompt_tokens if result else 0
        output_tokens = result.output_tokens if result else 0
        latency = result.latency_ms if result else latency_ms
        row = LLMCall(
            meeting_id=meeting_id, stage=stage, backend=backend, model=model,
            is_local=is_local, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
            latency_ms=latency, outcome=outcome, error=error[:2000],
            prompt_version=prompt_version,
            cost_usd=call_cost(self.settings(), is_local=is_local, model=model,
                               prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                               latency_ms=latency),
        )
        with self.db.session() as session:
            session.add(row)
        return row

    def month_cloud_spend(self, now: datetime | None = None) -> float:
        since = month_start(now or datetime.now(UTC))
        with self.db.session() as session:
            total = session.scalar(
                select(func.coalesce(func.sum(LLMCall.cost_usd), 0.0))
                .where(LLMCall.is_local.is_(False), LLMCall.created_at >= since)
            )
        return float(total or 0.0)

    def budget_left(self, now: datetime | None = None) -> float:
        return max(0.0, self.settings().monthly_cloud_budget_usd - self.month_cloud_spend(now))

    def calls_for(self, meeting_id: str) -> list[LLMCall]:
        with self.db.session() as session:
            return list(session.scalars(
                select(LLMCall).where(LLMCall.meeting_id == meeting_id)
                .order_by(LLMCall.created_at)
            ))

    def report(self, now: datetime | None = None) -> CostReport:
        with self.db.session() as session:
            rows = session.execute(
                select(LLMCall.meeting_id, func.coalesce(Meeting.title, ""),
                       func.count(), func.sum(_LOCAL),
                       func.sum(LLMCall.cost_usd))
                .outerjoin(Meeting, Meeting.id == LLMCall.meeting_id)
                .group_by(LLMCall.meeting_id).order_by(func.max(LLMCall.created_at).desc())
            ).all()
            totals = session.execute(
                select(func.count(), func.sum(_LOCAL),
                       func.sum(LLMCall.prompt_tokens + LLMCall.output_tokens),
                       func.sum((LLMCall.prompt_tokens + LLMCall.output_tokens)
                                * _LOCAL))
            ).one()
        meetings = [MeetingCost(mid, title or "", int(n), int(local or 0), float(cost or 0.0))
                    for mid, title, n, local, cost in rows]
        return CostReport(
            meetings=meetings, calls=int(totals[0] or 0), local_calls=int(totals[1] or 0),
            tokens=int(totals[2] or 0), local_tokens=int(totals[3] or 0),
            month_cloud_usd=self.month_cloud_spend(now),
            monthly_cap_usd=self.settings().monthly_cloud_budget_usd,
        )
