"""A rule-based stand-in for a language model, behind the Ollama stand-in.

It reads the request the way a model would (the system prompt's task, the JSON schema sent
as ``format``, the fenced transcript) and answers from simple rules: a line where someone says
"I will ..." is an action item owned by the speaker, "we decided ..." is a decision. Good
enough to drive the whole pipeline with answers that depend on the real prompt.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.llm.standins import ClaudeReply, Reply

_LINE = re.compile(r"^\[(\d\d:\d\d:\d\d)\] (?:([A-Z][a-z]+): )?(.*)$")
_PROMISE = re.compile(r"\bI(?: will|'ll) (.+?)(?: by ([A-Za-z]+(?: \w+)?))?[.!]?$")
_DECIDED = re.compile(r"\bwe decided (?:to |that )?(.+?)[.!]?$", re.IGNORECASE)


def fenced(text: str) -> str:
    match = re.search(r"<<<TRANSCRIPT\n(.*)\nTRANSCRIPT>>>", text, re.DOTALL)
    return match.group(1) if match else ""


def extraction(transcript: str) -> dict[str, Any]:
    items, decisions, points = [], [], []
    for raw in transcript.splitlines():
        line = _LINE.match(raw)
        if not line:
            continue
        time, speaker, said = line.groups()
        promise = _PROMISE.search(said)
        if promise:
            items.append({"text": promise.group(1)[0].upper() + promise.group(1)[1:],
                          "owner": speaker or "", "due": promise.group(2) or "None",
                          "quote": said, "time": f"[{time}]"})
        decided = _DECIDED.search(said)
        if decided:
            decisions.append(decided.group(1)[0].upper() + decided.group(1)[1:])
        if not points and len(said) > 20:
            points.append(said[:120])
    return {"action_items": items[:20], "decisions": decisions[:10], "key_points": points}


def answer_for(system: str, user: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    props = (schema or {}).get("properties", {})
    if "action_items" in props or "action_items" in system:
        return extraction(fenced(user))
    if "opening" in props or "draft a follow-up" in system:
        return {"subject": "Follow-up from our meeting",
                "opening": "Hi all, thanks for your time today. Here is what we agreed.",
                "closing": "Talk soon."}
    if "body" in props or "polish" in system:
        body = fenced(user)
        return {"subject": "Follow-up: decisions and next steps",
                "body": body.replace("Hi all, thanks", "Hello everyone, thank you")}
    notes = fenced(user)
    return {"summary": f"The team reviewed {notes.count('Part ')} part(s) of the meeting "
                       f"and agreed on {notes.count('- Task:')} task(s)."}


def ollama_answer(request: dict[str, Any]) -> Reply:
    messages = request.get("messages", [])
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = next((m["content"] for m in messages if m["role"] == "user"), "")
    content = json.dumps(answer_for(system, user, request.get("format")))
    return Reply(content, prompt_tokens=len(system + user) // 4, output_tokens=len(content) // 4)


def claude_answer(request: dict[str, Any]) -> ClaudeReply:
    system = request.get("system", "")
    if isinstance(system, list):
        system = " ".join(block.get("text", "") for block in system)
    user = request["messages"][0]["content"]
    schema_json = system.split("JSON schema:\n", 1)[1] if "JSON schema:\n" in system else "{}"
    content = json.dumps(answer_for(system, user, json.loads(schema_json)))
    return ClaudeReply(content, input_tokens=len(system + user) // 4,
                       output_tokens=len(content) // 4)
