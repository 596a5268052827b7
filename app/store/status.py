"""The states a meeting and each of its pipeline stages can be in, as stored in the database.

A light module (no SQLAlchemy), so the faces can name a state without loading the store.
"""

from __future__ import annotations

import enum


class MeetingStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    NEEDS_ATTENTION = "needs_attention"  # some stage waits or failed; the rest is kept
    READY = "ready"
    FAILED = "failed"  # the audio itself could not be used


class JobState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    WAITING = "waiting"  # e.g. no local model reachable yet; resumes by itself
    NEEDS_ATTENTION = "needs_attention"
    FAILED = "failed"
    CANCELLED = "cancelled"
