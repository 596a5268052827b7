"""Global shortcut on X11: an XGrabKey on the root window through python-xlib (pure Python).

A passive grab is what desktop shortcuts use: only the chord reaches us (no other keystroke
does, so nothing like a key logger runs), the chord no longer also types into the focused
program, and a chord another program holds already is refused by the server, so we can say so.
It needs no privileges. One daemon thread waits on the X connection; it sleeps in select()
between events, so it costs nothing while idle.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable

from app.ui.hotkey_chord import Chord, HotkeyUnavailable

log = logging.getLogger(__name__)

START_TIMEOUT_S = 5.0


class X11Hotkey:
    """Calls ``on_press`` (on its own thread) each time the chord is pressed."""

    def __init__(
        self, chord: Chord, on_press: Callable[[], None], display_name: str | None = None
    ) -> None:
        self.chord = chord
        self.on_press = on_press
        self.display_name = display_name
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1
        self._ready = threading.Event()
        self._problem: HotkeyUnavailable | None = None

    def start(self) -> None:
        """Grab the chord; HotkeyUnavailable if the display or the chord cannot be had."""
        try:
            import Xlib.display  # noqa: F401  (a dependency on Linux; checked, not assumed)
        except ImportError as exc:
            raise HotkeyUnavailable("python-xlib is not installed.") from exc
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="x11-global-hotkey", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            self._problem = HotkeyUnavailable("The X display did not answer in time.")
        if self._problem is not None:
            self.stop()
            raise self._problem

    def stop(self) -> None:
        if self._thread is None:
            return
        os.write(self._wake_w, b"x")
        self._thread.join(START_TIMEOUT_S)
        self._thread = None
        os.close(self._wake_r)
        os.close(self._wake_w)

    # -- the thread: every X call happens here, on one connection ------------------------
    def _run(self) -> None:
        from Xlib import XK, X, display, error

        try:
            dpy = display.Display(self.display_name)
        except (error.DisplayError, OSError) as exc:
            log.info("no X display for the global shortcut: %s", exc)
            self._fail(HotkeyUnavailable("Could not connect to the X display."))
            return
        try:
            root = dpy.screen().root
            keycode = dpy.keysym_to_keycode(XK.string_to_keysym(self.chord.x11_keysym_name))
            if not keycode:
                self._fail(
                    HotkeyUnavailable(
                        f"This keyboard has no {self.chord.text.rsplit('+', 1)[-1]} key."
                    )
                )
                return
            grabs = [(keycode, mods) for mods in _modifier_variants(dpy, self.chord)]
            caught = error.CatchError(error.BadAccess)
            for code, mods in grabs:
                root.grab_key(code, mods, False, X.GrabModeAsync, X.GrabModeAsync, onerror=caught)
            dpy.sync()  # grab errors arrive asynchronously: make them arrive now
            if caught.get_error() is not None:
                for code, mods in grabs:
                    root.ungrab_key(code, mods)
                dpy.sync()
                self._fail(
                    HotkeyUnavailable(f"{self.chord.text} is already used by another program.")
                )
                return
            self._ready.set()
            self._listen(dpy, keycode)
            for code, mods in grabs:
                root.ungrab_key(code, mods)
            dpy.sync()
        except (error.ConnectionClosedError, OSError) as exc:
            log.warning("the X connection of the global shortcut closed: %s", exc)
            self._fail(HotkeyUnavailable("The X display went away."))
        finally:
            dpy.close()

    def _listen(self, dpy: object, keycode: int) -> None:
        from Xlib import X

        released_at = -1  # X time of the last release of our key
        while True:
            ready, _, _ = select.select([dpy.fileno(), self._wake_r], [], [])  # type: ignore[attr-defined]
            if self._wake_r in ready:
                return
            while dpy.pending_events():  # type: ignore[attr-defined]
                event = dpy.next_event()  # type: ignore[attr-defined]
                if event.type == X.KeyRelease and event.detail == keycode:
                    released_at = event.time
                # Auto-repeat while the chord is held sends release+press pairs with the
                # same timestamp: only a real press toggles recording.
                elif (
                    event.type == X.KeyPress
                    and event.detail == keycode
                    and event.time != released_at
                ):
                    self._call()

    def _call(self) -> None:
        try:
            self.on_press()
        except Exception:  # a failing handler must not end the listening thread
            log.exception("global shortcut handler failed")

    def _fail(self, problem: HotkeyUnavailable) -> None:
        self._problem = problem
        self._ready.set()


def _modifier_variants(dpy: object, chord: Chord) -> list[int]:
    """The chord's modifier mask, with and without Caps Lock and Num Lock: a grab matches
    the exact modifier state, and the shortcut must work whatever the lock keys are."""
    from Xlib import XK, X

    by_keysym: dict[int, int] = {}
    for index, keycodes in enumerate(dpy.get_modifier_mapping()):  # type: ignore[attr-defined]
        for code in keycodes:
            if code:
                by_keysym.setdefault(dpy.keycode_to_keysym(code, 0), 1 << index)  # type: ignore[attr-defined]

    def mask_of(*names: str) -> int:
        for name in names:
            mask = by_keysym.get(int(XK.string_to_keysym(name)))
            if mask:
                return mask
        return 0

    wanted = {
        "ctrl": X.ControlMask,
        "shift": X.ShiftMask,
        "alt": mask_of("Alt_L", "Alt_R", "Meta_L") or X.Mod1Mask,
        "super": mask_of("Super_L", "Super_R") or X.Mod4Mask,
    }
    base = 0
    for mod in chord.modifiers:
        base |= wanted[mod]
    num_lock = mask_of("Num_Lock")
    locks = {0, X.LockMask, num_lock, X.LockMask | num_lock}
    return sorted(base | lock for lock in locks)
