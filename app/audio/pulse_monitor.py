"""Linux system audio: the default output's monitor, on PulseAudio or PipeWire's Pulse server.

The monitor is found by its exact name (``pulsectl``: the default sink's ``monitor_source_name``)
and recorded by ``parec -d <name>`` in a child process. Measured against ``soundcard`` on the same
monitor: parec used 0.2% of a core against 0.6%, and its stream can be found on the server by a
unique stream name, so we can check where the server really connected it. ``soundcard`` also
connects to the server when it is imported and never reconnects.

Why the watching: when the recorded output disappears (headset unplugged) PulseAudio silently
moves the stream onto the microphone and PipeWire onto the new default's monitor; neither tells
the client, and ``@DEFAULT_MONITOR@`` is resolved once. So a second connection listens to sink and
server events (and moves of recording streams), and after each one we check which source our
stream is on and which output is the default, and reopen on the right monitor by name. Data that
the old stream delivers after such an event is dropped, so the microphone is never recorded as
"system".
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.audio.capture_errors import RecordingError, SystemAudioLost, SystemAudioUnavailable
from app.audio.sources import BlockCallback, ErrorCallback
from app.audio.system_source import NoticeCallback, OutputDevice, SystemAudioStatus

log = logging.getLogger(__name__)

_LATENCY_MS = 40
_READ_S = 0.1  # at most this much audio per read: parec hands over what it has
_NO_SERVER = "no PulseAudio or PipeWire sound server answered"
_INVALID_INDEX = 0xFFFFFFFF  # PA_INVALID_INDEX
_NEW_DEFAULT_WAIT_S = 3.0
_stream_ids = itertools.count(1)


@dataclass(frozen=True)
class Monitor:
    sink: str  # the output's exact name
    description: str  # what a person calls it
    source: str  # its monitor source's exact name
    source_index: int
    sink_index: int = -1


def _connect(name: str) -> Any:
    try:
        import pulsectl
    except ImportError as exc:  # pragma: no cover - a dependency on Linux
        raise SystemAudioUnavailable("the pulsectl package is missing") from exc
    try:
        return pulsectl.Pulse(name)
    except Exception as exc:  # pulsectl raises PulseError, libpulse may be missing (OSError)
        log.info("cannot connect to the sound server: %s", exc)
        raise SystemAudioUnavailable(
            _NO_SERVER, "System audio needs PulseAudio or PipeWire (pipewire-pulse) running; "
            "recording goes on with the microphone alone.") from exc


def default_monitor(pulse: Any) -> Monitor | None:
    """The default output's monitor, looked up by exact names; None if there is no output."""
    sink_name = str(pulse.server_info().default_sink_name or "")
    sinks = {s.name: s for s in pulse.sink_list()}
    sink = sinks.get(sink_name)
    if sink is None:
        return None
    monitor_name = str(sink.monitor_source_name)
    source = next((s for s in pulse.source_list() if s.name == monitor_name), None)
    if source is None or not _is_monitor(source):
        return None
    return Monitor(sink.name, str(sink.description or sink.name), monitor_name, int(source.index),
                   int(sink.index))


def _is_monitor(source: Any) -> bool:
    owner = getattr(source, "monitor_of_sink", None)
    return owner is not None and int(owner) != _INVALID_INDEX


def status() -> SystemAudioStatus:
    if shutil.which("parec") is None:
        return SystemAudioStatus(False, "", "system audio needs the `parec` tool "
                                 "(package pulseaudio-utils) on this system")
    try:
        pulse = _connect("recap-status")
    except SystemAudioUnavailable as exc:
        return SystemAudioStatus(False, "", f"system audio needs a sound server: {exc.reason}")
    with pulse:
        monitor = default_monitor(pulse)
    if monitor is None:
        return SystemAudioStatus(False, "", "there is no audio output to record")
    return SystemAudioStatus(True, monitor.description, "")


def list_outputs() -> list[OutputDevice]:
    with _connect("recap-devices") as pulse:
        default = str(pulse.server_info().default_sink_name or "")
        return [OutputDevice(s.name, str(s.description or s.name), s.name == default)
                for s in pulse.sink_list()]


