""""Polish with Claude": save what the user sees, ask Claude off the GUI thread, show both
versions side by side, and replace the draft only if the user says so."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog

from app.errors import one_line
from app.ui.polish_dialog import PolishDialog

if TYPE_CHECKING:
    from app.container import Container
    from app.ui.main_window import MainWindow


def polish_unavailable_reason(container: Container) -> str:
    """Why polishing cannot run now ("" when it can). Reads the keychain: call off the GUI."""
    settings = container.settings
    if settings.privacy_mode:
        return "Privacy mode is on: nothing is sent to Claude."
    if not settings.llm.cloud_allowed:
        return "Allow Claude in Settings › Cloud to polish emails."
    from app.secrets import anthropic_api_key

    if not anthropic_api_key():
        return "Add a Claude API key in Settings › Cloud."
    return ""


def refresh_polish_button(window: MainWindow) -> None:
    container = window.container
    window.tasks.submit(lambda: polish_unavailable_reason(container),
                        lambda why: window.detail.email.set_polish_available(not why, why))


def run_polish(window: MainWindow, meeting_id: str) -> None:
    container = window.container
    email = window.detail.email
    subject, body, recipients = (email.subject.text(), email.body.toPlainText(),
                                 email.recipients.text())
    email.polish_button.setEnabled(False)
    window.show_message("Asking Claude to polish the email…")

    def work() -> Any:
        # Imported here: the AI layer pulls in the Anthropic SDK, slow to load.
        from app.llm.polish import propose
        from app.store.edits import save_email_draft

        save_email_draft(container.db, meeting_id, subject=subject, body=body,
                         recipients=recipients)
        services = container.llm
        return propose(services.call_context(meeting_id, None), container.db, meeting_id)

    def failed(exc: BaseException) -> None:
        email.polish_button.setEnabled(True)
        window.show_message(one_line(exc))

    window.tasks.submit(work, lambda proposal: _ask(window, meeting_id, proposal), failed)


def _ask(window: MainWindow, meeting_id: str, proposal: Any) -> None:
    from app.llm.polish import accept

    window.detail.email.polish_button.setEnabled(True)
    if not proposal.changed:
        window.show_message("Claude had nothing to change.")
        return
    note = ""
    if proposal.new_subject != proposal.old_subject:
        note = f"Subject: “{proposal.old_subject}” → “{proposal.new_subject}”"
    dialog = PolishDialog(proposal.old_body, proposal.new_body, note, window)
    window.polish_dialog = dialog

    def decided(result: int) -> None:
        if result != QDialog.DialogCode.Accepted:
            window.show_message("Kept your draft.")
            return
        c = window.container

        def applied(_r: object) -> None:
            window.show_message("Polished email saved.")
            if window.detail.meeting_id == meeting_id:
                window.detail.email.show_email(None, "")  # cleared, then reloaded below
                window.detail.reload()

        window.tasks.submit(lambda: accept(c.db, proposal), applied,
                            lambda exc: window.show_message(one_line(exc)))

    dialog.finished.connect(decided)
    dialog.open()
