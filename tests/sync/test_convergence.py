"""Two devices edit offline and converge; conflicts resolve the same way everywhere."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from .devices import Device, server_snapshot

pytestmark = pytest.mark.postgres


@pytest.fixture
def pair(tmp_path: Path, server: Any, user: dict[str, Any]):
    a = Device(tmp_path, "a", server, user)
    b = Device(tmp_path, "b", server, user)
    yield a, b
    a.close()
    b.close()


def test_meetings_made_offline_on_two_devices_appear_on_both(pair, pg_dsn, user) -> None:
    a, b = pair
    ma = a.add_meeting("Planning", items=2, segments=4)
    mb = b.add_meeting("Retro", items=1, segments=2)
    a.sync()
    b.sync()
    a.sync()
    assert a.snapshot() == b.snapshot() == server_snapshot(pg_dsn, user["id"])
    meeting = b.get("meeting", ma)
    assert meeting is not None and meeting["title"] == "Planning"
    assert [s["text"] for s in meeting["segments"]] == [f"Planning segment {i}" for i in range(4)]
    assert a.get("meeting", mb)["summary"] == "summary of Retro"  # type: ignore[index]
    assert a.engine.pending_count() == b.engine.pending_count() == 0


def test_same_item_edited_on_both_resolves_identically_and_loser_is_in_history(pair) -> None:
    a, b = pair
    mid = a.add_meeting("Budget")
    a.sync()
    b.sync()
    item = next(k[1] for k in b.snapshot() if k[0] == "action_item")
    a.edit("action_item", item, text="A's wording")
    time.sleep(1.0)  # clearly later than the clock-correction error (see below)
    b.edit("action_item", item, text="B's wording, written later")
    a.sync()
    b.sync()
    a.sync()
    assert a.get("action_item", item)["text"] == b.get("action_item", item)["text"]  # type: ignore[index]
    assert b.get("action_item", item)["text"] == "B's wording, written later"  # type: ignore[index]
    lost = a.history(item)
    assert [(h.reason, h.data["text"]) for h in lost] == [("overridden", "A's wording")]
    assert b.history(item) == []
    assert a.get("meeting", mid) is not None


def test_a_late_push_that_loses_is_kept_in_its_own_history(pair) -> None:
    a, b = pair
    a.add_meeting("Hiring")
    a.sync()
    b.sync()
    item = next(k[1] for k in b.snapshot() if k[0] == "action_item")
    b.edit("action_item", item, owner="Bo")  # earlier edit, pushed later
    time.sleep(1.0)
    a.edit("action_item", item, owner="Al")
    a.sync()
    b.sync()
    assert a.get("action_item", item)["owner"] == "Al"  # type: ignore[index]
    assert b.get("action_item", item)["owner"] == "Al"  # type: ignore[index]
    assert [(h.reason, h.data["owner"]) for h in b.history(item)] == [("lost", "Bo")]


def test_concurrent_edit_beats_delete_and_the_deleter_is_told(pair) -> None:
    a, b = pair
    a.add_meeting("Launch")
    a.sync()
    b.sync()
    item = next(k[1] for k in a.snapshot() if k[0] == "action_item")
    a.delete("action_item", item)
    b.edit("action_item", item, done=True)
    a.sync()  # the delete reaches the server first
    b.sync()  # the edit had not seen it: the item comes back
    a.sync()
    assert a.get("action_item", item)["deleted"] is False  # type: ignore[index]
    assert a.get("action_item", item)["done"] is True  # type: ignore[index]
    assert a.snapshot() == b.snapshot()
    told = a.history(item)
    assert [(h.reason, h.deleted) for h in told] == [("resurrected", True)]


def test_delete_after_seeing_the_edit_wins(pair) -> None:
    a, b = pair
    a.add_meeting("Offsite")
    a.sync()
    b.sync()
    item = next(k[1] for k in a.snapshot() if k[0] == "action_item")
    b.edit("action_item", item, owner="Cy")
    b.sync()
    a.sync()  # a sees the edit, then deletes
    a.delete("action_item", item)
    a.sync()
    b.sync()
    assert b.get("action_item", item)["deleted"] is True  # type: ignore[index]
    assert a.history() == b.history() == []


def test_a_device_clock_a_day_behind_does_not_lose_its_later_edit(tmp_path, server, user) -> None:
    a = Device(tmp_path, "a", server, user)
    slow = Device(tmp_path, "slow", server, user, skew=-timedelta(days=1))
    fast = Device(tmp_path, "fast", server, user, skew=timedelta(days=1))
    try:
        a.add_meeting("Clocks")
        for d in (a, slow, fast):
            d.sync()
        item = next(k[1] for k in a.snapshot() if k[0] == "action_item")
        fast.edit("action_item", item, text="fast clock, edited first")
        time.sleep(1.0)  # beyond the correction's error (half a round trip; long under load)
        slow.edit("action_item", item, text="slow clock, edited last")
        fast.sync()
        slow.sync()
        for d in (a, fast):
            d.sync()
        texts = {d.get("action_item", item)["text"] for d in (a, slow, fast)}  # type: ignore[index]
        assert texts == {"slow clock, edited last"}
        assert [h.data["text"] for h in fast.history(item)] == ["fast clock, edited first"]
    finally:
        for d in (a, slow, fast):
            d.close()


def test_a_losing_version_can_be_restored_and_then_syncs_everywhere(pair) -> None:
    from app.sync.history import restore

    a, b = pair
    mid = a.add_meeting("Roadmap", segments=2)
    a.sync()
    b.sync()
    a.edit("meeting", mid, title="A's title")
    # B's edit must be clearly later: the clock correction measured at push time carries up
    # to half a round trip of error, which a loaded machine stretches to tens of milliseconds.
    time.sleep(1.0)
    b.edit("meeting", mid, title="B's title")
    a.sync()
    b.sync()
    a.sync()
    assert a.get("meeting", mid)["title"] == "B's title"  # type: ignore[index]
    (kept,) = a.history(mid)
    with a.db.session() as s:
        restore(s, kept.id)
    assert a.engine.pending_count() == 1
    a.sync()
    b.sync()
    for device in (a, b):
        meeting = device.get("meeting", mid)
        assert meeting is not None and meeting["title"] == "A's title"
        assert len(meeting["segments"]) == 2
    assert a.history(mid)[0].restored_at is not None
    assert b.history(mid) == []  # the restore had seen B's version: not a conflict
