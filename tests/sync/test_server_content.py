"""What the server keeps: nothing of a deleted meeting but its tombstone, no copies of rows in
the retry log, nothing malformed, and no retry log older than a month (per user, so a device
that stopped syncing leaves nothing behind). Read straight from the server's tables."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from app.store.queries import delete_meeting

from .devices import Device

pytestmark = pytest.mark.postgres

WORDS = ("Nightingale", "redundancies", "Tallis-Morrow", "severance", "ceo@example.test",
         "Quietly tell")


def _server_text(dsn: str, user_id: str) -> tuple[str, str]:
    """Everything the server holds for the user, as text: rows, and the retry log."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("select coalesce(json_agg(r)::text, '') from public.recap_rows r"
                            " where user_id = %s", (user_id,)).fetchone()
        log = conn.execute("select coalesce(json_agg(m)::text, '') from public.recap_mutations m"
                           " where user_id = %s", (user_id,)).fetchone()
    assert rows is not None and log is not None
    return rows[0], log[0]


def _as_user(dsn: str, user_id: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn.replace("user=postgres", "user=authenticator"), autocommit=True)
    conn.execute("select set_config('role', 'authenticated', false),"
                 " set_config('request.jwt.claims', %s, false)",
                 (json.dumps({"sub": user_id, "role": "authenticated"}),))
    return conn


def _push(conn: psycopg.Connection[Any], device: str, mutations: list[Any]) -> Any:
    row = conn.execute("select public.recap_push(%s, now(), %s)",
                       (device, Jsonb(mutations))).fetchone()
    assert row is not None
    return row[0]


def _mutation(**overrides: Any) -> dict[str, Any]:
    return {"mutation_id": uuid.uuid4().hex, "kind": "meeting", "id": str(uuid.uuid4()),
            "base_version": 0, "deleted": False, "updated_at": "2026-03-01T10:00:00+00:00",
            "data": {"title": "fine"}, **overrides}


def test_a_deleted_meeting_leaves_only_an_empty_tombstone_on_the_server(
        tmp_path: Path, server: Any, pg_dsn: str, user: dict[str, Any]) -> None:
    a = Device(tmp_path, "a", server, user)
    b = Device(tmp_path, "b", server, user)
    mid = a.add_meeting("Project Nightingale", items=2)
    a.edit("meeting", mid, summary="We discussed the redundancies at Tallis-Morrow.",
           decisions=["severance of three months"])
    with a.db.session() as s:
        from sqlalchemy import select

        from app.store.models import ActionItem, EmailDraft

        draft = s.scalars(select(EmailDraft).where(EmailDraft.meeting_id == mid)).one()
        draft.recipients, draft.body = "ceo@example.test", "Quietly tell the team leads."
        for item in s.scalars(select(ActionItem).where(ActionItem.meeting_id == mid)):
            item.text = f"Quietly tell {item.owner} about Nightingale"
    a.sync()
    b.sync()
    rows, _ = _server_text(pg_dsn, user["id"])
    assert all(word in rows for word in WORDS)  # the control: it was all there

    delete_meeting(a.db, mid)  # the app's delete: the meeting and everything in it
    a.sync()
    rows, log = _server_text(pg_dsn, user["id"])
    assert [w for w in WORDS if w in rows] == []
    assert [w for w in WORDS if w in log] == []
    b.sync()
    assert b.get("meeting", mid)["deleted"] is True  # type: ignore[index]
    a.close()
    b.close()


def test_a_tombstone_from_an_older_client_is_emptied_by_the_server(
        pg_dsn: str, user: dict[str, Any]) -> None:
    row_id = str(uuid.uuid4())
    with _as_user(pg_dsn, user["id"]) as conn:
        _push(conn, "dev-old", [_mutation(id=row_id, data={"title": "Nightingale"})])
        _push(conn, "dev-old", [_mutation(id=row_id, base_version=1, deleted=True,
                                          data={"title": "Nightingale", "summary": "x"})])
        (row,) = conn.execute("select public.recap_pull(0)").fetchone()[0]["rows"]  # type: ignore[index]
    assert row["deleted"] is True and row["data"] == {}
    rows, log = _server_text(pg_dsn, user["id"])
    assert "Nightingale" not in rows and "Nightingale" not in log


