"""Details: where the notes came from (models, stage timings, the AI ledger), sync state, and
"keep on this device only"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.plain_text import plain_label

if TYPE_CHECKING:
    from app.actions.queries import MeetingDetail, MeetingFacts


def _label() -> QLabel:
    label = plain_label()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class DetailsTab(QWidget):
    local_only_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = _label()
        self.transcript_model = _label()
        self.notes_model = _label()
        self.ledger = _label()
        self.sync = _label()
        self.status = _label()
        self.local_only = QCheckBox("Keep on this device only (never synced)")
        form = QFormLayout()
        form.addRow("Recording", self.source)
        form.addRow("State", self.status)
        form.addRow("Transcript by", self.transcript_model)
        form.addRow("Notes by", self.notes_model)
        form.addRow("AI calls", self.ledger)
        form.addRow("Sync", self.sync)
        self.stages = QTableWidget(0, 3)
        self.stages.setHorizontalHeaderLabels(["Stage", "State", "Time"])
        self.stages.verticalHeader().hide()
        self.stages.horizontalHeader().setStretchLastSection(True)
        self.stages.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.local_only)
        layout.addWidget(QLabel("Stages"))
        layout.addWidget(self.stages, 1)
        self._loading = False
        self.local_only.toggled.connect(self._toggled)

    def show_detail(self, detail: MeetingDetail, facts: MeetingFacts | None) -> None:
        self._loading = True
        row = detail.row
        self.source.setText(detail.source_path or "—")
        self.status.setText(row.status.replace("_", " ") + (f": {row.error}" if row.error else ""))
        lang = f" ({detail.language})" if detail.language else ""
        self.transcript_model.setText((detail.transcript_model or "—") + lang)
        self.notes_model.setText(detail.notes_model or "—")
        self.local_only.setChecked(row.local_only)
        if row.local_only:
            self.sync.setText("Kept on this device only")
        else:
            self.sync.setText("Synced" if row.synced else "Not synced yet")
        if facts is not None:
            ledger = facts.ledger
            if ledger.calls:
                self.ledger.setText(
                    f"{ledger.calls} calls, {ledger.local_share:.0%} on this device, "
                    f"${ledger.cost_usd:.4f} — {', '.join(ledger.models)}")
            else:
                self.ledger.setText("No AI calls for this meeting yet.")
            self.stages.setRowCount(len(facts.stages))
            for i, stage in enumerate(facts.stages):
                seconds = "—" if stage.seconds is None else f"{stage.seconds:.1f} s"
                state = stage.state.replace("_", " ")
                if stage.error:
                    state += f": {stage.error}"
                for col, text in enumerate((stage.stage, state, seconds)):
                    self.stages.setItem(i, col, QTableWidgetItem(text))
            self.stages.resizeColumnsToContents()
        self._loading = False

    def _toggled(self, checked: bool) -> None:
        if not self._loading:
            self.local_only_changed.emit(checked)
