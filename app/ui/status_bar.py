"""The status bar: is the local model there (and a button to get it, with progress), sync state,
privacy mode. Probing Ollama takes up to a few seconds: it runs on a worker thread."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from app.ui.plain_text import plain_label, tooltip
from app.ui.tasks import TaskRunner, human_error

if TYPE_CHECKING:
    from app.container import Container
    from app.llm.backend import Availability
    from app.ui.sync_controller import Status

_REPROBE_MS = 60_000


class _PullRelay(QObject):
    progress = Signal(str, float)  # status, fraction (-1 when unknown)


class StatusBar(QStatusBar):
    local_model_changed = Signal(bool, str)  # available, one line (for the empty state)
    pulled = Signal()

    def __init__(self, container: Container, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.container = container
        self.tasks = tasks
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
        self._relay = _PullRelay(self)
        self._relay.progress.connect(self._pull_progress)
        self.pull_button.clicked.connect(self.pull_model)
        self._timer = QTimer(self, interval=_REPROBE_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh_settings()

    def _services(self) -> Any:
        """The AI services; importing them is slow (the Anthropic SDK): call off the GUI."""
        from app.llm.services import services_for

        return services_for(self.container)

    # -- local model ---------------------------------------------------------------------
    def refresh(self) -> None:
        self.tasks.submit(lambda: self._services().ollama().availability(),
                          self._show_availability,
                          lambda exc: self._show_availability(None, human_error(exc)))

    def _show_availability(self, status: Availability | None, error: str = "") -> None:
        model = self.container.settings.llm.ollama_model
        was = self.available
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
        missing_model = status is not None and "installed" in status.details
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
        relay, cancel = self._relay, self._pull_cancel

        def work() -> None:
            self._services().ollama().pull(lambda p: relay.progress.emit(
                p.status, -1.0 if p.fraction is None else p.fraction), cancel)

        self.tasks.submit(work, self._pull_done, self._pull_failed)

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
        self.showMessage(human_error(exc), 10_000)

    def cancel_pull(self) -> None:
        self._pull_cancel.set()

    # -- sync and privacy ----------------------------------------------------------------
    def refresh_settings(self) -> None:
        settings = self.container.settings
        self.privacy_label.setText("Privacy mode: on" if settings.privacy_mode
                                   else "Privacy mode: off")
        self.privacy_label.setToolTip("Nothing leaves this device." if settings.privacy_mode
                                      else "Cloud and sync are allowed where you turned them on.")
        self.show_sync(None)

    def show_sync(self, status: Status | None) -> None:
        """Sync state in a few words, the whole story (error and fix) in the tooltip; a new
        problem is also said once, as one line, in the message area. ``status`` is what the
        sync controller last reported; None shows what the settings say until it does."""
        from app.ui.sync_text import describe_sync

        text, detail, problem = describe_sync(self.container.settings, status)
        self.sync_label.setText(text)
        self.sync_label.setToolTip(tooltip(detail))
        if problem and problem != self._sync_problem:
            self.showMessage(problem, 10_000)
        self._sync_problem = problem

    def stop(self) -> None:
        self._timer.stop()
        self._pull_cancel.set()
