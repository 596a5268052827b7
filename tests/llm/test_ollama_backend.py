"""The Ollama backend against the loopback stand-in, through the official client."""

from __future__ import annotations

import threading

import pytest

from app.llm.backend import BackendUnavailable, CallCancelled, ChatRequest, LLMError
from app.llm.ollama_backend import OllamaBackend, PullProgress, model_matches
from app.llm.schemas import ChunkExtraction, json_schema
from app.net import NetworkGate
from tests.llm.standins import OllamaStandIn, Reply

OPEN = NetworkGate(lambda: False)


@pytest.fixture
def server() -> OllamaStandIn:
    stand_in = OllamaStandIn(answer=lambda request: Reply('{"action_items": []}', pieces=4))
    stand_in.start()
    yield stand_in  # type: ignore[misc]
    stand_in.stop()


def backend(server: OllamaStandIn, model: str = "mistral", timeout: float = 5.0) -> OllamaBackend:
    return OllamaBackend(server.url, model, 4096, timeout, OPEN)


def test_chat_sends_fixed_context_zero_temperature_and_the_schema(server: OllamaStandIn) -> None:
    schema = json_schema(ChunkExtraction)
    result = backend(server).chat(ChatRequest("system", "user", schema=schema, max_tokens=333))
    assert result.text == '{"action_items": []}'  # reassembled from the streamed pieces
    assert (result.backend, result.model, result.is_local) == ("ollama", "mistral", True)
    assert (result.prompt_tokens, result.output_tokens) == (120, 40)
    sent = server.chat_requests()[0]
    assert sent["options"] == {"num_ctx": 4096, "temperature": 0.0, "num_predict": 333}
    assert sent["format"] == schema and sent["stream"] is True
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


def test_done_reason_length_is_reported(server: OllamaStandIn) -> None:
    server.script.append(Reply('{"action_items": [', done_reason="length"))
    assert backend(server).chat(ChatRequest("s", "u")).finish_reason == "length"


def test_availability_knows_server_and_model(server: OllamaStandIn) -> None:
    assert backend(server).availability().ok
    assert backend(server, "mistral:latest").availability().ok
    missing = backend(server, "qwen2.5:7b").availability()
    assert not missing.ok and "ollama pull qwen2.5:7b" in missing.fix
    assert missing.details["installed"] == ["mistral:latest"]
    server.stop()
    down = backend(server).availability()
    assert not down.ok and "not running" in down.reason and "ollama serve" in down.fix


def test_model_names_match_like_ollama() -> None:
    assert model_matches("mistral", "mistral:latest")
    assert not model_matches("mistral", "mistral-nemo:latest")
    assert not model_matches("llama3:8b", "llama3:latest")


def test_chat_errors(server: OllamaStandIn) -> None:
    with pytest.raises(BackendUnavailable, match="not installed"):
        backend(server, "phi3").chat(ChatRequest("s", "u"))
    server.script.append(Reply(status=500, error="llama runner process has terminated"))
    with pytest.raises(LLMError, match="runner process") as caught:
        backend(server).chat(ChatRequest("s", "u"))
    assert caught.value.retryable
    server.script.append(Reply("{", delay_s=1.0))
    with pytest.raises(LLMError, match="longer than 0.3 s"):
        backend(server, timeout=0.3).chat(ChatRequest("s", "u"))
    server.stop()
    with pytest.raises(BackendUnavailable, match="not running"):
        backend(server).chat(ChatRequest("s", "u"))


def test_cancel_stops_between_tokens(server: OllamaStandIn) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CallCancelled):
        backend(server).chat(ChatRequest("s", "u"), cancel)


def test_pull_reports_progress_and_installs_the_model(server: OllamaStandIn) -> None:
    events: list[PullProgress] = []
    llama = backend(server, "llama3.2")
    assert not llama.availability().ok
    llama.pull(events.append)
    fractions = [e.fraction for e in events if e.fraction is not None]
    assert fractions == [0.0, 0.25, 0.5, 1.0]
    assert events[-1].status == "success"
    assert llama.availability().ok


def test_an_answer_that_keeps_coming_is_cut_at_the_deadline(server: OllamaStandIn) -> None:
    # Each piece arrives well within the read timeout, but the whole never ends in time.
    server.script.append(Reply(" " * 40, pieces=40, piece_delay_s=0.1))
    slow = backend(server, timeout=0.5)
    with pytest.raises(LLMError, match="longer than 0.5 s"):
        slow.chat(ChatRequest("s", "u", max_tokens=2))  # deadline 0.5 s + 2 x 0.5 s
