"""Choosing the model for the machine: the most accurate within the user's time budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.audio.sample import sample_clip
from app.transcribe.model_store import ModelStore
from app.transcribe.recommend import CLIP_SECONDS, engine_timer, recommend

# Seconds of work per second of audio, as a fast and a slow machine might measure them.
FAST = {"tiny.en-q8_0": 0.02, "base-q8_0": 0.05, "small.en-q8_0": 0.16}
SLOW = {"tiny.en-q8_0": 0.12, "base-q8_0": 0.30, "small.en-q8_0": 1.1}


def test_picks_the_most_accurate_model_that_fits() -> None:
    rec = recommend(FAST, FAST.__getitem__, budget_minutes=15)
    assert rec.chosen == "small.en-q8_0"  # 9.6 min an hour
    assert [m.name for m in rec.measured] == ["tiny.en-q8_0", "base-q8_0", "small.en-q8_0"]
    assert rec.measured[0].minutes_per_hour == pytest.approx(1.2)


def test_a_slower_machine_or_a_tighter_budget_gets_a_smaller_model() -> None:
    assert recommend(SLOW, SLOW.__getitem__, budget_minutes=15).chosen == "tiny.en-q8_0"
    assert recommend(SLOW, SLOW.__getitem__, budget_minutes=20).chosen == "base-q8_0"
    assert recommend(FAST, FAST.__getitem__, budget_minutes=5).chosen == "base-q8_0"


def test_when_nothing_fits_the_fastest_is_chosen_and_the_reason_says_so() -> None:
    rec = recommend(SLOW, SLOW.__getitem__, budget_minutes=1)
    assert rec.chosen == "tiny.en-q8_0"
    assert "no model keeps an hour within 1 min" in rec.reason


def test_a_model_that_cannot_be_timed_is_left_out() -> None:
    def timer(name: str) -> float:
        if name == "base-q8_0":
            raise RuntimeError("damaged file")
        return FAST[name]

    rec = recommend(["tiny.en-q8_0", "base-q8_0"], timer, budget_minutes=15)
    assert rec.chosen == "tiny.en-q8_0" and len(rec.measured) == 1
    assert recommend([], timer).chosen == "tiny.en-q8_0"  # the fallback


def test_downloads_are_offered_only_if_they_would_fit_and_beat_the_choice() -> None:
    measured = {"tiny.en-q8_0": 0.02, "base-q8_0": 0.05}
    rec = recommend(measured, measured.__getitem__, budget_minutes=15,
                    downloadable=["small.en-q8_0", "large-v3-turbo-q8_0"])
    assert rec.chosen == "base-q8_0"
    offered = {m.name: m for m in rec.offers}
    assert set(offered) == {"small.en-q8_0"}  # turbo: about 27 min an hour here
    assert offered["small.en-q8_0"].estimated
    assert offered["small.en-q8_0"].minutes_per_hour == pytest.approx(0.05 * 3.4 * 60)
    assert recommend(measured, measured.__getitem__, budget_minutes=100,
                     downloadable=["large-v3-turbo-q8_0"]).offers


@pytest.mark.slow
def test_real_timing_of_the_shipped_models(shared_models_dir: Path, tmp_path: Path) -> None:
    store = ModelStore(shared_models_dir, tmp_path / "cache")
    timer = engine_timer(store.path_for, threads=2, clip=sample_clip(CLIP_SECONDS))
    rec = recommend(["tiny.en-q8_0", "base-q8_0"], timer, budget_minutes=1_000)
    speed = {m.name: m.seconds_per_audio_second for m in rec.measured}
    assert set(speed) == {"tiny.en-q8_0", "base-q8_0"}
    assert speed["tiny.en-q8_0"] < speed["base-q8_0"]  # base is the bigger model
    assert rec.chosen == "base-q8_0"  # a generous budget: the more accurate one
    tight = recommend(["tiny.en-q8_0", "base-q8_0"], speed.__getitem__,
                      budget_minutes=(speed["tiny.en-q8_0"] + speed["base-q8_0"]) * 30)
    assert tight.chosen == "tiny.en-q8_0"  # between the two: only tiny.en fits


@pytest.mark.slow
def test_cli_recommends_times_the_installed_models_and_can_apply_the_choice(
        seeded_models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from app.cli import main
    from app.paths import app_paths
    from app.settings import load_settings

    assert main(["--json", "models", "recommend", "--budget", "1000", "--use"]) == 0
    out = json.loads(capsys.readouterr().out)
    names = {m["name"] for m in out["measured"]}
    assert {"tiny.en-q8_0", "base-q8_0"} <= names  # base ships in every install now
    assert out["chosen"] == "base-q8_0" and out["used"]
    saved = load_settings(app_paths().settings_file)
    assert saved.transcription.model == "base-q8_0"
