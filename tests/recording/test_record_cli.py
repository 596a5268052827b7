"""`recap devices`, `recap record`, `recap recover` through the real CLI, with a fake sound card."""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.audio.recorder import LevelReading, Recorder
from app.audio.sources import ArraySource, known_signal
from app.cli import main
from app.cli.context import CliContext
from app.cli.record_cmd import meter_line, record
from app.container import Container
from app.paths import app_paths
from app.settings import load_settings, save_settings
from app.store.queries import list_meetings
from tests.recording.conftest import FakePortAudio, read_wav


def set_record_only(value: bool) -> None:
    path = app_paths().settings_file
    settings = load_settings(path)
    settings.recording.record_only = value
    save_settings(settings, path)


def recordings() -> list[Path]:
    return sorted(app_paths().recordings.glob("*.wav"))


def meetings() -> list[Any]:
    container = Container()
    try:
        return list_meetings(container.db)
    finally:
        container.close()


@pytest.fixture
def handed_over(monkeypatch: pytest.MonkeyPatch) -> list[argparse.Namespace]:
    """What `recap record` gives to `recap process` (which runs Whisper: tested elsewhere)."""
    calls: list[argparse.Namespace] = []

    def fake_process(args: argparse.Namespace, ctx: CliContext) -> int:
        calls.append(args)
        return 0

    monkeypatch.setattr("app.cli.meetings_cmd.cmd_process", fake_process)
    return calls


