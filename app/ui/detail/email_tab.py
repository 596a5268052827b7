"""The follow-up email draft: editable, saved as you type (debounced), copy, open in the mail
app, and "Polish with Claude" (the window runs it and asks before replacing anything)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from app.actions.queries import EmailView

_SAVE_AFTER_MS = 700


def mailto_url(recipients: str, subject: str, body: str) -> QUrl:
    to = ",".join(r.strip() for r in recipients.replace(";", ",").split(",") if r.strip())
    return QUrl(f"mailto:{quote(to, safe='@,')}?subject={quote(subject)}&body={quote(body)}")


class EmailTab(QWidget):
    save_requested = Signal(str, str, str)  # subject, body, recipients
    polish_requested = Signal(str)  # the body to polish

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recipients = QLineEdit(placeholderText="Who gets it (you type this; never guessed)")
        self.subject = QLineEdit()
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText("The follow-up email appears here once the notes are "
                                     "written. You can also write your own.")
        form = QFormLayout()
        form.addRow("To", self.recipients)
        form.addRow("Subject", self.subject)
        self.copy_button = QPushButton("Copy")
        self.mail_button = QPushButton("Open in mail app")
        self.polish_button = QPushButton("Polish with Claude…")
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.mail_button)
        buttons.addStretch(1)
        buttons.addWidget(self.polish_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.body, 1)
        layout.addLayout(buttons)

        self._loading = False
        self._save_timer = QTimer(self, singleShot=True, interval=_SAVE_AFTER_MS)
        self._save_timer.timeout.connect(self.save_now)
        for edit in (self.recipients, self.subject):
            edit.textEdited.connect(self._schedule_save)
        self.body.textChanged.connect(self._schedule_save)
        self.copy_button.clicked.connect(self.copy)
        self.mail_button.clicked.connect(self.open_in_mail_app)
        self.polish_button.clicked.connect(
            lambda: self.polish_requested.emit(self.body.toPlainText()))

    def show_email(self, email: EmailView | None, default_subject: str) -> None:
        self.flush()
        self._loading = True
        self.recipients.setText(email.recipients if email else "")
        self.subject.setText(email.subject if email else f"Notes: {default_subject}")
        self.body.setPlainText(email.body if email else "")
        self._loading = False

    def set_polish_available(self, available: bool, why_not: str) -> None:
        self.polish_button.setEnabled(available)
        self.polish_button.setToolTip("Claude rewrites the draft; you see both before choosing."
                                      if available else why_not)

    def replace_body(self, text: str) -> None:
        self.body.setPlainText(text)  # textChanged schedules the save
        self.flush()

    def _schedule_save(self, *_args: object) -> None:
        if not self._loading:
            self._save_timer.start()

    def flush(self) -> None:
        """Save a pending edit now (before showing another meeting, or closing)."""
        if self._save_timer.isActive():
            self._save_timer.stop()
            self.save_now()

    def save_now(self) -> None:
        self.save_requested.emit(self.subject.text(), self.body.toPlainText(),
                                 self.recipients.text())

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(
            f"Subject: {self.subject.text()}\n\n{self.body.toPlainText()}")

    def open_in_mail_app(self) -> None:
        QDesktopServices.openUrl(mailto_url(self.recipients.text(), self.subject.text(),
                                            self.body.toPlainText()))
