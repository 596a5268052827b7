"""Typed user settings with defaults, stored as JSON in the config folder.

Secrets (API keys, refresh tokens) are never settings: they live in the OS keychain
(see ``app.secrets``). A settings file that cannot be read is set aside, not lost.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.private_files import private_dir, write_private_text

log = logging.getLogger(__name__)

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"


class TranscriptionSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = "tiny.en-q8_0"  # name in the model store; the embedded model by default
    language: str = "en"  # "auto" lets a multilingual model detect it
    threads: int = Field(default_factory=lambda: max(1, min(os.cpu_count() or 2, 4)), ge=1)
    # Cut what is not speech before Whisper hears it (Silero VAD): faster, and no text invented
    # in silences and noise. Measured no worse in word error rate on our generated meetings.
    skip_silence: bool = True
    # Names of people and words of the user's work, spelled as they should be written; given to
    # Whisper (and the notes) as a vocabulary. See app/transcribe/vocabulary.py.
    vocabulary_people: list[str] = Field(default_factory=list)
    vocabulary_terms: list[str] = Field(default_factory=list)
    # The longest a one-hour meeting may take to transcribe, in minutes: `recap models
    # recommend` picks the most accurate model that keeps within it on this machine.
    hour_budget_minutes: float = Field(default=15.0, gt=0)
    # Where downloadable models come from ("" is whisper.cpp's official host): a mirror.
    models_url: str = ""


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ollama_host: str = Field(default_factory=lambda: os.environ.get("OLLAMA_HOST")
                             or DEFAULT_OLLAMA_HOST)
    ollama_model: str = "mistral"
    num_ctx: int = 8192
    timeout_s: float = 120.0
    builtin_model: str = ""  # GGUF name in the model store; "" picks the best installed
    use_builtin: bool = True  # the in-process model when Ollama is not there
    sign_off_name: str = ""  # signs the email drafts; "" signs with no name (never invented)
    # Cloud: off unless the user turns it on.
    cloud_allowed: bool = False
    claude_model: str = "claude-sonnet-4-6"
    monthly_cloud_budget_usd: float = 5.0
    # USD per million tokens, (input, output); the user can edit these.
    prices_per_mtok: dict[str, tuple[float, float]] = Field(default_factory=lambda: {
        "claude-sonnet-4-6": (3.0, 15.0),
        "claude-sonnet-4-5": (3.0, 15.0),
        "claude-haiku-4-5": (1.0, 5.0),
        "claude-opus-4-5": (5.0, 25.0),
    })
    # Local cost estimate: watts drawn while generating, and the price of a kWh.
    local_watts: float = 30.0
    electricity_usd_per_kwh: float = 0.30


class SyncSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: bool = False
    supabase_url: str = ""
    supabase_anon_key: str = ""  # public by design (row-level security protects the data)
    email: str = ""
    interval_s: float = 60.0


class RecordingSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input_device: int | None = None  # None: the system default
    record_only: bool = False  # "record now, transcribe later"
    # Starts/stops recording from any program where the desktop allows it; "" turns it off.
    global_hotkey: str = "Ctrl+Alt+R"


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    device_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    # Names this install; a copy of the profile elsewhere is told apart by it and takes a new
    # device_id (app.sync.device_identity).
    install_id: str = ""
    privacy_mode: bool = False  # "nothing leaves this device": one master switch
    # An HTTP(S) proxy for connections off this machine ("" = none). HTTP_PROXY and the like
    # in the environment are ignored: only this setting routes traffic, and privacy mode
    # checks it like any host.
    proxy: str = ""
    transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    recording: RecordingSettings = Field(default_factory=RecordingSettings)


def load_settings(path: Path) -> Settings:
    """Read settings; a missing file gives defaults (saved, so the device id stays stable)."""
    if path.exists():
        try:
            return Settings.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ValidationError):
            broken = path.with_suffix(".broken.json")
            log.warning("settings file %s unreadable; moved to %s, using defaults", path, broken)
            os.replace(path, broken)
    settings = Settings()
    save_settings(settings, path)
    return settings


def save_settings(settings: Settings, path: Path) -> None:
    """Atomic write: a crash mid-save leaves the old file, never half a file."""
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    write_private_text(tmp, settings.model_dump_json(indent=2))
    os.replace(tmp, path)
