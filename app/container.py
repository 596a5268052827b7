"""The composition root: builds every service once, from paths and settings.

The CLI and the GUI each build one Container and hand it down; nothing in the core looks
services up globally. Services are built on first use, so `recap list` never loads Whisper.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from app.logging_setup import configure_logging
from app.paths import AppPaths, app_paths
from app.settings import Settings, load_settings, save_settings

if TYPE_CHECKING:
    from app.llm.services import LLMServices
    from app.net import NetworkGate
    from app.pipeline.runner import PipelineRunner
    from app.store.db import Database
    from app.transcribe.engine import WhisperEngine
    from app.transcribe.model_store import ModelStore

log = logging.getLogger(__name__)


class Container:
    def __init__(self, paths: AppPaths | None = None, settings: Settings | None = None) -> None:
        self.paths = (paths or app_paths()).ensure()
        configure_logging(self.paths.log_file)
        if settings is None:
            from app.sync.device_identity import ensure_own_device_id

            settings = load_settings(self.paths.settings_file)
            if ensure_own_device_id(settings, self.paths.config):  # a copied profile?
                save_settings(settings, self.paths.settings_file)
        self.settings = settings
        self._engine_lock = threading.Lock()
        self._engine: WhisperEngine | None = None
        self._engine_key: tuple[str, int, str, bool] | None = None

    def save_settings(self) -> None:
        save_settings(self.settings, self.paths.settings_file)

    @cached_property
    def db(self) -> Database:
        from app.store import migrate
        from app.store.db import Database

        db = Database(self.paths.database, self.settings.device_id)
        migrate.upgrade(db.engine, db.path, self.paths.backups)
        return db

    @cached_property
    def model_store(self) -> ModelStore:
        from app.paths import bundled_models_dir
        from app.transcribe.catalog import DEFAULT_BASE_URL
        from app.transcribe.download import gated_client_factory
        from app.transcribe.model_store import ModelStore

        gate = self.net_gate
        return ModelStore(self.paths.models, self.paths.cache, bundled_dir=bundled_models_dir(),
                          client_factory=gated_client_factory(gate),
                          base_url=self.settings.transcription.models_url or DEFAULT_BASE_URL)

    @cached_property
    def net_gate(self) -> NetworkGate:
        """The one place that knows whether anything may leave this device (privacy mode)."""
        from app.net import NetworkGate

        return NetworkGate(lambda: self.settings.privacy_mode, lambda: self.settings.proxy)

    @cached_property
    def pipeline(self) -> PipelineRunner:
        from app.pipeline.runner import PipelineRunner

        return PipelineRunner(self)

    @cached_property
    def llm(self) -> LLMServices:
        """Local engines (Ollama, then the built-in one), Claude, the ledger, the privacy gate."""
        from app.llm.services import build_llm_services

        return build_llm_services(self, builtin=True)

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

    def close(self) -> None:
        with self._engine_lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
        if "db" in self.__dict__:
            self.db.dispose()
