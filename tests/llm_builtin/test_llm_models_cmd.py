"""`recap llm-models`: list, import, use, delete, with one-line errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from app.cli import llm_models_cmd as llm_cli
from app.cli.context import CliContext, run_handler
from app.llm.builtin import bundled
from app.settings import load_settings
from tests.llm_builtin.gguf_files import GGUF


def recap(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="recap")
    parser.add_argument("--json", action="store_true")
    sub = parser.add_subparsers(dest="command")
    llm_cli.register(sub)
    args = parser.parse_args(list(argv))
    return run_handler(args, CliContext(json_output=args.json))


def test_import_use_list_delete(tmp_path: Path, recap_home: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "Team Notes.gguf"
    model.write_bytes(GGUF().bytes())
    assert recap("llm-models", "import", str(model)) == 0
    assert "recap llm-models use team-notes" in capsys.readouterr().out
    assert recap("llm-models", "use", "team-notes") == 0
    capsys.readouterr()
    settings = load_settings(recap_home / "config" / "settings.json")
    assert settings.llm.builtin_model == "team-notes"

    assert recap("--json", "llm-models", "list") == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["active"] == "team-notes"
    assert "team-notes" in [m["name"] for m in listing["installed"]]
    if bundled.installed_parts(bundled.SMOLLM2_135M) is not None:
        assert bundled.SMOLLM2_135M.name in [m["name"] for m in listing["installed"]]

    assert recap("llm-models", "delete", "team-notes") == 0
    assert load_settings(recap_home / "config" / "settings.json").llm.builtin_model == ""


def test_errors_are_one_line_with_a_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "minutes.gguf"
    text.write_text("not a model " * 100, encoding="utf-8")
    assert recap("llm-models", "import", str(text)) == 1
    err = capsys.readouterr().err
    assert err.startswith("recap: Cannot import: minutes.gguf is not a GGUF model file")
    assert "Traceback" not in err and "→" in err
    assert recap("llm-models", "use", "nothing-like-this") == 1
    assert "recap llm-models list" in capsys.readouterr().err
