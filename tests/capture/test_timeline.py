"""Placing capture blocks on one timeline: start-up delays, drift, gaps, late blocks."""

from __future__ import annotations

import numpy as np

from app.audio.timeline import TrackClock, TrackMixer

RATE = 16000


def test_blocks_follow_each_other_despite_delivery_jitter() -> None:
    clock = TrackClock(RATE)
    rng = np.random.default_rng(1)
    positions = []
    for i in range(3000):  # 60 s of 20 ms blocks, each up to 40 ms late
        arrival = (i + 1) * 320 + 0.05 * RATE + rng.uniform(0, 0.04) * RATE
        positions.append(clock.place(320, arrival))
    steps = np.diff(positions)
    assert (steps == 320).all(), "jitter alone must never insert or drop audio"
    assert clock.corrections == 0 and clock.reanchors == 0


def test_a_slow_clock_is_padded_and_stays_within_40_ms() -> None:
    clock = TrackClock(RATE)
    ratio = 1.001  # the device delivers 0.1% fewer samples than wall time: 60 ms per minute
    errors = []
    for i in range(15000):  # 5 minutes
        arrival = (i + 1) * 320 * ratio
        pos = clock.place(320, arrival)
        errors.append((arrival - 320) - pos)
    assert clock.corrections >= 5
    assert max(abs(e) for e in errors[3000:]) < 0.04 * RATE


def test_a_gap_is_placed_by_arrival_time() -> None:
    clock = TrackClock(RATE)
    for i in range(50):
        clock.place(320, (i + 1) * 320)
    # Nothing delivered for 2 s (WASAPI while nothing plays), then audio again.
    assert clock.place(320, 51 * 320 + 2 * RATE, gap=True) == 50 * 320 + 2 * RATE
    assert clock.reanchors == 1
    # Unflagged, 3 s of missing samples are noticed once the delay has lasted a second.
    positions = [clock.place(320, (52 + i) * 320 + 5 * RATE) for i in range(100)]
    assert clock.reanchors == 2
    assert positions[-1] == (51 + 99) * 320 + 5 * RATE


def test_a_stream_delivered_late_in_a_burst_keeps_its_place() -> None:
    # This process got no CPU for 0.8 s: the device's blocks arrive late, then all at once.
    clock = TrackClock(RATE)
    expected = []
    got = []
    for i in range(400):
        on_time = (i + 1) * 320
        arrival = on_time if not 100 <= i < 140 else 140 * 320 + 0.8 * RATE
        expected.append(i * 320)
        got.append(clock.place(320, max(arrival, on_time)))
    assert got == expected
    assert clock.reanchors == 0 and clock.corrections == 0


def test_mixer_places_a_late_starting_track_by_its_first_arrival() -> None:
    mixer = TrackMixer(2, RATE, hold_s=0.5)
    mic = np.arange(1, 321, dtype=np.int16)
    out = []
    t0 = 100.0
    for i in range(100):  # 2 s of mic; system audio starts 1.5 s in
        now = t0 + (i + 1) * 0.02
        mixer.add(0, mic, now)
        if i >= 75:
            mixer.add(1, np.full(320, 7, dtype=np.int16), now)
        block = mixer.ready()
        if block is not None:
            out.append(block)
    rest = mixer.flush()
    frames = np.concatenate(out + ([rest] if rest is not None else []))
    assert len(frames) == 100 * 320
    system = frames[:, 1]
    first = int(np.flatnonzero(system)[0])
    assert abs(first - 75 * 320) <= 320
    assert (frames[:, 0].reshape(-1, 320) == mic).all()


def test_mixer_pads_a_silent_track_after_the_hold_and_drops_what_comes_too_late() -> None:
    mixer = TrackMixer(2, RATE, hold_s=0.5)
    t0 = 10.0
    written = 0
    for i in range(100):  # 2 s: the system track sends its first block only
        now = t0 + (i + 1) * 0.02
        mixer.add(0, np.ones(320, np.int16), now)
        if i == 0:
            mixer.add(1, np.ones(320, np.int16), now)
        block = mixer.ready()
        written += 0 if block is None else len(block)
    # The microphone reached the disk with at most the hold's delay.
    assert written >= 100 * 320 - 0.5 * RATE - 320
    # A system block that arrives now, covering the last second, is placed by its arrival:
    # the part the writer already padded over is dropped, the rest is kept.
    before = mixer.written
    mixer.add(1, np.full(RATE, 5, np.int16), t0 + 2.0, gap=True)
    start = round((2.0 + 0.02) * RATE) - 320 - RATE  # the timeline starts at the first block
    assert mixer.tracks[1].trimmed == before - start
    assert mixer.tracks[1].end == start + RATE


def test_mixer_pads_nothing_when_every_track_is_late_together() -> None:
    # The process got no CPU for a second: both tracks' blocks arrive late, then in a burst.
    mixer = TrackMixer(2, RATE, hold_s=0.5)
    out = []
    for i in range(150):
        arrival = 1.0 + (i + 1) * 0.02 if not 50 <= i < 100 else 1.0 + 101 * 0.02
        for track in (0, 1):
            mixer.add(track, np.full(320, track + 1, np.int16), arrival)
        block = mixer.ready()
        if block is not None:
            out.append(block)
    frames = np.concatenate(out)
    assert (frames[:, 0] == 1).all() and (frames[:, 1] == 2).all()
    assert all(t.padded == 0 and t.trimmed == 0 for t in mixer.tracks)