def open_default(sample_rate: int) -> PulseMonitorSource:
    if shutil.which("parec") is None:
        raise SystemAudioUnavailable(
            "the `parec` tool is missing",
            "Install pulseaudio-utils (Debian/Ubuntu: `sudo apt install pulseaudio-utils`); "
            "recording goes on with the microphone alone.")
    with _connect("recap-check") as pulse:
        monitor = default_monitor(pulse)
    if monitor is None:
        raise SystemAudioUnavailable("there is no audio output to record")
    return PulseMonitorSource(sample_rate, first=monitor)


class _Stream:
    """One parec child recording one monitor; its reader thread hands blocks on while current."""

    def __init__(self, monitor: Monitor, rate: int, owner: PulseMonitorSource) -> None:
        self.monitor = monitor
        self.name = f"recap-system-{os.getpid()}-{next(_stream_ids)}"
        self.current = True  # False once replaced or stopped: its late data is dropped
        self._owner = owner
        self._rate = rate
        self.proc = subprocess.Popen(
            ["parec", "-d", monitor.source, "--raw", "--format=s16le", f"--rate={rate}",
             "--channels=1", f"--latency-msec={_LATENCY_MS}", f"--stream-name={self.name}",
             "--client-name=Recap"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.thread = threading.Thread(target=self._read, name="parec-reader", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunk = max(2, int(self._rate * _READ_S) * 2)
        carry = b""
        first = True
        while True:
            try:
                data = os.read(fd, chunk)
            except OSError:
                data = b""
            if not data:
                break
            data, carry = carry + data, b""
            if len(data) % 2:
                data, carry = data[:-1], data[-1:]
            if not self.current:
                continue  # replaced: whatever it still says may already be the microphone
            block = np.frombuffer(data, dtype="<i2").astype(np.int16).reshape(-1, 1)
            self._owner.deliver(self, block, first)
            first = False
        self._owner.stream_ended(self)

    def close(self) -> None:
        self.current = False
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        if self.thread is not threading.current_thread():
            self.thread.join(timeout=5)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def error_text(self) -> str:
        if self.proc.stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            return self.proc.stderr.read(2000).decode("utf-8", "replace").strip()
        return ""


class PulseMonitorSource:
    """Records whatever the default output plays and follows it when it changes."""

    def __init__(self, sample_rate: int = 48_000, *, first: Monitor | None = None) -> None:
        self._rate = int(sample_rate)
        self._first = first
        self._lock = threading.Lock()
        self._stream: _Stream | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._on_block: BlockCallback | None = None
        self._on_error: ErrorCallback | None = None
        self._on_notice: NoticeCallback | None = None
        self._device = first.description if first else "default output"
        self._dirty = threading.Event()  # a sink/server event came: check where we stand
        self.switches = 0
        self._recent_opens: list[float] = []

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def channels(self) -> int:
        return 1

    @property
    def device_name(self) -> str:
        return self._device

    def set_notice_callback(self, on_notice: NoticeCallback | None) -> None:
        self._on_notice = on_notice

    def start(self, on_block: BlockCallback, on_error: ErrorCallback) -> None:
        self._on_block, self._on_error = on_block, on_error
        self._stopping.clear()
        pulse = _connect("recap-system-audio")
        try:
            monitor = self._first or default_monitor(pulse)
            if monitor is None:
                raise SystemAudioUnavailable("there is no audio output to record")
            self._open(monitor)
            pulse.event_mask_set("sink", "server", "source_output")
            pulse.event_callback_set(self._on_event)
        except BaseException:
            pulse.close()
            self._close_stream()
            raise
        self._watcher = threading.Thread(target=self._watch, args=(pulse,),
                                         name="pulse-watcher", daemon=True)
        self._watcher.start()
        log.info("recording system audio from %s (%s) at %d Hz", monitor.description,
                 monitor.source, self._rate)

    def stop(self) -> None:
        self._stopping.set()
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout=5)  # first: it must not reopen what we are closing
        self._close_stream()

    # -- the stream ---------------------------------------------------------------------
    def _open(self, monitor: Monitor) -> None:
        stream = _Stream(monitor, self._rate, self)
        with self._lock:
            old, self._stream = self._stream, stream
            self._device = monitor.description
        if old is not None:
            old.close()

    def _close_stream(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def deliver(self, stream: _Stream, block: Any, first: bool) -> None:
        on_block = self._on_block
        if on_block is not None and stream.current and not self._stopping.is_set():
            on_block(block, first)

    def stream_ended(self, stream: _Stream) -> None:
        if not stream.current or self._stopping.is_set():
            return  # we closed it
        detail = stream.error_text() or f"parec exited with {stream.proc.poll()}"
        log.error("system audio stream from %s ended: %s", stream.monitor.source, detail)
        self._dirty.set()  # the watcher decides: another output, or the end

    # -- following the default output ------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        import pulsectl

        stream = self._stream
        if (stream is not None and event.facility == "sink" and event.t == "remove"
                and event.index == stream.monitor.sink_index):
            # Our output is gone: the server is about to move the stream, maybe onto the
            # microphone. Nothing it delivers from now on is system audio.
            stream.current = False
        self._dirty.set()
        raise pulsectl.PulseLoopStop  # queries must wait until event_listen has returned

    def _watch(self, pulse: Any) -> None:
        try:
            with pulse:
                while not self._stopping.is_set():
                    pulse.event_listen(timeout=0.25)
                    if self._dirty.is_set() and not self._stopping.is_set():
                        self._dirty.clear()
                        if not self._check(pulse):
                            return
        except Exception as exc:  # the server went away (PipeWire restarted, logout)
            if self._stopping.is_set():
                return
            log.error("lost the sound server while recording system audio: %s", exc)
            self._fail(SystemAudioLost(self._device, "the sound server went away"))

    def _check(self, pulse: Any) -> bool:
        """Make sure we record the default output's monitor; False once system audio ended."""
        if self._stopping.is_set():
            return False
        with self._lock:
            stream = self._stream
        wanted = self._wait_for_default(pulse)
        if wanted is None:
            self._fail(SystemAudioLost(self._device, "no audio output is left"))
            return False
        if stream is not None and stream.proc.poll() is None:
            actual = self._connected_source(pulse, stream)
            if stream.monitor.source == wanted.source and actual in (None, wanted.source_index):
                return True  # still right (or not registered yet: checked at its next event)
            if actual is not None and actual != wanted.source_index:
                log.warning("the server moved our system-audio stream to source #%d", actual)
        log.info("system audio: reopening on %s (was %s, parec exit status %s)",
                 wanted.source, stream.monitor.source if stream else None,
                 stream.proc.poll() if stream else None)
        old = stream.monitor.description if stream else self._device
        gone = stream is not None and stream.monitor.sink not in {s.name for s in
                                                                  pulse.sink_list()}
        if stream is not None:
            stream.current = False  # drop anything it still delivers before it is killed
        now = time.monotonic()
        self._recent_opens = [t for t in self._recent_opens if now - t < 10.0] + [now]
        if len(self._recent_opens) > 5:  # parec keeps failing: give up rather than spin
            self._fail(SystemAudioLost(wanted.description, "the stream kept failing"))
            return False
        self._open(wanted)
        self.switches += 1
        if gone:
            why = f"'{old}' was removed"
        elif stream is not None and stream.monitor.source == wanted.source:
            why = "the sound server had moved it to another input"
        else:
            why = "the default output changed"
        self._notice(f"System audio now comes from '{wanted.description}' ({why}).")
        return True

    def _wait_for_default(self, pulse: Any) -> Monitor | None:
        """The default output's monitor; PipeWire names a new default a moment after the old
        one is removed (WirePlumber decides), so a missing default gets a few seconds."""
        deadline = time.monotonic() + _NEW_DEFAULT_WAIT_S
        while True:
            wanted = default_monitor(pulse)
            if wanted is not None or time.monotonic() >= deadline or self._stopping.is_set():
                return wanted
            time.sleep(0.1)

    @staticmethod
    def _connected_source(pulse: Any, stream: _Stream) -> int | None:
        for output in pulse.source_output_list():
            if output.proplist.get("media.name") == stream.name:
                source = int(output.source)
                # PipeWire lists a new stream before linking it, with an invalid source index.
                return None if source == _INVALID_INDEX else source
        return None

    def _notice(self, text: str) -> None:
        log.info("%s", text)
        on_notice = self._on_notice
        if on_notice is not None:
            try:
                on_notice(text)
            except Exception:
                log.exception("notice callback failed")

    def _fail(self, error: RecordingError) -> None:
        self._close_stream()
        on_error = self._on_error
        if on_error is not None and not self._stopping.is_set():
            on_error(error)

