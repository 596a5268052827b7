"""How the window calls the use cases (app/actions): off the GUI thread, and with one signal
for what they changed.

``ops.change(lambda uc: uc.meetings.rename(id, title))`` runs the use case on a worker thread;
when it has returned its ``Changes``, ``changed`` is emitted once on the GUI thread, and each
view decides for itself whether to refresh (as Anki's ``CollectionOp`` and its
``operation_did_execute`` hook do). ``ops.read`` does the same for what only reads. The view
that asked for a change passes itself as ``initiator``: it already shows what it changed, so it
need not reload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from app.actions import Changes, UseCases
from app.ui.tasks import Failed, TaskRunner

T = TypeVar("T")


class Ops(QObject):
    changed = Signal(object, object)  # Changes, the view that asked for them (or None)

    def __init__(self, tasks: TaskRunner, use_cases: UseCases,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        # The container: its use cases are built on first use, on the worker that asks.
        self._use_cases = use_cases

    def read(self, work: Callable[[UseCases], T], done: Callable[[T], None] | None = None,
             failed: Failed | None = None) -> None:
        """``done(work(use_cases))`` on the GUI thread, ``work`` on a worker."""
        use_cases = self._use_cases
        self.tasks.submit(lambda: work(use_cases), done, failed)

    def change(self, work: Callable[[UseCases], Changes],
               done: Callable[[Changes], None] | None = None, failed: Failed | None = None,
               *, initiator: object = None) -> None:
        """Run a use case that changes something; announce what it changed, then ``done``."""
        def finished(changes: Changes) -> None:
            self.announce(changes, initiator)
            if done is not None:
                done(changes)

        self.read(work, finished, failed)

    def announce(self, changes: Changes, initiator: object = None) -> None:
        """Tell every view (for changes that came another way: a meeting finished)."""
        if changes != Changes():
            self.changed.emit(changes, initiator)


def on_change(ops: Ops, view: object, refresh: Callable[[Changes], Any]) -> None:
    """Call ``refresh(changes)`` for every change ``view`` did not make itself."""
    ops.changed.connect(lambda changes, initiator: None if initiator is view
                        else refresh(changes))
