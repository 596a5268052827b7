"""Is a microphone chunk only the speakers heard again (no headphones)?

Two measures, both cheap:

- ``audio_echo_score``: correlation between the microphone's and the system track's band-energy
  envelopes (log energy in four speech bands, 20 ms frames), at the best lag in -0.1..+0.5 s.
  A room changes the waveform (reverb, the loudspeaker's and microphone's responses) but not
  the rhythm of syllables in each band, so the envelopes of an echo follow the system track's
  closely; the user's own voice does not, and talking over the far end pulls the score down.
- ``is_text_echo``: the share of the microphone chunk's words that the system track said at the
  same time; for what the audio measure could not decide.

Thresholds come from ``benchmarks/echo_detection.py`` (generated rooms, kept apart from tuning).
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

RATE = 16_000
_HOP = RATE // 50  # 20 ms
_WIN = 512
_BANDS_HZ = ((300, 800), (800, 1600), (1600, 3200), (3200, 6000))
_WORD = re.compile(r"[a-z0-9']+")

Audio = npt.NDArray[np.float32]


def band_envelopes(audio: Audio) -> npt.NDArray[np.float64]:
    """(frames, bands) log energies in dB."""
    if len(audio) < _WIN:
        return np.zeros((0, len(_BANDS_HZ)))
    count = 1 + (len(audio) - _WIN) // _HOP
    idx = np.arange(_WIN)[None, :] + _HOP * np.arange(count)[:, None]
    frames = audio[idx] * np.hanning(_WIN)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(_WIN, 1 / RATE)
    bands = [power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) for lo, hi in _BANDS_HZ]
    return 10.0 * np.log10(np.stack(bands, axis=1) + 1e-10)


def audio_echo_score(mic: Audio, system: Audio, system_lead: int, *,
                     min_lag_s: float = -0.1, max_lag_s: float = 0.5) -> float:
    """Best envelope correlation of ``mic`` with ``system`` (-1..1).

    ``system`` covers the same span as ``mic`` plus ``system_lead`` samples before it (for the
    acoustic delay: the microphone hears the speakers after they played) and some after.
    """
    m = band_envelopes(mic)
    s = band_envelopes(system)
    if len(m) < 10 or len(s) < 10:
        return 0.0
    lead = system_lead // _HOP
    best = -1.0
    for lag in range(int(min_lag_s * 50), int(max_lag_s * 50) + 1):
        first = lead - lag  # the system frame heard at the mic's frame 0
        lo, hi = max(0, -first), min(len(m), len(s) - first)
        if hi - lo < 10:
            continue
        a = m[lo:hi]
        b = s[first + lo:first + hi]
        a = a - a.mean(axis=0)
        b = b - b.mean(axis=0)
        denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
        if denom > 0:
            best = max(best, float((a * b).sum()) / denom)
    return best


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def is_text_echo(mic_text: str, system_texts: list[str], *, share_above: float = 0.6) -> bool:
    """Most of the microphone's words were said by the system track at the same time.

    Adding "or its text closely follows a stretch of the system's" (``text_echo_similarity``,
    which catches echoes Whisper heard wrongly) caught the one echo this misses on held-out
    rooms but lost a second user chunk in double talk: losing the user's words is worse than
    a duplicate line, so it is not used.
    """
    return text_echo_share(mic_text, system_texts) >= share_above


def text_echo_share(mic_text: str, system_texts: list[str]) -> float:
    """Share of the microphone's words (fuzzy-matched) that the system track said too."""
    mine = words(mic_text)
    theirs = set(words(" ".join(system_texts)))
    if not mine or not theirs:
        return 0.0
    from rapidfuzz import fuzz, process

    found = 0
    for word in mine:
        if word in theirs or len(word) > 3 and process.extractOne(word, theirs, scorer=fuzz.ratio,
                                                 score_cutoff=80) is not None:
            found += 1
    return found / len(mine)


def text_echo_similarity(mic_text: str, system_texts: list[str]) -> float:
    """How closely the microphone's words follow some stretch of what the system track said
    (0..1, character-level, so a misheard echo still scores high)."""
    mine = " ".join(words(mic_text))
    theirs = " ".join(words(" ".join(system_texts)))
    if not mine or not theirs:
        return 0.0
    from rapidfuzz import fuzz

    return float(fuzz.partial_ratio(mine, theirs)) / 100.0
