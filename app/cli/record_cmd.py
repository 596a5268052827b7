"""record, devices, recover: capture a meeting from the microphone and get lost ones back."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

from app.cli import meetings_cmd
from app.cli.context import EXIT_FAILED, EXIT_OK, CliContext
from app.errors import RecapError
from app.formatting import duration, running_clock

if TYPE_CHECKING:
    from pathlib import Path

    from app.audio.recorder import LevelReading, RecordingResult
    from app.audio.recovery import RecoveryCandidate

METER_FLOOR_DBFS = -60.0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("record", help="record a meeting from the microphone, then process it")
    p.add_argument("--device", type=int, metavar="N",
                   help="input device number from `recap devices` (default: settings/system)")
    p.add_argument("--duration", type=float, metavar="S",
                   help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--title", help="meeting title (default: 'Recording <date time>')")
    p.add_argument("--quiet", action="store_true", help="do not print the transcript")
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("devices", help="list microphones and other audio inputs")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("recover", help="repair recordings cut off by a crash and process them")
    p.add_argument("--yes", "-y", action="store_true", help="process all without asking")
    p.add_argument("--discard", metavar="ID", help="delete this unfinished recording")
    p.set_defaults(func=cmd_recover)


# -- text meter ---------------------------------------------------------------------------

def meter_line(reading: LevelReading, width: int = 30) -> str:
    """One line: elapsed time, a bar for the RMS level, a tick for the peak."""
    def cells(dbfs: float) -> int:
        fraction = (max(METER_FLOOR_DBFS, min(0.0, dbfs)) - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS
        return round(fraction * width)

    bar = ["█"] * cells(reading.rms_dbfs) + ["░"] * (width - cells(reading.rms_dbfs))
    peak = cells(reading.peak_dbfs)
    if 0 < peak <= width:
        bar[peak - 1] = "|" if bar[peak - 1] == "░" else bar[peak - 1]
    level = "  -inf" if reading.rms_dbfs <= -120 else f"{reading.rms_dbfs:6.1f}"
    line = f"● REC {running_clock(reading.elapsed_s)} ▕{''.join(bar)}▏{level} dBFS"
    if reading.overflows:
        line += f"  ({reading.overflows} overflow{'s' if reading.overflows > 1 else ''})"
    if reading.no_signal:
        line += "  no signal: is the microphone muted or access blocked?"
    return line


class _LiveMeter:
    """Keeps the latest reading (written by the recorder's thread) and redraws on a TTY."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._latest: LevelReading | None = None
        self._lock = threading.Lock()

    def update(self, reading: LevelReading) -> None:
        with self._lock:
            self._latest = reading

    def draw(self) -> None:
        with self._lock:
            reading = self._latest
        if self.tty and reading is not None:
            self.stream.write("\r" + meter_line(reading) + "  Ctrl-C stops ")
            self.stream.flush()

    def finish(self) -> None:
        if self.tty and self._latest is not None:
            self.stream.write("\n")
            self.stream.flush()


# -- commands -----------------------------------------------------------------------------

def cmd_devices(args: argparse.Namespace, ctx: CliContext) -> int:
    devices = ctx.container.recordings.devices()
    if ctx.json_output:
        ctx.emit_json([d.__dict__ for d in devices])
        return EXIT_OK
    if not devices:
        ctx.error("No audio input found.", "Plug in a microphone and run `recap devices` again.")
        return EXIT_FAILED
    for d in devices:
        mark = "*" if d.is_default else " "
        ctx.out(f"{mark} {d.index:>3}  {d.name}  ({d.host_api}, {d.max_channels} ch, "
                f"{d.default_sample_rate} Hz)")
    ctx.out("* = system default. Record from another one with `recap record --device N`.")
    return EXIT_OK


def record(ctx: CliContext, device: int | None, limit_s: float | None,
           stream: TextIO | None = None) -> RecordingResult | None:
    """Record until Ctrl-C, ``limit_s`` seconds, or an error; None if recording could not
    start."""
    stream = stream or sys.stderr
    recordings = ctx.container.recordings
    meter = _LiveMeter(stream)
    try:
        source = recordings.microphone(device)
        recorder = recordings.start(source, on_level=meter.update)
    except RecapError as exc:  # no microphone, permission denied, disk full...
        ctx.error(exc.message, exc.fix)
        return None
    until = f"for {limit_s:g} s" if limit_s is not None else "until Ctrl-C"
    stream.write(f"Recording from {source.device_name} ({source.sample_rate} Hz) {until}.\n"
                 f"Saving to {recorder.path}\n")
    stream.flush()
    deadline = time.monotonic() + limit_s if limit_s is not None else None
    try:
        while True:
            left = deadline - time.monotonic() if deadline is not None else 0.1
            if left <= 0 or recorder.wait(min(0.1, left)):
                break
            meter.draw()
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a person says "stop"; the file is finalised below
    result = recorder.stop()
    meter.finish()
    return result


def cmd_record(args: argparse.Namespace, ctx: CliContext) -> int:
    settings = ctx.container.settings.recording
    device = args.device if args.device is not None else settings.input_device
    result = record(ctx, device, args.duration)
    if result is None:
        return EXIT_FAILED
    if result.error is not None:
        ctx.error(result.error.message, result.error.fix)
    if result.frames == 0:
        ctx.error("Nothing was recorded.", "Check the microphone with `recap devices`.")
        return EXIT_FAILED
    ctx.out(f"Saved {duration(result.duration_s)} of audio to {result.path}")
    if result.overflows:
        ctx.out(f"  ({result.overflows} short gap(s): the computer was too busy to keep up)")
    code = hand_over(ctx, result.path, args.title or result.title, quiet=args.quiet,
                     record_only=settings.record_only)
    return EXIT_FAILED if result.error is not None else code


def hand_over(ctx: CliContext, path: Path, title: str, *, quiet: bool,
              record_only: bool) -> int:
    """Give a recording to the pipeline: process it now, or queue it ("transcribe later").

    Once the pipeline has it (a meeting row exists, even if processing then fails and waits
    for `recap resume`), recovery stops offering it.
    """
    meeting_id = ctx.container.recordings.hand_over(path, title).meeting_id
    if record_only:
        ctx.out(f"Queued as meeting {meeting_id} (record-only mode); "
                "`recap resume` transcribes it later.")
        return EXIT_OK
    # `process` finds the meeting just queued (same file) and runs it, with its usual output.
    return meetings_cmd.cmd_process(argparse.Namespace(files=[path], title=title, quiet=quiet),
                                    ctx)


def _describe(c: RecoveryCandidate) -> str:
    started = f"{c.started_at:%Y-%m-%d %H:%M}" if c.started_at else "unknown start"
    return f"{c.id}  {started}  {duration(c.duration_s)}  {c.device}"


def cmd_recover(args: argparse.Namespace, ctx: CliContext) -> int:
    recordings = ctx.container.recordings
    candidates = recordings.unfinished()
    if args.discard:
        chosen = next((c for c in candidates if c.id == args.discard), None)
        if chosen is None:
            ctx.error(f"No unfinished recording called {args.discard}.",
                      "Run `recap recover` to list them.")
            return EXIT_FAILED
        recordings.discard(chosen)
        ctx.out(f"Deleted {chosen.path.name}.")
        return EXIT_OK
    if ctx.json_output:
        ctx.emit_json([{"id": c.id, "path": str(c.path), "started_at": c.started_at,
                        "duration_s": c.duration_s, "device": c.device} for c in candidates])
        return EXIT_OK
    if not candidates:
        ctx.out("No unfinished recordings.")
        return EXIT_OK
    ctx.out(f"{len(candidates)} recording(s) were cut off and have been repaired:")
    for c in candidates:
        ctx.out("  " + _describe(c))
    interactive = sys.stdin.isatty() and not args.yes
    if not args.yes and not interactive:
        ctx.out("Process them with `recap recover --yes`, or delete one with "
                "`recap recover --discard ID`.")
        return EXIT_OK
    code = EXIT_OK
    for c in candidates:
        if c.frames == 0:
            ctx.out(f"{c.id} holds no audio; delete it with `recap recover --discard {c.id}`.")
            continue
        if interactive:
            answer = input(f"Process {c.id} ({duration(c.duration_s)})? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                continue
        code = max(code, hand_over(ctx, c.path, c.title, quiet=True,
                                   record_only=ctx.container.settings.recording.record_only))
    return code
