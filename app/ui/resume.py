"""Meetings that carry on by themselves: those a quit or a crash interrupted (at start-up), and
those whose notes were waiting for a local model (when it is back)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


def resume_interrupted(window: MainWindow) -> None:
    container = window.container

    def find() -> list[str]:
        from app.pipeline.events import Resume

        return container.pipeline.to_resume(Resume.AT_START)

    def resume(ids: list[str]) -> None:
        for meeting_id in ids:
            window.queue.enqueue(meeting_id)

    window.tasks.submit(find, resume)


def resume_waiting_for_model(window: MainWindow) -> None:
    container = window.container

    def find() -> list[str]:
        from app.pipeline.events import Resume

        return container.pipeline.to_resume(Resume.ENGINE_BACK)

    def resume(ids: list[str]) -> None:
        for meeting_id in ids:
            window.import_queue.add_meeting("", meeting_id)
            window.queue.enqueue(meeting_id)

    window.tasks.submit(find, resume)
