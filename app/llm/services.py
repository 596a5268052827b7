"""The AI layer's services, built once per container: engines, gate, ledger, call contexts.

Local engines are kept as factories in order of preference (Ollama first; the built-in
llama.cpp engine of issue 4 is appended with ``add_local``), rebuilt from the live settings on
each use so a changed host or model applies without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.llm.backend import Availability, LLMBackend
from app.llm.chain import CallContext
from app.llm.claude_backend import ClaudeBackend
from app.llm.ledger import Ledger
from app.llm.ollama_backend import OllamaBackend
from app.net import NetworkGate
from app.settings import LLMSettings, Settings
from app.store.db import Database

if TYPE_CHECKING:
    from app.container import Container


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


def _gate(container: Container) -> NetworkGate:
    """The container's gate when it has one, so the whole app asks the same object."""
    gate = getattr(container, "net_gate", None)
    if isinstance(gate, NetworkGate):
        return gate
    return NetworkGate(lambda: container.settings.privacy_mode,
                       lambda: container.settings.proxy)


def builtin_engine(container: Container) -> Callable[[], LLMBackend] | None:
    """The in-process llama.cpp engine (issue 4), tried after Ollama; None if not shipped."""
    try:
        from app.llm.builtin.models import LLMModelStore
        from app.llm.builtin.provider import BuiltinProvider
    except ImportError:
        return None
    from app.transcribe.download import gated_client_factory

    gate = _gate(container)
    store = LLMModelStore(container.paths.models, container.paths.cache,
                          client_factory=gated_client_factory(gate))
    return BuiltinProvider(store, lambda: container.settings.llm.builtin_model,
                           lambda: container.settings.llm.num_ctx,
                           enabled=lambda: container.settings.llm.use_builtin)


def build_llm_services(container: Container, *, builtin: bool = False) -> LLMServices:
    """The AI services; ``builtin=True`` (what the container asks) adds the in-process engine.

    Off by default so a caller wiring its own engines (tests, issue 4's) gets only Ollama.
    """
    from app.secrets import anthropic_api_key

    services = LLMServices(
        settings=lambda: container.settings, db=container.db,
        gate=_gate(container), api_key=anthropic_api_key,
    )
    engine = builtin_engine(container) if builtin else None
    if engine is not None:
        services.add_local(engine)
    return services


def services_for(container: Container) -> LLMServices:
    """The container's services if it builds them (``container.llm``), else fresh ones."""
    existing = getattr(container, "llm", None)
    return existing if isinstance(existing, LLMServices) else build_llm_services(container)
