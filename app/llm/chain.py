"""The fallback chain around one structured call.

local answer -> (malformed) one retry locally with a tighter prompt -> (still bad) the cloud,
only if the route allows it and the budget still covers it -> otherwise ``NeedsAttention`` with
the reason. Every attempt, good or bad, is a ledger row. An engine that cannot be reached raises
``BackendUnavailable`` unchanged: the stage waits rather than failing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from app.errors import RecapError
from app.llm.backend import (
    BackendUnavailable,
    CallCancelled,
    ChatRequest,
    ChatResult,
    LLMBackend,
    LLMError,
)
from app.llm.chunking import estimate_tokens
from app.llm.ledger import Ledger, call_cost
from app.llm.routing import Route, RoutingInputs, Target, Task, route
from app.llm.schemas import json_schema
from app.llm.validate import MalformedOutput, parse_answer
from app.settings import LLMSettings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class NeedsAttention(RecapError):
    """Every allowed attempt failed; the reason is for the user, the rest stays saved."""

    @property
    def reason(self) -> str:
        return self.message


@dataclass(frozen=True)
class Prompt:
    system: str
    strict_system: str  # the tighter prompt for the one local retry
    user: str
    version: str
    max_tokens: int = 1024


@dataclass(frozen=True)
class Answer(Generic[M]):
    value: M
    result: ChatResult
    route: Route

    @property
    def model_label(self) -> str:
        return f"{self.result.backend}:{self.result.model}"


@dataclass
class CallContext:
    """What the chain needs from the app, passed in so the chain itself stays testable."""

    local: LLMBackend | None  # chosen by the stage (first reachable local engine)
    cloud: Callable[[], LLMBackend | None]  # built only when needed (needs the keychain)
    ledger: Ledger
    settings: Callable[[], LLMSettings]
    privacy_mode: Callable[[], bool]
    cloud_key: Callable[[], bool]
    meeting_id: str | None
    cancel: threading.Event | None = None


def plan(ctx: CallContext, task: Task, prompt: Prompt) -> Route:
    settings = ctx.settings()
    tokens = estimate_tokens(prompt.system) + estimate_tokens(prompt.user)
    price = call_cost(settings, is_local=False, model=settings.claude_model,
                      prompt_tokens=tokens, output_tokens=prompt.max_tokens, latency_ms=0)
    cloud_wanted = settings.cloud_allowed and not ctx.privacy_mode()
    return route(RoutingInputs(
        task=task, prompt_tokens=tokens + prompt.max_tokens,
        local_available=ctx.local is not None, local_context_tokens=settings.num_ctx,
        cloud_allowed=settings.cloud_allowed, privacy_mode=ctx.privacy_mode(),
        cloud_key=cloud_wanted and ctx.cloud_key(),
        # Only ask the database for the month's spend when the cloud is a possibility.
        budget_left_usd=ctx.ledger.budget_left() if cloud_wanted else 0.0,
        cloud_cost_estimate_usd=price,
    ))


@dataclass(frozen=True)
class _Attempt(Generic[M]):
    value: M | None
    result: ChatResult | None
    failure: str = ""


def _attempt(ctx: CallContext, backend: LLMBackend, request: ChatRequest, schema: type[M],
             version: str) -> _Attempt[M]:
    """One call, recorded; the parsed value, or the reason it was unusable."""
    started = time.monotonic()
    try:
        result = backend.chat(request, ctx.cancel)
    except CallCancelled:
        raise
    except BackendUnavailable as exc:
        ctx.ledger.record(meeting_id=ctx.meeting_id, stage=request.stage, prompt_version=version,
                          backend=backend.name, model=backend.model, is_local=backend.is_local,
                          outcome="unavailable", error=str(exc),
                          latency_ms=int((time.monotonic() - started) * 1000))
        raise
    except LLMError as exc:
        ctx.ledger.record(meeting_id=ctx.meeting_id, stage=request.stage, prompt_version=version,
                          backend=backend.name, model=backend.model, is_local=backend.is_local,
                          outcome="error", error=str(exc),
                          latency_ms=int((time.monotonic() - started) * 1000))
        return _Attempt(None, None, str(exc))
    try:
        value = parse_answer(result, schema)
    except MalformedOutput as exc:
        log.info("malformed answer from %s: %s", backend.name, exc.reason)
        ctx.ledger.record(meeting_id=ctx.meeting_id, stage=request.stage, prompt_version=version,
                          backend=result.backend, model=result.model, is_local=result.is_local,
                          outcome="malformed", error=exc.reason, result=result)
        return _Attempt(None, result, f"unusable answer: {exc.reason}")
    ctx.ledger.record(meeting_id=ctx.meeting_id, stage=request.stage, prompt_version=version,
                      backend=result.backend, model=result.model, is_local=result.is_local,
                      outcome="ok", result=result)
    return _Attempt(value, result)


def _request(task: Task, system: str, prompt: Prompt, schema: type[BaseModel]) -> ChatRequest:
    return ChatRequest(system=system, user=prompt.user, schema=json_schema(schema),
                       max_tokens=prompt.max_tokens, temperature=0.0, stage=task.value)


def call_structured(ctx: CallContext, task: Task, prompt: Prompt, schema: type[M]) -> Answer[M]:
    decision = plan(ctx, task, prompt)
    log.info("route %s: %s (%s)", task.value, decision.target.value, decision.reason)
    if decision.target is Target.REFUSE:
        raise NeedsAttention(decision.reason)
    if decision.target is Target.WAIT:
        raise BackendUnavailable("No local model is reachable.",
                                 fix="Start Ollama with `ollama serve`.")
    failures: list[str] = []
    if decision.target is Target.LOCAL and ctx.local is not None:
        for system in (prompt.system, prompt.strict_system):
            attempt = _attempt(ctx, ctx.local, _request(task, system, prompt, schema),
                               schema, prompt.version)
            if attempt.value is not None and attempt.result is not None:
                return Answer(attempt.value, attempt.result, decision)
            failures.append(f"local: {attempt.failure}")
        # Re-check the budget now: other calls may have spent it meanwhile.
        if decision.cloud_fallback:
            decision = plan(ctx, task, prompt)
            if decision.target is Target.LOCAL and not decision.cloud_fallback:
                failures.append("cloud: this month's cloud budget is spent")
        if not decision.cloud_fallback:
            raise NeedsAttention(_explain(failures), fix=_fix_for(ctx))
    cloud = ctx.cloud()
    if cloud is None:
        failures.append("cloud: Claude is not configured")
        raise NeedsAttention(_explain(failures), fix=_fix_for(ctx))
    try:
        attempt = _attempt(ctx, cloud, _request(task, prompt.system, prompt, schema),
                           schema, prompt.version)
    except BackendUnavailable as exc:  # for the cloud this is not "wait", it is "cannot"
        failures.append(f"cloud: {exc}")
        raise NeedsAttention(_explain(failures), fix=exc.fix) from None
    if attempt.value is not None and attempt.result is not None:
        return Answer(attempt.value, attempt.result, decision)
    failures.append(f"cloud: {attempt.failure}")
    raise NeedsAttention(_explain(failures), fix="Try again later, or edit the notes by hand.")


def _explain(failures: list[str]) -> str:
    return "The model's answers could not be used (" + "; ".join(failures) + ")."


def _fix_for(ctx: CallContext) -> str:
    if ctx.privacy_mode() or not ctx.settings().cloud_allowed:
        return "Try a larger local model, or allow the cloud fallback in settings."
    return "Try again later, or a larger local model."


def schema_text(schema: type[BaseModel]) -> str:
    return json.dumps(json_schema(schema), separators=(",", ":"))
