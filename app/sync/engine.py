"""One sync round: push the outbox in batches, then pull what changed (applied by
``app.sync.apply``).

The server decides conflicts (see ``migrations/supabase``); this side keeps whatever lost in
``row_history`` so nothing is lost, and never holds a write transaction across a network
call: each batch is read in one short transaction, sent, and its answer written in another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.store.db import Database
from app.store.models import Segment, utcnow
from app.store.sync_models import ParkedRow, RowHistory, SyncedRow, SyncState
from app.store.tracking import remote_apply
from app.sync import outbox, set_aside
from app.sync.apply import PulledRows, RoundReport
from app.sync.clock import ClockOffset
from app.sync.errors import ServerRejected
from app.sync.outbox import Mutation
from app.sync.payload import KINDS, apply, to_json
from app.sync.validate import Unusable, check_row

log = logging.getLogger(__name__)

# What a server answers when it has no recap_push taking p_clock_offset (PostgREST, PostgreSQL).
_NO_SUCH_FUNCTION = {"PGRST202", "42883"}
_LAST_SEQ = 2**63 - 1  # the largest bigint: a pull after it returns only the server's time


class Rpc(Protocol):
    """What the engine needs from the server connection (``app.sync.client``)."""

    def user_id(self) -> str: ...

    def call(self, fn: str, params: dict[str, Any]) -> Any: ...


class SyncEngine:
    def __init__(
        self,
        db: Database,
        rpc: Rpc,
        device_id: str,
        batch_size: int = 500,
        page_size: int = 500,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.rpc = rpc
        self.device_id = device_id
        self.batch_size = batch_size
        self.page_size = page_size
        self.clock = clock
        self.pulled = PulledRows(clock)
        self.clock_offset = ClockOffset(clock)
        self._server_takes_offset = True  # False: its SQL predates p_clock_offset
        self._clock_restored = False

    # --- status -----------------------------------------------------------------------

    def pending_count(self) -> int:
        with self.db.session() as session:
            return outbox.pending_count(session)

    def state(self) -> SyncState:
        with self.db.session() as session:
            return _state(session)

    def record_error(self, message: str) -> None:
        with self.db.session() as session:
            _state(session).last_error = message

    # --- the round --------------------------------------------------------------------

    def run_round(self, full: bool = False) -> RoundReport:
        """Push what is pending, then pull what changed. ``full`` pulls every row again from
        the start and makes each local row not edited here equal to the server's, whatever
        this device thought it had (rows set aside earlier are tried again too)."""
        started = time.monotonic()
        report = RoundReport()
        user = self.rpc.user_id()
        self._adopt_user(user)
        self._restore_clock()
        self._push_all(report)
        if full:
            with self.db.session() as session:
                _state(session).cursor = 0
        self._pull_all(report, full)
        with self.db.session() as session:
            state = _state(session)
            state.last_synced_at = self.clock()
            state.last_error = ""
            state.clock_sample = self.clock_offset.saved()
            report.pending = outbox.pending_count(session)
        report.seconds = time.monotonic() - started
        log.info("sync round: %s", report)
        return report

    def _adopt_user(self, user: str) -> None:
        """Another account than last time: start over (push everything, pull from zero)."""
        with self.db.session() as session:
            state = _state(session)
            if state.user_id == user:
                return
            if state.user_id:
                log.warning("sync account changed; resyncing everything with the new one")
                session.execute(delete(SyncedRow))
                session.execute(delete(ParkedRow))
                for model in (*KINDS.values(), Segment):
                    session.execute(model.__table__.update().values(synced_at=None))  # type: ignore[attr-defined]
            state.user_id = user
            state.cursor = 0
            state.clock_sample = None  # another account may live on another server

    def _restore_clock(self) -> None:
        """A new engine starts with the measurement an earlier one kept, if still valid."""
        if self._clock_restored:
            return
        self._clock_restored = True
        with self.db.session() as session:
            restored = self.clock_offset.restore(_state(session).clock_sample)
        log.debug("kept clock measurement %s", "restored" if restored else "absent or void")

    def _push_all(self, report: RoundReport) -> None:
        """Push the outbox batch by batch. While the server works on one batch, the next is
        read here (its rows are others: the batch in flight stays pending until settled), so
        a first sync of thousands of rows waits on the server and on SQLite at once."""
        with self.db.session() as session:
            budget = outbox.pending_count(session) + 3  # each batch carries at least one row
            batch = outbox.collect(session, self.batch_size)
        if not batch:
            return
        self._time_the_server()
        with ThreadPoolExecutor(1, thread_name_prefix="recap-sync-push") as sender:
            for _ in range(budget):  # rows edited while in flight come back; never loop forever
                sending = sender.submit(self._push, batch)
                with self.db.session() as session:
                    following = outbox.collect(session, self.batch_size,
                                               skip={m.id for m in batch})
                answer = sending.result()
                results = (answer or {}).get("results") or []
                if len(results) != len(batch):
                    raise ServerRejected("the push answer does not match the batch")
                self._settle(batch, results, report, answer)
                if not following:  # last batch: anything edited while it was in flight?
                    with self.db.session() as session:
                        following = outbox.collect(session, self.batch_size)
                batch = following
                if not batch:
                    return

    def _time_the_server(self) -> None:
        """Nothing measured (a first sync, or the kept measurement is void): time a pull that
        returns no rows first, so the push is not corrected by a one-way figure that counts its
        own latency, seconds on a slow network, enough to misorder edits a second apart."""
        if self._server_takes_offset and self.clock_offset.estimate() is None:
            self.clock_offset.exchange(
                self.rpc.call, "recap_pull", {"p_after": _LAST_SEQ, "p_limit": 1}
            )

    def _push(self, batch: list[Mutation]) -> Any:
        params: dict[str, Any] = {
            "p_device": self.device_id,
            "p_mutations": [m.wire() for m in batch],
        }
        offset = self.clock_offset.estimate() if self._server_takes_offset else None
        if offset is not None:
            params["p_clock_offset"] = offset
        params["p_client_now"] = to_json(self.clock())
        try:
            return self.clock_offset.exchange(self.rpc.call, "recap_push", params)
        except ServerRejected as exc:
            if offset is None or exc.code not in _NO_SUCH_FUNCTION:
                raise
        # A server whose SQL is older than this app refuses the parameter: push as before
        # (corrected by the one-way measurement) and say how to get the better correction.
        del params["p_clock_offset"]
        params["p_client_now"] = to_json(self.clock())
        answer = self.rpc.call("recap_push", params)
        self._server_takes_offset = False
        log.warning(
            "the sync server's SQL predates p_clock_offset; apply migrations/supabase "
            "again so edits made close together are ordered by when they were made"
        )
        return answer

    def _settle(
        self, batch: list[Mutation], results: list[dict[str, Any]], report: RoundReport,
        answer: dict[str, Any],
    ) -> None:
        now = self.clock()
        acked: list[tuple[Mutation, int]] = []
        lost: list[tuple[Mutation, dict[str, Any]]] = []
        after: list[dict[str, Any]] = []
        for mutation, result in zip(batch, results, strict=True):
            report.pushed += 1
            row = result["row"]
            if result["accepted"]:
                report.accepted += 1
                acked.append((mutation, int(result["version"])))
                if int(row["version"]) > int(result["version"]) and not mutation.forget:
                    after.append(row)  # replayed answer: the row moved on since
            else:
                report.rejected += 1
                lost.append((mutation, row))
        with self.db.session() as session, remote_apply(session):
            outbox.mark_acknowledged(session, acked, now)
            for mutation, row in lost:
                try:
                    check_row(row)
                except Unusable as exc:  # the winner cannot be applied here: ours stays
                    set_aside.set_aside(session, row, str(exc))
                    report.set_aside += 1
                    continue
                report.kept_in_history += self._lose(session, mutation, row, now)
            if after:
                self.pulled.apply_page(session, after, report)
            state = _state(session)
            before, upto = answer.get("seq_before"), answer.get("seq_after")
            if isinstance(before, int) and isinstance(upto, int) and before == state.cursor:
                # Every change up to `upto` is this push's own: no need to pull it back.
                state.cursor = upto

    def _lose(
        self, session: Session, mutation: Mutation, winner: dict[str, Any], now: datetime
    ) -> int:
        """Our edit lost: keep it in history, and take the winner unless edited meanwhile."""
        if mutation.forget:
            # A withdrawal lost to an edit made elsewhere: the local copy stays as it is;
            # the next round withdraws again, now based on the winning version.
            outbox.set_bases(
                session,
                [{"b_kind": mutation.kind, "b_id": mutation.id, "b_v": int(winner["version"])}],
            )
            return 0
        kept = 0
        if not (mutation.deleted == winner["deleted"] and mutation.data == winner["data"]):
            session.add(
                RowHistory(
                    kind=mutation.kind,
                    row_id=mutation.id,
                    reason="lost",
                    version=mutation.local_version,
                    device_id=self.device_id,
                    deleted=mutation.deleted,
                    data=mutation.data,
                    winner_device_id=winner["device_id"],
                )
            )
            kept = 1
        model = KINDS[mutation.kind]
        obj = session.get(model, mutation.id)
        unchanged = (
            obj is not None
            and obj.version == mutation.local_version
            and all(
                session.get(Segment, sid) is not None and session.get(Segment, sid).version == v  # type: ignore[union-attr]
                for sid, v in mutation.segment_versions.items()
            )
        )
        if unchanged:
            apply(session, mutation.kind, obj, winner, now)
            outbox.set_bases(
                session,
                [{"b_kind": mutation.kind, "b_id": mutation.id, "b_v": int(winner["version"])}],
            )
        return kept

    def _pull_all(self, report: RoundReport, full: bool = False) -> None:
        while True:
            with self.db.session() as session:
                cursor = _state(session).cursor
            page = self.clock_offset.exchange(
                self.rpc.call, "recap_pull", {"p_after": cursor, "p_limit": self.page_size}
            )
            rows: list[Any] = (page or {}).get("rows") or []
            if not rows:
                return
            report.pulled += len(rows)
            seqs = [r["seq"] for r in rows if isinstance(r, dict) and isinstance(r.get("seq"), int)]
            if not seqs or max(seqs) <= cursor:
                raise ServerRejected("the server sent changes without a valid position")
            with self.db.session() as session, remote_apply(session):
                self.pulled.apply_page(session, rows, report, full)
                _state(session).cursor = max(seqs)
            if len(rows) < self.page_size:
                return

def _state(session: Session) -> SyncState:
    state = session.get(SyncState, 1)
    if state is None:
        state = SyncState(id=1, user_id="", cursor=0, last_error="")
        session.add(state)
        session.flush()
    return state
