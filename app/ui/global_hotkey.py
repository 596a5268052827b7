"""The global shortcut (Ctrl+Alt+R by default) that starts and stops recording from any
program, where the desktop lets an ordinary program have one:

- X11: yes (hotkey_x11: a key grab, no privileges).
- Windows: yes (hotkey_pynput: a keyboard hook, no privileges).
- macOS: only after the user allows Recap under Accessibility (hotkey_pynput checks and says).
- Wayland: no. Wayland gives key presses only to the focused window by design; a global
  shortcut is the desktop's own setting there, so we say that instead of half-working through
  XWayland (which would catch the chord only while an X11 program is in front).

Where it is not available, ``status`` holds one line for the user (shown by the tray and the
settings) and everything else works as before; Ctrl+R in the window always does.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Protocol

from PySide6.QtCore import QObject, Signal

from app.ui.hotkey_chord import Chord, ChordError, HotkeyUnavailable, parse_chord
from app.ui.hotkey_pynput import PynputHotkey
from app.ui.hotkey_x11 import X11Hotkey
from app.ui.relay import Relay

log = logging.getLogger(__name__)

WAYLAND = (
    "No global shortcut on Wayland: add one in your desktop's keyboard settings "
    "(see the README), or use Ctrl+R in the window."
)
NO_DISPLAY = "No global shortcut: there is no desktop display."
OFF = "The global shortcut is off (Settings › Recording)."


class Backend(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


def session_problem(
    env: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Why this desktop session cannot have a global shortcut, or None if it can try."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform in ("win32", "darwin"):
        return None
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return WAYLAND
    if not env.get("DISPLAY"):
        return NO_DISPLAY
    return None


class GlobalHotkey(QObject):
    """Owns the platform backend; ``activated`` is emitted on the GUI thread."""

    activated = Signal()
    status_changed = Signal(str, str)  # the shortcut's text ("" when none), status line

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.chord: Chord | None = None
        self.status = OFF
        self._backend: Backend | None = None
        self._shortcut = ""  # as last asked for, before parsing
        # The backend calls from its own thread; recording starts on ours.
        self._relay = Relay(self)

    @property
    def available(self) -> bool:
        return self._backend is not None

    @property
    def text(self) -> str:
        return self.chord.text if self.chord is not None and self.available else ""

    def bind(self, shortcut: str) -> bool:
        """(Re)register ``shortcut`` ("" turns it off); False, with ``status`` saying why,
        when it cannot be had here."""
        if self.available and self._shortcut == shortcut:
            return True  # unchanged and working: saving other settings does not re-grab it
        self.stop()
        self._shortcut = shortcut
        if not shortcut.strip():
            return self._report(OFF)
        try:
            chord = parse_chord(shortcut)
        except ChordError as exc:
            return self._report(f"Global shortcut not set: {exc}")
        problem = session_problem()
        if problem is not None:
            return self._report(problem)
        backend = _backend_for(chord, self._relay.wrap(self._on_pressed))
        try:
            backend.start()
        except HotkeyUnavailable as exc:
            return self._report(f"Global shortcut {chord.text} not available: {exc}")
        self.chord, self._backend = chord, backend
        log.info("global shortcut %s registered", chord.text)
        return self._report(f"{chord.text} starts or stops recording from any program.")

    def stop(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.stop()

    def _report(self, status: str) -> bool:
        self.status = status
        if not self.available:
            log.info("global shortcut: %s", status)
        self.status_changed.emit(self.text, status)
        return self.available

    def _on_pressed(self) -> None:
        if self.available:  # a press queued just before stop() is dropped
            self.activated.emit()


def _backend_for(chord: Chord, on_press: Callable[[], None]) -> Backend:
    if sys.platform in ("win32", "darwin"):
        return PynputHotkey(chord, on_press)
    return X11Hotkey(chord, on_press)
