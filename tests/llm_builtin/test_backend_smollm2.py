"""The built-in engine with a real (tiny) model: constrained answers, limits, cancel, bad files."""

from __future__ import annotations

import json
import os
import struct
import threading
import time
from pathlib import Path

import pytest

from app.llm.backend import BackendUnavailable, CallCancelled, ChatRequest, LLMError
from app.llm.builtin.backend import STEP_CHARS, BuiltinBackend
from app.llm.schemas import ChunkExtraction, json_schema
from app.llm.validate import MalformedOutput, parse_answer
from tests.conftest import SAMPLES

pytestmark = pytest.mark.llm

TEAM_SYNC = (SAMPLES / "team-sync.txt").read_text(encoding="utf-8")


def extraction_request(max_tokens: int = 250) -> ChatRequest:
    return ChatRequest(system="List the action items of this meeting as JSON.",
                       user=TEAM_SYNC, schema=json_schema(ChunkExtraction),
                       max_tokens=max_tokens, stage="extract")


def test_constrained_answer_parses_into_the_schema(smol: BuiltinBackend) -> None:
    result = smol.chat(extraction_request())
    assert (result.backend, result.is_local, result.model) == (
        "builtin", True, "smollm2-135m-instruct-q4_1")
    assert result.prompt_tokens > 200  # the whole transcript was read
    assert 0 < result.output_tokens <= 250
    assert result.latency_ms > 0
    if result.finish_reason == "stop":
        parsed = parse_answer(result, ChunkExtraction)
        # The schema bounds hold even for a model that loops.
        assert len(parsed.action_items) <= 20
        assert all(len(item.text) <= 300 for item in parsed.action_items)
    else:  # ran into max_tokens: the chain must see it as malformed, never half-parse it
        assert result.finish_reason == "length"
        with pytest.raises(MalformedOutput):
            parse_answer(result, ChunkExtraction)


def test_schema_bounds_hold_on_a_tiny_schema(smol: BuiltinBackend) -> None:
    request = ChatRequest(system="Answer with JSON.", user="Name ten colours.",
                          schema={"type": "object", "properties": {"colours": {
                              "type": "array", "maxItems": 2,
                              "items": {"type": "string", "maxLength": 20}}},
                              "required": ["colours"]}, max_tokens=80)
    answer = json.loads(smol.chat(request).text)
    assert set(answer) == {"colours"} and len(answer["colours"]) <= 2
    assert all(isinstance(c, str) and len(c) <= 20 for c in answer["colours"])


def test_token_limit_is_reported_as_length_and_is_malformed(smol: BuiltinBackend) -> None:
    result = smol.chat(extraction_request(max_tokens=12))
    assert result.finish_reason == "length"
    assert result.output_tokens == 12
    with pytest.raises(MalformedOutput, match="token limit"):
        parse_answer(result, ChunkExtraction)


def test_cancel_stops_a_long_answer_promptly(smol: BuiltinBackend) -> None:
    cancel = threading.Event()
    set_at: list[float] = []

    def press_cancel() -> None:
        time.sleep(1.0)
        set_at.append(time.monotonic())
        cancel.set()

    story = ChatRequest(system="You write long stories.",
                        user="Write a very long story about a lighthouse keeper.",
                        max_tokens=3000)
    # Read the prompt first (llama.cpp keeps it), so the cancel lands while tokens come out.
    smol.chat(ChatRequest(story.system, story.user, max_tokens=1))
    presser = threading.Thread(target=press_cancel)
    presser.start()
    started = time.monotonic()
    with pytest.raises(CallCancelled):
        smol.chat(story, cancel)
    stopped = time.monotonic()
    presser.join()
    assert stopped - set_at[0] < 1.0, "generation went on after cancel"
    assert stopped - started < 5.0
    # The engine is still usable afterwards, without reloading.
    after = smol.chat(ChatRequest(system="Be brief.", user="Say hello.", max_tokens=5))
    assert after.text.strip()


def test_cancel_while_a_long_prompt_is_read_stops_between_steps(smol: BuiltinBackend) -> None:
    # llama.cpp says nothing while reading a prompt; the engine reads long ones in steps.
    one_step_text = TEAM_SYNC[:STEP_CHARS]
    started = time.monotonic()
    smol.chat(ChatRequest(system="Summarise.", user="Step probe.\n" + one_step_text,
                          max_tokens=1))
    one_step = time.monotonic() - started
    long_prompt = "Long meeting.\n" + (TEAM_SYNC + "\n") * 10  # about 10 steps
    cancel = threading.Event()
    timer = threading.Timer(one_step * 2, cancel.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(CallCancelled):
        smol.chat(ChatRequest(system="Summarise.", user=long_prompt, max_tokens=50), cancel)
    took = time.monotonic() - started
    timer.cancel()
    # Reading the whole prompt would take about ten steps; the cancel lands within about two.
    assert took < one_step * 5 + 1.0, f"{took:.1f} s for a cancel, one step takes {one_step:.1f} s"


def test_cancel_before_the_call_does_nothing(smol: BuiltinBackend) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CallCancelled):
        smol.chat(extraction_request(), cancel)


def test_calls_from_two_threads_both_complete(smol: BuiltinBackend) -> None:
    results: dict[str, str] = {}

    def ask(key: str) -> None:
        results[key] = smol.chat(ChatRequest(system="Be brief.", user=f"Say {key}.",
                                             max_tokens=8)).text

    threads = [threading.Thread(target=ask, args=(k,)) for k in ("yes", "no")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(results) == {"yes", "no"} and all(results.values())


def test_missing_model_file_is_unavailable_with_a_fix(tmp_path: Path) -> None:
    backend = BuiltinBackend(tmp_path / "gone.gguf")
    status = backend.availability()
    assert not status.ok
    assert "not found" in status.reason and "recap llm-models" in status.fix
    with pytest.raises(BackendUnavailable, match="not found"):
        backend.chat(extraction_request())


def test_a_file_that_is_not_gguf_is_refused_before_loading(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_bytes(b"PK\x03\x04" + os.urandom(2_000_000))
    backend = BuiltinBackend(bogus)
    assert "not a GGUF model" in backend.availability().reason
    with pytest.raises(BackendUnavailable, match="not a GGUF model"):
        backend.chat(extraction_request())


def test_damaged_model_fails_once_with_a_clear_message(tmp_path: Path, smol_path: Path) -> None:
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(smol_path.read_bytes()[: smol_path.stat().st_size // 2])
    backend = BuiltinBackend(damaged)
    assert backend.availability().ok  # the header is fine; the full check at load tells
    with pytest.raises(LLMError, match="could not be loaded") as caught:
        backend.chat(extraction_request())
    assert "download or import it again" in caught.value.fix
    # Remembered: the router now sees it as unusable, and no second load is attempted.
    status = backend.availability()
    assert not status.ok and "could not be loaded" in status.reason
    started = time.monotonic()
    with pytest.raises(LLMError):
        backend.chat(extraction_request())
    assert time.monotonic() - started < 0.5


def test_garbage_after_a_valid_header_is_a_clear_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 7, 7) + os.urandom(1_500_000))
    with pytest.raises(LLMError, match="garbage.gguf is damaged"):
        BuiltinBackend(garbage).chat(extraction_request())
