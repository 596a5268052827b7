"""Settings: transcription model, AI engines, cloud (the Claude key goes to the OS keychain,
never to settings.json or the log), sync, and privacy mode as one master switch.

The dialog edits a copy of the settings; OK applies and saves them. Keychain calls can block
(a locked keychain asks for a password), so they run on a worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import one_line
from app.secrets import ANTHROPIC_KEY, anthropic_api_key, delete_secret, set_secret
from app.settings import Settings
from app.ui.hotkey_chord import ChordError
from app.ui.model_picker import ModelPicker
from app.ui.ops import Ops
from app.ui.plain_text import plain_label
from app.ui.recording_settings import RecordingPage
from app.ui.sync_settings import SyncPage
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.container import Container

LANGUAGES = [("English", "en"), ("Detect automatically", "auto"), ("German", "de"),
             ("French", "fr"), ("Spanish", "es"), ("Italian", "it"), ("Dutch", "nl"),
             ("Portuguese", "pt")]


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
    problem = Signal(str)  # one line, after the dialog closed (the key could not be stored)
    account_changed = Signal()  # signed in or out of sync (acts at once, OK or not)

    def __init__(self, container: Container, tasks: TaskRunner,
                 parent: QWidget | None = None, *, hotkey_status: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Recap settings")
        self.container = container
        self.tasks = tasks
        self.ops = Ops(tasks, container, self)
        self.draft = container.settings.model_copy(deep=True)
        self.key_stored = False
        self.message = plain_label()
        self.message.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._transcription_page(), "Transcription")
        self.tabs.addTab(self._recording_page(hotkey_status), "Recording")
        self.tabs.addTab(self._ai_page(), "Local AI")
        self.tabs.addTab(self._cloud_page(), "Cloud")
        self.tabs.addTab(self._sync_page(), "Sync")
        self.tabs.addTab(self._privacy_page(), "Privacy")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._apply_privacy(self.draft.privacy_mode)
        self._check_key()

    # -- pages ---------------------------------------------------------------------------
    def _transcription_page(self) -> QWidget:
        t = self.draft.transcription
        container = self.container
        self.models = ModelPicker(lambda: container.model_store, self.tasks, t.model)
        self.models.message.connect(self.message.setText)
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
        form.addRow("Model", self.models)
        form.addRow("Language", self.language_box)
        form.addRow("CPU threads", self.threads)
        return _page(form, "The built-in tiny English model works offline. Larger models are "
                           "more accurate and slower; “auto” needs a multilingual model.")

    def _recording_page(self, hotkey_status: str) -> QWidget:
        self.recording = RecordingPage(self.ops, self.draft.recording, hotkey_status)
        self.recording.message.connect(self.message.setText)
        return self.recording

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
        self.sync = SyncPage(self.ops, self.draft.sync)
        self.sync.message.connect(self.message.setText)
        self.sync.account_changed.connect(self.account_changed)
        return self.sync

    def _privacy_page(self) -> QWidget:
        self.privacy = QCheckBox("Privacy mode: nothing leaves this device")
        self.privacy.setChecked(self.draft.privacy_mode)
        self.privacy.toggled.connect(self._apply_privacy)
        form = QFormLayout()
        form.addRow(self.privacy)
        return _page(form, "One switch for everything: with it on, Claude and sync are off and "
                           "only services on this computer are contacted.")

    def _apply_privacy(self, on: bool) -> None:
        self.cloud_allowed.setEnabled(not on)
        self.cloud_allowed.setToolTip("Off while privacy mode is on." if on else "")
        self.sync.set_privacy(on)

    # -- the key -------------------------------------------------------------------------
    def _check_key(self) -> None:
        self.tasks.submit(lambda: anthropic_api_key() is not None, self._show_key_state)

    def _show_key_state(self, stored: bool) -> None:
        self.key_stored = stored
        self.remove_key.setEnabled(stored)
        self.api_key.setPlaceholderText("A key is stored in the system keychain" if stored
                                        else "Paste a Claude API key")

    def _remove_key(self) -> None:
        self.api_key.clear()
        self.tasks.submit(lambda: delete_secret(ANTHROPIC_KEY),
                          lambda _r: self._show_key_state(False))

    # -- saving --------------------------------------------------------------------------
    def collect(self) -> Settings:
        s = self.draft
        s.transcription.model = self.models.chosen()
        s.transcription.language = str(self.language_box.currentData())
        s.transcription.threads = self.threads.value()
        self.recording.collect(s.recording)
        s.llm.ollama_host = self.ollama_host.text().strip() or s.llm.ollama_host
        s.llm.ollama_model = self.ollama_model.text().strip() or s.llm.ollama_model
        s.llm.cloud_allowed = self.cloud_allowed.isChecked()
        s.llm.claude_model = self.claude_model.currentText().strip() or s.llm.claude_model
        s.llm.monthly_cloud_budget_usd = self.monthly_cap.value()
        self.sync.collect(s.sync)
        s.privacy_mode = self.privacy.isChecked()
        return s

    def accept(self) -> None:
        try:
            settings = self.collect()
        except ChordError as exc:  # stay open on the page with the problem
            self.tabs.setCurrentWidget(self.recording)
            self.message.setText(str(exc))
            return
        key = self.api_key.text().strip()
        self.api_key.clear()  # the key does not linger in the widget
        self.container.settings = settings
        self.container.save_settings()
        if key:
            self.tasks.submit(lambda: set_secret(ANTHROPIC_KEY, key),
                              lambda _r: self.saved.emit(),
                              lambda exc: self._key_failed(exc))
        else:
            self.saved.emit()
        super().accept()

    def reject(self) -> None:
        self.models.cancel()  # a download in progress stops; it resumes if started again
        super().reject()

    def _key_failed(self, exc: BaseException) -> None:
        self.problem.emit(one_line(exc))  # the dialog has closed: the window says it
