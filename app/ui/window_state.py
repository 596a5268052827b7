"""The window's size, position and splitter, remembered between runs (window.ini in the config
folder: a Qt file, not Recap's settings)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

DEFAULT_SIZE = (1100, 720)


class WindowState:
    def __init__(self, config_dir: Path, window: QMainWindow, splitter: QSplitter) -> None:
        self.settings = QSettings(str(config_dir / "window.ini"), QSettings.Format.IniFormat)
        self.window = window
        self.splitter = splitter

    def restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.window.restoreGeometry(geometry)
        else:
            self.window.resize(*DEFAULT_SIZE)
        splitter = self.settings.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save(self) -> None:
        self.settings.setValue("geometry", self.window.saveGeometry())
        self.settings.setValue("splitter", self.splitter.saveState())
        self.settings.sync()
