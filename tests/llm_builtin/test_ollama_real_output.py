"""The Ollama backend against real generated output (the stand-in answers with SmolLM2)."""

from __future__ import annotations

import pytest

from app.llm.backend import ChatRequest, ChatResult
from app.llm.builtin.backend import BuiltinBackend
from app.llm.ollama_backend import OllamaBackend
from app.llm.schemas import ChunkExtraction, json_schema
from app.llm.validate import MalformedOutput, parse_answer
from app.net import NetworkGate
from tests.conftest import SAMPLES
from tests.llm.standins import OllamaStandIn
from tests.llm_builtin.real_ollama import model_answer

pytestmark = pytest.mark.llm

TEAM_SYNC = (SAMPLES / "team-sync.txt").read_text(encoding="utf-8")


def ollama_over(engine: BuiltinBackend, server: OllamaStandIn) -> OllamaBackend:
    return OllamaBackend(server.url, "mistral", 4096, 300.0, NetworkGate(lambda: True))


def test_schema_answer_streams_through_the_ollama_client(smol: BuiltinBackend) -> None:
    produced: list[ChatResult] = []
    with OllamaStandIn(answer=model_answer(smol, produced)) as server:
        backend = ollama_over(smol, server)
        assert backend.availability().ok
        request = ChatRequest(system="List the action items as JSON.", user=TEAM_SYNC,
                              schema=json_schema(ChunkExtraction), max_tokens=250)
        result = backend.chat(request)
    # What Ollama's client reassembled from the stream is exactly what the model wrote.
    [direct] = produced
    assert len(direct.text) > 20 and result.text == direct.text
    assert (result.backend, result.model) == ("ollama", "mistral")
    assert result.output_tokens == direct.output_tokens and result.prompt_tokens > 200
    assert result.finish_reason == direct.finish_reason
    sent = server.chat_requests()[0]
    assert sent["format"]["properties"]["action_items"]["maxItems"] == 20
    assert sent["options"]["temperature"] == 0 and sent["options"]["num_ctx"] == 4096
    if result.finish_reason == "stop":
        assert isinstance(parse_answer(result, ChunkExtraction), ChunkExtraction)


def test_a_real_length_cutoff_reaches_the_chain_as_malformed(smol: BuiltinBackend) -> None:
    with OllamaStandIn(answer=model_answer(smol)) as server:
        result = ollama_over(smol, server).chat(ChatRequest(
            system="List the action items as JSON.", user=TEAM_SYNC,
            schema=json_schema(ChunkExtraction), max_tokens=15))
    assert result.finish_reason == "length" and result.output_tokens == 15
    with pytest.raises(MalformedOutput, match="token limit"):
        parse_answer(result, ChunkExtraction)
