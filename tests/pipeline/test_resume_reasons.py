"""Which meetings are taken up again is decided in one place, for each reason: `recap resume`
retries everything unfinished; the window, as it opens, carries on with what a quit or a crash
interrupted; and when a local model is back, with the meetings whose stages waited for one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.container import Container
from app.pipeline.events import Resume
from app.store.models import Job, Meeting
from app.store.status import JobState, MeetingStatus


@pytest.fixture
def container() -> Iterator[Container]:
    box = Container()
    yield box
    box.close()


def meeting(container: Container, title: str, status: MeetingStatus, *,
            waiting: bool = False, deleted: bool = False, age_s: int = 0) -> str:
    created = datetime(2026, 11, 25, 10, tzinfo=UTC) - timedelta(seconds=age_s)
    with container.db.session() as s:
        m = Meeting(title=title, status=status.value, created_at=created,
                    deleted_at=created if deleted else None)
        s.add(m)
        s.flush()
        s.add(Job(meeting_id=m.id, stage="notes", position=2,
                  state=(JobState.WAITING if waiting else JobState.DONE).value))
        return m.id


def test_each_reason_takes_up_its_own_meetings(container: Container) -> None:
    queued = meeting(container, "Queued", MeetingStatus.QUEUED, age_s=40)
    cut_off = meeting(container, "Cut off mid-way", MeetingStatus.PROCESSING, age_s=30)
    waiting = meeting(container, "Notes waiting for a model", MeetingStatus.NEEDS_ATTENTION,
                      waiting=True, age_s=20)
    stuck = meeting(container, "Unusable model answer", MeetingStatus.NEEDS_ATTENTION,
                    age_s=10)
    meeting(container, "Done", MeetingStatus.READY)
    meeting(container, "Broken file", MeetingStatus.FAILED)
    meeting(container, "Deleted", MeetingStatus.QUEUED, deleted=True)

    meetings = container.meetings  # what both faces call
    assert meetings.to_resume(Resume.ASKED) == [queued, cut_off, waiting, stuck]  # oldest first
    assert meetings.to_resume(Resume.AT_START) == [queued, cut_off]
    assert meetings.to_resume(Resume.ENGINE_BACK) == [waiting]
