"""The tray (menu-bar) icon: open the window, quick record, recent meetings, quit, and
notifications. Optional by design: where no tray exists (GNOME without AppIndicator, offscreen)
the window does everything and notifications go to its status bar instead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

if TYPE_CHECKING:
    from app.actions.queries import MeetingRow

RECENT = 8


class Tray(QObject):
    open_requested = Signal()
    meeting_requested = Signal(str)
    record_toggled = Signal()
    quit_requested = Signal()

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon: QSystemTrayIcon | None = None
        self.menu = QMenu()
        self.open_action = QAction("Open Recap", self.menu)
        self.open_action.triggered.connect(self.open_requested)
        self.record_action = QAction("Start quick recording", self.menu)
        self.record_action.triggered.connect(self.record_toggled)
        self.recent_menu = QMenu("Recent meetings", self.menu)
        self._recent: list[tuple[str, str]] | None = None  # (id, title) the menu shows
        self.quit_action = QAction("Quit", self.menu)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.record_action)
        self.menu.addMenu(self.recent_menu)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.set_recent([])
        self.hotkey_text = ""  # the global shortcut, shown beside the quick-record item
        self.hotkey_status = ""
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(icon, self)
            self.icon.setToolTip("Recap")
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._activated)
            self.icon.show()

    @property
    def available(self) -> bool:
        return self.icon is not None

    def set_record_state(self, enabled: bool, recording: bool, why_not: str = "") -> None:
        self.record_action.setEnabled(enabled)
        label = "Stop recording" if recording else "Start quick recording"
        # Text after a tab is drawn in the menu's shortcut column.
        self.record_action.setText(f"{label}\t{self.hotkey_text}" if self.hotkey_text
                                   else label)
        self.record_action.setToolTip(why_not or self.hotkey_status)
        self.menu.setToolTipsVisible(True)

    def set_global_hotkey(self, shortcut: str, status: str) -> None:
        """Show the global shortcut, or the one line saying why there is none."""
        self.hotkey_text, self.hotkey_status = shortcut, status
        recording = self.record_action.text().startswith("Stop")
        self.set_record_state(self.record_action.isEnabled(), recording,
                              "" if self.record_action.isEnabled() else
                              self.record_action.toolTip())
        if self.icon is not None:
            self.icon.setToolTip(f"Recap\n{status}")

    def set_recent(self, rows: list[MeetingRow]) -> None:
        recent = [(r.id, r.title) for r in rows[:RECENT]]
        if recent == self._recent:
            return  # the list reloads on every state change; the menu rarely changes
        self._recent = recent
        self.recent_menu.clear()
        for row in rows[:RECENT]:
            action = self.recent_menu.addAction(row.title)
            action.triggered.connect(lambda _c=False, m=row.id: self.meeting_requested.emit(m))
        self.recent_menu.setEnabled(bool(rows))

    def notify(self, title: str, text: str) -> bool:
        """Show a desktop notification; False when there is no tray to show it."""
        if self.icon is None or not QSystemTrayIcon.supportsMessages():
            return False
        self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)
        return True

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()