def test_devices_lists_inputs_and_marks_default(default_mic: FakePortAudio,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "*   1  USB Mic  (FakeALSA, 1 ch, 48000 Hz)" in out
    assert "    2  Webcam Mic  (FakeALSA, 2 ch, 16000 Hz)" in out
    assert "Speakers" not in out

    assert main(["--json", "devices"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["index"], d["is_default"]) for d in listed] == [(1, True), (2, False)]


def test_devices_without_any_input(fake_portaudio: FakePortAudio,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices"]) == 1
    assert "No audio input found" in capsys.readouterr().err


def test_record_for_a_duration_then_process(default_mic: FakePortAudio,
                                            handed_over: list[argparse.Namespace],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--duration", "0.6", "--title", "Standup"]) == 0
    [wav_path] = recordings()
    wav = read_wav(wav_path)
    assert wav.sample_rate == 48000 and wav.frames == default_mic.fed_frames > 0
    np.testing.assert_array_equal(wav.samples, known_signal(0, wav.frames))
    [meeting] = meetings()  # queued for the pipeline, which `process` then runs
    assert meeting.title == "Standup"
    [call] = handed_over
    assert call.files == [wav_path] and call.title == "Standup"
    captured = capsys.readouterr()
    assert "Recording from USB Mic (48000 Hz) for 0.6 s." in captured.err
    assert f"Saved 0:01 of audio to {wav_path}" in captured.out
    assert 0.55 <= wav.frames / 48000 <= 0.75
    side = wav_path.with_name(wav_path.stem + ".recording.json")
    side.write_text(json.dumps({**json.loads(side.read_text()), "pid": 2**22 + 31}))
    assert main(["recover"]) == 0  # handed over: not offered again once this process is gone
    assert "No unfinished recordings." in capsys.readouterr().out


def test_record_only_mode_queues_the_meeting(default_mic: FakePortAudio,
                                             handed_over: list[argparse.Namespace],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    set_record_only(True)
    assert main(["record", "--duration", "0.3"]) == 0
    assert handed_over == []  # nothing was transcribed now
    [wav_path] = recordings()
    [meeting] = meetings()
    assert meeting.title.startswith("Recording ") and meeting.status == "queued"
    assert "Queued as meeting" in capsys.readouterr().out
    assert wav_path.exists()


def test_record_from_a_chosen_device(default_mic: FakePortAudio,
                                     handed_over: list[argparse.Namespace]) -> None:
    assert main(["record", "--device", "2", "--duration", "0.3"]) == 0
    assert read_wav(recordings()[0]).sample_rate == 16000
    assert default_mic.streams[0].kwargs["device"] == 2


def test_record_uses_the_device_from_settings(default_mic: FakePortAudio,
                                              handed_over: list[argparse.Namespace]) -> None:
    path = app_paths().settings_file
    settings = load_settings(path)
    settings.recording.input_device = 2
    save_settings(settings, path)
    assert main(["record", "--duration", "0.2"]) == 0
    assert default_mic.streams[0].kwargs["device"] == 2


def test_record_without_microphone(fake_portaudio: FakePortAudio,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--duration", "0.2"]) == 1
    err = capsys.readouterr().err
    assert "No microphone found." in err and "recap devices" in err
    assert recordings() == []


def test_unplugged_mid_recording_keeps_and_processes_audio(
        default_mic: FakePortAudio, handed_over: list[argparse.Namespace],
        capsys: pytest.CaptureFixture[str]) -> None:
    default_mic.unplug_after_blocks = 20
    assert main(["record"]) == 1  # no duration: only the unplug ends it
    err = capsys.readouterr().err
    assert "stopped delivering audio" in err and "Reconnect" in err
    [wav_path] = recordings()
    assert read_wav(wav_path).frames == 20 * default_mic.block_frames
    assert handed_over[0].files == [wav_path]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_shows_elapsed_time_and_level(default_mic: FakePortAudio) -> None:
    screen = _Terminal()
    result = record(CliContext(), None, 0.5, stream=screen)
    assert result is not None and result.error is None
    frames = [f for f in screen.getvalue().split("\r") if f.startswith("● REC")]
    assert len(frames) >= 3
    assert "0:00:00 ▕" in frames[-1] and "dBFS" in frames[-1]


def test_meter_line_scales_level_to_the_bar() -> None:
    quiet = meter_line(LevelReading(75.0, -60.0, -60.0, 0), width=10)
    loud = meter_line(LevelReading(3725.0, -6.0, -1.0, 2), width=10)
    assert quiet.startswith("● REC 0:01:15 ▕░░░░░░░░░░▏")
    assert loud.startswith("● REC 1:02:05 ▕█████████|▏ ")  # RMS 9 cells, peak tick in 10th
    assert "-6.0 dBFS" in loud and "(2 overflows)" in loud
    assert "-inf dBFS" in meter_line(LevelReading(0.0, -120.0, -120.0, 0))


def _crashed_recording(seconds: float) -> Path:
    """A recording whose writer died: sidecar still says `recording`, owner pid gone."""
    frames = int(16000 * seconds)
    source = ArraySource(known_signal(0, frames), sample_rate=16000, speed=0)
    recorder = Recorder(source, app_paths().ensure().recordings)
    wav = recorder.start()
    while source.fed_frames < frames:
        time.sleep(0.01)
    recorder.stop()
    side = wav.with_name(wav.stem + ".recording.json")
    side.write_text(json.dumps({**json.loads(side.read_text()), "state": "recording",
                                "pid": 2**22 + 4242}))
    with open(wav, "r+b") as f:  # as if killed before the last header update
        f.seek(40)
        f.write(b"\0\0\0\0")
    time.sleep(1.1)  # file names carry the second they started
    return wav


def test_recover_lists_then_processes_with_yes(handed_over: list[argparse.Namespace],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _crashed_recording(1.0), _crashed_recording(0.5)
    assert main(["recover"]) == 0
    out = capsys.readouterr().out
    assert "2 recording(s) were cut off and have been repaired" in out
    assert first.stem in out and second.stem in out and "  0:01  " in out
    assert "recap recover --yes" in out
    assert read_wav(first).frames == 16000  # repaired already, still offered
    assert handed_over == []

    assert main(["recover", "--yes"]) == 0
    assert [c.files for c in handed_over] == [[first], [second]]
    assert len(meetings()) == 2
    assert handed_over[0].title.startswith("Recording ")
    assert main(["recover"]) == 0
    assert "No unfinished recordings." in capsys.readouterr().out
    assert first.exists() and second.exists()


def test_recover_yes_in_record_only_mode_queues(capsys: pytest.CaptureFixture[str]) -> None:
    wav = _crashed_recording(0.5)
    set_record_only(True)
    assert main(["recover", "--yes"]) == 0
    [meeting] = meetings()
    assert meeting.status == "queued" and wav.exists()


def test_recover_discard_deletes_only_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    keep, drop = _crashed_recording(0.3), _crashed_recording(0.3)
    assert main(["recover", "--discard", "nope"]) == 1
    assert "No unfinished recording called nope" in capsys.readouterr().err
    assert main(["recover", "--discard", drop.stem]) == 0
    assert not drop.exists() and keep.exists()
    assert f"Deleted {drop.name}." in capsys.readouterr().out
    assert main(["--json", "recover"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in listed] == [keep.stem]


def test_recover_asks_for_each_on_a_terminal(handed_over: list[argparse.Namespace],
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    skip, take = _crashed_recording(0.3), _crashed_recording(0.3)
    answers = iter(["n", "y"])
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or next(answers))
    assert main(["recover"]) == 0
    assert [skip.stem in asked[0], take.stem in asked[1]] == [True, True]
    assert [c.files for c in handed_over] == [[take]]
    capsys.readouterr()
    assert main(["--json", "recover"]) == 0  # the declined one is still offered
    assert [c["id"] for c in json.loads(capsys.readouterr().out)] == [skip.stem]
