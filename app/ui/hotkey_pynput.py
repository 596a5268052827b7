"""Global shortcut on Windows and macOS through pynput's GlobalHotKeys.

Windows: a low-level keyboard hook, which any desktop program may install (no privileges).
macOS: an event tap, which macOS allows only once the user has granted Recap Accessibility
(and Input Monitoring) in System Settings; without it the tap sees nothing, so we check first
and say where to grant it. pynput watches keys without taking them: the chord also reaches the
program in front, as with any listener-based shortcut on these systems.

Not used on Linux: there pynput depends on evdev, which has no wheels (pip would need a C
compiler), and its X11 listener sees every keystroke; hotkey_x11 grabs only the chord.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from app.ui.hotkey_chord import Chord, HotkeyUnavailable

log = logging.getLogger(__name__)

MAC_PERMISSION = (
    "Allow Recap in System Settings › Privacy & Security › Accessibility "
    "(and Input Monitoring), then restart Recap."
)


class PynputHotkey:
    def __init__(self, chord: Chord, on_press: Callable[[], None]) -> None:
        self.chord = chord
        self.on_press = on_press
        self._listener: Any = None

    def start(self) -> None:
        if sys.platform == "darwin" and not _mac_trusted():
            raise HotkeyUnavailable(f"The global shortcut needs permission. {MAC_PERMISSION}")
        try:
            from pynput import keyboard
        except ImportError as exc:  # not installed, or no backend for this system
            log.info("pynput unavailable: %s", exc)
            raise HotkeyUnavailable("Global shortcuts are not supported on this system.") from exc
        try:
            self._listener = keyboard.GlobalHotKeys({self.chord.pynput_hotkey: self._call})
            self._listener.start()
            self._listener.wait()
        except Exception as exc:  # pynput raises plain exceptions from the OS layer
            log.warning("global shortcut listener failed: %s", exc)
            raise HotkeyUnavailable("The system refused the global shortcut.") from exc

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    def _call(self) -> None:
        try:
            self.on_press()
        except Exception:  # a failing handler must not end the hook
            log.exception("global shortcut handler failed")


def _mac_trusted() -> bool:
    try:
        import HIServices  # pyobjc, installed with pynput on macOS

        return bool(HIServices.AXIsProcessTrusted())
    except ImportError:
        return False
