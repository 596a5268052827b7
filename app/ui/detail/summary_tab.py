"""The summary and the decisions, read-only (they are regenerated, not edited)."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget


class SummaryTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QTextBrowser()
        self.view.setOpenExternalLinks(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)

    def show_notes(self, summary: str, decisions: list[str], notes_model: str,
                   waiting_reason: str = "") -> None:
        parts = ["<h3>Summary</h3>"]
        if summary:
            parts += [f"<p>{html.escape(p)}</p>" for p in summary.split("\n") if p.strip()]
        else:
            parts.append("<p><i>No summary yet.</i></p>")
            if waiting_reason:
                parts.append(f"<p>{html.escape(waiting_reason)}</p>")
        parts.append("<h3>Decisions</h3>")
        if decisions:
            parts.append("<ul>" + "".join(f"<li>{html.escape(d)}</li>" for d in decisions)
                         + "</ul>")
        else:
            parts.append("<p><i>No decisions recorded.</i></p>")
        if notes_model:
            parts.append(f"<p style='color:gray'>Written by {html.escape(notes_model)}.</p>")
        self.view.setHtml("".join(parts))

    def plain_text(self) -> str:
        return self.view.toPlainText()
