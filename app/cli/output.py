"""Text on its way to a terminal: nothing in it may drive the terminal.

Titles, transcripts and notes can come from another device (sync) or from a model, so they may
hold escape sequences that recolour, retitle, hide or rewrite what the user sees (ESC [ ...,
OSC 8 links, a carriage return that overwrites a line). Control characters are dropped on the
way out, newlines and tabs kept; in JSON they are escaped instead, so the data stays exact.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 controls (U+0080-U+009F: 8-bit CSI...).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with every control character removed but tab and newline."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def json_printable(text: str) -> str:
    """JSON text with control characters escaped (``\\u001b``): still valid, same data.

    ``json.dumps`` already escapes C0 inside strings; this catches DEL and C1, which it keeps
    as they are when ``ensure_ascii`` is off (they can only occur inside strings).
    """
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
