"""The clock measurement kept between runs: a new engine starts with it while it is valid (same
boot, younger than an hour, no clock step since), and times the server itself otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.sync import clock
from app.sync.clock import ClockOffset
from app.sync.payload import to_json

from .devices import Device

REPO = Path(__file__).resolve().parents[2]


class Machine:
    """A machine's wall and monotonic clocks, moved by hand; its server is 2 s ahead."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
        self.mono = 5000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def wait(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def server(self, fn: str, params: dict[str, Any]) -> dict[str, Any]:
        self.wait(0.1)  # the request on its way
        answer = {"server_now": to_json(self.wall + timedelta(seconds=2))}
        self.wait(0.1)  # the answer on its way back
        return answer


def _kept(machine: Machine) -> Any:
    """What a run measured and stored, read back as the next run reads it."""
    offset = ClockOffset(machine.now, machine.monotonic)
    offset.exchange(machine.server, "recap_pull", {})
    return json.loads(json.dumps(offset.saved()))


def _next_run(machine: Machine, kept: Any) -> ClockOffset:
    offset = ClockOffset(machine.now, machine.monotonic)
    offset.restore(kept)
    return offset


def test_a_new_run_in_the_same_boot_starts_with_the_kept_measurement() -> None:
    machine = Machine()
    kept = _kept(machine)
    machine.wait(50 * 60)
    estimate = _next_run(machine, kept).estimate()
    assert estimate is not None and abs(estimate - 2.0) < 1e-6


def test_a_kept_measurement_is_void_after_an_hour() -> None:
    machine = Machine()
    kept = _kept(machine)
    machine.wait(3601)
    assert _next_run(machine, kept).estimate() is None


@pytest.mark.parametrize("change", ["clock set forward", "clock set back", "suspended"])
def test_a_kept_measurement_is_void_after_a_clock_step_between_runs(change: str) -> None:
    machine = Machine()
    kept = _kept(machine)
    machine.wait(60)
    if change == "clock set forward":
        machine.wall += timedelta(minutes=5)
    elif change == "clock set back":
        machine.wall -= timedelta(seconds=2)
    else:  # the wall clock went on while the monotonic one, asleep, did not
        machine.wall += timedelta(hours=8)
    assert _next_run(machine, kept).estimate() is None


def test_a_kept_measurement_is_void_after_a_reboot(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = Machine()
    kept = _kept(machine)
    machine.wait(60)
    monkeypatch.setattr(clock, "current_boot_id", lambda: "a-later-boot")
    assert _next_run(machine, kept).estimate() is None


def test_a_kept_measurement_is_void_when_the_monotonic_clock_started_over() -> None:
    """A reboot the boot id did not tell apart: the monotonic clock reads less than before."""
    machine = Machine()
    kept = _kept(machine)
    machine.mono = 30.0
    machine.wall = datetime.fromtimestamp(kept["wall_minus_mono"] + 30.0, UTC)  # no "step"
    assert _next_run(machine, kept).estimate() is None


_DAMAGED: dict[str, Any] = {
    "nothing": lambda kept: None,
    "empty": lambda kept: {},
    "not an object": lambda kept: [kept],
    "another shape": lambda kept: {"offset_s": kept["offset_s"]},
    "an extra field": lambda kept: {**kept, "server": "elsewhere"},
    "a text offset": lambda kept: {**kept, "offset_s": str(kept["offset_s"])},
    "no finite offset": lambda kept: {**kept, "offset_s": float("nan")},
    "a negative error": lambda kept: {**kept, "error_s": -1.0},
}


@pytest.mark.parametrize("damage", list(_DAMAGED))
def test_a_missing_or_unreadable_kept_measurement_is_ignored(damage: str) -> None:
    machine = Machine()
    stored = _DAMAGED[damage](_kept(machine))
    offset = ClockOffset(machine.now, machine.monotonic)
    assert offset.restore(stored) is False
    assert offset.estimate() is None


def test_a_measurement_kept_by_another_process_is_valid_here() -> None:
    """The design rests on the monotonic clock being the machine's, not the process's."""
    child = (
        "import json, time\n"
        "from datetime import UTC, datetime, timedelta\n"
        "from app.sync.clock import ClockOffset\n"
        "from app.sync.payload import to_json\n"
        "now = lambda: datetime.now(UTC)\n"
        "offset = ClockOffset(now)\n"
        "offset.exchange(lambda fn, p: {'server_now': to_json(now() + timedelta(seconds=7))},"
        " 'recap_pull', {})\n"
        "print(json.dumps(offset.saved()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", child],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    offset = ClockOffset(lambda: datetime.now(UTC))
    assert offset.restore(json.loads(out)) is True
    estimate = offset.estimate()
    assert estimate is not None and abs(estimate - 7.0) < 0.5


def _rpcs(server: Any, since: int) -> list[str]:
    return [r.removeprefix("/rest/v1/rpc/") for r in server.requests[since:] if "/rpc/" in r]


@pytest.mark.postgres
def test_a_restarted_device_reuses_the_measurement_until_a_reboot(
    tmp_path: Path, server: Any, user: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = Device(tmp_path, "a", server, user)
    meeting = a.add_meeting("Restarts")
    seen = len(server.requests)
    a.sync()  # nothing measured yet: the server's clock is timed before the first push
    assert _rpcs(server, seen)[:2] == ["recap_pull", "recap_push"]
    a.close()

    a = Device(tmp_path, "a", server, user)  # the app starts again
    a.edit("meeting", meeting, title="Restarts, again")
    seen = len(server.requests)
    a.sync()
    assert _rpcs(server, seen)[0] == "recap_push"  # the kept measurement serves
    a.close()

    monkeypatch.setattr(clock, "current_boot_id", lambda: "a-later-boot")
    a = Device(tmp_path, "a", server, user)  # ...after the machine restarted
    a.edit("meeting", meeting, title="Restarts, after a reboot")
    seen = len(server.requests)
    a.sync()
    assert _rpcs(server, seen)[:2] == ["recap_pull", "recap_push"]  # timed afresh
    assert a.engine.pending_count() == 0
    a.close()


@pytest.mark.postgres
def test_an_edit_after_the_clock_was_set_back_between_runs_is_not_misjudged(
    tmp_path: Path, server: Any, user: dict[str, Any]
) -> None:
    """The kept measurement says "no offset"; after the clock went back five minutes it would
    stamp this device's edits five minutes early, and a later edit would lose."""
    a = Device(tmp_path, "a", server, user)
    b = Device(tmp_path, "b", server, user)
    try:
        a.add_meeting("Clock set back")
        a.sync()
        b.sync()
        item = next(k[1] for k in b.snapshot() if k[0] == "action_item")
        a.close()
        a = Device(tmp_path, "a", server, user, skew=-timedelta(minutes=5))
        b.edit("action_item", item, text="B's wording, first")
        b.sync()
        time.sleep(1.0)
        a.edit("action_item", item, text="A's wording, a second later")
        seen = len(server.requests)
        a.sync()
        assert _rpcs(server, seen)[:2] == ["recap_pull", "recap_push"]
        b.sync()
        for device in (a, b):
            assert device.get("action_item", item)["text"] == "A's wording, a second later"  # type: ignore[index]
    finally:
        a.close()
        b.close()
