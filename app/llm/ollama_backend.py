"""Ollama, the main local engine, through the official ``ollama`` client.

Timeouts are always set (the client's default is to wait forever), ``num_ctx`` is fixed
(changing it reloads the model, and Ollama's default silently truncates long prompts), and the
answer is streamed so a cancel or a wall-clock deadline stops it between tokens.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, cast

import httpx
import ollama

from app.llm.backend import (
    Availability,
    BackendUnavailable,
    CallCancelled,
    ChatRequest,
    ChatResult,
    LLMError,
)
from app.net import NetworkGate, PrivacyBlocked

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 5.0
_PROBE_TIMEOUT_S = 5.0
_SECONDS_PER_TOKEN_FLOOR = 0.5
_PURPOSE = "the Ollama engine"


@dataclass(frozen=True)
class PullProgress:
    status: str
    completed: int = 0
    total: int = 0

    @property
    def fraction(self) -> float | None:
        return self.completed / self.total if self.total else None


def model_matches(wanted: str, installed: str) -> bool:
    """``mistral`` is ``mistral:latest``; a tag given must match exactly."""
    if ":" in wanted:
        return installed == wanted
    return installed == wanted or installed == f"{wanted}:latest"


class OllamaBackend:
    name = "ollama"
    is_local = True

    def __init__(self, host: str, model: str, num_ctx: int, timeout_s: float,
                 gate: NetworkGate) -> None:
        self.host = host
        self.model = model
        self.num_ctx = num_ctx
        self.timeout_s = timeout_s
        self.gate = gate
        self._clients: dict[tuple[float, str], ollama.Client] = {}

    def _client(self, timeout_s: float) -> ollama.Client:
        """A client for this backend's host; the gate is asked before every request it sends
        (a redirect is never followed: Ollama has no reason to send one)."""
        self.gate.check(self.host, _PURPOSE)
        key = (timeout_s, self.gate.proxy())
        client = self._clients.get(key)
        if client is None:  # building an httpx client costs ~0.1 s: keep one per timeout
            client = ollama.Client(host=self.host,
                                   timeout=httpx.Timeout(timeout_s, connect=_CONNECT_TIMEOUT_S),
                                   **self.gate.client_options(_PURPOSE))
            self._clients[key] = client
        return client

    def close(self) -> None:
        for client in self._clients.values():
            cast(Any, client).close()  # untyped in the client library
        self._clients.clear()

    def _down(self) -> BackendUnavailable:
        return BackendUnavailable(f"Ollama is not running at {self.host}.",
                                  fix="Start it with `ollama serve`.")

    def _redirected(self) -> BackendUnavailable:
        return BackendUnavailable(
            f"{self.host} answered with a redirect to somewhere else, which Recap never follows.",
            fix="Set the Ollama host to the Ollama server itself.")

    def _missing(self) -> BackendUnavailable:
        return BackendUnavailable(f"The model {self.model} is not installed in Ollama.",
                                  fix=f"Install it with `ollama pull {self.model}`.")

    def availability(self) -> Availability:
        try:
            listing = self._client(_PROBE_TIMEOUT_S).list()
        except PrivacyBlocked as exc:
            return Availability(False, str(exc), exc.fix)
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as exc:
            log.info("ollama probe at %s failed: %s", self.host, exc)
            down = self._redirected() if _is_redirect(exc) else self._down()
            return Availability(False, str(down), down.fix)
        names = [m.model or "" for m in listing.models]
        if not any(model_matches(self.model, name) for name in names):
            missing = self._missing()
            return Availability(False, str(missing), missing.fix, {"installed": names})
        return Availability(True, details={"installed": names})

    def chat(self, request: ChatRequest, cancel: threading.Event | None = None) -> ChatResult:
        options: dict[str, Any] = {"num_ctx": self.num_ctx, "temperature": request.temperature,
                                   "num_predict": request.max_tokens}
        messages = [{"role": "system", "content": request.system},
                    {"role": "user", "content": request.user}]
        started = time.monotonic()
        # `timeout_s` bounds the wait for each piece (the first one includes loading the model
        # and reading the prompt); the whole answer gets that plus a floor of 2 tokens a second,
        # so a slow CPU is not cut off while a stuck generation still is.
        deadline = started + self.timeout_s + request.max_tokens * _SECONDS_PER_TOKEN_FLOOR
        parts: list[str] = []
        last: ollama.ChatResponse | None = None
        try:
            stream: Generator[ollama.ChatResponse, None, None] = self._client(  # type: ignore[assignment]
                self.timeout_s).chat(
                model=self.model, messages=messages, stream=True, format=request.schema,
                options=options, keep_alive="10m")
            for part in stream:
                if cancel is not None and cancel.is_set():
                    stream.close()  # drops the connection: Ollama stops generating
                    raise CallCancelled("Cancelled.")
                if time.monotonic() > deadline:
                    stream.close()
                    raise LLMError(self._slow_message(), retryable=True)
                parts.append(part.message.content or "")
                last = part
        except PrivacyBlocked as exc:
            raise BackendUnavailable(str(exc), fix=exc.fix) from None
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise self._missing() from None
            if _is_redirect(exc):
                raise self._redirected() from None
            log.warning("ollama error %s: %s", exc.status_code, exc.error)
            raise LLMError(f"Ollama reported an error: {exc.error}", retryable=True) from None
        except (ConnectionError, httpx.ConnectError):
            raise self._down() from None
        except httpx.TimeoutException:
            raise LLMError(self._slow_message(), retryable=True) from None
        except httpx.HTTPError as exc:  # connection dropped mid-answer and the like
            log.warning("ollama transport error: %r", exc)
            raise LLMError(f"The connection to Ollama broke: {exc}", retryable=True) from None
        latency_ms = int((time.monotonic() - started) * 1000)
        if last is None or not last.done:
            raise LLMError("Ollama's answer ended before it was complete.", retryable=True)
        return ChatResult(
            text="".join(parts), backend=self.name, model=self.model, is_local=True,
            prompt_tokens=last.prompt_eval_count or 0, output_tokens=last.eval_count or 0,
            latency_ms=latency_ms, finish_reason=last.done_reason or "stop",
        )

    def _slow_message(self) -> str:
        return f"Ollama took longer than {self.timeout_s:g} s to answer."

    def pull(self, progress: Callable[[PullProgress], None] | None = None,
             cancel: threading.Event | None = None) -> None:
        """Download the model into Ollama, reporting progress events as they come.

        Refused in privacy mode even with Ollama on this machine: Ollama itself then
        downloads the model from the internet."""
        if self.gate.privacy_mode():
            raise BackendUnavailable(
                f"Privacy mode is on: pulling {self.model} would make Ollama download it "
                "from the internet.",
                fix="Turn privacy mode off to pull the model, then turn it back on.")
        try:
            # Pull reads can pause for a long time between layers; only connecting is bounded.
            for event in self._client(3600.0).pull(self.model, stream=True):
                if cancel is not None and cancel.is_set():
                    raise CallCancelled("Download cancelled.")
                if progress is not None:
                    progress(PullProgress(event.status or "", event.completed or 0,
                                          event.total or 0))
        except PrivacyBlocked as exc:
            raise BackendUnavailable(str(exc), fix=exc.fix) from None
        except (ConnectionError, httpx.ConnectError):
            raise self._down() from None
        except ollama.ResponseError as exc:
            if _is_redirect(exc):
                raise self._redirected() from None
            raise LLMError(f"Ollama could not pull {self.model}: {exc.error}",
                           fix="Check the model name, or run `ollama pull` yourself.") from None
        except httpx.HTTPError as exc:
            raise LLMError(f"The download from Ollama broke: {exc}", retryable=True) from None


def _is_redirect(exc: BaseException) -> bool:
    return isinstance(exc, ollama.ResponseError) and 300 <= exc.status_code < 400
