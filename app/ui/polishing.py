""""Polish with Claude" in the window: save what the user sees, ask Claude off the GUI thread,
show both versions side by side, and replace the draft only if the user says so (the use cases
in app/actions/mail.py do the work)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

from app.actions.changes import Changes
from app.errors import one_line
from app.ui.ops import Ops
from app.ui.polish_dialog import PolishDialog

if TYPE_CHECKING:
    from app.llm.polish import PolishProposal
    from app.ui.detail.email_tab import EmailTab


class EmailPolish(QObject):
    message = Signal(str)  # one line for the status bar

    def __init__(self, email: EmailTab, ops: Ops, parent: QWidget) -> None:
        super().__init__(parent)
        self.email = email
        self.ops = ops
        self.parent_widget = parent
        self.dialog: PolishDialog | None = None  # the open comparison, while there is one
        ops.changed.connect(lambda changes, _who: self.refresh() if changes.settings else None)

    def refresh(self) -> None:
        """Enable the button, or say why it is off (reads the keychain: off the GUI)."""
        self.ops.read(lambda uc: uc.mail.polish_unavailable(),
                      lambda why: self.email.set_polish_available(not why, why))

    def polish(self, meeting_id: str) -> None:
        edited = (self.email.subject.text(), self.email.body.toPlainText(),
                  self.email.recipients.text())
        self.email.polish_button.setEnabled(False)
        self.message.emit("Asking Claude to polish the email…")
        self.ops.read(lambda uc: uc.mail.propose_polish(meeting_id, edited=edited),
                      lambda proposal: self._ask(meeting_id, proposal), self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.email.polish_button.setEnabled(True)
        self.message.emit(one_line(exc))

    def _ask(self, meeting_id: str, proposal: PolishProposal) -> None:
        self.email.polish_button.setEnabled(True)
        if not proposal.changed:
            self.message.emit("Claude had nothing to change.")
            return
        note = ""
        if proposal.new_subject != proposal.old_subject:
            note = f"Subject: “{proposal.old_subject}” → “{proposal.new_subject}”"
        dialog = PolishDialog(proposal.old_body, proposal.new_body, note, self.parent_widget)
        self.dialog = dialog

        def decided(result: int) -> None:
            if result != QDialog.DialogCode.Accepted:
                self.message.emit("Kept your draft.")
                return
            self.ops.change(lambda uc: uc.mail.accept_polish(proposal, meeting_id),
                            self._applied, lambda exc: self.message.emit(one_line(exc)))

        dialog.finished.connect(decided)
        dialog.open()

    def _applied(self, _changes: Changes) -> None:
        self.message.emit("Polished email saved.")  # the email tab shows it (changes say so)