def test_the_retry_log_keeps_no_copy_of_a_winning_row(pg_dsn: str,
                                                      user: dict[str, Any]) -> None:
    row_id = str(uuid.uuid4())
    with _as_user(pg_dsn, user["id"]) as conn:
        _push(conn, "dev-a", [_mutation(id=row_id, data={"title": "Nightingale, first"})])
        _push(conn, "dev-a", [_mutation(id=row_id, base_version=1,
                                        updated_at="2026-03-01T12:00:00+00:00",
                                        data={"title": "Nightingale, the winner"})])
        loser = _mutation(id=row_id, base_version=1, data={"title": "an older edit"})
        (first,) = _push(conn, "dev-b", [loser])["results"]
        (again,) = _push(conn, "dev-b", [loser])["results"]  # the answer was lost: a retry
    assert not first["accepted"] and first["row"]["data"]["title"] == "Nightingale, the winner"
    assert again == first  # the same answer, the row read afresh
    _, log = _server_text(pg_dsn, user["id"])
    assert "Nightingale" not in log


def test_the_retry_log_is_pruned_per_user_even_for_a_device_that_stopped_syncing(
        pg_dsn: str, user: dict[str, Any]) -> None:
    with _as_user(pg_dsn, user["id"]) as conn:
        _push(conn, "dev-gone", [_mutation() for _ in range(3)])
    with psycopg.connect(pg_dsn, autocommit=True) as admin:  # ...and then 40 days passed
        admin.execute("update public.recap_mutations set created_at = now() - interval '40 days'"
                      " where user_id = %s", (user["id"],))
    with _as_user(pg_dsn, user["id"]) as conn:
        _push(conn, "dev-still-here", [_mutation()])
    with psycopg.connect(pg_dsn) as admin:
        left = admin.execute("select device_id from public.recap_mutations where user_id = %s",
                             (user["id"],)).fetchall()
    assert left == [("dev-still-here",)]


@pytest.mark.parametrize(("mutation", "why"), [
    (_mutation(data="Nightingale"), "data that is not an object"),
    (_mutation(data=["Nightingale"]), "data that is not an object"),
    (_mutation(data={"title": "Nightingale", "segments": ["x" * 4_300_000]}),
     "larger than 4 MB"),
    (_mutation(id="Nightingale"), "no id"),
    (_mutation(updated_at="next tuesday"), "no updated_at"),
    (_mutation(base_version="2"), "no base_version"),
    (_mutation(deleted="no"), "no deleted flag"),
    (_mutation(kind="nightingale"), "unknown kind"),
])
def test_a_malformed_mutation_refuses_its_batch_and_stores_nothing(
        pg_dsn: str, user: dict[str, Any], mutation: dict[str, Any], why: str) -> None:
    with _as_user(pg_dsn, user["id"]) as conn:
        with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
            _push(conn, "dev", [_mutation(), mutation])
        message = str(refused.value)
        assert "mutation 2" in message and why in message
        assert "Nightingale" not in message and "next tuesday" not in message  # not quoted
        assert conn.execute("select public.recap_pull(0)").fetchone()[0]["rows"] == []  # type: ignore[index]


def test_the_table_itself_refuses_a_payload_that_is_not_an_object(
        pg_dsn: str, user: dict[str, Any]) -> None:
    with psycopg.connect(pg_dsn) as admin, pytest.raises(psycopg.errors.CheckViolation):
        admin.execute(
            "insert into public.recap_rows (user_id, id, kind, version, updated_at, device_id,"
            " data, seq) values (%s, gen_random_uuid(), 'meeting', 1, now(), 'x', '\"a\"', 1)",
            (user["id"],))
