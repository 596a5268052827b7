"""Hands the AI services the built-in engine, keeping one loaded model across calls.

``LLMServices`` rebuilds its local engines from the settings on every use; loading a GGUF takes
seconds and a gigabyte or two, so this factory returns the same ``BuiltinBackend`` for as long
as the chosen model stays the same, and a new one (dropping the old) when it changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.llm.backend import (
    Availability,
    BackendUnavailable,
    ChatRequest,
    ChatResult,
    LLMBackend,
)
from app.llm.builtin.backend import DEFAULT_CONTEXT, BuiltinBackend
from app.llm.builtin.models import INSTALL_FIX, LLMModelStore


class NoBuiltinModel:
    """Stands in when no GGUF is installed, so the router sees a clear reason and a fix."""

    name = "builtin"
    model = ""
    is_local = True

    def __init__(self, reason: str = "No built-in model is installed",
                 fix: str = INSTALL_FIX) -> None:
        self.reason = reason
        self.fix = fix

    def availability(self) -> Availability:
        return Availability(False, self.reason, self.fix)

    def chat(self, request: ChatRequest, cancel: threading.Event | None = None) -> ChatResult:
        raise BackendUnavailable(self.reason, fix=self.fix)


class BuiltinProvider:
    def __init__(self, store: LLMModelStore, preferred: Callable[[], str],
                 n_ctx: Callable[[], int] = lambda: DEFAULT_CONTEXT,
                 threads: int | None = None,
                 enabled: Callable[[], bool] = lambda: True) -> None:
        self.store = store
        self.enabled = enabled
        self.preferred = preferred
        self.n_ctx = n_ctx
        self.threads = threads
        self._lock = threading.Lock()
        self._backend: BuiltinBackend | None = None
        self._key: tuple[object, ...] | None = None

    def __call__(self) -> LLMBackend:
        if not self.enabled():
            return NoBuiltinModel("The built-in model is turned off in settings",
                                  "Turn it on in settings, or start Ollama.")
        model = self.store.resolve(self.preferred())
        if model is None:
            return NoBuiltinModel()
        path = model.path or self.store.folder / f"{model.name}.gguf"
        # The file's size and time are in the key: a re-imported file gets a fresh engine.
        stat = path.stat() if path.exists() else None
        key = (model.name, str(path), self.n_ctx(),
               (stat.st_size, stat.st_mtime_ns) if stat else None)
        with self._lock:
            if self._backend is None or self._key != key:
                prepare = (lambda: self.store.prepare(model)) if model.bundle else None
                self._backend = BuiltinBackend(path, model_name=model.name, n_ctx=key[2],
                                               threads=self.threads, prepare=prepare)
                self._key = key
            return self._backend
