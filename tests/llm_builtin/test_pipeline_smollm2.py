"""The built-in engine inside the real AI stages: routing, notes, draft, ledger, retries.

SmolLM2 is too small to take good notes, so these tests assert what the code guarantees
whatever the model says (where the answer went, what was recorded), not the content.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app.container import Container
from app.llm.backend import ChatRequest, ChatResult, LLMBackend
from app.llm.builtin import bundled
from app.llm.builtin.backend import BuiltinBackend
from app.llm.builtin.models import LLMModelStore
from app.llm.builtin.provider import BuiltinProvider
from app.llm.chain import NeedsAttention, call_structured
from app.llm.grounding import normalise
from app.llm.notes import extract_prompt, split
from app.llm.routing import Task
from app.llm.schemas import ChunkExtraction
from app.llm.services import LLMServices
from app.pipeline.draft import DraftStage
from app.pipeline.notes import NotesStage
from app.pipeline.stage import Outcome, StageContext, StageResult
from app.store.models import ActionItem, EmailDraft, LLMCall, Meeting, Segment
from tests.conftest import SAMPLES
from tests.llm.conftest import ollama_only
from tests.llm.fake_model import ollama_answer
from tests.llm.standins import OllamaStandIn

pytestmark = pytest.mark.llm

CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens there: Ollama is "not running"
SAMPLE_LINES = (SAMPLES / "team-sync.txt").read_text(encoding="utf-8").splitlines()


def add_sample_meeting(container: Container, lines: list[str]) -> str:
    with container.db.session() as session:
        meeting = Meeting(title="Team sync", occurred_at=datetime(2026, 3, 2, 10, tzinfo=UTC))
        session.add(meeting)
        session.flush()
        for idx, line in enumerate(lines):
            speaker, _, text = line.partition(": ")
            session.add(Segment(meeting_id=meeting.id, idx=idx, start_ms=idx * 5000,
                                end_ms=idx * 5000 + 4500, text=text, speaker=speaker))
        return meeting.id


def run(stage: type[NotesStage | DraftStage], container: Container,
        meeting_id: str) -> StageResult:
    built = stage(container.db, lambda: container.llm)
    return built.run(StageContext(meeting_id, lambda f: None, threading.Event()))


def ledger(container: Container, meeting_id: str) -> list[LLMCall]:
    with container.db.session() as s:
        return list(s.scalars(select(LLMCall).where(LLMCall.meeting_id == meeting_id)
                              .order_by(LLMCall.created_at)))


def wire(container: Container, local: list[object]) -> LLMServices:
    services = ollama_only(container)
    for factory in local:
        services.add_local(factory)  # type: ignore[arg-type]
    container.llm = services  # type: ignore[attr-defined]
    return services


@pytest.fixture
def container() -> Iterator[Container]:
    box = Container()
    box.settings.llm.ollama_host = CLOSED_PORT
    box.settings.llm.timeout_s = 5.0
    yield box
    box.close()


def test_without_ollama_the_builtin_model_writes_the_notes(container: Container,
                                                          smol_path: Path) -> None:
    # Wired as the app would: the store finds the packaged model, the setting picks it.
    container.settings.llm.builtin_model = bundled.SMOLLM2_135M.name
    store = LLMModelStore(container.paths.models, container.paths.cache)
    provider = BuiltinProvider(store, lambda: container.settings.llm.builtin_model,
                               lambda: container.settings.llm.num_ctx)
    wire(container, [provider])
    meeting_id = add_sample_meeting(container, SAMPLE_LINES[3:9])

    result = run(NotesStage, container, meeting_id)
    assert result.outcome in (Outcome.DONE, Outcome.NEEDS_ATTENTION), result.message
    calls = ledger(container, meeting_id)
    assert calls and calls[0].stage == "extract"
    for call in calls:  # the record says which engine and model answered
        assert (call.backend, call.model, call.is_local) == (
            "builtin", bundled.SMOLLM2_135M.name, True)
        assert call.prompt_tokens > 0 and call.latency_ms > 0
        assert call.outcome in ("ok", "malformed")
    assert provider() is provider()  # one loaded model for all those calls
    with container.db.session() as s:
        meeting = s.get_one(Meeting, meeting_id)
        stored = list(s.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting_id)))
        notes_model = meeting.notes_model
    if any(c.outcome == "ok" for c in calls):
        assert notes_model == f"builtin:{bundled.SMOLLM2_135M.name}"
    transcript = normalise(" ".join(SAMPLE_LINES))
    for item in stored:
        assert item.source_model == f"builtin:{bundled.SMOLLM2_135M.name}"
        if item.grounded:  # whatever a tiny model says, only real quotes count as grounded
            assert item.quote_start_ms is not None
            assert normalise(item.quote)[:20] in transcript

    draft = run(DraftStage, container, meeting_id)
    assert draft.outcome in (Outcome.DONE, Outcome.NEEDS_ATTENTION), draft.message
    if draft.outcome is Outcome.DONE and draft.detail:
        with container.db.session() as s:
            email = s.scalars(select(EmailDraft).where(EmailDraft.meeting_id == meeting_id)).one()
        assert email.source_model == f"builtin:{bundled.SMOLLM2_135M.name}"
        assert email.recipients == ""


def test_ollama_is_preferred_when_it_is_running(container: Container,
                                                smol: BuiltinBackend) -> None:
    with OllamaStandIn(answer=ollama_answer) as ollama:
        container.settings.llm.ollama_host = ollama.url
        wire(container, [lambda: smol])
        meeting_id = add_sample_meeting(container, SAMPLE_LINES)
        assert run(NotesStage, container, meeting_id).outcome is Outcome.DONE
    assert {c.backend for c in ledger(container, meeting_id)} == {"ollama"}


def test_with_no_engine_at_all_the_stage_waits_and_says_how_to_fix_it(
        container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "BUNDLED", ())
    store = LLMModelStore(tmp_path / "models", tmp_path / "cache")
    wire(container, [BuiltinProvider(store, lambda: "")])
    meeting_id = add_sample_meeting(container, SAMPLE_LINES)
    result = run(NotesStage, container, meeting_id)
    assert result.outcome is Outcome.WAITING
    assert "Ollama" in result.message and "ollama serve" in result.fix
    assert ledger(container, meeting_id) == []


class WithoutSchema:
    """The same model, asked without constrained decoding (as an engine without it would)."""

    def __init__(self, inner: BuiltinBackend) -> None:
        self.inner = inner
        self.name, self.model, self.is_local = inner.name, inner.model, True
        self.requests: list[ChatRequest] = []

    def availability(self):  # type: ignore[no-untyped-def]
        return self.inner.availability()

    def chat(self, request: ChatRequest, cancel: threading.Event | None = None) -> ChatResult:
        self.requests.append(request)
        unconstrained = ChatRequest(request.system, request.user, None, 80,
                                    request.temperature, request.stage)
        return self.inner.chat(unconstrained, cancel)


def test_unconstrained_bad_output_is_retried_once_then_needs_attention(
        container: Container, smol: BuiltinBackend) -> None:
    engine = WithoutSchema(smol)
    services = wire(container, [])
    meeting_id = add_sample_meeting(container, SAMPLE_LINES)
    from app.llm.chunking import Line

    lines = [Line(i, i * 5000, i * 5000 + 4500, text)
             for i, text in enumerate(SAMPLE_LINES[3:9])]
    chunk = split(lines, 8192)[0]
    local: LLMBackend = engine  # type: ignore[assignment]
    with pytest.raises(NeedsAttention, match="could not be used") as caught:
        call_structured(services.call_context(meeting_id, local), Task.EXTRACT,
                        extract_prompt(chunk, 1), ChunkExtraction)
    assert "local:" in caught.value.reason
    # Two local tries, the second with the stricter prompt; no cloud (not allowed).
    assert len(engine.requests) == 2
    assert engine.requests[1].system != engine.requests[0].system
    assert "previous answer was not valid" in engine.requests[1].system
    calls = ledger(container, meeting_id)
    assert [c.outcome for c in calls] == ["malformed", "malformed"]
    assert all(c.backend == "builtin" and c.error for c in calls)
