"""The transcript as timestamped segments: click to play from there, double-click to edit.

Edits are saved as soon as a cell is committed (the store bumps the segment's version).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.formatting import position

if TYPE_CHECKING:
    from app.actions.queries import SegmentView

_ID_ROLE = Qt.ItemDataRole.UserRole
_START_ROLE = Qt.ItemDataRole.UserRole + 1


class TranscriptTab(QWidget):
    play_requested = Signal(int)  # start in ms
    text_edited = Signal(str, str)  # segment id, new text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = QLabel("Click a line to hear it; double-click to correct it.")
        self.hint.setEnabled(False)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Time", "Text"])
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setShowGrid(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.table)
        self._loading = False
        self.table.cellClicked.connect(self._clicked)
        self.table.itemChanged.connect(self._changed)

    def show_segments(self, segments: list[SegmentView]) -> None:
        self._loading = True
        self.table.setRowCount(len(segments))
        for row, seg in enumerate(segments):
            when = QTableWidgetItem(position(seg.start_ms))
            when.setFlags(when.flags() & ~Qt.ItemFlag.ItemIsEditable)
            when.setData(_START_ROLE, seg.start_ms)
            text = QTableWidgetItem(seg.text)
            text.setData(_ID_ROLE, seg.id)
            text.setData(_START_ROLE, seg.start_ms)
            self.table.setItem(row, 0, when)
            self.table.setItem(row, 1, text)
        self.table.resizeRowsToContents()
        self._loading = False

    def segment_count(self) -> int:
        return self.table.rowCount()

    def reveal(self, start_ms: int) -> None:
        """Select the segment that holds this moment (an action item's quote)."""
        best = -1
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and int(item.data(_START_ROLE)) <= start_ms:
                best = row
        text = self.table.item(best, 1) if best >= 0 else None
        if text is not None:
            self.table.selectRow(best)
            self.table.scrollToItem(text)

    def _clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.play_requested.emit(int(item.data(_START_ROLE)))

    def _changed(self, item: QTableWidgetItem) -> None:
        if self._loading or item.column() != 1:
            return
        text = item.text().strip()
        if text:
            self.text_edited.emit(str(item.data(_ID_ROLE)), text)
