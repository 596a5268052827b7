"""How far this device's clock is from the server's, measured over a round trip as NTP does.

The server orders concurrent edits by their clock-corrected timestamps. Measured one way only
(server time on arrival minus device time on sending), the correction also adds the request's
latency, which on a starved CPU or a slow network is seconds: an edit made earlier but pushed
slowly would then beat a later one. Timing a whole exchange bounds the error by half its round
trip instead: the server's time is taken to fall in the middle of it. The estimate comes from
earlier exchanges (a round's pulls and pushes), so the latency of the push it corrects does not
enter it at all; the server still caps it by its own one-way measurement (see
``migrations/supabase``).

A new engine (each one-shot ``recap sync``, the app's first round after a start) has measured
nothing yet, so the best measurement is kept in the local database between runs (``saved`` and
``restore``). ``time.monotonic`` reads one clock for the whole machine on Linux, macOS and
Windows (CLOCK_MONOTONIC on Linux), counted from boot: within one boot another process's
reading compares with ours, so the same age and clock-step rules apply to a kept measurement;
one from an earlier boot is void.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from app.sync.payload import parse_time

log = logging.getLogger(__name__)

# Quartz clocks drift by tens of parts per million: an old measurement is trusted less.
_DRIFT = 100e-6
_MAX_AGE_S = 3600.0
# A change of the wall clock against the monotonic one (a clock step, or time spent suspended,
# which the monotonic clock does not count) makes every earlier measurement meaningless.
_STEP_S = 0.5
_LINUX_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@cache
def current_boot_id() -> str:
    """Names this boot of the machine: the monotonic clock starts over at each boot."""
    try:
        return _LINUX_BOOT_ID.read_text().strip()
    except OSError:
        import psutil

        # Elsewhere the boot's wall time; a clock step moves it, which voids a sample anyway.
        return f"booted-at-{psutil.boot_time():.0f}"


@dataclass(frozen=True)
class _Sample:
    offset_s: float  # the server's clock minus ours
    error_s: float  # half the round trip: the true offset is within this of offset_s
    taken: float  # monotonic time when it was taken
    wall_minus_mono: float  # to notice a clock step since
    boot: str  # the boot whose monotonic clock ``taken`` was read from


class ClockOffset:
    """The best recent estimate of the server clock minus ours, from timed exchanges."""

    def __init__(
        self, clock: Callable[[], datetime], monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._monotonic = monotonic
        self._boot = current_boot_id()
        self._best: _Sample | None = None

    def exchange(
        self, call: Callable[[str, dict[str, Any]], Any], fn: str, params: dict[str, Any]
    ) -> Any:
        """Calls the RPC ``fn`` (one answering ``server_now``) and learns from its timing."""
        sent_wall = self._clock().timestamp()
        sent = self._monotonic()
        answer = call(fn, params)
        received = self._monotonic()
        server_now = answer.get("server_now") if isinstance(answer, dict) else None
        if isinstance(server_now, str):
            round_trip = received - sent
            self._keep(
                _Sample(
                    offset_s=parse_time(server_now).timestamp() - (sent_wall + round_trip / 2),
                    error_s=round_trip / 2,
                    taken=received,
                    wall_minus_mono=sent_wall - sent,
                    boot=self._boot,
                )
            )
        return answer

    def estimate(self) -> float | None:
        """Seconds to add to our clock to read the server's, or None when nothing is known."""
        best = self._current()
        return None if best is None else best.offset_s

    def saved(self) -> dict[str, Any] | None:
        """The current best measurement, as JSON to keep for the next run (``restore``)."""
        best = self._current()
        return None if best is None else asdict(best)

    def restore(self, saved: object) -> bool:
        """Takes a measurement an earlier run kept, unless it is void: from an earlier boot,
        too old, or older than a clock step. Returns whether it was taken."""
        sample = _parsed(saved)
        if sample is None or sample.boot != self._boot or self._void(sample):
            return False
        self._keep(sample)
        return True

    def _keep(self, sample: _Sample) -> None:
        current = self._current()
        if current is None or self._bound(sample) <= self._bound(current):
            self._best = sample

    def _bound(self, sample: _Sample) -> float:
        return sample.error_s + (self._monotonic() - sample.taken) * _DRIFT

    def _current(self) -> _Sample | None:
        """The kept sample, unless the clock stepped or too much time went by since."""
        if self._best is not None and self._void(self._best):
            self._best = None
        return self._best

    def _void(self, sample: _Sample) -> bool:
        now = self._monotonic()
        stepped = abs(self._clock().timestamp() - now - sample.wall_minus_mono) > _STEP_S
        # A negative age: the monotonic clock started over (a reboot the boot id missed).
        return stepped or not 0 <= now - sample.taken <= _MAX_AGE_S


def _parsed(saved: object) -> _Sample | None:
    """A kept measurement, or None when there is none or it is not one this version wrote."""
    if not isinstance(saved, dict):
        return None
    try:
        sample = _Sample(**saved)
    except TypeError:
        log.debug("ignoring a kept clock measurement of another shape: %r", saved)
        return None
    numbers = (sample.offset_s, sample.error_s, sample.taken, sample.wall_minus_mono)
    usable = all(
        isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n) for n in numbers
    )
    if not usable or sample.error_s < 0 or not isinstance(sample.boot, str):
        return None
    return sample
