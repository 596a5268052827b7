"""The Ollama stand-in (tests/llm/standins.py) answering with a real in-process model.

The stand-in speaks Ollama's HTTP protocol; here its answers come from llama.cpp through the
built-in engine, with the request's ``format`` schema, ``num_predict`` and temperature, and the
text streamed in many small chunks as a real server does. So the Ollama backend is tested
against real generated output, cut-offs included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.llm.backend import ChatRequest, ChatResult
from app.llm.builtin.backend import BuiltinBackend
from tests.llm.standins import Reply


def model_answer(engine: BuiltinBackend,
                 produced: list[ChatResult] | None = None) -> Callable[[dict[str, Any]], Reply]:
    """``produced`` collects what the model wrote, to compare with what the client got."""

    def answer(body: dict[str, Any]) -> Reply:
        messages = body.get("messages") or []
        system = "\n".join(m["content"] for m in messages if m.get("role") == "system")
        user = "\n".join(m["content"] for m in messages if m.get("role") == "user")
        options = body.get("options") or {}
        schema = body.get("format") if isinstance(body.get("format"), dict) else None
        result = engine.chat(ChatRequest(
            system=system, user=user, schema=schema,
            max_tokens=int(options.get("num_predict") or 1024),
            temperature=float(options.get("temperature", 0.8))))
        if produced is not None:
            produced.append(result)
        return Reply(content=result.text, done_reason=result.finish_reason,
                     prompt_tokens=result.prompt_tokens, output_tokens=result.output_tokens,
                     pieces=max(1, min(result.output_tokens, 64)))

    return answer
