"""Start the desktop app: one QApplication, one Container, one MainWindow.

Everything is built here and handed down (no globals). `recap gui` imports this module only
when it runs, so ``recap --help`` never loads Qt.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.container import Container
from app.ui.icons import app_icon
from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

# Milliseconds after start-up at which the app closes its window and quits (0 = as soon as the
# event loop runs). For checking a built installer starts; unset in normal use.
QUIT_AFTER_ENV = "RECAP_QUIT_AFTER_MS"


def run(argv: Sequence[str] | None = None, *, files: Sequence[str] = ()) -> int:
    started = time.perf_counter()
    app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName("Recap")
    app.setApplicationDisplayName("Recap")
    app.setOrganizationName("Recap")
    app.setDesktopFileName("recap")
    app.setWindowIcon(app_icon())
    # Closing the window quits even when a tray icon is still there.
    app.setQuitOnLastWindowClosed(True)
    container = Container()
    window = MainWindow(container)
    window.show()
    # After the first paint: connecting to the display and grabbing takes ~0.1 s.
    QTimer.singleShot(300, window.recording.apply_global_hotkey)
    QTimer.singleShot(0, lambda: log.info("window shown after %.0f ms",
                                          (time.perf_counter() - started) * 1000))
    if files:
        window.import_paths([Path(f) for f in files])
    quit_after = os.environ.get(QUIT_AFTER_ENV, "")
    if quit_after.isdigit():  # smoke tests of installed builds: start, settle, quit cleanly
        window.quit_without_asking = True
        QTimer.singleShot(int(quit_after), window.close)
    try:
        return int(app.exec())
    finally:
        container.close()
