"""Importing, at start-up, on a worker, what processing a first file needs.

Importing holds the GIL and per-module import locks for long stretches (the Anthropic SDK alone
takes seconds on a busy machine), so doing it while the window opens keeps it from stalling the
GUI when the first file arrives.
"""

from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger(__name__)

WARM_UP_MODULES = (
    "app.actions.meetings",
    "app.actions.edits",
    "app.actions.queries",
    "app.actions.mail",
    "app.actions.local_ai",
    "app.actions.recordings",
    "app.store.queries",
    "app.store.edits",
    "app.store.meeting_facts",
    "app.pipeline.runner",
    "app.pipeline.decode",
    "app.pipeline.transcribe",
    "app.pipeline.notes",
    "app.pipeline.draft",
    "app.audio.decode",
    "app.transcribe.engine",
    "app.transcribe.model_store",
    "app.llm.services",
    "app.llm.polish",
    "app.export",
)


def warm_up_in_background() -> threading.Event:
    done = threading.Event()

    def work() -> None:
        for name in WARM_UP_MODULES:
            try:
                importlib.import_module(name)
            except ImportError as exc:  # an optional part missing: its feature says so later
                log.info("warm-up: %s not importable: %s", name, exc)
        done.set()

    threading.Thread(target=work, name="recap-warm-up", daemon=True).start()
    return done
