"""Text that came from data, shown as text: never as markup.

A QLabel (and every tooltip) guesses whether its text is rich text (`Qt.mightBeRichText`): a
synced title like ``<img src=...><a href=...>`` would be rendered, fetch nothing here but draw
an image or a link the user never wrote. Labels that show titles, errors, names or model output
are made with `plain_label`; tooltips with such text go through `tooltip`.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def tooltip(text: str) -> str:
    """A tooltip that shows `text` literally, line breaks kept (tooltips have no text format
    setting, so the text is escaped and marked as rich text explicitly)."""
    if not text:
        return ""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
