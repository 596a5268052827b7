"""The installer pieces system audio needs are in place (checked as files: no Mac here)."""

from __future__ import annotations

import plistlib
import re
import tomllib
from pathlib import Path

from app.audio.macos_tap import HELPER_NAME, MAGIC

ROOT = Path(__file__).resolve().parents[2]


def test_info_plist_asks_for_system_audio_and_the_microphone() -> None:
    plist = plistlib.loads((ROOT / "packaging" / "macos" / "Info.plist").read_bytes())
    assert "other people in your meeting" in plist["NSAudioCaptureUsageDescription"]
    assert plist["NSMicrophoneUsageDescription"]


def test_the_swift_helper_speaks_the_protocol_python_reads() -> None:
    swift = (ROOT / "packaging" / "macos" / "audiotap" / "main.swift").read_text()
    assert f'Data("{MAGIC.decode()}".utf8)' in swift
    # Header fields in the order macos_tap.HEADER unpacks them: rate, channels, byte count.
    assert "[rate, packetChannels, UInt32(data.count)]" in swift
    assert '"output_running"' in swift and '"rebuilt"' in swift and '"error"' in swift


def test_the_release_workflow_builds_and_bundles_the_helper() -> None:
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    build = workflow.index("packaging/macos/audiotap/build.sh packaging/build/recap-audiotap")
    assert build < workflow.index("python packaging/build.py --artifact dmg")
    spec = (ROOT / "packaging" / "recap.spec").read_text()
    assert f'"packaging" / "build" / "{HELPER_NAME}"' in spec


def test_platform_packages_carry_environment_markers() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    marked = {re.split(r"[<>=;\s]", d)[0]: d.split(";")[1].strip() for d in deps if ";" in d}
    assert marked["pulsectl"] == "sys_platform == 'linux'"
    assert marked["soundcard"] == "sys_platform == 'win32'"
    assert marked["pyobjc-framework-ScreenCaptureKit"] == "sys_platform == 'darwin'"
