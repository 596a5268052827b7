"""Settings: transcription model, AI engines, cloud (the Claude key goes to the OS keychain,
never to settings.json or the log), sync, and privacy mode as one master switch.

The dialog edits a copy of the settings; OK applies and saves them. Keychain calls can block
(a locked keychain asks for a password), so they run on a worker thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.settings import Settings
from app.ui.tasks import TaskRunner, human_error

if TYPE_CHECKING:
    from app.container import Container

LANGUAGES = [("English", "en"), ("Detect automatically", "auto"), ("German", "de"),
             ("French", "fr"), ("Spanish", "es"), ("Italian", "it"), ("Dutch", "nl"),
             ("Portuguese", "pt")]


class _Progress(QObject):
    changed = Signal(int, int)  # done, total (0 when unknown)


def _page(form: QFormLayout, note: str = "") -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addLayout(form)
    if note:
        label = QLabel(note)
        label.setWordWrap(True)
        label.setEnabled(False)
        layout.addWidget(label)
    layout.addStretch(1)
    return page


class SettingsDialog(QDialog):
    saved = Signal()

    def __init__(self, container: Container, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recap settings")
        self.container = container
        self.tasks = tasks
        self.draft = container.settings.model_copy(deep=True)
        self.key_stored = False
        self.tabs = QTabWidget()
        self.tabs.addTab(self._transcription_page(), "Transcription")
        self.tabs.addTab(self._ai_page(), "Local AI")
        self.tabs.addTab(self._cloud_page(), "Cloud")
        self.tabs.addTab(self._sync_page(), "Sync")
        self.tabs.addTab(self._privacy_page(), "Privacy")
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._apply_privacy(self.draft.privacy_mode)
        self._load_models()
        self._check_key()

    # -- pages ---------------------------------------------------------------------------
    def _transcription_page(self) -> QWidget:
        t = self.draft.transcription
        self.model_box = QComboBox()
        self.download_button = QPushButton("Download")
        self.import_button = QPushButton("Import a file…")
        self.model_progress = QProgressBar()
        self.model_progress.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.model_box, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.import_button)
        self.language_box = QComboBox()
        for label, code in LANGUAGES:
            self.language_box.addItem(label, code)
        index = self.language_box.findData(t.language)
        if index < 0:
            self.language_box.addItem(t.language, t.language)
            index = self.language_box.count() - 1
        self.language_box.setCurrentIndex(index)
        self.threads = QSpinBox(minimum=1, maximum=32, value=t.threads)
        form = QFormLayout()
        form.addRow("Model", row)
        form.addRow("", self.model_progress)
        form.addRow("Language", self.language_box)
        form.addRow("CPU threads", self.threads)
        self._model_relay = _Progress(self)
        self._model_relay.changed.connect(self._model_progress)
        self.download_button.clicked.connect(self._download_model)
        self.import_button.clicked.connect(self._import_model)
        self.model_box.currentIndexChanged.connect(self._model_chosen)
        return _page(form, "The built-in tiny English model works offline. Larger models are "
                           "more accurate and slower; “auto” needs a multilingual model.")

    def _ai_page(self) -> QWidget:
        llm = self.draft.llm
        self.ollama_host = QLineEdit(llm.ollama_host)
        self.ollama_model = QLineEdit(llm.ollama_model)
        form = QFormLayout()
        form.addRow("Ollama address", self.ollama_host)
        form.addRow("Ollama model", self.ollama_model)
        return _page(form, "Action items, summaries and emails are written by a model on this "
                           "computer through Ollama (ollama.com). Without it, transcripts still "
                           "work and the notes wait until a model is reachable.")

    def _cloud_page(self) -> QWidget:
        llm = self.draft.llm
        self.cloud_allowed = QCheckBox("Allow Claude for polishing and as a fallback")
        self.cloud_allowed.setChecked(llm.cloud_allowed)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("Paste a Claude API key")
        self.remove_key = QPushButton("Remove key")
        self.remove_key.setEnabled(False)
        self.remove_key.clicked.connect(self._remove_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.api_key, 1)
        key_row.addWidget(self.remove_key)
        self.claude_model = QComboBox()
        self.claude_model.addItems(sorted(llm.prices_per_mtok))
        self.claude_model.setEditable(True)
        self.claude_model.setCurrentText(llm.claude_model)
        self.monthly_cap = QDoubleSpinBox(minimum=0.0, maximum=10_000.0, decimals=2,
                                          value=llm.monthly_cloud_budget_usd, prefix="$ ")
        form = QFormLayout()
        form.addRow(self.cloud_allowed)
        form.addRow("API key", key_row)
        form.addRow("Model", self.claude_model)
        form.addRow("Monthly cap", self.monthly_cap)
        return _page(form, "The key is kept in your system keychain, never in Recap's files. "
                           "Cloud calls stop when the monthly cap is reached.")

    def _sync_page(self) -> QWidget:
        s = self.draft.sync
        self.sync_enabled = QCheckBox("Sync meetings with my Supabase project")
        self.sync_enabled.setChecked(s.enabled)
        self.sync_url = QLineEdit(s.supabase_url)
        self.sync_url.setPlaceholderText("https://<project>.supabase.co")
        self.sync_anon = QLineEdit(s.supabase_anon_key)
        self.sync_email = QLineEdit(s.email)
        self.sign_in = QPushButton("Sign in…")
        self.sign_in.setEnabled(False)
        self.sign_in.setToolTip("Sign-in arrives with the sync service.")
        form = QFormLayout()
        form.addRow(self.sync_enabled)
        form.addRow("Project URL", self.sync_url)
        form.addRow("Anon key", self.sync_anon)
        form.addRow("Email", self.sync_email)
        form.addRow("", self.sign_in)
        return _page(form, "Meetings marked “keep on this device only” are never synced.")

    def _privacy_page(self) -> QWidget:
        self.privacy = QCheckBox("Privacy mode: nothing leaves this device")
        self.privacy.setChecked(self.draft.privacy_mode)
        self.privacy.toggled.connect(self._apply_privacy)
        form = QFormLayout()
        form.addRow(self.privacy)
        return _page(form, "One switch for everything: with it on, Claude and sync are off and "
                           "only services on this computer are contacted.")

    def _apply_privacy(self, on: bool) -> None:
        for widget in (self.cloud_allowed, self.sync_enabled):
            widget.setEnabled(not on)
            widget.setToolTip("Off while privacy mode is on." if on else "")

    # -- models --------------------------------------------------------------------------
    def _load_models(self) -> None:
        store = self.container.model_store
        self.tasks.submit(lambda: (store.list_installed(self.draft.transcription.model),
                                   store.catalog()),
                          self._show_models, lambda exc: self.message.setText(human_error(exc)))

    def _show_models(self, result: tuple[list, list]) -> None:  # type: ignore[type-arg]
        installed, catalog = result
        self.model_box.blockSignals(True)
        self.model_box.clear()
        names = set()
        for model in installed:
            self.model_box.addItem(f"{model.name} ({model.kind})", model.name)
            names.add(model.name)
        for item in catalog:
            if item.name not in names:
                self.model_box.addItem(f"{item.name} — {item.size_mb} MB, download", item.name)
        current = self.draft.transcription.model
        index = self.model_box.findData(current)
        if index < 0:
            self.model_box.addItem(current, current)
            index = self.model_box.count() - 1
        self.model_box.setCurrentIndex(index)
        self.model_box.blockSignals(False)
        self._model_chosen()

    def _model_chosen(self, *_args: object) -> None:
        label = self.model_box.currentText()
        self.download_button.setEnabled(label.endswith("download"))

    def _download_model(self) -> None:
        name = str(self.model_box.currentData())
        store, relay = self.container.model_store, self._model_relay
        self.model_progress.setVisible(True)
        self.download_button.setEnabled(False)
        self.tasks.submit(
            lambda: store.download(name, lambda done, total: relay.changed.emit(done, total or 0)),
            lambda _path: self._model_ready(f"{name} is installed."),
            lambda exc: self._model_ready(human_error(exc)))

    def _import_model(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Import a whisper.cpp model",
                                                    str(Path.home()), "ggml models (*.bin)")
        if not path:
            return
        store = self.container.model_store
        self.tasks.submit(lambda: store.import_file(Path(path)),
                          lambda model: self._model_ready(f"Imported {model.name}."),
                          lambda exc: self._model_ready(human_error(exc)))

    def _model_progress(self, done: int, total: int) -> None:
        if total:
            self.model_progress.setRange(0, 1000)
            self.model_progress.setValue(int(done * 1000 / total))
        else:
            self.model_progress.setRange(0, 0)

    def _model_ready(self, text: str) -> None:
        self.model_progress.setVisible(False)
        self.message.setText(text)
        self._load_models()

    # -- the key -------------------------------------------------------------------------
    def _check_key(self) -> None:
        from app.secrets import anthropic_api_key

        self.tasks.submit(lambda: anthropic_api_key() is not None, self._show_key_state)

    def _show_key_state(self, stored: bool) -> None:
        self.key_stored = stored
        self.remove_key.setEnabled(stored)
        self.api_key.setPlaceholderText("A key is stored in the system keychain" if stored
                                        else "Paste a Claude API key")

    def _remove_key(self) -> None:
        from app.secrets import ANTHROPIC_KEY, delete_secret

        self.api_key.clear()
        self.tasks.submit(lambda: delete_secret(ANTHROPIC_KEY),
                          lambda _r: self._show_key_state(False))

    # -- saving --------------------------------------------------------------------------
    def collect(self) -> Settings:
        s = self.draft
        s.transcription.model = str(self.model_box.currentData() or s.transcription.model)
        s.transcription.language = str(self.language_box.currentData())
        s.transcription.threads = self.threads.value()
        s.llm.ollama_host = self.ollama_host.text().strip() or s.llm.ollama_host
        s.llm.ollama_model = self.ollama_model.text().strip() or s.llm.ollama_model
        s.llm.cloud_allowed = self.cloud_allowed.isChecked()
        s.llm.claude_model = self.claude_model.currentText().strip() or s.llm.claude_model
        s.llm.monthly_cloud_budget_usd = self.monthly_cap.value()
        s.sync.enabled = self.sync_enabled.isChecked()
        s.sync.supabase_url = self.sync_url.text().strip()
        s.sync.supabase_anon_key = self.sync_anon.text().strip()
        s.sync.email = self.sync_email.text().strip()
        s.privacy_mode = self.privacy.isChecked()
        return s

    def accept(self) -> None:
        settings = self.collect()
        key = self.api_key.text().strip()
        self.api_key.clear()  # the key does not linger in the widget
        self.container.settings = settings
        self.container.save_settings()
        if key:
            from app.secrets import ANTHROPIC_KEY, set_secret

            self.tasks.submit(lambda: set_secret(ANTHROPIC_KEY, key),
                              lambda _r: self.saved.emit(),
                              lambda exc: self._key_failed(exc))
        else:
            self.saved.emit()
        super().accept()

    def _key_failed(self, exc: BaseException) -> None:
        parent = self.parentWidget()
        status = getattr(parent, "show_message", None)
        if callable(status):
            status(human_error(exc))
