"""Shows Claude's polished email beside the user's, changes highlighted, and asks before
replacing anything."""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QTextBrowser,
    QWidget,
)


def _side_html(words: list[str], spans: Sequence[tuple[str, int, int]], colour: str) -> str:
    out = []
    for tag, start, end in spans:
        text = html.escape("".join(words[start:end]))
        if tag == "equal" or not text.strip():
            out.append(text)
        else:
            out.append(f"<span style='background:{colour}'>{text}</span>")
    return "<p style='white-space:pre-wrap'>" + "".join(out) + "</p>"


def diff_html(before: str, after: str) -> tuple[str, str]:
    """Both sides as HTML, with removed words marked on the left and added ones on the right."""
    # Words and the whitespace between them, so line breaks survive the comparison.
    a, b = re.findall(r"\s+|\S+", before), re.findall(r"\s+|\S+", after)
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    left = [(tag, i1, i2) for tag, i1, i2, _j1, _j2 in ops]
    right = [(tag, j1, j2) for tag, _i1, _i2, j1, j2 in ops]
    return _side_html(a, left, "#f4b4b4"), _side_html(b, right, "#b4e4b4")


class PolishDialog(QDialog):
    def __init__(self, before: str, after: str, note: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Polish with Claude")
        self.resize(900, 520)
        left_html, right_html = diff_html(before, after)
        self.before_view = QTextBrowser()
        self.before_view.setHtml(left_html)
        self.after_view = QTextBrowser()
        self.after_view.setHtml(right_html)
        buttons = QDialogButtonBox()
        self.replace_button = buttons.addButton("Use polished version",
                                                QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Keep mine", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Your draft"), 0, 0)
        grid.addWidget(QLabel("Polished"), 0, 1)
        grid.addWidget(self.before_view, 1, 0)
        grid.addWidget(self.after_view, 1, 1)
        if note:
            grid.addWidget(QLabel(note), 2, 0, 1, 2)
        grid.addWidget(buttons, 3, 0, 1, 2)
        self.polished = after
