"""The composition root: the one place that knows every service, and builds each with exactly
what it needs.

The CLI and the GUI each build one Container and hand down what their parts need; nothing
below them imports this module. Each service is built on first use (from any thread: building
is serialised), which also makes this the boundary where heavy modules load: `recap list` never
loads Whisper, and the window's first paint waits for no SQLAlchemy model or AI engine. Every
other module imports at its top.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from app.logging_setup import configure_logging
from app.net import NetworkGate
from app.paths import AppPaths, app_paths, bundled_models_dir
from app.secrets import anthropic_api_key
from app.settings import Settings, load_settings, save_settings

if TYPE_CHECKING:
    import httpx

    from app.actions.edits import Edits
    from app.actions.local_ai import LocalAI
    from app.actions.mail import Mail
    from app.actions.meetings import Meetings
    from app.actions.queries import Queries
    from app.actions.recordings import Recordings
    from app.actions.sync import Sync
    from app.llm.builtin.models import LLMModelStore
    from app.llm.services import LLMServices
    from app.pipeline.runner import PipelineRunner
    from app.pipeline.stage import Stage
    from app.store.db import Database
    from app.transcribe.engine import WhisperEngine
    from app.transcribe.model_store import ModelStore

log = logging.getLogger(__name__)

T = TypeVar("T")


class lazy(Generic[T]):  # noqa: N801 (used like @property)
    """A service built on first use, once, whichever thread asks first; tests may replace it
    by assigning before first use."""

    def __init__(self, build: Callable[[Any], T]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> lazy[T]: ...

    @overload
    def __get__(self, obj: Container, owner: type) -> T: ...

    def __get__(self, obj: Container | None, owner: type) -> T | lazy[T]:
        if obj is None:
            return self
        built = obj.__dict__
        if self.name not in built:
            with obj._building:
                if self.name not in built:
                    built[self.name] = self.build(obj)
        return built[self.name]  # type: ignore[no-any-return]


class Container:
    """Builds every service, and the use cases (it is the ``UseCases`` the faces call)."""

    def __init__(self, paths: AppPaths | None = None, settings: Settings | None = None) -> None:
        self.paths = (paths or app_paths()).ensure()
        configure_logging(self.paths.log_file)
        if settings is None:
            from app.sync.device_identity import ensure_own_device_id

            settings = load_settings(self.paths.settings_file)
            if ensure_own_device_id(settings, self.paths.config):  # a copied profile?
                save_settings(settings, self.paths.settings_file)
        self.settings = settings
        self._building = threading.RLock()  # services build others they need: re-entrant
        self._engine_lock = threading.Lock()
        self._engine: WhisperEngine | None = None
        self._engine_key: tuple[str, int, str, bool] | None = None

    def save_settings(self) -> None:
        save_settings(self.settings, self.paths.settings_file)

    # -- the foundations -----------------------------------------------------------------
    @lazy
    def db(self) -> Database:
        from app.store import migrate
        from app.store.db import Database

        db = Database(self.paths.database, self.settings.device_id)
        migrate.upgrade(db.engine, db.path, self.paths.backups)
        return db

    @lazy
    def net_gate(self) -> NetworkGate:
        """The one place that knows whether anything may leave this device (privacy mode)."""
        return NetworkGate(lambda: self.settings.privacy_mode, lambda: self.settings.proxy)

    def download_client(self) -> httpx.Client:
        """An HTTP client for model downloads that passes the gate on every request and every
        redirect hop, and takes a proxy only from the settings."""
        from app.download import gated_client_factory

        return gated_client_factory(self.net_gate)()

    # -- the engines ---------------------------------------------------------------------
    @lazy
    def model_store(self) -> ModelStore:
        """The Whisper models: built-in, downloaded and imported."""
        from app.transcribe.catalog import DEFAULT_BASE_URL
        from app.transcribe.model_store import ModelStore

        return ModelStore(self.paths.models, self.paths.cache, bundled_dir=bundled_models_dir(),
                          client_factory=self.download_client,
                          base_url=self.settings.transcription.models_url or DEFAULT_BASE_URL)

    def whisper_engine(self) -> WhisperEngine:
        """The loaded Whisper model, kept between meetings; rebuilt when settings change."""
        from app.transcribe.engine import WhisperEngine

        t = self.settings.transcription
        key = (t.model, t.threads, t.language, t.skip_silence)
        with self._engine_lock:
            if self._engine is None or self._engine_key != key:
                if self._engine is not None:
                    self._engine.close()
                path = self.model_store.path_for(t.model)
                self._engine = WhisperEngine(path, threads=t.threads, language=t.language,
                                             skip_silence=t.skip_silence)
                self._engine_key = key
            return self._engine

    @lazy
    def llm_models(self) -> LLMModelStore:
        """The built-in LLM's models (GGUF files and those shipped as packages)."""
        from app.llm.builtin.models import LLMModelStore

        return LLMModelStore(self.paths.models, self.paths.cache,
                             client_factory=self.download_client)

    @lazy
    def llm(self) -> LLMServices:
        """Local engines (Ollama, then the built-in one), Claude, the ledger, the privacy gate."""
        from app.llm.builtin.provider import BuiltinProvider
        from app.llm.services import LLMServices

        builtin = BuiltinProvider(self.llm_models, lambda: self.settings.llm.builtin_model,
                                  lambda: self.settings.llm.num_ctx,
                                  enabled=lambda: self.settings.llm.use_builtin)
        return LLMServices(settings=lambda: self.settings, db=self.db, gate=self.net_gate,
                           api_key=anthropic_api_key, local_factories=[builtin])

    # -- the pipeline --------------------------------------------------------------------
    @lazy
    def pipeline(self) -> PipelineRunner:
        """The stages a meeting goes through, in order, each built with what it uses."""
        from app.pipeline.decode import DecodeStage
        from app.pipeline.draft import DraftStage
        from app.pipeline.notes import NotesStage
        from app.pipeline.runner import PipelineRunner
        from app.pipeline.transcribe import TranscribeStage

        pcm = self.paths.cache / "pcm"
        stages: list[Stage] = [
            DecodeStage(self.db, pcm),
            TranscribeStage(self.db, pcm, self.whisper_engine,
                            lambda: self.settings.transcription),
            NotesStage(self.db, lambda: self.llm),
            DraftStage(self.db, lambda: self.llm),
        ]
        return PipelineRunner(self.db, stages, log_file=self.paths.log_file)

    # -- the use cases (app/actions): what both faces call ---------------------------------
    @lazy
    def meetings(self) -> Meetings:
        from app.actions.meetings import Meetings

        return Meetings(self.db, self.pipeline)

    @lazy
    def edits(self) -> Edits:
        from app.actions.edits import Edits

        return Edits(self.db)

    @lazy
    def mail(self) -> Mail:
        from app.actions.mail import Mail

        return Mail(self.db, lambda: self.llm, lambda: self.settings, anthropic_api_key)

    @lazy
    def queries(self) -> Queries:
        from app.actions.queries import Queries

        return Queries(self.db)

    @lazy
    def sync(self) -> Sync:
        from app.actions.sync import Sync

        return Sync(self.db, lambda: self.settings, self.save_settings, self.net_gate)

    @lazy
    def local_ai(self) -> LocalAI:
        from app.actions.local_ai import LocalAI

        return LocalAI(lambda: self.llm)

    @lazy
    def recordings(self) -> Recordings:
        from app.actions.recordings import Recordings

        return Recordings(self.paths.recordings, self.pipeline,
                          lambda: self.settings.recording.input_device)

    def close(self) -> None:
        with self._engine_lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
        if "db" in self.__dict__:
            self.db.dispose()


if TYPE_CHECKING:
    from app.actions import UseCases

    def _provides_every_use_case(container: Container) -> UseCases:
        return container  # mypy checks that the container satisfies UseCases
