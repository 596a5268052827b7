"""With a model good enough to use (Qwen2.5-Coder 1.5B, loaded once), the notes are right.

Properties a person would check, not exact text: about as many items as were agreed, the
people who took them on as owners, and quotes that really are in the transcript.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.container import Container
from app.llm.builtin import bundled
from app.llm.builtin.backend import BuiltinBackend
from app.llm.chunking import Line
from app.llm.grounding import normalise
from app.llm.notes import NoteItem, extract_all, merge_items, split
from app.llm.services import build_llm_services
from app.llm.stages import DraftStage, NotesStage
from app.pipeline.stage import Outcome, StageContext
from app.store.models import ActionItem, EmailDraft, LLMCall, Meeting, Segment
from tests.conftest import REPO, SAMPLES
from tests.llm.standins import OllamaStandIn
from tests.llm_builtin.real_ollama import model_answer

pytestmark = [pytest.mark.llm, pytest.mark.slow]

LINE_MS = 5000
QWEN = bundled.QWEN_CODER_1_5B.name


def to_lines(texts: list[str]) -> list[Line]:
    lines = []
    for idx, text in enumerate(t for t in texts if t.strip()):
        speaker, _, said = text.partition(": ")
        lines.append(Line(idx, idx * LINE_MS, idx * LINE_MS + LINE_MS - 500, said, speaker))
    return lines


def expected_lines(expected: list[dict[str, str]], lines: list[Line]) -> dict[int, str]:
    """Transcript line index of each expected item's quote -> its owner."""
    found = {}
    for item in expected:
        idx = next(line.idx for line in lines
                   if normalise(item["quote"]) in normalise(line.text))
        found[idx] = item["owner"]
    return found


def check_items(found: list[tuple[str, str, int | None, bool, str]], lines: list[Line],
                expected: list[dict[str, str]], participants: list[str]) -> None:
    """found: (text, owner, quote_start_ms, grounded, quote) for each item the app lists."""
    transcript = normalise(" ".join(line.text for line in lines))
    assert len(expected) - 1 <= len(found) <= len(expected) + 3, found
    for _, owner, _, grounded, quote in found:
        if owner:
            assert owner.split()[0] in participants, f"owner {owner!r} was not in the meeting"
        if grounded:
            assert normalise(quote)[:25] in transcript
    want = expected_lines(expected, lines)
    hits = {start // LINE_MS: owner for _, owner, start, grounded, _ in found
            if grounded and start is not None}
    recalled = [idx for idx in want if idx in hits]
    assert len(recalled) >= len(want) - 1, f"found lines {sorted(hits)}, wanted {sorted(want)}"
    right_owner = [idx for idx in recalled if normalise(want[idx]) in normalise(hits[idx])]
    assert len(right_owner) >= len(recalled) - 1, hits


@pytest.fixture
def container() -> Iterator[Container]:
    box = Container()
    box.settings.llm.ollama_host = "http://127.0.0.1:9"  # Ollama not running
    box.settings.llm.timeout_s = 600.0
    yield box
    box.close()


def add_meeting(container: Container, lines: list[Line], day: date) -> str:
    with container.db.session() as session:
        meeting = Meeting(title="Team sync", occurred_at=datetime(day.year, day.month, day.day,
                                                                  10, tzinfo=UTC))
        session.add(meeting)
        session.flush()
        for line in lines:
            session.add(Segment(meeting_id=meeting.id, idx=line.idx, start_ms=line.start_ms,
                                end_ms=line.end_ms, text=line.text, speaker=line.speaker))
        return meeting.id


def stored_items(container: Container, meeting_id: str) -> list[ActionItem]:
    with container.db.session() as s:
        return list(s.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting_id,
                                                       ActionItem.deleted_at.is_(None))))


def test_sample_meeting_notes_and_email_from_the_builtin_model(
        container: Container, qwen: BuiltinBackend) -> None:
    sample = json.loads((SAMPLES / "team-sync.json").read_text(encoding="utf-8"))
    lines = to_lines((SAMPLES / "team-sync.txt").read_text(encoding="utf-8").splitlines())
    services = build_llm_services(container)
    services.add_local(lambda: qwen)
    container.llm = services  # type: ignore[attr-defined]
    meeting_id = add_meeting(container, lines, date(2026, 3, 2))
    ctx = StageContext(meeting_id, container, lambda f: None, threading.Event())

    result = NotesStage().run(ctx)
    assert result.outcome is Outcome.DONE, result.message
    items = stored_items(container, meeting_id)
    check_items([(i.text, i.owner, i.quote_start_ms, i.grounded, i.quote) for i in items],
                lines, sample["action_items"], sample["participants"])
    assert all(i.source_model == f"builtin:{QWEN}" for i in items)
    with container.db.session() as s:
        meeting = s.get_one(Meeting, meeting_id)
        assert meeting.summary and meeting.notes_model == f"builtin:{QWEN}"
        calls = list(s.scalars(select(LLMCall).where(LLMCall.meeting_id == meeting_id)))
    assert {(c.backend, c.model) for c in calls} == {("builtin", QWEN)}
    assert all(c.outcome == "ok" for c in calls)

    assert DraftStage().run(ctx).outcome is Outcome.DONE
    with container.db.session() as s:
        draft = s.scalars(select(EmailDraft).where(EmailDraft.meeting_id == meeting_id)).one()
    assert draft.subject and draft.recipients == ""
    for item in items:
        if item.grounded:
            assert item.text in draft.body  # every verified task is listed in the email


@pytest.mark.parametrize("name", ["customer-escalation", "research-planning"])
def test_eval_meetings_action_items(qwen: BuiltinBackend, name: str) -> None:
    data = json.loads((REPO / "resources" / "eval" / f"{name}.json").read_text("utf-8"))
    lines = to_lines(data["transcript"])
    with closing(Container()) as container:
        services = build_llm_services(container)
        call = services.call_context(None, qwen)
        parts = extract_all(call, split(lines, 8192), date.fromisoformat(data["meeting_date"]),
                            lambda f: None, lambda: None)
    assert not any(p.failure for p in parts)
    items: list[NoteItem] = merge_items([i for p in parts for i in p.items])
    check_items([(i.text, i.owner, i.quote_start_ms, i.grounded, i.quote) for i in items],
                lines, data["action_items"], data["participants"])


def test_ollama_backend_on_real_output_finds_the_sample_items(
        container: Container, qwen: BuiltinBackend) -> None:
    sample = json.loads((SAMPLES / "team-sync.json").read_text(encoding="utf-8"))
    lines = to_lines((SAMPLES / "team-sync.txt").read_text(encoding="utf-8").splitlines())
    with OllamaStandIn(answer=model_answer(qwen)) as ollama:
        container.settings.llm.ollama_host = ollama.url
        services = build_llm_services(container)
        container.llm = services  # type: ignore[attr-defined]
        call = services.call_context(None, services.ollama())
        parts = extract_all(call, split(lines, 8192), date(2026, 3, 2),
                            lambda f: None, lambda: None)
    assert not any(p.failure for p in parts)
    items = merge_items([i for p in parts for i in p.items])
    assert all(i.source_model == "ollama:mistral" for i in items)
    check_items([(i.text, i.owner, i.quote_start_ms, i.grounded, i.quote) for i in items],
                lines, sample["action_items"], sample["participants"])
