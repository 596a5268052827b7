"""The global shortcut: on a real X server (Xvfb), a key chord typed through XTest by another
X client (as if in another program) starts and stops recording; taken, changed, turned off,
on Wayland and with no display, it says so in one line and the window's Ctrl+R still records.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.audio.sources import ArraySource
from app.store.queries import list_meetings
from app.ui.global_hotkey import NO_DISPLAY, OFF, WAYLAND, session_problem
from app.ui.hotkey_chord import ChordError, parse_chord
from app.ui.hotkey_x11 import X11Hotkey
from app.ui.main_window import MainWindow
from app.ui.recording import RecordingController
from tests.ui.conftest import SPEECH, WindowFactory

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    """A private X server; its display name (":N")."""
    if shutil.which("Xvfb") is None:
        message = "Xvfb is not installed (apt-get install xvfb)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    read_fd, write_fd = os.pipe()
    # -noreset: by default the server resets whenever its last client leaves, and a client
    # connecting during that reset is refused.
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            "800x600x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=[write_fd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 20)
        assert ready, "Xvfb did not start within 20 s"
        number = os.read(read_fd, 32).decode().strip()
        yield f":{number}"
    finally:
        os.close(read_fd)
        server.terminate()
        server.wait(10)


@pytest.fixture
def x11_session(x_display: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISPLAY", x_display)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return x_display


def type_chord(display: str, qtbot: QtBot, *keysyms: str, hold_ms: int = 0) -> None:
    """Press and release keys through XTest on its own X connection: another program."""
    from Xlib import XK, X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    conn = xdisplay.Display(display)
    try:
        codes = [conn.keysym_to_keycode(XK.string_to_keysym(k)) for k in keysyms]
        for code in codes:
            xtest.fake_input(conn, X.KeyPress, code)
        conn.sync()
        qtbot.wait(hold_ms)
        for code in reversed(codes):
            xtest.fake_input(conn, X.KeyRelease, code)
        conn.sync()
    finally:
        conn.close()


def speech_source() -> ArraySource:
    return ArraySource.from_wav(SPEECH / "hello.wav", speed=1.0)


@pytest.fixture
def recording_window(make_window: WindowFactory) -> Callable[[], MainWindow]:
    def make() -> MainWindow:
        window = make_window(audio_source_factory=speech_source)
        window.container.settings.recording.record_only = True  # no transcription here
        return window

    return make


def controller_of(window: MainWindow) -> RecordingController:
    assert window.recording is not None
    return window.recording


def status_text(window: MainWindow) -> str:
    return window.status.currentMessage()


def test_shortcut_from_another_program_starts_and_stops_recording(
    qtbot: QtBot, recording_window: Callable[[], MainWindow], x11_session: str
) -> None:
    window = recording_window()
    controller = controller_of(window)
    hotkey = controller.apply_global_hotkey()
    assert hotkey.available, hotkey.status
    assert hotkey.status == "Ctrl+Alt+R starts or stops recording from any program."
    assert window.tray is not None
    assert window.tray.record_action.text() == "Start quick recording\tCtrl+Alt+R"
    gui_thread = threading.current_thread()
    seen_on: list[threading.Thread] = []
    hotkey.activated.connect(lambda: seen_on.append(threading.current_thread()))

    # Held for a second: the X server auto-repeats the key, and that must not toggle again.
    type_chord(x11_session, qtbot, "Control_L", "Alt_L", "r", hold_ms=1000)
    qtbot.waitUntil(lambda: controller.recording, timeout=10_000)
    assert seen_on == [gui_thread]
    assert "Ctrl+Alt+R stops it." in status_text(window)  # no tray offscreen: status bar
    assert window.tray.record_action.text() == "Stop recording\tCtrl+Alt+R"
    qtbot.waitUntil(lambda: controller.bar.elapsed.text() == "0:00:02", timeout=10_000)
    assert controller.recording and len(seen_on) == 1

    type_chord(x11_session, qtbot, "Control_L", "Alt_L", "r")
    qtbot.waitUntil(lambda: not controller.recording and not controller.busy, timeout=10_000)
    db = window.container.db
    qtbot.waitUntil(lambda: len(list_meetings(db)) == 1, timeout=10_000)
    assert list_meetings(db)[0].title.startswith("Recording ")
    assert "Recording saved (0:0" in status_text(window)
    assert "transcribed later" in status_text(window)


def test_changing_and_turning_off_the_shortcut(
    qtbot: QtBot, recording_window: Callable[[], MainWindow], x11_session: str
) -> None:
    window = recording_window()
    controller = controller_of(window)
    settings = window.container.settings.recording
    assert controller.apply_global_hotkey().available  # the default, Ctrl+Alt+R

    settings.global_hotkey = ""
    hotkey = controller.apply_global_hotkey()
    assert not hotkey.available and hotkey.status == OFF
    assert window.tray is not None
    assert window.tray.record_action.text() == "Start quick recording"
    type_chord(x11_session, qtbot, "Control_L", "Alt_L", "r")
    qtbot.wait(1000)
    assert not controller.recording and not controller.busy
    # Released: another program can have Ctrl+Alt+R now.
    other = X11Hotkey(parse_chord("Ctrl+Alt+R"), lambda: None, x11_session)
    other.start()
    other.stop()

    settings.global_hotkey = "ctrl+shift+f9"
    assert controller.apply_global_hotkey().status.startswith("Ctrl+Shift+F9 starts")
    assert window.tray.record_action.text() == "Start quick recording\tCtrl+Shift+F9"
    type_chord(x11_session, qtbot, "Control_L", "Alt_L", "r")
    qtbot.wait(1000)
    assert not controller.recording and not controller.busy
    type_chord(x11_session, qtbot, "Caps_Lock")  # the lock keys do not change the chord
    type_chord(x11_session, qtbot, "Control_L", "Shift_L", "F9")
    type_chord(x11_session, qtbot, "Caps_Lock")
    qtbot.waitUntil(lambda: controller.recording, timeout=10_000)
    controller.stop()
    qtbot.waitUntil(lambda: not controller.recording and not controller.busy, timeout=10_000)
    assert controller.global_hotkey is not None and controller.global_hotkey.available
    window.close()  # quitting lets go of the chord
    other = X11Hotkey(parse_chord("Ctrl+Shift+F9"), lambda: None, x11_session)
    other.start()
    other.stop()


def test_a_shortcut_that_cannot_be_used_says_why(
    recording_window: Callable[[], MainWindow], x11_session: str
) -> None:
    window = recording_window()
    window.container.settings.recording.global_hotkey = "Ctrl+"
    hotkey = controller_of(window).apply_global_hotkey()
    assert not hotkey.available
    assert (
        hotkey.status == 'Global shortcut not set: "Ctrl+" is not a shortcut: '
        "write it like Ctrl+Alt+R."
    )
    assert window.window_actions.record.isEnabled()  # recording from the window is unaffected


def ctrl_r_still_records(qtbot: QtBot, window: MainWindow) -> None:
    controller = controller_of(window)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: controller.recording, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not controller.recording and not controller.busy, timeout=10_000)


def test_shortcut_taken_by_another_program(
    qtbot: QtBot, recording_window: Callable[[], MainWindow], x11_session: str
) -> None:
    other = X11Hotkey(parse_chord("Ctrl+Alt+R"), lambda: None, x11_session)
    other.start()
    try:
        window = recording_window()
        hotkey = controller_of(window).apply_global_hotkey()
        assert not hotkey.available
        assert hotkey.status == (
            "Global shortcut Ctrl+Alt+R not available: Ctrl+Alt+R is "
            "already used by another program."
        )
        assert window.tray is not None
        assert window.tray.record_action.toolTip() == hotkey.status
        ctrl_r_still_records(qtbot, window)
    finally:
        other.stop()


def test_wayland_session_says_so_and_ctrl_r_still_works(
    qtbot: QtBot,
    recording_window: Callable[[], MainWindow],
    x_display: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # XWayland is there (DISPLAY is set), but the session is Wayland: a grab would only see
    # keys typed into X11 programs, so Recap does not pretend.
    monkeypatch.setenv("DISPLAY", x_display)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    window = recording_window()
    controller = controller_of(window)
    hotkey = controller.apply_global_hotkey()
    assert not hotkey.available and hotkey.status == WAYLAND
    assert "keyboard settings" in hotkey.status and "Ctrl+R" in hotkey.status
    assert window.tray is not None and window.tray.record_action.toolTip() == WAYLAND
    type_chord(x_display, qtbot, "Control_L", "Alt_L", "r")
    qtbot.wait(1000)
    assert not controller.recording
    ctrl_r_still_records(qtbot, window)


def test_no_display_says_so_and_ctrl_r_still_works(
    qtbot: QtBot, recording_window: Callable[[], MainWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    window = recording_window()
    hotkey = controller_of(window).apply_global_hotkey()
    assert not hotkey.available and hotkey.status == NO_DISPLAY
    ctrl_r_still_records(qtbot, window)


def test_session_problem_by_platform() -> None:
    assert session_problem({"DISPLAY": ":0"}, "linux") is None
    assert session_problem({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux") == WAYLAND
    assert session_problem({"XDG_SESSION_TYPE": "wayland"}, "linux") == WAYLAND
    assert session_problem({}, "linux") == NO_DISPLAY
    assert session_problem({}, "win32") is None  # a keyboard hook needs no display variable
    assert session_problem({}, "darwin") is None  # the permission is checked when binding


@pytest.mark.parametrize(
    ("written", "shown", "x11", "pynput"),
    [
        ("Ctrl+Alt+R", "Ctrl+Alt+R", "r", "<ctrl>+<alt>+r"),
        ("alt + control + r", "Ctrl+Alt+R", "r", "<ctrl>+<alt>+r"),
        ("Super+Shift+9", "Shift+Super+9", "9", "<shift>+<cmd>+9"),
        ("F9", "F9", "F9", "<f9>"),
        ("Ctrl+PageUp", "Ctrl+PageUp", "Prior", "<ctrl>+<page_up>"),
    ],
)
def test_shortcuts_as_written_in_settings(written: str, shown: str, x11: str, pynput: str) -> None:
    chord = parse_chord(written)
    assert (chord.text, chord.x11_keysym_name, chord.pynput_hotkey) == (shown, x11, pynput)


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("R", "would take that key from every other program"),
        ("Shift+R", "would take that key from every other program"),
        ("Ctrl+Alt", "has no key after its modifiers"),
        ("Hyper+R", "is not a modifier"),
        ("Ctrl+Alt+é", "is not a key Recap can use"),
        ("", "is not a shortcut"),
    ],
)
def test_shortcuts_that_cannot_be_used_say_why(written: str, why: str) -> None:
    with pytest.raises(ChordError, match=why):
        parse_chord(written)
