"""Claude, the optional cloud engine, through the official ``anthropic`` client.

The client is built only when a key exists (from the keychain), with its base URL checked by
the network gate first, explicit timeouts and a bounded number of retries. Each failure the
user can act on (bad key, rate limit, overloaded, no network) becomes one clear line.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable

import anthropic
import httpx2

from app.llm.backend import (
    Availability,
    BackendUnavailable,
    CallCancelled,
    ChatRequest,
    ChatResult,
    LLMError,
)
from app.llm.prompts import with_schema_hint
from app.net import NetworkGate, PrivacyBlocked

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.anthropic.com"


def anthropic_base_url() -> str:
    return os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL


class ClaudeBackend:
    name = "claude"
    is_local = False

    def __init__(self, api_key: Callable[[], str | None], model: str, gate: NetworkGate,
                 timeout_s: float = 60.0, max_retries: int = 2,
                 base_url: str | None = None) -> None:
        self._api_key = api_key
        self.model = model
        self.gate = gate
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.base_url = base_url or anthropic_base_url()

    def availability(self) -> Availability:
        if not self.gate.allows(self.base_url):
            return Availability(False, "Privacy mode is on: the cloud is not used.",
                                "Turn privacy mode off to use Claude.")
        if not self._api_key():
            return Availability(False, "No Claude API key is stored.",
                                "Add one with `recap key set anthropic` or in Settings.")
        return Availability(True)

    def _client(self) -> anthropic.Anthropic:
        try:
            self.gate.check(self.base_url, "Claude")
        except PrivacyBlocked as exc:
            raise BackendUnavailable(str(exc), fix=exc.fix) from None
        key = self._api_key()
        if not key:
            raise BackendUnavailable("No Claude API key is stored.",
                                     fix="Add one with `recap key set anthropic` or in Settings.")
        # The SDK's own HTTP client would follow redirects and read proxies from the
        # environment: give it one that asks the gate before every request instead.
        http = anthropic.DefaultHttpxClient(
            **self.gate.client_options("Claude", library=httpx2))
        return anthropic.Anthropic(api_key=key, base_url=self.base_url, http_client=http,
                                   timeout=self.timeout_s, max_retries=self.max_retries)

    def chat(self, request: ChatRequest, cancel: threading.Event | None = None) -> ChatResult:
        if cancel is not None and cancel.is_set():
            raise CallCancelled("Cancelled.")
        system = request.system
        if request.schema is not None:
            system = with_schema_hint(system, json.dumps(request.schema, separators=(",", ":")))
        client = self._client()
        started = time.monotonic()
        try:
            message = client.messages.create(
                model=self.model, max_tokens=request.max_tokens, system=system,
                messages=[{"role": "user", "content": request.user}],
            )
        except anthropic.AuthenticationError:
            raise LLMError("Claude rejected the API key (401).",
                           fix="Check or replace the key in Settings.") from None
        except anthropic.RateLimitError:
            raise LLMError("Claude is rate-limiting this key (429).",
                           fix="Wait a minute and try again.", retryable=True) from None
        except anthropic.OverloadedError:
            raise LLMError("Claude is overloaded right now (529).",
                           fix="Try again in a few minutes.", retryable=True) from None
        except anthropic.APITimeoutError:
            raise LLMError(f"Claude did not answer within {self.timeout_s:g} s.",
                           fix="Try again later.", retryable=True) from None
        except anthropic.APIConnectionError as exc:
            if isinstance(exc.__cause__, PrivacyBlocked):  # a redirect or proxy the gate refused
                raise BackendUnavailable(str(exc.__cause__), fix=exc.__cause__.fix) from None
            raise LLMError("Claude cannot be reached: no network connection.",
                           fix="Check the connection and try again.", retryable=True) from None
        except anthropic.APIStatusError as exc:
            log.warning("claude error %s: %s", exc.status_code, exc.message)
            raise LLMError(f"Claude reported an error ({exc.status_code}).",
                           retryable=exc.status_code >= 500) from None
        finally:
            client.close()
        text = "".join(getattr(block, "text", "") for block in message.content)
        return ChatResult(
            text=text, backend=self.name, model=self.model, is_local=False,
            prompt_tokens=message.usage.input_tokens, output_tokens=message.usage.output_tokens,
            latency_ms=int((time.monotonic() - started) * 1000),
            finish_reason="length" if message.stop_reason == "max_tokens" else "stop",
        )
