"""The bundled sample meeting as audio: a short real clip any part of Recap can time or test on."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from app.audio.decode import SAMPLE_RATE, decode


def sample_clip(seconds: int = 30) -> npt.NDArray[np.float32]:
    """The first `seconds` of the bundled sample meeting, 16 kHz mono."""
    path = Path(str(resources.files("app.resources").joinpath("samples/team-sync.opus")))
    return np.ascontiguousarray(decode(path)[: seconds * SAMPLE_RATE])
