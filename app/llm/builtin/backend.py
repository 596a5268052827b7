"""The built-in engine: llama.cpp inside the process through ``xllamacpp``.

For machines without Ollama (or on a plane). The GGUF is loaded on the first call and kept
loaded; calls run one at a time (llama.cpp has one context here, and two meetings competing for
two cores would only both be slow). Answers are streamed so a cancel stops generation at the
next token: llama.cpp reports nothing while it reads the prompt, so a cancel during that phase
takes effect when the first token comes out.

xllamacpp runs llama.cpp's server code in-process; it also opens an HTTP listener, which we
bind to 127.0.0.1 on a free port (loopback only, nothing leaves the machine) and never use.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.llm.backend import (
    Availability,
    BackendUnavailable,
    CallCancelled,
    ChatRequest,
    ChatResult,
    LLMError,
)
from app.llm.builtin.bundled import BundleError
from app.llm.builtin.gguf import BadModelFile, check_model, read_header

log = logging.getLogger(__name__)

DEFAULT_CONTEXT = 8192
# How much prompt is read between two looks at the cancel flag (about 250 tokens).
STEP_CHARS = 1000
_GET_MODEL = "Download or import a model with `recap llm-models download` or `... import FILE`"


def default_threads() -> int:
    # Generation is memory-bound: more threads than cores (or than 4) only adds contention.
    return max(1, min(os.cpu_count() or 2, 4))


def xllamacpp_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


class BuiltinBackend:
    """``LLMBackend`` over a local GGUF file. Cheap to build; loads on first ``chat``."""

    name = "builtin"
    is_local = True

    def __init__(
        self,
        model_path: Path,
        *,
        model_name: str | None = None,
        n_ctx: int = DEFAULT_CONTEXT,
        threads: int | None = None,
        prepare: Callable[[], Path] | None = None,
    ) -> None:
        """``prepare``, if given, runs once before loading and returns the file to load: a
        packaged model is checked against its sha256 (and assembled) only when first used."""
        self.model_path = Path(model_path)
        self.model = model_name or self.model_path.stem
        self._prepare = prepare
        self.n_ctx = n_ctx
        self.threads = threads or default_threads()
        self._lock = threading.Lock()
        self._server: Any = None
        self._load_error: LLMError | None = None  # a file that failed once is not retried
        self.load_seconds: float | None = None

    # -- availability -------------------------------------------------------------------

    def availability(self) -> Availability:
        """Ready to answer without loading anything: engine installed and file looks right."""
        if not xllamacpp_installed():
            return Availability(False, "The built-in model engine is not installed",
                                "Reinstall Recap (the xllamacpp package is missing)")
        if self._load_error is not None:
            return Availability(False, str(self._load_error), self._load_error.fix)
        if self._prepare is not None and not self.model_path.exists():
            # Not assembled yet: that happens on first use.
            return Availability(True, details={"model": self.model, "loaded": False,
                                               "prepared": False})
        try:
            read_header(self.model_path)
        except BadModelFile as exc:
            return Availability(False, f"Built-in model unusable: {exc}", _GET_MODEL)
        except OSError as exc:
            return Availability(False, f"Built-in model unreadable: {exc.strerror}",
                                "Check the file's permissions")
        return Availability(True, details={"model": self.model, "loaded": self.loaded,
                                           "path": str(self.model_path)})

    @property
    def loaded(self) -> bool:
        return self._server is not None

    # -- loading --------------------------------------------------------------------------

    def _load(self) -> Any:
        if self._server is not None:
            return self._server
        if self._load_error is not None:
            raise self._load_error
        if self._prepare is not None:
            try:
                self.model_path = self._prepare()
            except BundleError as exc:
                raise BackendUnavailable(str(exc), fix=exc.fix) from None
            self._prepare = None
        try:
            read_header(self.model_path)
        except BadModelFile as exc:
            raise BackendUnavailable(f"The built-in model cannot be used: {exc}",
                                     fix=_GET_MODEL) from None
        try:
            check_model(self.model_path)  # every count and offset, before llama.cpp parses it
        except BadModelFile as exc:
            log.error("built-in model %s refused before loading: %s", self.model_path, exc)
            self._load_error = LLMError(
                f"The built-in model {self.model_path.name} could not be loaded ({exc})",
                fix="Delete it and download or import it again")
            raise self._load_error from None
        # llama.cpp's OpenMP threads spin while they wait for each other. When the cores are
        # busy with anything else (a video call, a browser, Whisper) the spinning threads
        # starve the working ones: measured on 2 busy cores, 144 s for 60 tokens spinning vs
        # 2.9 s sleeping. libgomp reads this once, when xllamacpp first loads it.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import xllamacpp
        except ImportError:
            raise BackendUnavailable("The built-in model engine (xllamacpp) is not installed",
                                     fix="Reinstall Recap") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self.n_ctx
        params.n_parallel = 1  # one slot: the whole context for our one call at a time
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # a free port; the listener is unused but cannot be turned off
        params.warmup = False
        params.verbosity = -1  # llama.cpp's own log is very chatty; our log says what matters
        started = time.monotonic()
        try:
            server = xllamacpp.Server(params)
        except (RuntimeError, ValueError) as exc:
            log.error("llama.cpp could not load %s: %s", self.model_path, exc)
            self._load_error = LLMError(
                f"The built-in model {self.model_path.name} could not be loaded "
                "(the file may be damaged)", fix="Delete it and download or import it again")
            raise self._load_error from None
        self.load_seconds = time.monotonic() - started
        log.info("built-in model %s loaded in %.1f s", self.model, self.load_seconds)
        self._server = server
        return server

    def load(self) -> None:
        """Load now (e.g. at startup in the background) instead of on the first call."""
        with self._lock:
            self._load()

    def unload(self) -> None:
        with self._lock:
            # Dropping the last reference stops llama.cpp's loop and frees the memory.
            self._server = None

    # -- calls ------------------------------------------------------------------------------

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "seed": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": request.schema, "strict": True},
            }
        return body

    def chat(self, request: ChatRequest, cancel: threading.Event | None = None) -> ChatResult:
        if cancel is not None and cancel.is_set():
            raise CallCancelled("Cancelled")
        with self._lock:
            server = self._load()
            if cancel is not None:
                self._read_in_steps(server, request, cancel)
            return self._run(server, request, cancel)

    def _read_in_steps(self, server: Any, request: ChatRequest,
                       cancel: threading.Event) -> None:
        """Read a long prompt in steps, so a cancel is seen between them.

        llama.cpp reports nothing while it reads a prompt, so a cancel during a 3,000-token
        prompt would wait for all of it (minutes on a busy machine). Each step is a one-token
        call on a longer prefix of the prompt, cut at a line end; llama.cpp keeps what it read
        (prompt cache), so the real call then only reads the rest. The extra cost is one token
        per step.
        """
        cut = STEP_CHARS
        text = request.user
        while cut < len(text) - STEP_CHARS // 2:
            end = text.rfind("\n", cut - STEP_CHARS // 2, cut)
            end = end if end > 0 else cut
            step = ChatRequest(system=request.system, user=text[:end], max_tokens=1)
            self._run(server, step, cancel)
            cut = end + STEP_CHARS

    def _run(self, server: Any, request: ChatRequest,
             cancel: threading.Event | None) -> ChatResult:
        if cancel is not None and cancel.is_set():
            raise CallCancelled("Cancelled")
        parts: list[str] = []
        state: dict[str, Any] = {"finish": None, "usage": {}, "error": None, "cancelled": False}

        def on_chunk(raw: str) -> bool:
            """Called by llama.cpp per streamed chunk; returning True stops generation."""
            try:
                data = json.loads(raw)
            except json.JSONDecodeError:
                state["error"] = f"unreadable chunk from llama.cpp: {raw[:200]!r}"
                return True
            if "error" in data:
                state["error"] = str(data["error"])
                return True
            for choice in data.get("choices") or ():
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    parts.append(piece)
                if choice.get("finish_reason"):
                    state["finish"] = choice["finish_reason"]
            if data.get("usage"):
                state["usage"] = data["usage"]
            if cancel is not None and cancel.is_set():
                state["cancelled"] = True
                return True
            return False

        started = time.monotonic()
        try:
            server.handle_chat_completions(json.dumps(self._body(request)), on_chunk)
        except ValueError as exc:  # e.g. a schema llama.cpp cannot turn into a grammar
            log.error("built-in model rejected the request: %s", exc)
            raise LLMError("The built-in model could not handle this request",
                           fix="See the log for details") from None
        latency_ms = int((time.monotonic() - started) * 1000)
        if state["cancelled"]:
            raise CallCancelled("Cancelled")
        if state["error"]:
            log.error("built-in model error: %s", state["error"])
            raise LLMError("The built-in model failed while answering", retryable=True)
        usage = state["usage"]
        return ChatResult(
            text="".join(parts),
            backend=self.name,
            model=self.model,
            is_local=True,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            output_tokens=int(usage.get("completion_tokens", 0)),
            latency_ms=latency_ms,
            finish_reason=state["finish"] or "stop",
        )
