"""Settings → Transcription → Model: pick an installed Whisper model, download one from the
catalog (with progress), or import a ggml file you have. Downloading and copying run off the GUI
thread; a download still running when the dialog is cancelled stops (and resumes next time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import one_line
from app.transcribe.catalog import EMBEDDED, canonical_name
from app.ui.relay import Relay
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.transcribe.model_store import CatalogItem, InstalledModel, ModelStore

DOWNLOAD_SUFFIX = ", download"


def import_name(path: Path) -> str:
    """The name an imported file gets: its own, unless that names a built-in model (whose
    file the app makes itself), so importing ggml-tiny.en-q8_0.bin keeps both."""
    name = canonical_name(path.name)
    return f"{name}-imported" if name in EMBEDDED else name


class ModelPicker(QWidget):
    message = Signal(str)  # one line for the dialog

    def __init__(self, store: Callable[[], ModelStore], tasks: TaskRunner, current: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store  # built on first use, on a worker
        self.tasks = tasks
        self.wanted = current  # the model to select when the list (re)loads
        self.box = QComboBox()
        self.download_button = QPushButton("Download")
        self.import_button = QPushButton("Import a file…")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.downloading = ""  # the model being downloaded, "" when none
        self._cancel = threading.Event()
        row = QHBoxLayout()
        row.addWidget(self.box, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        self._relay = Relay(self)
        self.download_button.clicked.connect(self.download)
        self.import_button.clicked.connect(self.import_dialog)
        self.box.currentIndexChanged.connect(self._chosen)
        self.load()

    def chosen(self) -> str:
        """The model to use: the selected one, unless it still has to be downloaded."""
        if self.box.currentIndex() < 0 or self.needs_download():
            return self.wanted
        return str(self.box.currentData())

    # -- the list ------------------------------------------------------------------------
    def load(self) -> None:
        store, wanted = self.store, self.wanted
        self.tasks.submit(
            lambda: (store().list_installed(wanted), store().catalog()),
            self._show,
            lambda exc: self.message.emit(one_line(exc)),
        )

    def _show(self, result: tuple[list[InstalledModel], list[CatalogItem]]) -> None:
        installed, catalog = result
        self.box.blockSignals(True)
        self.box.clear()
        names = set()
        for model in installed:
            self.box.addItem(f"{model.name} ({model.kind})", model.name)
            names.add(model.name)
        for item in catalog:
            if item.name not in names:
                self.box.addItem(f"{item.name} — {item.size_mb} MB{DOWNLOAD_SUFFIX}", item.name)
        index = self.box.findData(self.wanted)
        if index < 0:
            self.box.addItem(self.wanted, self.wanted)
            index = self.box.count() - 1
        self.box.setCurrentIndex(index)
        self.box.blockSignals(False)
        self._chosen()

    def needs_download(self) -> bool:
        return self.box.currentText().endswith(DOWNLOAD_SUFFIX)

    def _chosen(self, *_args: object) -> None:
        self.download_button.setEnabled(self.needs_download() and not self.downloading)

    # -- getting models ------------------------------------------------------------------
    def download(self) -> None:
        if self.downloading or not self.needs_download():
            return
        name = str(self.box.currentData())
        store, cancel = self.store, self._cancel
        show = self._relay.wrap(self._show_progress)
        cancel.clear()
        self.downloading = name
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.download_button.setEnabled(False)
        self.message.emit(f"Downloading {name}…")
        self.tasks.submit(
            lambda: store().download(name, lambda done, total: show(done, total or 0),
                                     cancel.is_set),
            lambda _path: self._ready(name, f"{name} is installed."),
            lambda exc: self._ready("", one_line(exc)),
        )

    def import_dialog(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            "Import a whisper.cpp model",
            str(Path.home()),
            "whisper.cpp models (*.bin);;All files (*)",
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        store = self.store
        self.import_button.setEnabled(False)
        self.message.emit(f"Importing {path.name}…")
        self.tasks.submit(
            lambda: store().import_file(path, import_name(path)),
            lambda model: self._ready(model.name, f"Imported {model.name}."),
            lambda exc: self._ready("", one_line(exc)),
        )

    def _show_progress(self, done: Any, total: Any) -> None:
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(done * 1000 / total))
            self.progress.setFormat(f"{done / 1e6:.0f} of {total / 1e6:.0f} MB")
        else:
            self.progress.setRange(0, 0)

    def _ready(self, name: str, text: str) -> None:
        """A download or import ended: ``name`` is the new model (selected), "" if none."""
        self.downloading = ""
        self.progress.setVisible(False)
        self.import_button.setEnabled(True)
        self.wanted = name or self.chosen()
        self.message.emit(text)
        self.load()

    def cancel(self) -> None:
        self._cancel.set()
