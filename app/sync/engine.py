"""One sync round: push the outbox in batches, then pull and apply what changed.

The server decides conflicts (see ``migrations/supabase``); this side keeps whatever lost in
``row_history`` so nothing is lost, and never holds a write transaction across a network
call: each batch is read in one short transaction, sent, and its answer written in another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from app.store.db import Database
from app.store.models import Meeting, Segment, SyncedMixin, utcnow
from app.store.sync_models import ParkedRow, RowHistory, SyncedRow, SyncState
from app.store.tracking import remote_apply
from app.sync import outbox, set_aside
from app.sync.clock import ClockOffset
from app.sync.errors import ServerRejected, SyncError
from app.sync.outbox import Mutation
from app.sync.payload import KINDS, apply, meeting_id_of, same_content, serialize, to_json
from app.sync.validate import Unusable, check_row, describe

log = logging.getLogger(__name__)

# What a server answers when it has no recap_push taking p_clock_offset (PostgREST, PostgreSQL).
_NO_SUCH_FUNCTION = {"PGRST202", "42883"}
_LAST_SEQ = 2**63 - 1  # the largest bigint: a pull after it returns only the server's time


class Rpc(Protocol):
    """What the engine needs from the server connection (``app.sync.client``)."""

    def user_id(self) -> str: ...

    def call(self, fn: str, params: dict[str, Any]) -> Any: ...


@dataclass
class RoundReport:
    pushed: int = 0
    accepted: int = 0
    rejected: int = 0
    pulled: int = 0
    applied: int = 0
    kept_in_history: int = 0
    set_aside: int = 0
    pending: int = 0
    seconds: float = 0.0

    def add(self, other: RoundReport) -> None:
        self.applied += other.applied
        self.kept_in_history += other.kept_in_history
        self.set_aside += other.set_aside


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
                self._apply_page(session, after, report)
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
                self._apply_page(session, rows, report, full)
                _state(session).cursor = max(seqs)
            if len(rows) < self.page_size:
                return

    def _apply_page(
        self, session: Session, rows: list[Any], report: RoundReport, full: bool = False
    ) -> None:
        """Apply pulled rows. One that fails its checks, or fails to apply here, is set aside
        (listed in ``recap sync --status``) and the others go in: one bad row must not stop
        every later pull. The page goes in whole when it can (one savepoint); only when that
        fails is each row tried in its own savepoint."""
        good: list[dict[str, Any]] = []
        for row in rows:
            try:
                good.append(check_row(row))
            except Unusable as exc:
                set_aside.set_aside(session, row, str(exc))
                report.set_aside += 1
        if good and not self._try_apply(session, good, report, full):
            for row in good:
                if not self._try_apply(session, [row], report, full):
                    report.set_aside += 1
        self._unpark(session, report)

    def _try_apply(self, session: Session, rows: list[dict[str, Any]], report: RoundReport,
                   full: bool) -> bool:
        """Apply rows in one savepoint; on failure roll it back (and set a single row aside)."""
        scratch = RoundReport()
        try:
            with session.begin_nested():
                self._apply_rows(session, rows, scratch, full)
                set_aside.clear(session, [r["id"] for r in rows])
        except (OperationalError, SyncError):
            raise  # the database is busy or gone, or sync stopped: not the row's fault
        except Exception as exc:
            if len(rows) == 1:
                set_aside.set_aside(session, rows[0], describe(exc))
            else:
                log.info("a page of %d rows did not apply at once (%s); one by one",
                         len(rows), type(exc).__name__)
            return False
        report.add(scratch)
        return True

    def _apply_rows(
        self, session: Session, rows: list[dict[str, Any]], report: RoundReport,
        full: bool = False,
    ) -> None:
        now = self.clock()
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_kind.setdefault(row["kind"], []).append(row)
        bases: list[dict[str, Any]] = []
        meetings: dict[str, Meeting | None] = {}
        # No autoflush: a lookup must not flush everything applied so far (quadratic).
        with session.no_autoflush:
            for kind in ("meeting", "email_draft", "action_item"):
                batch = by_kind.get(kind, [])
                if not batch:
                    continue
                locals_ = _load(session, kind, [r["id"] for r in batch])
                known = outbox._bases(session, kind, [r["id"] for r in batch])
                if kind == "meeting":
                    meetings.update(locals_)  # type: ignore[arg-type]
                else:
                    wanted = {_owner_id(kind, r, locals_.get(r["id"])) for r in batch}
                    meetings.update(_owners(session, wanted - meetings.keys()))
                for row in batch:
                    obj = self._apply_one(
                        session,
                        kind,
                        locals_.get(row["id"]),
                        known.get(row["id"], 0),
                        row,
                        now,
                        report,
                        meetings,
                        full,
                    )
                    if obj is not None:
                        bases.append(
                            {"b_kind": kind, "b_id": row["id"], "b_v": int(row["version"])}
                        )
                        if isinstance(obj, Meeting):
                            meetings[obj.id] = obj
                if kind == "meeting":
                    session.flush()  # drafts have no ORM relationship: insert meetings first
        session.flush()
        outbox.set_bases(session, bases)

    def _apply_one(
        self,
        session: Session,
        kind: str,
        obj: SyncedMixin | None,
        base: int,
        row: dict[str, Any],
        now: datetime,
        report: RoundReport,
        meetings: dict[str, Meeting | None],
        full: bool = False,
    ) -> SyncedMixin | None:
        """Apply one pulled row; returns the local row, or None when it was left alone."""
        # Ours, or older than what we have: left alone, except on a full re-read, where a row
        # not edited here is made equal to the server's even so (or brought back if missing).
        if int(row["version"]) <= base and (
                not full or (obj is not None and (_pending(session, obj)
                                                  or same_content(kind, obj, row)))):
            return None
        if row["deleted"] and obj is None:
            return None  # a tombstone for a row this device never had: nothing to delete
        meeting_id = _owner_id(kind, row, obj)
        owner = meetings.get(meeting_id) if meeting_id is not None else obj
        if meeting_id is not None and owner is None:
            session.merge(
                ParkedRow(row_id=row["id"], kind=kind, meeting_id=meeting_id, payload=row)
            )
            return None  # its meeting has not arrived yet
        if isinstance(owner, Meeting) and owner.local_only:
            return None  # kept on this device only: the local copy stays as it is
        if obj is not None:
            if _pending(session, obj):
                return None  # our next push carries the local edit; the server decides
            if _overridden(base, row) and not same_content(kind, obj, row):
                deleted = obj.deleted_at is not None
                session.add(
                    RowHistory(
                        kind=kind,
                        row_id=obj.id,
                        reason="resurrected" if deleted and not row["deleted"] else "overridden",
                        version=obj.version,
                        device_id=obj.device_id,
                        deleted=deleted,
                        data=serialize(kind, obj),
                        winner_device_id=row["device_id"],
                    )
                )
                report.kept_in_history += 1
        applied = apply(session, kind, obj, row, now)
        report.applied += 1
        return applied

    def _unpark(self, session: Session, report: RoundReport) -> None:
        """Rows parked until their meeting arrived, now that it has."""
        parked = list(
            session.scalars(select(ParkedRow).join(Meeting, Meeting.id == ParkedRow.meeting_id))
        )
        if not parked:
            return
        rows = [p.payload for p in parked]
        for p in parked:
            session.delete(p)
        session.flush()
        self._apply_page(session, rows, report)


def _state(session: Session) -> SyncState:
    state = session.get(SyncState, 1)
    if state is None:
        state = SyncState(id=1, user_id="", cursor=0, last_error="")
        session.add(state)
        session.flush()
    return state


def _load(session: Session, kind: str, ids: list[str]) -> dict[str, SyncedMixin]:
    model = KINDS[kind]
    query = select(model).where(model.id.in_(ids))
    if model is Meeting:
        query = query.options(selectinload(Meeting.segments))
    return {obj.id: obj for obj in session.scalars(query)}


def _owners(session: Session, ids: set[str | None]) -> dict[str, Meeting | None]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    found = {m.id: m for m in session.scalars(select(Meeting).where(Meeting.id.in_(wanted)))}
    return {i: found.get(i) for i in wanted}


def _owner_id(kind: str, row: dict[str, Any], obj: SyncedMixin | None) -> str | None:
    """The meeting a child row belongs to: from its payload, or, for a tombstone (which
    carries no content), from the local row."""
    if kind == "meeting":
        return None
    return meeting_id_of(kind, row) or getattr(obj, "meeting_id", None)


def _pending(session: Session, obj: SyncedMixin) -> bool:
    if obj.synced_at is None:
        return True
    if isinstance(obj, Meeting):
        return any(seg.synced_at is None for seg in obj.segments)
    return False


def _overridden(base: int, row: dict[str, Any]) -> bool:
    """Was the version we hold replaced by a write that had not seen it?"""
    return any(lo <= base < hi for lo, hi in row.get("overridden") or [])
