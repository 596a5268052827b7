"""Action items as a checklist: tick, edit the text, owner and due date, jump to the quote.

Each committed cell becomes one ``edited`` signal with just the changed field; the window saves it
off the GUI thread. Due dates are typed as YYYY-MM-DD (what was said, "by Friday", is the tooltip).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.plain_text import tooltip

if TYPE_CHECKING:
    from app.actions.queries import ActionItemView

_ID_ROLE = Qt.ItemDataRole.UserRole
DONE, TEXT, OWNER, DUE, QUOTE = range(5)


class ActionItemsTab(QWidget):
    edited = Signal(str, dict)  # item id, {field: value}
    add_requested = Signal(str)  # text of a new item
    quote_requested = Signal(int)  # start in ms of the quote in the transcript
    invalid_input = Signal(str)  # a one-line message for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty = QLabel("No action items yet. They appear here once the notes are written.")
        self.empty.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Done", "Action", "Owner", "Due", "Quote"])
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.SelectedClicked)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(TEXT, QHeaderView.ResizeMode.Stretch)
        for col in (DONE, OWNER, DUE, QUOTE):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.new_item = QLineEdit(placeholderText="Add an action item the notes missed…")
        add = QPushButton("Add")
        add.clicked.connect(self._add)
        self.new_item.returnPressed.connect(self._add)
        bottom = QHBoxLayout()
        bottom.addWidget(self.new_item, 1)
        bottom.addWidget(add)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table)
        layout.addLayout(bottom)
        self._items: list[ActionItemView] = []
        self._loading = False
        self.table.itemChanged.connect(self._changed)

    def show_items(self, items: list[ActionItemView]) -> None:
        self._loading = True
        self._items = list(items)
        self.empty.setVisible(not items)
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            done = QTableWidgetItem()
            done.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                          | Qt.ItemFlag.ItemIsSelectable)
            done.setCheckState(Qt.CheckState.Checked if item.done else Qt.CheckState.Unchecked)
            cells: dict[int, QTableWidgetItem] = {
                DONE: done,
                TEXT: QTableWidgetItem(item.text),
                OWNER: QTableWidgetItem(item.owner),
                DUE: QTableWidgetItem(item.due_date.isoformat() if item.due_date else ""),
            }
            if item.due_text:
                cells[DUE].setToolTip(tooltip(f"Said: “{item.due_text}”"))
            if not item.grounded:
                cells[TEXT].setToolTip("Not found word for word in the transcript: check it.")
            for col, cell in cells.items():
                cell.setData(_ID_ROLE, item.id)
                self.table.setItem(row, col, cell)
            self.table.setCellWidget(row, QUOTE, self._quote_button(item))
        self.table.resizeRowsToContents()
        self._loading = False

    def _quote_button(self, item: ActionItemView) -> QWidget:
        button = QPushButton("Show")
        button.setFlat(True)
        if item.quote_start_ms is None:
            button.setEnabled(False)
            button.setToolTip("No quote in the transcript for this item.")
        else:
            button.setToolTip(tooltip(f"“{item.quote}”"))
            start = item.quote_start_ms
            button.clicked.connect(lambda: self.quote_requested.emit(start))
        return button

    def row_values(self, row: int) -> dict[str, Any]:
        """What the table shows in a row (for tests and screenshots)."""
        def text(col: int) -> str:
            cell = self.table.item(row, col)
            return cell.text() if cell is not None else ""

        done = self.table.item(row, DONE)
        return {"done": done is not None and done.checkState() == Qt.CheckState.Checked,
                "text": text(TEXT), "owner": text(OWNER), "due": text(DUE)}

    def _changed(self, cell: QTableWidgetItem) -> None:
        if self._loading:
            return
        item_id = str(cell.data(_ID_ROLE))
        column = cell.column()
        if column == DONE:
            self.edited.emit(item_id, {"done": cell.checkState() == Qt.CheckState.Checked})
        elif column == TEXT:
            if cell.text().strip():
                self.edited.emit(item_id, {"text": cell.text()})
            else:
                self.invalid_input.emit("An action item needs some text.")
        elif column == OWNER:
            self.edited.emit(item_id, {"owner": cell.text()})
        elif column == DUE:
            raw = cell.text().strip()
            try:
                due = date.fromisoformat(raw) if raw else None
            except ValueError:
                self.invalid_input.emit(f"“{raw}” is not a date: type it as YYYY-MM-DD.")
                return
            self.edited.emit(item_id, {"due_date": due})

    def _add(self) -> None:
        text = self.new_item.text().strip()
        if text:
            self.new_item.clear()
            self.add_requested.emit(text)
