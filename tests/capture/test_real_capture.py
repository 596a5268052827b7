"""Recap's real capture code against a throwaway PulseAudio and PipeWire (pipewire-pulse).

Known speech is played into the ``speakers`` sink (the far end of a call) and other speech into
``micsink`` (the user at the microphone); a child process records both through the same code
the app uses. Each test runs once per server; a server that cannot start fails the test.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.audio import recovery
from tests.capture.audio_server import AudioServer
from tests.capture.real_session import (
    RecordingSession,
    our_stream_index,
    speech_wav,
    wav_samples,
)
from tests.capture.signal_match import find, find_windows, resample

pytestmark = pytest.mark.soundserver


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


def tracks_of(result: dict[str, object]) -> dict[str, object]:
    samples, rate = wav_samples(Path(str(result["path"])))
    names = list(result["tracks"])  # type: ignore[call-overload]
    return {name: resample(samples[:, i], rate) for i, name in enumerate(names)}


def holds(track: object, played: object) -> bool:
    """Every half second of ``played`` that has sound is in ``track``.

    PipeWire under load skips or repeats a few milliseconds now and then (not Recap: it never
    corrects by less than 30 ms); a piece holding such a skip matches less well, so most pieces,
    not all, must match closely, and every one must be clearly there.
    """
    pieces = find_windows(track, played, window_s=0.5)  # type: ignore[arg-type]
    halves = len(played) // 8000  # type: ignore[arg-type]
    assert len(pieces) >= halves * 0.6, pieces
    close = sum(p.correlation > 0.9 for p in pieces)
    assert close >= 0.8 * len(pieces) and min(p.correlation for p in pieces) > 0.5, pieces
    return True


def known(name: str, speech: Path) -> object:
    samples, rate = wav_samples(speech_wav(name, speech))
    return resample(samples[:, 0], rate)


def test_both_tracks_hold_what_was_played(sound_server: AudioServer, speech: Path,
                                          tmp_path: Path) -> None:
    session = RecordingSession.start(sound_server, tmp_path)
    try:
        assert session.tracks == ["mic", "system"]
        session.wait_for_first_data()
        far = sound_server.play(speech_wav("garden", speech), "speakers")
        near = sound_server.play(speech_wav("groceries", speech), "micsink")
        far.wait(30), near.wait(30)
        time.sleep(0.6)
        result = session.stop()
    finally:
        session.close()
    assert result["error"] is None and result["notices"] == []
    tracks = tracks_of(result)
    garden, groceries = known("garden", speech), known("groceries", speech)
    assert holds(tracks["system"], garden) and holds(tracks["mic"], groceries)
    # Each track holds only its own side.
    assert find(tracks["system"], groceries).correlation < 0.3  # type: ignore[arg-type]
    assert find(tracks["mic"], garden).correlation < 0.3  # type: ignore[arg-type]


def test_the_tracks_are_aligned_within_100_ms(sound_server: AudioServer, speech: Path,
                                              tmp_path: Path) -> None:
    # The microphone hears exactly what the speakers play (a remap of their monitor): the same
    # sound at the same instant on both tracks, so any offset between them is Recap's.
    sound_server.load_module("module-remap-source source_name=echomic master=speakers.monitor")
    sound_server.pactl("set-default-source", "echomic")
    session = RecordingSession.start(sound_server, tmp_path)
    try:
        session.wait_for_first_data()
        sound_server.play(speech_wav("library", speech), "speakers").wait(30)
        time.sleep(0.5)
        result = session.stop()
    finally:
        session.close()
    tracks = tracks_of(result)
    library = known("library", speech)
    assert holds(tracks["mic"], library) and holds(tracks["system"], library)
    mic = find_windows(tracks["mic"], library, window_s=0.5)  # type: ignore[arg-type]
    system = find_windows(tracks["system"], library, window_s=0.5)  # type: ignore[arg-type]
    assert len(mic) == len(system) >= 12
    # Every half second of the phrase, on both tracks, within 100 ms of each other.
    offsets = [abs(m.offset_s - s.offset_s) for m, s in zip(mic, system, strict=True)]
    assert max(offsets) < 0.1, offsets


def test_switching_the_default_output_is_followed(sound_server: AudioServer, speech: Path,
                                                  tmp_path: Path) -> None:
    sound_server.load_module("module-null-sink sink_name=headset rate=48000")
    session = RecordingSession.start(sound_server, tmp_path)
    try:
        session.wait_for_first_data()
        sound_server.pactl("set-default-sink", "headset")
        notice = session.wait_for("notice", 15)
        sound_server.play(speech_wav("garden", speech), "headset").wait(30)
        time.sleep(0.6)
        result = session.stop()
    finally:
        session.close()
    assert "System audio now comes from" in notice["text"]
    assert "the default output changed" in notice["text"]
    assert holds(tracks_of(result)["system"], known("garden", speech))


def test_removing_the_output_keeps_what_was_recorded_and_says_so(
        sound_server: AudioServer, speech: Path, tmp_path: Path) -> None:
    headset = sound_server.load_module("module-null-sink sink_name=headset rate=48000")
    sound_server.pactl("set-default-sink", "headset")
    time.sleep(0.3)
    session = RecordingSession.start(sound_server, tmp_path)
    try:
        session.wait_for_first_data()
        player = sound_server.play(speech_wav("project-update", speech), "headset")
        time.sleep(4.0)
        sound_server.pactl("unload-module", str(headset))  # the headset is unplugged
        player.wait(10)
        notice = session.wait_for("notice", 15)
        time.sleep(1.5)
        result = session.stop()
    finally:
        session.close()
    assert "was removed" in notice["text"], notice
    assert result["error"] is None  # the recording went on
    tracks = tracks_of(result)
    update = known("project-update", speech)
    # The first three seconds of what the headset played are in the system track.
    assert holds(tracks["system"], update[: 3 * 16000])  # type: ignore[index]
    assert len(tracks["mic"]) / 16000 > 5.0  # type: ignore[arg-type]


# PipeWire keeps a stream opened on a named target where it is (`pactl move-source-output`
# succeeds but changes nothing) and, when that output goes, moves it to the new default's
# monitor, which the removal test covers.
@pytest.mark.parametrize("sound_server", ["pulseaudio"], indirect=True)
def test_a_stream_moved_onto_the_microphone_is_taken_back(
        sound_server: AudioServer, speech: Path, tmp_path: Path) -> None:
    """What PulseAudio does by itself when an output disappears: it must never be recorded."""
    session = RecordingSession.start(sound_server, tmp_path)
    try:
        session.wait_for_first_data()
        sound_server.pactl("move-source-output", str(our_stream_index(sound_server)), "mic")
        notice = session.wait_for("notice", 15)
        time.sleep(0.5)
        sound_server.play(speech_wav("groceries", speech), "micsink").wait(30)
        time.sleep(0.5)
        result = session.stop()
    finally:
        session.close()
    assert "moved it to another input" in notice["text"], notice
    tracks = tracks_of(result)
    groceries = known("groceries", speech)
    assert holds(tracks["mic"], groceries)
    assert find(tracks["system"], groceries).correlation < 0.3  # type: ignore[arg-type]


def test_sigkill_mid_recording_loses_at_most_a_second(sound_server: AudioServer, speech: Path,
                                                       tmp_path: Path) -> None:
    session = RecordingSession.start(sound_server, tmp_path)
    try:
        first = session.wait_for_first_data()
        far = sound_server.play(speech_wav("project-update", speech), "speakers")
        near = sound_server.play(speech_wav("library", speech), "micsink")
        played_at = time.monotonic()
        time.sleep(5.0)
        killed_at = session.kill()
        far.kill(), near.kill()
    finally:
        session.close()
    assert session.path is not None
    [candidate] = recovery.find_unfinished(tmp_path)
    assert candidate.path == session.path and candidate.tracks == ("mic", "system")
    # Everything up to a second before the kill is on disk (the timeline starts at the first
    # data, which the parent hears of a little later than it happened).
    assert candidate.duration_s >= killed_at - first - 1.0
    samples, rate = wav_samples(candidate.path)
    tracks = {name: resample(samples[:, i], rate) for i, name in enumerate(candidate.tracks)}
    heard = int((killed_at - played_at - 1.0) * 16000)
    for name, file in (("system", "project-update"), ("mic", "library")):
        assert holds(tracks[name], known(file, speech)[:heard])  # type: ignore[index]


def said(session: RecordingSession, speaker: str) -> str:
    return " ".join(e["text"].lower() for e in session.of_kind("segment")
                    if e["speaker"] == speaker)


@pytest.mark.slow
def test_live_transcript_labels_you_and_others(sound_server: AudioServer, speech: Path,
                                               tmp_path: Path, whisper_tiny_q8: Path) -> None:
    session = RecordingSession.start(sound_server, tmp_path, "--live", str(whisper_tiny_q8))
    try:
        session.wait_for_first_data()
        time.sleep(1.0)  # a moment of silence on both tracks: it must stay without text
        sound_server.play(speech_wav("groceries", speech), "micsink").wait(30)
        sound_server.play(speech_wav("library", speech), "speakers").wait(30)
        session.wait_for("segment", 180, speaker="You")
        session.wait_for("segment", 180, speaker="Others")
        time.sleep(2.0)
        result = session.stop()
    finally:
        session.close()
    you, others = said(session, "You"), said(session, "Others")
    assert sum(w in you for w in ("remember", "apples", "shop", "corner", "tonight")) >= 3, you
    assert sum(w in others for w in ("library", "thursday", "holiday", "monday")) >= 3, others
    assert "library" not in you and "apples" not in others
    from app.transcribe.live_log import live_log_path, read_live_log

    saved = read_live_log(live_log_path(Path(str(result["path"]))))
    assert len(saved) == len(session.of_kind("segment"))
    assert {s.speaker for s in saved} == {"You", "Others"}


@pytest.mark.slow
def test_echo_case_gives_no_duplicated_lines(sound_server: AudioServer, speech: Path,
                                             tmp_path: Path, whisper_tiny_q8: Path) -> None:
    # No headphones, at its worst: the microphone hears exactly what the speakers play.
    sound_server.load_module("module-remap-source source_name=echomic master=speakers.monitor")
    sound_server.pactl("set-default-source", "echomic")
    session = RecordingSession.start(sound_server, tmp_path, "--live", str(whisper_tiny_q8))
    try:
        session.wait_for_first_data()
        sound_server.play(speech_wav("library", speech), "speakers").wait(30)
        session.wait_for("segment", 180, speaker="Others")
        time.sleep(3.0)
        session.stop()
    finally:
        session.close()
    assert "library" in said(session, "Others")
    assert said(session, "You") == ""


@pytest.mark.parametrize("sound_server", ["pulseaudio"], indirect=True)
def test_system_audio_status_names_the_default_output(sound_server: AudioServer) -> None:
    from app.audio.system_source import list_output_devices, system_audio_status

    assert system_audio_status().line() == "System audio: on (Null Output)"
    outputs = {o.id: o.is_default for o in list_output_devices()}
    assert outputs == {"speakers": True, "micsink": False}


def test_without_a_sound_server_system_audio_says_why_in_one_line(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from app.audio.capture_errors import SystemAudioUnavailable
    from app.audio.meeting_sources import open_meeting_sources
    from app.audio.system_source import system_audio_status

    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/nothing-here")
    assert system_audio_status().line() == ("System audio: off (system audio needs a sound "
                                            "server: no PulseAudio or PipeWire sound server "
                                            "answered)")
    with pytest.raises(SystemAudioUnavailable) as err:
        open_meeting_sources(mic=False, system=True)
    assert str(err.value) == ("System audio is not recorded: no PulseAudio or PipeWire sound "
                              "server answered. Turn the microphone on to record without "
                              "system audio.")
