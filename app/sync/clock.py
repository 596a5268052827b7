"""How far this device's clock is from the server's, measured over a round trip as NTP does.

The server orders concurrent edits by their clock-corrected timestamps. Measured one way only
(server time on arrival minus device time on sending), the correction also adds the request's
latency, which on a starved CPU or a slow network is seconds: an edit made earlier but pushed
slowly would then beat a later one. Timing a whole exchange bounds the error by half its round
trip instead: the server's time is taken to fall in the middle of it. The estimate comes from
earlier exchanges (a round's pulls and pushes), so the latency of the push it corrects does not
enter it at all; the server still caps it by its own one-way measurement (see
``migrations/supabase``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.sync.payload import parse_time

# Quartz clocks drift by tens of parts per million: an old measurement is trusted less.
_DRIFT = 100e-6
_MAX_AGE_S = 3600.0
# A change of the wall clock against the monotonic one (a clock step, or time spent suspended,
# which the monotonic clock does not count) makes every earlier measurement meaningless.
_STEP_S = 0.5


@dataclass(frozen=True)
class _Sample:
    offset_s: float  # the server's clock minus ours
    error_s: float  # half the round trip: the true offset is within this of offset_s
    taken: float  # monotonic time when it was taken
    wall_minus_mono: float  # to notice a clock step since


class ClockOffset:
    """The best recent estimate of the server clock minus ours, from timed exchanges."""

    def __init__(
        self, clock: Callable[[], datetime], monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._monotonic = monotonic
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
                )
            )
        return answer

    def estimate(self) -> float | None:
        """Seconds to add to our clock to read the server's, or None when nothing is known."""
        best = self._current()
        return None if best is None else best.offset_s

    def _keep(self, sample: _Sample) -> None:
        current = self._current()
        if current is None or self._bound(sample) <= self._bound(current):
            self._best = sample

    def _bound(self, sample: _Sample) -> float:
        return sample.error_s + (self._monotonic() - sample.taken) * _DRIFT

    def _current(self) -> _Sample | None:
        """The kept sample, unless the clock stepped or too much time went by since."""
        best = self._best
        if best is None:
            return None
        now = self._monotonic()
        stepped = abs(self._clock().timestamp() - now - best.wall_minus_mono) > _STEP_S
        if stepped or now - best.taken > _MAX_AGE_S:
            self._best = None
        return self._best
