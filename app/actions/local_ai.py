"""The local AI engines as a person deals with them: is one ready, get Ollama's model, and
what the AI work has cost (and how much of it ran on this device)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.llm.backend import Availability, LLMBackend
from app.llm.ledger import CostReport
from app.llm.ollama_backend import OllamaBackend, PullProgress
from app.llm.services import LLMServices


@dataclass(frozen=True)
class OllamaState:
    host: str
    model: str
    availability: Availability

    @property
    def ready(self) -> bool:
        return self.availability.ok

    @property
    def model_missing(self) -> bool:
        """Ollama runs but lacks the model (so "pull" can fix it)."""
        return "installed" in self.availability.details


class LocalAI:
    def __init__(self, llm: Callable[[], LLMServices]) -> None:
        self.llm = llm  # built on first use: the AI layer is slow to load

    def _ollama(self, model: str | None) -> OllamaBackend:
        backend = self.llm().ollama()
        if model and model != backend.model:
            return OllamaBackend(backend.host, model, backend.num_ctx, backend.timeout_s,
                                 backend.gate)
        return backend

    def ollama(self, model: str | None = None) -> OllamaState:
        """Is Ollama running here with the model (the one in settings, or ``model``)?"""
        backend = self._ollama(model)
        return OllamaState(backend.host, backend.model, backend.availability())

    def pull(self, model: str | None = None,
             progress: Callable[[PullProgress], None] | None = None,
             cancel: threading.Event | None = None) -> OllamaState:
        """Have Ollama download the model, then say whether it is ready."""
        backend = self._ollama(model)
        try:
            backend.pull(progress, cancel)
            return OllamaState(backend.host, backend.model, backend.availability())
        finally:
            if backend is not self.llm().ollama():
                backend.close()

    def engine(self) -> tuple[LLMBackend | None, list[Availability]]:
        """The local engine the notes would use now, and why each one before it would not."""
        return self.llm().pick_local()

    def costs(self) -> CostReport:
        return self.llm().ledger.report()
