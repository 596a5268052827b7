"""Decide whether a model's answer is usable, and say why not.

Malformed output (the fallback chain retries it) covers: cut off by the token limit
(``finish_reason == "length"``), not JSON, JSON that breaks the schema, whitespace loops and
strings cut off mid-way (often on an escaped quote).
"""

from __future__ import annotations

import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import RecapError
from app.llm.backend import ChatResult

M = TypeVar("M", bound=BaseModel)

_WHITESPACE_RUN = re.compile(r"\s{200,}")
_FENCED = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class MalformedOutput(RecapError):
    """The model answered, but not in the shape asked for; ``reason`` says how."""

    @property
    def reason(self) -> str:
        return self.message


def _loops(text: str) -> bool:
    """A run of whitespace or one short phrase repeated many times: a decoding loop."""
    if _WHITESPACE_RUN.search(text):
        return True
    for size in (1, 2, 3, 4, 8, 16):
        if len(text) < size * 40:
            continue
        tail = text[-size * 40:]
        unit = tail[:size]
        if unit.strip() and tail == unit * 40:
            return True
    return False


def parse_answer(result: ChatResult, model: type[M]) -> M:
    """The validated answer, or ``MalformedOutput`` with a reason fit for the ledger."""
    if result.finish_reason == "length":
        raise MalformedOutput("cut off at the token limit (done_reason=length)")
    if _loops(result.text):
        raise MalformedOutput("repetition loop in the answer")
    text = result.text.strip()
    if not text:
        raise MalformedOutput("empty answer")
    if _loops(text):
        raise MalformedOutput("repetition loop in the answer")
    fenced = _FENCED.match(text)
    if fenced:  # cloud models sometimes wrap JSON in a code fence; the content is still fine
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if "Unterminated string" in exc.msg or exc.pos >= len(text) - 1:
            raise MalformedOutput(f"truncated JSON ({exc.msg})") from None
        raise MalformedOutput(f"invalid JSON ({exc.msg} at {exc.pos})") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise MalformedOutput(
            f"schema violation at {where or 'top level'}: {first.get('msg', '')}"
        ) from None
