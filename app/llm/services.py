"""The AI layer's services: engines, gate, ledger, call contexts.

Given exactly what they need (a settings getter, the database, the network gate, a getter for
the Claude key, and any local engines beyond Ollama); app/container.py builds them once. Local
engines are kept as factories in order of preference (Ollama first, then those given in
``local_factories``, e.g. the built-in llama.cpp engine), rebuilt from the live settings on each
use so a changed host or model applies without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from app.llm.backend import Availability, LLMBackend
from app.llm.chain import CallContext
from app.llm.claude_backend import ClaudeBackend
from app.llm.ledger import Ledger
from app.llm.ollama_backend import OllamaBackend
from app.net import NetworkGate
from app.settings import LLMSettings, Settings
from app.store.db import Database


@dataclass
class LLMServices:
    settings: Callable[[], Settings]
    db: Database
    gate: NetworkGate
    api_key: Callable[[], str | None]
    local_factories: list[Callable[[], LLMBackend]] = field(default_factory=list)
    claude_max_retries: int = 2

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.db, self.llm_settings)
        self._ollama: OllamaBackend | None = None
        self._ollama_key: tuple[str, str, int, float] | None = None

    def llm_settings(self) -> LLMSettings:
        return self.settings().llm

    def ollama(self) -> OllamaBackend:
        """The Ollama engine for the current settings (one per settings, so the GUI's status
        polls and the stages reuse its HTTP connections)."""
        llm = self.llm_settings()
        key = (llm.ollama_host, llm.ollama_model, llm.num_ctx, llm.timeout_s)
        if self._ollama is None or self._ollama_key != key:
            if self._ollama is not None:
                self._ollama.close()
            self._ollama = OllamaBackend(*key, self.gate)
            self._ollama_key = key
        return self._ollama

    def add_local(self, factory: Callable[[], LLMBackend]) -> None:
        """Register another local engine, tried after those already registered."""
        self.local_factories.append(factory)

    def pick_local(self) -> tuple[LLMBackend | None, list[Availability]]:
        """The first reachable local engine, and why each one before it was not."""
        reasons: list[Availability] = []
        for factory in [self.ollama, *self.local_factories]:
            backend = factory()
            status = backend.availability()
            if status.ok:
                return backend, reasons
            reasons.append(status)
        return None, reasons

    def local_ready(self) -> bool:
        """Cheap poll for the GUI: is a local engine up now (so waiting stages can resume)?"""
        backend, _ = self.pick_local()
        return backend is not None

    def claude(self) -> ClaudeBackend | None:
        """Claude, if the user allowed the cloud and stored a key (else None)."""
        llm = self.llm_settings()
        if not llm.cloud_allowed or self.settings().privacy_mode or not self.api_key():
            return None
        return ClaudeBackend(self.api_key, llm.claude_model, self.gate,
                             timeout_s=min(llm.timeout_s, 120.0),
                             max_retries=self.claude_max_retries)

    def call_context(self, meeting_id: str | None, local: LLMBackend | None,
                     cancel: threading.Event | None = None) -> CallContext:
        return CallContext(
            local=local, cloud=self.claude, ledger=self.ledger, settings=self.llm_settings,
            privacy_mode=lambda: self.settings().privacy_mode,
            cloud_key=lambda: bool(self.api_key()), meeting_id=meeting_id, cancel=cancel,
        )
