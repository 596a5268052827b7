"""Settings → Sync: the Supabase project, the account, and signing in and out.

Signing in and out act at once, through the same use cases as `recap sync --sign-in/--sign-out`
(app/actions/sync.py): the password is sent to the project and forgotten (never stored, not
even in the widget), only the refresh token is kept, in the OS keychain, and the sync settings
are saved so the window can start syncing. Every call that may touch the network or the
keychain runs off the GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import one_line
from app.sync.errors import NotSignedIn, ServerUnreachable
from app.ui.ops import Ops
from app.ui.plain_text import plain_label

if TYPE_CHECKING:
    from app.settings import SyncSettings

NOTE = (
    "Meetings marked “keep on this device only” are never synced, and audio never leaves "
    "this device. Only a sign-in token is kept, in your system keychain."
)


def sign_in_error(exc: BaseException) -> str:
    """One line for a sign-in that did not work."""
    if isinstance(exc, NotSignedIn):
        return "Sign-in failed: the email or password was not accepted."
    if isinstance(exc, ServerUnreachable):
        return f"Could not reach the sync server ({exc}). Check the project URL and network."
    return one_line(exc)


class SyncPage(QWidget):
    account_changed = Signal()  # signed in or out: the window restarts sync
    message = Signal(str)  # one line for the dialog

    def __init__(self, ops: Ops, draft: SyncSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.enabled = QCheckBox("Sync meetings with my Supabase project")
        self.enabled.setChecked(draft.enabled)
        self.url = QLineEdit(draft.supabase_url)
        self.url.setPlaceholderText("https://<project>.supabase.co")
        self.anon_key = QLineEdit(draft.supabase_anon_key)
        self.anon_key.setPlaceholderText("The project's anon public key")
        self.email = QLineEdit(draft.email)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Only to sign in; never stored")
        self.sign_in_button = QPushButton("Sign in")
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setEnabled(False)
        self.account = plain_label("Checking sign-in…")
        buttons = QHBoxLayout()
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.sign_out_button)
        buttons.addWidget(self.account, 1)
        form = QFormLayout()
        form.addRow(self.enabled)
        form.addRow("Project URL", self.url)
        form.addRow("Anon key", self.anon_key)
        form.addRow("Email", self.email)
        form.addRow("Password", self.password)
        form.addRow("", buttons)
        note = QLabel(NOTE)
        note.setWordWrap(True)
        note.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addStretch(1)
        self.signed_in_as = ""  # the account whose token is in the keychain ("" for none)
        self._blocked = False  # privacy mode, as the dialog shows it
        self.sign_in_button.clicked.connect(self.sign_in)
        self.sign_out_button.clicked.connect(self.sign_out)
        self.password.returnPressed.connect(self.sign_in)
        self._check_account()

    def collect(self, sync: SyncSettings) -> None:
        sync.enabled = self.enabled.isChecked()
        sync.supabase_url = self.url.text().strip()
        sync.supabase_anon_key = self.anon_key.text().strip()
        sync.email = self.email.text().strip()

    def set_privacy(self, on: bool) -> None:
        self._blocked = on
        self.enabled.setEnabled(not on)
        self.enabled.setToolTip("Off while privacy mode is on." if on else "")
        self.sign_in_button.setEnabled(not on)
        self.sign_in_button.setToolTip("Turn privacy mode off to sign in." if on else "")

    # -- the account ---------------------------------------------------------------------
    def _check_account(self) -> None:
        self.ops.read(lambda uc: uc.sync.signed_in_as(), self._show_account,
                      lambda _exc: self._show_account(""))

    def _show_account(self, email: str) -> None:
        self.signed_in_as = email
        self.account.setText(f"Signed in as {email}" if email else "Not signed in")
        self.sign_out_button.setEnabled(bool(email))

    def sign_in(self) -> None:
        url, key = self.url.text().strip(), self.anon_key.text().strip()
        email, password = self.email.text().strip(), self.password.text()
        self.password.clear()  # the password does not linger in the widget
        missing = [
            name
            for name, value in (
                ("project URL", url),
                ("anon key", key),
                ("email", email),
                ("password", password),
            )
            if not value
        ]
        if self._blocked:
            self.message.emit("Privacy mode is on: turn it off to sign in to sync.")
            return
        if missing:
            self.message.emit(f"To sign in, enter the {' and '.join(missing)}.")
            return
        self.sign_in_button.setEnabled(False)
        self.account.setText("Signing in…")

        def done(_changes: object) -> None:
            self.enabled.setChecked(True)
            self.sign_in_button.setEnabled(not self._blocked)
            self._show_account(email)
            self.message.emit(f"Signed in as {email}. Sync starts now.")
            self.account_changed.emit()

        def failed(exc: BaseException) -> None:
            self.sign_in_button.setEnabled(not self._blocked)
            self._show_account(self.signed_in_as)
            self.message.emit(sign_in_error(exc))

        self.ops.change(lambda uc: uc.sync.sign_in(email, password, url=url, anon_key=key),
                        done, failed, initiator=self)

    def sign_out(self) -> None:
        self.sign_out_button.setEnabled(False)

        def done(_changes: object) -> None:
            self.enabled.setChecked(False)
            self._show_account("")
            self.message.emit("Signed out. Notes stay on this device; nothing more is sent.")
            self.account_changed.emit()

        def failed(exc: BaseException) -> None:
            self.sign_out_button.setEnabled(True)
            self.message.emit(one_line(exc))

        self.ops.change(lambda uc: uc.sync.sign_out(), done, failed, initiator=self)
