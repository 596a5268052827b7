"""The README's main job through the CLI: process the bundled sample, then find and export it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.cli import main
from tests.conftest import SAMPLES


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, seeded_models: Path) -> None:
    # Nothing listens on port 9 of loopback: like a laptop with Ollama not running, and the
    # built-in model off (tests/llm_builtin runs it), so the AI stages wait.
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    from app.paths import app_paths
    from app.settings import load_settings, save_settings

    path = app_paths().settings_file
    settings = load_settings(path)
    settings.llm.use_builtin = False
    save_settings(settings, path)


def test_process_sample_then_show_search_export_delete(
        offline: None, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["process", str(SAMPLES / "team-sync.opus")])
    out = capsys.readouterr().out
    assert code == 0, out
    meeting_id = re.search(r"Meeting ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
    assert "Transcript" in out and "budget" in out.lower()
    assert "pending: Writing notes" in out and "ollama serve" in out  # says how to fix it

    assert main(["show", meeting_id[:8]]) == 0
    assert "Team sync" in capsys.readouterr().out

    assert main(["search", "budget"]) == 0
    assert meeting_id[:8] in capsys.readouterr().out

    srt = tmp_path / "out.srt"
    assert main(["export", meeting_id, "--format", "srt", "-o", str(srt)]) == 0
    assert srt.read_text().startswith("1\n00:00:")
    assert f"Wrote {srt}" in capsys.readouterr().out

    assert main(["--json", "show", meeting_id]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["meeting"]["title"] == "Team sync" and data["segments"]

    assert main(["delete", meeting_id]) == 0
    capsys.readouterr()
    assert main(["search", "budget"]) == 1
    assert main(["show", meeting_id]) == 1


def test_models_list_marks_the_default(offline: None,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\*\s+tiny\.en-q8_0", out)
    assert main(["models", "use", "no-such-model"]) == 1
    assert "no Whisper model called" in capsys.readouterr().err


def test_doctor_reports_each_part(offline: None, capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor"])
    out = capsys.readouterr().out
    assert "[ok  ] Database" in out
    assert "[ok  ] Transcription model: tiny.en-q8_0" in out
    assert "Audio decoding" in out and "Disk space" in out


def test_a_file_that_ends_early_is_processed_and_says_so(
        offline: None, capsys: pytest.CaptureFixture[str]) -> None:
    """An interrupted copy: its header promises 12.3 s, 4.9 s are there. What is there is
    transcribed, and the meeting says plainly that it is not the whole recording."""
    from tests.conftest import FIXTURES

    code = main(["process", str(FIXTURES / "bad" / "truncated.flac")])
    out = capsys.readouterr().out
    assert code == 0, out
    meeting_id = re.search(r"Meeting ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
    note = "truncated.flac ends early: only 4.9 s of 12.3 s could be read"
    assert note in out
    assert main(["show", meeting_id]) == 0
    shown = capsys.readouterr().out
    assert f"Note: {note}" in shown and "Transcript" in shown
    assert main(["--json", "show", meeting_id]) == 0
    data = json.loads(capsys.readouterr().out)
    decode_job = next(j for j in data["jobs"] if j["stage"] == "decode")
    assert decode_job["detail"]["expected_s"] == pytest.approx(12.28, abs=0.01)
    assert data["segments"]  # there was speech in the part that was readable
