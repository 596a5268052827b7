"""A global shortcut as the user writes it in settings ("Ctrl+Alt+R"), checked and turned into
what each platform's backend needs. Plain Python (no Qt): the backends run off the GUI thread.

Modifier names are the physical keys, the same on every platform: Ctrl is Control (also on a
Mac), Alt is Option on a Mac, Super is the Windows key or Command.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from app.errors import InvalidInput, RecapError

MODIFIER_ALIASES = {
    "ctrl": "ctrl",
    "control": "ctrl",
    "alt": "alt",
    "option": "alt",
    "opt": "alt",
    "shift": "shift",
    "super": "super",
    "meta": "super",
    "win": "super",
    "cmd": "super",
    "command": "super",
}
MODIFIER_ORDER = ("ctrl", "alt", "shift", "super")
# Named keys a shortcut may end with: our name -> X11 keysym name (pynput uses our name).
NAMED_KEYS = {
    "space": "space",
    "tab": "Tab",
    "home": "Home",
    "end": "End",
    "insert": "Insert",
    "delete": "Delete",
    "pageup": "Prior",
    "pagedown": "Next",
    "pause": "Pause",
    **{f"f{n}": f"F{n}" for n in range(1, 25)},
}


class ChordError(InvalidInput):
    """A shortcut that cannot be used; the message is one line for the user."""


class HotkeyUnavailable(RecapError):
    """The shortcut cannot be registered here; the message is one line for the user."""


@dataclass(frozen=True)
class Chord:
    modifiers: frozenset[str]
    key: str  # a lower-case letter or digit, or a NAMED_KEYS name

    @property
    def text(self) -> str:
        """As the user reads it, with the Mac's names on a Mac."""
        mac = sys.platform == "darwin"
        names = {
            "ctrl": "Ctrl",
            "alt": "Option" if mac else "Alt",
            "shift": "Shift",
            "super": "Cmd" if mac else "Super",
        }
        mods = [names[m] for m in MODIFIER_ORDER if m in self.modifiers]
        key = {"pageup": "PageUp", "pagedown": "PageDown"}.get(self.key, self.key.title())
        return "+".join([*mods, key])

    @property
    def x11_keysym_name(self) -> str:
        return NAMED_KEYS.get(self.key, self.key)

    @property
    def pynput_hotkey(self) -> str:
        names = {"ctrl": "<ctrl>", "alt": "<alt>", "shift": "<shift>", "super": "<cmd>"}
        key = self.key if len(self.key) == 1 else f"<{self.key.replace('page', 'page_')}>"
        return "+".join([*(names[m] for m in MODIFIER_ORDER if m in self.modifiers), key])


def parse_chord(text: str) -> Chord:
    """Read a shortcut written like Ctrl+Alt+R; ChordError says in words what is wrong."""
    parts = [p.strip().lower() for p in text.split("+")]
    if not text.strip() or any(not p for p in parts):
        raise ChordError(f'"{text}" is not a shortcut: write it like Ctrl+Alt+R.')
    *mods, key = parts
    modifiers = set()
    for mod in mods:
        if mod not in MODIFIER_ALIASES:
            raise ChordError(
                f'"{mod}" in "{text}" is not a modifier: use Ctrl, Alt, Shift or Super.'
            )
        modifiers.add(MODIFIER_ALIASES[mod])
    if key in MODIFIER_ALIASES:
        raise ChordError(f'"{text}" has no key after its modifiers: add one, like R.')
    if not (len(key) == 1 and key.isascii() and key.isalnum()) and key not in NAMED_KEYS:
        raise ChordError(
            f'"{key}" in "{text}" is not a key Recap can use: use a letter, a digit or F1-F24.'
        )
    # A global grab takes its keys from every other program: a letter alone (or with Shift)
    # would stop the user typing it anywhere.
    function_key = key in NAMED_KEYS and key.startswith("f")
    if not modifiers - {"shift"} and not function_key:
        raise ChordError(
            f'"{text}" would take that key from every other program: add Ctrl, Alt or Super.'
        )
    return Chord(frozenset(modifiers), key)
