"""The one interface every language-model engine implements (Ollama, built-in llama.cpp, Claude).

Everything above it (routing, fallback, extraction, the ledger) is written against this, so an
engine can be swapped or added without touching the stages.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.errors import Cancelled, RecapError


@dataclass(frozen=True)
class ChatRequest:
    system: str
    user: str
    # JSON schema the answer must follow (constrained decoding where the engine supports it).
    schema: dict[str, Any] | None = None
    max_tokens: int = 1024
    temperature: float = 0.0
    stage: str = ""  # extract | summarise | draft | polish | reason (for the ledger)


@dataclass(frozen=True)
class ChatResult:
    text: str
    backend: str  # "ollama" | "builtin" | "claude"
    model: str
    is_local: bool
    prompt_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    finish_reason: str = "stop"  # "length" means cut off: treated as malformed


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""  # one human line: "Ollama is not running"
    fix: str = ""  # what to do: "Start it with `ollama serve`"
    details: dict[str, Any] = field(default_factory=dict)


class LLMError(RecapError):
    """A failed call, with a message fit for a person (no traceback)."""

    def __init__(self, message: str, *, fix: str = "", retryable: bool = False) -> None:
        super().__init__(message, fix)
        self.retryable = retryable


class BackendUnavailable(LLMError):
    """The engine cannot be reached or has no model: the stage waits, nothing is lost."""


class CallCancelled(LLMError, Cancelled):
    pass


class LLMBackend(Protocol):
    name: str
    model: str
    is_local: bool

    def availability(self) -> Availability: ...

    def chat(self, request: ChatRequest, cancel: threading.Event | None = None) -> ChatResult: ...
