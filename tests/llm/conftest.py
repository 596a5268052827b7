"""Fixtures for the AI layer: stand-in servers, a container wired to them, meetings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.container import Container
from app.llm.chunking import Line
from app.llm.services import LLMServices, build_llm_services
from app.secrets import ANTHROPIC_KEY, set_secret
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
    services = build_llm_services(box)  # Ollama only: these tests are about it
    services.claude_max_retries = 0
    box.llm = services
    yield box
    box.close()


def services(container: Container) -> LLMServices:
    return container.llm


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
