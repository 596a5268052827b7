"""The import queue: one row per file dropped or imported, with its stage, percent and a cancel
button; files that cannot be used say why in one line, and the rest of the batch goes on."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.ui.plain_text import plain_label
from app.ui.processing import Outcome


class QueueRow(QFrame):
    cancel_clicked = Signal(str)  # meeting id

    def __init__(self, name: str, meeting_id: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.meeting_id = meeting_id
        self.finished = False
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = plain_label(name)
        self.name.setMinimumWidth(120)
        self.state = plain_label("Queued")
        self.state.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.bar.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this file; what is done is kept and can be resumed.")
        self.cancel_button.clicked.connect(lambda: self.cancel_clicked.emit(self.meeting_id))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.name)
        layout.addWidget(self.state, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)

    def set_progress(self, label: str, stage: float, overall: float) -> None:
        self.state.setText(f"{label} {stage:.0%}")
        self.bar.setValue(int(overall * 100))

    def set_finished(self, text: str, ok: bool) -> None:
        self.finished = True
        self.state.setText(text)
        self.state.setStyleSheet("" if ok else "color: #c0392b;")
        if ok:
            self.bar.setValue(100)
        self.bar.setVisible(ok)
        self.cancel_button.setVisible(False)


class ImportQueue(QWidget):
    cancel_requested = Signal(str)  # meeting id
    open_requested = Signal(str)  # meeting id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[str, QueueRow] = {}  # meeting id (or "path:<file>") -> row
        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Import queue</b>"))
        header.addStretch(1)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        header.addWidget(self.clear_button)
        self._box = QWidget()
        self._list = QVBoxLayout(self._box)
        self._list.setContentsMargins(0, 0, 0, 0)
        self._list.setSpacing(2)
        self._list.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._box)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(header)
        layout.addWidget(scroll)
        self.setVisible(False)

    def _insert(self, key: str, row: QueueRow) -> QueueRow:
        self._list.insertWidget(self._list.count() - 1, row)
        self.rows[key] = row
        self.setVisible(True)
        return row

    def add_meeting(self, path: str, meeting_id: str) -> None:
        if meeting_id in self.rows and not self.rows[meeting_id].finished:
            return
        if meeting_id in self.rows:
            self._remove(meeting_id)
        row = QueueRow(Path(path).name if path else "Meeting", meeting_id)
        row.cancel_clicked.connect(self._cancel)
        self._insert(meeting_id, row)

    def add_rejected(self, path: str, reason: str) -> None:
        row = QueueRow(Path(path).name)
        row.set_finished(reason, ok=False)
        self._insert(f"path:{path}:{len(self.rows)}", row)

    def set_progress(self, meeting_id: str, label: str, stage: float, overall: float) -> None:
        row = self.rows.get(meeting_id)
        if row is not None and not row.finished and row.cancel_button.isEnabled():
            row.set_progress(label, stage, overall)  # (a disabled button: cancelling)

    def set_outcome(self, outcome: Outcome) -> None:
        row = self.rows.get(outcome.meeting_id)
        if row is None:
            return
        if outcome.status == "ready":
            row.set_finished("Ready", ok=True)
        elif outcome.status == "failed":
            row.set_finished(outcome.message or "Could not be processed.", ok=False)
        else:
            row.set_finished(f"Needs attention: {outcome.message}".strip(), ok=False)

    def set_outcome_text(self, meeting_id: str, text: str) -> None:
        row = self.rows.get(meeting_id)
        if row is not None:
            row.set_finished(text, ok=True)

    def state_text(self, meeting_id: str) -> str:
        row = self.rows.get(meeting_id)
        return row.state.text() if row is not None else ""

    def messages(self) -> list[str]:
        return [row.state.text() for row in self.rows.values()]

    def _cancel(self, meeting_id: str) -> None:
        row = self.rows.get(meeting_id)
        if row is not None:
            row.state.setText("Cancelling…")
            row.cancel_button.setEnabled(False)
        self.cancel_requested.emit(meeting_id)

    def _remove(self, key: str) -> None:
        row = self.rows.pop(key)
        self._list.removeWidget(row)
        row.deleteLater()

    def clear_finished(self) -> None:
        for key in [k for k, r in self.rows.items() if r.finished]:
            self._remove(key)
        self.setVisible(bool(self.rows))

    def has_running(self) -> bool:
        return any(not r.finished for r in self.rows.values())



