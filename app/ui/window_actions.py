"""The window's actions, with their shortcuts, menus and toolbar. Every action is added to the
window itself too, so its shortcut works with the menu bar hidden."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

SYNC_NOW_TIP = "Sync with your Supabase project now (F5)"
SYNC_OFF_TIP = "Sync is off or needs a sign-in: see Settings → Sync."

Slot = Callable[[], object]


@dataclass(frozen=True)
class Slots:
    """What each action does (the window's and its helpers' methods)."""

    import_files: Slot
    record: Slot
    sync_now: Slot
    settings: Slot
    quit: Slot
    find: Slot
    rename: Slot
    delete: Slot
    undo: Slot
    process_again: Slot
    export: Slot


@dataclass(frozen=True)
class WindowActions:
    import_files: QAction
    record: QAction
    sync_now: QAction
    settings: QAction
    quit: QAction
    find: QAction
    rename: QAction
    delete: QAction
    undo: QAction
    process_again: QAction
    export: QAction

    def show_sync_available(self, available: bool) -> None:
        self.sync_now.setEnabled(available)
        self.sync_now.setToolTip(SYNC_NOW_TIP if available else SYNC_OFF_TIP)


def _action(
    window: QMainWindow,
    text: str,
    slot: Slot,
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


def install_actions(window: QMainWindow, meeting_table: QWidget, slots: Slots) -> WindowActions:
    """Create the window's actions, its menus and its toolbar. Delete and F2 belong to
    ``meeting_table``: in a text field they edit text."""
    w = window
    a = WindowActions(
        import_files=_action(w, "&Import recordings…", slots.import_files,
                             QKeySequence.StandardKey.Open),
        record=_action(w, "&Record", slots.record, "Ctrl+R"),
        sync_now=_action(w, "S&ync now", slots.sync_now, "F5", SYNC_OFF_TIP),
        settings=_action(w, "&Settings…", slots.settings, "Ctrl+,"),
        quit=_action(w, "&Quit", slots.quit, QKeySequence.StandardKey.Quit),
        find=_action(w, "&Find", slots.find, QKeySequence.StandardKey.Find),
        rename=_action(w, "Re&name…", slots.rename, "F2"),
        delete=_action(w, "&Delete", slots.delete, QKeySequence.StandardKey.Delete),
        undo=_action(w, "&Undo delete", slots.undo, QKeySequence.StandardKey.Undo),
        process_again=_action(w, "&Process again", slots.process_again),
        export=_action(w, "&Export…", slots.export, "Ctrl+E"),
    )
    a.sync_now.setEnabled(False)  # until a sync worker runs
    a.undo.setEnabled(False)
    for action in (a.delete, a.rename):
        w.removeAction(action)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        meeting_table.addAction(action)
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    for action in (a.import_files, a.record, a.export):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(a.sync_now)
    file_menu.addAction(a.settings)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    edit_menu = bar.addMenu("&Edit")
    for action in (a.find, a.rename, a.delete, a.undo, a.process_again):
        edit_menu.addAction(action)
    toolbar = w.addToolBar("Main")
    toolbar.setObjectName("main-toolbar")
    toolbar.setMovable(False)
    toolbar.addAction(a.import_files)
    toolbar.addAction(a.record)
    toolbar.addAction(a.settings)
    return a
