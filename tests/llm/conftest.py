"""Fixtures for the AI layer: stand-in servers, a container wired to them, meetings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.container import Container
from app.llm.chunking import Line
from app.llm.services import LLMServices
from app.pipeline.draft import DraftStage
from app.pipeline.notes import NotesStage
from app.pipeline.stage import Stage
from app.secrets import ANTHROPIC_KEY, anthropic_api_key, set_secret
from app.store.models import Meeting, Segment
from tests.llm.fake_model import claude_answer, ollama_answer
from tests.llm.leaks import leaks, proxy_env  # noqa: F401 (fixtures are found by name)
from tests.llm.meetings import MEETING_DAY
from tests.llm.standins import AnthropicStandIn, OllamaStandIn


@pytest.fixture
def ollama() -> Iterator[OllamaStandIn]:
    server = OllamaStandIn(answer=ollama_answer)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicStandIn]:
    server = AnthropicStandIn(answer=claude_answer)
    server.start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    set_secret(ANTHROPIC_KEY, server.api_key)
    yield server
    server.stop()


@pytest.fixture
def container(ollama: OllamaStandIn) -> Iterator[Container]:
    box = Container()
    box.settings.llm.ollama_host = ollama.url
    box.settings.llm.timeout_s = 10.0
    box.llm = ollama_only(box)  # these tests are about Ollama (and Claude)
    yield box
    box.close()


def ollama_only(box: Container) -> LLMServices:
    """The AI services without the built-in engine, Claude failing at once (no retries)."""
    return LLMServices(settings=lambda: box.settings, db=box.db, gate=box.net_gate,
                       api_key=anthropic_api_key, claude_max_retries=0)


def services(container: Container) -> LLMServices:
    return container.llm


def ai_stages(container: Container) -> list[Stage]:
    """The notes and draft stages, on the container's AI services."""
    return [NotesStage(container.db, lambda: container.llm),
            DraftStage(container.db, lambda: container.llm)]


def add_meeting(container: Container, lines: list[Line], title: str = "Planning",
                day: datetime = MEETING_DAY) -> str:
    with container.db.session() as session:
        meeting = Meeting(title=title, occurred_at=day.replace(tzinfo=UTC))
        session.add(meeting)
        session.flush()
        for line in lines:
            session.add(Segment(meeting_id=meeting.id, idx=line.idx, start_ms=line.start_ms,
                                end_ms=line.end_ms, text=line.text, speaker=line.speaker))
        return meeting.id
