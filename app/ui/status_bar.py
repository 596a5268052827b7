"""The status bar: is the local model there (and a button to get it, with progress), sync state,
privacy mode. Probing Ollama takes up to a few seconds: it runs on a worker thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from app.errors import one_line
from app.settings import Settings
from app.sync.status import SyncStatus
from app.ui.ops import Ops
from app.ui.plain_text import plain_label, tooltip
from app.ui.relay import Relay
from app.ui.sync_text import describe_sync

if TYPE_CHECKING:
    from app.actions.local_ai import OllamaState
    from app.llm.ollama_backend import PullProgress

_REPROBE_MS = 60_000


class StatusBar(QStatusBar):
    local_model_changed = Signal(bool, str)  # available, one line (for the empty state)
    pulled = Signal()

    def __init__(self, ops: Ops, settings: Callable[[], Settings],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.settings = settings
        self.model_label = plain_label("Local model: checking…")
        self.pull_button = QPushButton("Get model")
        self.pull_button.setVisible(False)
        self.pull_bar = QProgressBar()
        self.pull_bar.setMaximumWidth(140)
        self.pull_bar.setVisible(False)
        self.sync_label = plain_label()
        self.privacy_label = QLabel()
        for widget in (self.model_label, self.pull_button, self.pull_bar, self.sync_label,
                       self.privacy_label):
            self.addPermanentWidget(widget)
        self.available: bool | None = None
        self._sync_problem = ""
        self._why = ""
        self._pull_cancel = threading.Event()
        self._relay = Relay(self)
        self.pull_button.clicked.connect(self.pull_model)
        self._timer = QTimer(self, interval=_REPROBE_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh_settings()

    # -- local model ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask whether Ollama is there (off the GUI thread: the AI layer is slow to load)."""
        self.ops.read(lambda uc: uc.local_ai.ollama(), self._show_availability,
                      lambda exc: self._show_availability(None, one_line(exc)))

    def _show_availability(self, state: OllamaState | None, error: str = "") -> None:
        model = self.settings().llm.ollama_model
        was = self.available
        status = state.availability if state is not None else None
        if status is not None and status.ok:
            self.available = True
            self.model_label.setText(f"Local model: {model} ✓")
            self.model_label.setToolTip("Ollama is running and has the model.")
            self.pull_button.setVisible(False)
            if was is not True:
                self.local_model_changed.emit(True, "")
            return
        self.available = False
        reason = status.reason if status is not None else error
        fix = status.fix if status is not None else ""
        missing_model = state is not None and state.model_missing
        self.model_label.setText("Local model: missing" if missing_model
                                 else "Local model: Ollama not running")
        self.model_label.setToolTip(tooltip(f"{reason} {fix}".strip()))
        self.pull_button.setVisible(missing_model and not self.pull_bar.isVisible())
        why = f"{reason} {fix}".strip()
        if was is not False or why != self._why:  # tell changes only
            self._why = why
            self.local_model_changed.emit(False, why)

    def pull_model(self) -> None:
        self._pull_cancel.clear()
        self.pull_button.setVisible(False)
        self.pull_bar.setVisible(True)
        self.pull_bar.setValue(0)
        show, cancel = self._relay.wrap(self._pull_progress), self._pull_cancel

        def progress(event: PullProgress) -> None:  # on the worker
            show(event.status, -1.0 if event.fraction is None else event.fraction)

        self.ops.read(lambda uc: uc.local_ai.pull(progress=progress, cancel=cancel),
                      self._pull_done, self._pull_failed)

    def _pull_progress(self, status: str, fraction: float) -> None:
        if fraction < 0:
            self.pull_bar.setRange(0, 0)
        else:
            self.pull_bar.setRange(0, 100)
            self.pull_bar.setValue(int(fraction * 100))
        self.pull_bar.setToolTip(status)

    def _pull_done(self, _result: object) -> None:
        self.pull_bar.setVisible(False)
        self.showMessage("Model downloaded.", 5000)
        self.pulled.emit()
        self.refresh()

    def _pull_failed(self, exc: BaseException) -> None:
        self.pull_bar.setVisible(False)
        self.pull_button.setVisible(True)
        self.showMessage(one_line(exc), 10_000)

    def cancel_pull(self) -> None:
        self._pull_cancel.set()

    # -- sync and privacy ----------------------------------------------------------------
    def refresh_settings(self) -> None:
        settings = self.settings()
        self.privacy_label.setText("Privacy mode: on" if settings.privacy_mode
                                   else "Privacy mode: off")
        self.privacy_label.setToolTip("Nothing leaves this device." if settings.privacy_mode
                                      else "Cloud and sync are allowed where you turned them on.")
        self.show_sync(None)

    def show_sync(self, status: SyncStatus | None) -> None:
        """Sync state in a few words, the whole story (error and fix) in the tooltip; a new
        problem is also said once, as one line, in the message area. ``status`` is what the
        sync controller last reported; None shows what the settings say until it does."""
        text, detail, problem = describe_sync(self.settings(), status)
        self.sync_label.setText(text)
        self.sync_label.setToolTip(tooltip(detail))
        if problem and problem != self._sync_problem:
            self.showMessage(problem, 10_000)
        self._sync_problem = problem

    def stop(self) -> None:
        self._timer.stop()
        self._pull_cancel.set()
