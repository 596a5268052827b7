"""The CLI starts fast, and bad input gets one human line, a non-zero exit, nothing else changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from tests.conftest import FIXTURES

BAD = FIXTURES / "bad"


def test_help_does_not_import_heavy_modules(recap_home: Path) -> None:
    env = {**os.environ, "RECAP_HOME": str(recap_home)}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "app", "--help"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0
    assert "process" in result.stdout and "search" in result.stdout
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in result.stderr.splitlines() if "|" in line}
    for heavy in ("pywhispercpp", "PySide6", "sqlalchemy", "numpy", "av", "ollama", "anthropic",
                  "supabase", "xllamacpp", "sounddevice"):
        assert heavy not in imported, f"`recap --help` imported {heavy}"


@pytest.mark.parametrize(("name", "words"), [
    ("empty.wav", "empty"),
    ("not-audio.mp3", "not an audio"),
    ("no-audio.mp4", "no sound"),
    ("silence.flac", "no speech"),
])
def test_bad_input_is_one_human_line_and_marks_the_meeting_failed(
        name: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["process", str(BAD / name)])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err + captured.out
    error_lines = [ln for ln in captured.err.splitlines() if ln.startswith("recap: ")]
    assert len(error_lines) == 1, captured.err
    assert words in error_lines[0].lower()

    capsys.readouterr()
    assert main(["--json", "list"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["status"] == "failed" and rows[0]["error"]


def test_missing_file_creates_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["process", str(tmp_path / "nope.m4a")]) == 1
    assert "File not found" in capsys.readouterr().err
    assert main(["list"]) == 0
    assert "No meetings yet" in capsys.readouterr().out


def test_a_bad_file_does_not_touch_other_meetings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["process", str(BAD / "empty.wav")]) == 1
    assert main(["process", str(BAD / "not-audio.mp3")]) == 1
    capsys.readouterr()
    main(["--json", "list"])
    import json

    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and all(r["status"] == "failed" for r in rows)
    errors = {r["title"]: r["error"] for r in rows}
    assert "empty" in errors["Empty"].lower() and errors["Not audio"] != errors["Empty"]


def test_unknown_meeting_id_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "does-not-exist"]) == 1
    err = capsys.readouterr().err
    assert "No meeting with id does-not-exist" in err and "recap list" in err
