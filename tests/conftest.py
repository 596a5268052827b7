"""Every test gets its own Recap home, an in-memory keychain, and no cloud credentials."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SAMPLES = REPO / "resources" / "samples"


class MemoryKeyring(KeyringBackend):
    """A keychain that lives in the test's memory, never on disk."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def recap_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "recap-home"
    monkeypatch.setenv("RECAP_HOME", str(home))
    monkeypatch.setenv("RECAP_INSTALLS_DIR", str(tmp_path / "installs"))  # outside the profile
    for var in list(os.environ):
        if var.startswith("ANTHROPIC_") or var in ("OLLAMA_HOST", "SUPABASE_URL"):
            monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converted Whisper models, made once per test session and shared by the tests."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def whisper_tiny_q8(shared_models_dir: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in tiny.en-q8_0 model, converted once for the whole test session."""
    from app.transcribe.model_store import ModelStore

    store = ModelStore(shared_models_dir, tmp_path_factory.mktemp("cache"))
    return store.ensure_embedded("tiny.en-q8_0")


@pytest.fixture
def seeded_models(recap_home: Path, whisper_tiny_q8: Path) -> Path:
    """This test's model folder, holding the session's converted model (hard links: instant)."""
    models = recap_home / "data" / "models"
    models.mkdir(parents=True, exist_ok=True)
    for src in whisper_tiny_q8.parent.iterdir():
        if src.is_file():
            try:
                os.link(src, models / src.name)
            except OSError:
                import shutil

                shutil.copy2(src, models / src.name)
    return models
