"""The window's actions, with their shortcuts, menus and toolbar. Every action is added to the
window itself too, so its shortcut works with the menu bar hidden."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

SYNC_NOW_TIP = "Sync with your Supabase project now (F5)"
SYNC_OFF_TIP = "Sync is off or needs a sign-in: see Settings → Sync."


def _action(
    window: MainWindow,
    text: str,
    slot: Callable[[], object],
    shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    tip: str = "",
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setToolTip(tip or text)
    action.triggered.connect(slot)
    window.addAction(action)
    return action


def install_actions(window: MainWindow) -> None:
    """Create the window's actions (as attributes: ``window.import_action``, ...), its menus
    and its toolbar."""
    w, commands = window, window.commands
    w.import_action = _action(
        w, "&Import recordings…", w.import_dialog, QKeySequence.StandardKey.Open
    )
    w.record_action = _action(w, "&Record", w.toggle_recording, "Ctrl+R")
    w.sync_action = _action(w, "S&ync now", w.sync.sync_now, "F5", SYNC_OFF_TIP)
    w.sync_action.setEnabled(False)  # until a sync worker runs
    w.settings_action = _action(w, "&Settings…", w.open_settings, "Ctrl+,")
    w.quit_action = _action(w, "&Quit", w.close, QKeySequence.StandardKey.Quit)
    w.find_action = _action(w, "&Find", commands.focus_search, QKeySequence.StandardKey.Find)
    w.rename_action = _action(w, "Re&name…", commands.rename_selected, "F2")
    w.delete_action = _action(
        w, "&Delete", commands.delete_selected, QKeySequence.StandardKey.Delete
    )
    w.undo_action = _action(w, "&Undo delete", commands.undo_delete, QKeySequence.StandardKey.Undo)
    w.retry_action = _action(w, "&Process again", commands.retry_selected)
    w.export_action = _action(w, "&Export…", commands.export_selected, "Ctrl+E")
    w.undo_action.setEnabled(False)
    # Delete and F2 belong to the list; in a text field they edit text.
    for action in (w.delete_action, w.rename_action):
        w.removeAction(action)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        w.meetings.table.addAction(action)
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    for action in (w.import_action, w.record_action, w.export_action):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(w.sync_action)
    file_menu.addAction(w.settings_action)
    file_menu.addSeparator()
    file_menu.addAction(w.quit_action)
    edit_menu = bar.addMenu("&Edit")
    for action in (w.find_action, w.rename_action, w.delete_action, w.undo_action, w.retry_action):
        edit_menu.addAction(action)
    toolbar = w.addToolBar("Main")
    toolbar.setObjectName("main-toolbar")
    toolbar.setMovable(False)
    toolbar.addAction(w.import_action)
    toolbar.addAction(w.record_action)
    toolbar.addAction(w.settings_action)


def show_sync_available(window: MainWindow, available: bool) -> None:
    window.sync_action.setEnabled(available)
    window.sync_action.setToolTip(SYNC_NOW_TIP if available else SYNC_OFF_TIP)
