"""First run: what to do (drop a recording, import, or record) and what is missing (no local
model: how to get it), without blocking anything else."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyState(QWidget):
    import_clicked = Signal()
    record_clicked = Signal()

    def __init__(self, icon: QIcon, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        picture = QLabel()
        picture.setPixmap(icon.pixmap(96, 96))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("<h2>Drop a meeting recording here</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel("Recap turns it into a transcript, action items, a summary and a "
                      "follow-up email — on this computer. Audio or video files both work "
                      "(mp3, m4a, wav, mp4, mkv…).")
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.import_button = QPushButton("Import a recording…")
        self.record_button = QPushButton("Record a meeting")
        self.import_button.clicked.connect(self.import_clicked)
        self.record_button.clicked.connect(self.record_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.record_button)
        buttons.addStretch(1)
        self.missing = QLabel()
        self.missing.setWordWrap(True)
        self.missing.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.missing.setOpenExternalLinks(True)
        self.missing.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(picture)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addLayout(buttons)
        layout.addSpacing(16)
        layout.addWidget(self.missing)
        layout.addStretch(2)
        layout.setContentsMargins(48, 24, 48, 24)

    def set_local_model(self, available: bool, reason: str) -> None:
        """Say what is missing for the notes; transcripts work either way."""
        if available:
            self.missing.setVisible(False)
            return
        self.missing.setText(
            "<b>No local AI model yet.</b> Transcripts work now; action items, summaries and "
            "emails need <a href='https://ollama.com/download'>Ollama</a> with a model "
            f"(then “Get model” in the status bar).<br><small>{reason}</small>")
        self.missing.setVisible(True)
