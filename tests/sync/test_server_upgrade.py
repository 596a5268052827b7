"""An existing deployment re-runs the SQL: the project made with the previous release's file
(kept in tests/supabase_standin/released/) keeps every live row, loses the content its
tombstones and retry log held, is closed to direct access, and syncs on where it left off.
Running the file again changes nothing more."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.supabase_standin.fixtures import ADMIN_DSN, AUTH_SCHEMA, supabase_sql_files

pytestmark = pytest.mark.postgres

RELEASED = Path(__file__).parents[1] / "supabase_standin" / "released" / "0001_recap_sync.sql"


@pytest.fixture
def old_project() -> Iterator[str]:
    name = f"recap_sync_upgrade_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(AUTH_SCHEMA.read_text())
            conn.execute(RELEASED.read_text())
        yield dsn
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def _as_user(dsn: str, user_id: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn.replace("user=postgres", "user=authenticator"), autocommit=True)
    conn.execute("select set_config('role', 'authenticated', false),"
                 " set_config('request.jwt.claims', %s, false)",
                 (json.dumps({"sub": user_id, "role": "authenticated"}),))
    return conn


def _push(conn: psycopg.Connection[Any], device: str, mutations: list[dict[str, Any]]) -> Any:
    row = conn.execute("select public.recap_push(%s, now(), %s)",
                       (device, Jsonb(mutations))).fetchone()
    assert row is not None
    return row[0]


def _m(row_id: str, data: dict[str, Any], base: int = 0, deleted: bool = False,
       stamp: str = "2026-03-01T10:00:00+00:00") -> dict[str, Any]:
    return {"mutation_id": uuid.uuid4().hex, "kind": "meeting", "id": row_id,
            "base_version": base, "deleted": deleted, "updated_at": stamp, "data": data}


def test_rerunning_the_sql_upgrades_a_project_made_by_the_previous_release(
        old_project: str) -> None:
    with psycopg.connect(old_project, autocommit=True) as admin:
        user_id = str(admin.execute("insert into auth.users (email, encrypted_password)"
                                    " values ('u@example.test', 'x') returning id").fetchone()[0])  # type: ignore[index]
    live, gone, fought = (str(uuid.uuid4()) for _ in range(3))
    with _as_user(old_project, user_id) as conn:
        _push(conn, "dev-a", [_m(live, {"title": "Roadmap"}), _m(gone, {"title": "Layoffs"}),
                              _m(fought, {"title": "first"})])
        _push(conn, "dev-a", [_m(gone, {"title": "Layoffs", "summary": "who goes"}, base=1,
                                 deleted=True)])  # the old client's tombstone kept content
        _push(conn, "dev-a", [_m(fought, {"title": "Layoffs, the winner"}, base=1,
                                 stamp="2026-03-01T12:00:00+00:00")])
        _push(conn, "dev-b", [_m(fought, {"title": "the loser"}, base=1)])  # a copy in the log

    with psycopg.connect(old_project, autocommit=True) as admin:
        for _ in range(2):  # the update, and running it once more
            for path in supabase_sql_files():
                admin.execute(path.read_text())
        rows = {str(r[0]): (r[1], r[2], r[3]) for r in admin.execute(
            "select id, deleted, data, version from public.recap_rows").fetchall()}
        log = admin.execute("select coalesce(json_agg(result)::text, '') from"
                            " public.recap_mutations").fetchone()[0]  # type: ignore[index]
    assert rows[live] == (False, {"title": "Roadmap"}, 1)
    assert rows[gone] == (True, {}, 2)
    assert rows[fought] == (False, {"title": "Layoffs, the winner"}, 2)
    assert "Layoffs" not in log and "who goes" not in log

    with _as_user(old_project, user_id) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("truncate public.recap_rows")
        result = _push(conn, "dev-a", [_m(live, {"title": "Roadmap, edited"}, base=1)])
        assert result["results"][0]["accepted"] and result["seq_before"] == 5
        pulled = conn.execute("select public.recap_pull(0)").fetchone()[0]["rows"]  # type: ignore[index]
    assert [r["seq"] for r in pulled] == [4, 5, 6]  # in order, nothing skipped
