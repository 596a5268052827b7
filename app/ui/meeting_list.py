"""The list of meetings: a table model over plain ``MeetingRow``s, a search box, a state filter.

The widget never reads the database itself: it asks for a reload (``reload_requested``) and the
window answers with ``set_rows`` from a worker, so typing in the search box stays instant.
Search is debounced and answered by full-text search (titles, transcripts, action items).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.formatting import duration, local_date_time, local_day
from app.ui.plain_text import tooltip

if TYPE_CHECKING:
    from app.actions.queries import MeetingRow

STATE_LABELS = {
    "queued": "Queued",
    "processing": "Processing",
    "needs_attention": "Needs attention",
    "ready": "Ready",
    "failed": "Failed",
}
FILTERS = [("All meetings", None), ("Ready", "ready"), ("Needs attention", "needs_attention"),
           ("Processing", "processing"), ("Failed", "failed")]
COLUMNS = ["Title", "Date", "Length", "State", "Sync"]
SYNC_COLUMN = 4

Index = QModelIndex | QPersistentModelIndex


def sync_label(row: MeetingRow) -> str:
    if row.local_only:
        return "Device only"
    return "Synced" if row.synced else "Not yet"


class MeetingTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[MeetingRow] = []
        self.progress: dict[str, str] = {}  # meeting id -> "Transcribing 42%"

    def set_rows(self, rows: list[MeetingRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def set_progress(self, meeting_id: str, text: str | None) -> None:
        if text is None:
            self.progress.pop(meeting_id, None)
        else:
            self.progress[meeting_id] = text
        for i, row in enumerate(self.rows):
            if row.id == meeting_id:
                cell = self.index(i, 3)
                self.dataChanged.emit(cell, cell)

    def set_status(self, meeting_id: str, status: str) -> bool:
        """Change one meeting's state in place (a repaint of one cell, not a model reset);
        False when the meeting is not listed."""
        i = self.row_for(meeting_id)
        if i < 0:
            return False
        self.rows[i] = replace(self.rows[i], status=status, error="")
        self.dataChanged.emit(self.index(i, 0), self.index(i, 3))
        return True

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return row.title
            if column == 1:
                return local_day(row.occurred_at)
            if column == 2:
                return duration(row.duration_s)
            if column == 3:
                return self.progress.get(row.id) or STATE_LABELS.get(row.status, row.status)
            return sync_label(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column in (0, 3) and row.error:
                return tooltip(row.error)
            if column in (0, 1):
                return tooltip(f"{row.title} — {local_date_time(row.occurred_at)}")
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None

    def row_for(self, meeting_id: str) -> int:
        return next((i for i, r in enumerate(self.rows) if r.id == meeting_id), -1)


class MeetingList(QWidget):
    selected = Signal(str)  # meeting id ("" when nothing is selected)
    reload_requested = Signal()
    search_changed = Signal(str)  # the text to search for ("" clears the filter)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_box = QLineEdit(placeholderText="Search titles, transcripts, action items…")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Search meetings")
        self.filter_box = QComboBox()
        for label, _status in FILTERS:
            self.filter_box.addItem(label)
        self.model = MeetingTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # long titles elide; the tooltip has them in full
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        top = QHBoxLayout()
        top.addWidget(self.search_box, 1)
        top.addWidget(self.filter_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table)

        self._debounce = QTimer(self, singleShot=True, interval=200)
        self._debounce.timeout.connect(lambda: self.search_changed.emit(self.search_text()))
        self.search_box.textChanged.connect(lambda _t: self._debounce.start())
        self.filter_box.currentIndexChanged.connect(lambda _i: self.reload_requested.emit())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._emit_selected())

    def search_text(self) -> str:
        return self.search_box.text().strip()

    def status_filter(self) -> str | None:
        return FILTERS[self.filter_box.currentIndex()][1]

    def set_rows(self, rows: list[MeetingRow]) -> None:
        """Show these rows, keeping the selection on the same meeting when it is still there."""
        keep = self.current_id()
        self.table.selectionModel().blockSignals(True)
        self.model.set_rows(rows)
        self.table.selectionModel().blockSignals(False)
        if keep and self.model.row_for(keep) >= 0:
            self.select(keep, notify=False)
        elif keep:
            self.selected.emit("")

    def current_id(self) -> str:
        indexes = self.table.selectionModel().selectedRows()
        return str(self.model.rows[indexes[0].row()].id) if indexes else ""

    def select(self, meeting_id: str, *, notify: bool = True) -> None:
        row = self.model.row_for(meeting_id)
        if row < 0:
            return
        model = self.table.selectionModel()
        if not notify:
            model.blockSignals(True)
        model.select(self.model.index(row, 0),
                     QItemSelectionModel.SelectionFlag.ClearAndSelect
                     | QItemSelectionModel.SelectionFlag.Rows)
        model.setCurrentIndex(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
        if not notify:
            model.blockSignals(False)
        self.table.scrollTo(self.model.index(row, 0))

    def visible_titles(self) -> list[str]:
        return [r.title for r in self.model.rows]

    def _emit_selected(self) -> None:
        self.selected.emit(self.current_id())
