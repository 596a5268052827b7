"""What the AI stages share: a local engine to run on, or a reason to wait for one.

Both AI stages wait (``Outcome.WAITING``) when no local engine is reachable: nothing is lost and
the runner retries them on `recap resume`, or when the window sees a local model come back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.llm.backend import BackendUnavailable, LLMBackend
from app.pipeline.stage import Outcome, StageResult

if TYPE_CHECKING:
    from app.llm.services import LLMServices  # the AI layer loads when a stage runs


def local_engine(services: LLMServices) -> tuple[LLMBackend | None, StageResult | None]:
    """The first reachable local engine, or the stage's waiting result saying why none is."""
    local, reasons = services.pick_local()
    if local is not None:
        return local, None
    if not reasons:
        return None, StageResult(Outcome.WAITING, "No local model is available.",
                                 "Start Ollama with `ollama serve`.")
    # Every engine tried says why, and each fix is offered: any one of them unblocks it.
    message = "; ".join(r.reason.rstrip(".") for r in reasons) + "."
    fix = " Or: ".join(r.fix for r in reasons if r.fix)
    return None, StageResult(Outcome.WAITING, message, fix)


def waiting(exc: BackendUnavailable) -> StageResult:
    """The engine went away mid-stage: wait for it, keeping what was done."""
    return StageResult(Outcome.WAITING, str(exc), exc.fix)
