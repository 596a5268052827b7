"""GUI fixtures: the tiny Whisper model (converted once), the stand-in Ollama, the Supabase
stand-in on PostgreSQL (for sync), and a main window on a fresh Recap home that closes cleanly
after each test."""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from app.container import Container
from app.store.models import ActionItem, EmailDraft, Meeting, MeetingStatus, Segment
from app.transcribe.model_store import ModelStore
from app.ui.main_window import MainWindow
from tests.conftest import FIXTURES
from tests.llm.fake_model import ollama_answer
from tests.llm.standins import OllamaStandIn
from tests.supabase_standin.fixtures import (  # noqa: F401 (fixtures are found by name)
    _calm_server,
    pg_dsn,
    server,
    user,
)

SPEECH = FIXTURES / "speech"
BAD = FIXTURES / "bad"


@pytest.fixture(scope="session")
def tiny_model(shared_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in tiny.en-q8_0 model as a ggml file, converted once per session."""
    store = ModelStore(shared_models_dir, tmp_path_factory.mktemp("ui-cache"))
    return store.ensure_embedded("tiny.en-q8_0")


@pytest.fixture
def ollama() -> Iterator[OllamaStandIn]:
    standin = OllamaStandIn(answer=ollama_answer)
    standin.start()
    yield standin
    standin.stop()


WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, tiny_model: Path,
                ollama: OllamaStandIn) -> Iterator[WindowFactory]:
    """Build main windows on the test's Recap home; each gets its own container, like a
    fresh start of the app. All are closed (and their containers too) at the end."""
    opened: list[tuple[MainWindow, Container]] = []

    def make(**kwargs: object) -> MainWindow:
        container = Container()
        container.settings.transcription.model = str(tiny_model)
        container.settings.transcription.threads = 2
        container.settings.llm.ollama_host = ollama.url
        container.settings.llm.timeout_s = 20.0
        container.save_settings()
        window = MainWindow(container, **kwargs)  # type: ignore[arg-type]
        window.quit_without_asking = True  # closing mid-work must not wait for a person
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.loaded, timeout=10_000)
        opened.append((window, container))
        return window

    yield make
    for window, container in opened:
        close(window)
        container.close()


def close(window: MainWindow) -> None:
    window.quit_without_asking = True
    if window.isVisible():
        window.close()


def add_meeting(container: Container, title: str, lines: list[str], *,
                items: list[dict[str, object]] | None = None, email: str = "",
                status: str = MeetingStatus.READY.value, source: str = "") -> str:
    """A finished meeting written straight to the store (no transcription needed)."""
    with container.db.session() as s:
        meeting = Meeting(title=title, occurred_at=datetime(2026, 11, 25, 10, tzinfo=UTC),
                          duration_s=len(lines) * 4.0, status=status, source_path=source,
                          summary=f"{title}: the team talked.", decisions=["Ship on Friday"])
        s.add(meeting)
        s.flush()
        for i, text in enumerate(lines):
            s.add(Segment(meeting_id=meeting.id, idx=i, start_ms=i * 4000,
                          end_ms=i * 4000 + 3500, text=text))
        for i, item in enumerate(items or []):
            s.add(ActionItem(meeting_id=meeting.id, position=i, **item))  # type: ignore[arg-type]
        if email:
            s.add(EmailDraft(meeting_id=meeting.id, subject=f"Notes: {title}", body=email))
        return meeting.id


def long_speech_wav(target: Path, seconds: float) -> Path:
    """Speech fixtures played one after another until ``seconds``, as a 16 kHz WAV."""
    from app.audio.decode import decode

    clips = [decode(SPEECH / name) for name in
             ("project-update.flac", "groceries.ogg", "library.mp3", "garden.m4a")]
    pieces, total = [], 0
    want = int(seconds * 16_000)
    while total < want:
        for clip in clips:
            pieces.append(clip)
            total += len(clip)
    audio = np.concatenate(pieces)[:want]
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return target
