"""The real PortAudio, through a virtual ALSA capture device that plays a known file.

ALSA's built-in ``file`` plugin (``infile``) hands capture reads the bytes of a file, so real
``sounddevice`` → PortAudio → ALSA runs end to end without a sound card. The device is
defined in ``$HOME/.asoundrc``, which ALSA reads when PortAudio starts: each case runs the
real ``recap`` command in a child process with its own HOME.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.audio.sources import known_signal
from tests.recording.conftest import read_wav

REPO = Path(__file__).resolve().parents[2]
ALSA_CONF = Path("/usr/share/alsa/alsa.conf")
FED_FRAMES = 44100

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or not ALSA_CONF.exists(),
    reason="needs ALSA's configuration (libasound2, installed with libportaudio2)",
)


@pytest.fixture
def virtual_mic(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    signal_file = home / "signal.raw"
    known_signal(0, FED_FRAMES, 1).astype("<i2").tofile(signal_file)
    (home / ".asoundrc").write_text(f"""
pcm.recapmic {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{signal_file}"
    format "raw"
    hint {{ show on description "Recap virtual microphone" }}
}}
""")
    recap_home = tmp_path / "recap"
    (recap_home / "config").mkdir(parents=True)
    (recap_home / "config" / "settings.json").write_text(
        json.dumps({"recording": {"record_only": True}}))
    return {**os.environ, "HOME": str(home), "RECAP_HOME": str(recap_home),
            "PYTHONPATH": str(REPO)}


def recap(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True,
                          text=True, timeout=240)


def test_devices_lists_the_virtual_microphone(virtual_mic: dict[str, str]) -> None:
    done = recap(virtual_mic, "devices")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\*\s+0  recapmic  \(ALSA, \d+ ch, 44100 Hz\)$", done.stdout, re.M)


def test_record_through_real_portaudio_is_sample_exact(virtual_mic: dict[str, str]) -> None:
    done = recap(virtual_mic, "record", "--duration", "0.5")
    assert done.returncode == 0, done.stderr
    assert "Recording from recapmic (44100 Hz) for 0.5 s." in done.stderr
    assert "record-only mode" in done.stdout
    saved = re.search(r"of audio to (\S+\.wav)$", done.stdout, re.M)
    assert saved, done.stdout
    wav = read_wav(Path(saved.group(1)))
    assert (wav.sample_rate, wav.channels) == (44100, 1)
    # The null device runs faster than real time, so there is more than the file holds:
    # the file's frames come first, unchanged.
    assert wav.frames >= FED_FRAMES
    np.testing.assert_array_equal(wav.samples[:FED_FRAMES], known_signal(0, FED_FRAMES))
