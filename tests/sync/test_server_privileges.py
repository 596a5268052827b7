"""What a signed-in user can do to the server tables with their own token, outside the app.

On a real project every new table in `public` starts with every privilege granted to `anon`
and `authenticated` (the stand-in's bootstrap reproduces Supabase's default privileges), and
TRUNCATE ignores row-level security. Here a user connects as PostgREST would, with their own
JWT claims, and tries what any holder of the anon key and a password could: wipe the table,
delete rows, move their change cursor back, and push stale writes after a hard delete."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.supabase_standin.fixtures import supabase_sql_files

pytestmark = pytest.mark.postgres

TABLES = ("recap_rows", "recap_cursors", "recap_mutations")


def _as_user(dsn: str, user_id: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn.replace("user=postgres", "user=authenticator"), autocommit=True)
    conn.execute("select set_config('role', 'authenticated', false),"
                 " set_config('request.jwt.claims', %s, false)",
                 (json.dumps({"sub": user_id, "role": "authenticated"}),))
    return conn


def _push(conn: psycopg.Connection[Any], device: str,
          mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    row = conn.execute("select public.recap_push(%s, now(), %s)",
                       (device, Jsonb(mutations))).fetchone()
    assert row is not None
    return row[0]["results"]  # type: ignore[no-any-return]


def _pull(conn: psycopg.Connection[Any], after: int = 0) -> list[dict[str, Any]]:
    row = conn.execute("select public.recap_pull(%s, 1000)", (after,)).fetchone()
    assert row is not None
    return row[0]["rows"]  # type: ignore[no-any-return]


def _edit(row_id: str, title: str, base: int = 0, stamp: str = "2026-03-01T10:00:00+00:00",
          deleted: bool = False) -> dict[str, Any]:
    return {"mutation_id": uuid.uuid4().hex, "kind": "meeting", "id": row_id,
            "base_version": base, "deleted": deleted, "updated_at": stamp,
            "data": {} if deleted else {"title": title}}


def _count(dsn: str, table: str, user_id: str) -> int:
    with psycopg.connect(dsn) as admin:
        row = admin.execute(f"select count(*) from public.{table} where user_id = %s",
                            (user_id,)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def other(server: Any) -> dict[str, Any]:
    email = f"o{uuid.uuid4().hex[:10]}@example.test"
    return {"email": email, "id": server.create_user(email, "pw")}


def test_one_user_cannot_truncate_or_delete_anyones_rows(
        pg_dsn: str, user: dict[str, Any], other: dict[str, Any]) -> None:
    for who in (user, other):
        with _as_user(pg_dsn, who["id"]) as conn:
            _push(conn, "dev", [_edit(str(uuid.uuid4()), f"{who['email']}'s notes")])
    mine = _pull(_as_user(pg_dsn, user["id"]))[0]["id"]
    with _as_user(pg_dsn, user["id"]) as conn:
        for table in TABLES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"truncate public.{table}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"delete from public.{table}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from public.recap_rows where id = %s", (mine,))
    for who in (user, other):  # everything is still there, for both users
        assert _count(pg_dsn, "recap_rows", who["id"]) == 1
        assert _count(pg_dsn, "recap_mutations", who["id"]) == 1
        assert _count(pg_dsn, "recap_cursors", who["id"]) == 1


def test_even_with_privileges_granted_again_delete_and_truncate_are_refused(
        pg_dsn: str, user: dict[str, Any]) -> None:
    """A project owner who grants the tables back (a common 'fix' for permission errors)
    still cannot lose rows to a client: no policy lets a DELETE see a row, and a trigger
    refuses TRUNCATE (which ignores policies) by the API roles."""
    with _as_user(pg_dsn, user["id"]) as conn:
        _push(conn, "dev", [_edit(str(uuid.uuid4()), "kept")])
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("grant all on public.recap_rows to authenticated")
        try:
            with _as_user(pg_dsn, user["id"]) as conn:
                assert conn.execute("delete from public.recap_rows").rowcount == 0
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="never deleted"):
                    conn.execute("truncate public.recap_rows")
        finally:
            for path in supabase_sql_files():  # as the README says: re-running puts it right
                admin.execute(path.read_text())
    assert _count(pg_dsn, "recap_rows", user["id"]) == 1


def test_deleting_an_account_still_removes_its_rows(pg_dsn: str, server: Any) -> None:
    email = f"gone{uuid.uuid4().hex[:8]}@example.test"
    user_id = server.create_user(email, "pw")
    with _as_user(pg_dsn, user_id) as conn:
        _push(conn, "dev", [_edit(str(uuid.uuid4()), "to be erased with the account")])
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        # As Supabase's auth service does it: a role that may delete users and owns nothing
        # of ours (the cascade runs as our tables' owner, which the trigger lets through).
        admin.execute("do $$ begin if not exists (select 1 from pg_roles"
                      " where rolname = 'recap_test_auth_admin') then"
                      " create role recap_test_auth_admin nologin; end if; end $$")
        admin.execute("grant usage on schema auth to recap_test_auth_admin")
        admin.execute("grant select, delete on auth.users to recap_test_auth_admin")
        with admin.transaction():
            admin.execute("set local role recap_test_auth_admin")
            admin.execute("delete from auth.users where id = %s", (user_id,))
    assert [_count(pg_dsn, t, user_id) for t in TABLES] == [0, 0, 0]


def test_a_user_cannot_read_or_write_the_tables_directly(pg_dsn: str,
                                                         user: dict[str, Any]) -> None:
    with _as_user(pg_dsn, user["id"]) as conn:
        _push(conn, "dev", [_edit(str(uuid.uuid4()), "through the functions only")])
        for statement in ("select * from public.recap_rows",
                          "select * from public.recap_mutations",
                          "update public.recap_cursors set last_seq = 0",
                          "update public.recap_rows set data = '{}'",
                          "insert into public.recap_cursors (user_id) values (gen_random_uuid())"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        assert [r["data"] for r in _pull(conn)] == [{"title": "through the functions only"}]
    with psycopg.connect(pg_dsn) as admin:
        granted = admin.execute(
            "select has_function_privilege('anon', 'public.recap_pull(bigint, integer)',"
            " 'execute'), has_function_privilege('anon', 'public.recap_push(text,"
            " timestamptz, jsonb, double precision)', 'execute'),"
            " has_function_privilege('authenticated',"
            " 'public.recap_row_json(public.recap_rows)', 'execute')").fetchone()
    assert granted == (False, False, False)


def test_moving_the_change_cursor_back_cannot_make_pulls_skip_rows(
        pg_dsn: str, user: dict[str, Any]) -> None:
    with _as_user(pg_dsn, user["id"]) as conn:
        _push(conn, "dev-a", [_edit(str(uuid.uuid4()), "first")])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update public.recap_cursors set last_seq = 0")
        _push(conn, "dev-a", [_edit(str(uuid.uuid4()), "second")])
        assert [r["data"]["title"] for r in _pull(conn)] == ["first", "second"]
        assert [r["seq"] for r in _pull(conn)] == [1, 2]


def test_a_stale_push_after_a_hard_delete_is_a_conflict_not_a_silent_overwrite(
        pg_dsn: str, user: dict[str, Any]) -> None:
    row_id = str(uuid.uuid4())
    with _as_user(pg_dsn, user["id"]) as conn:
        _push(conn, "dev-a", [_edit(row_id, "v1")])
        _push(conn, "dev-a", [_edit(row_id, "v2", base=1)])  # both devices then hold v2
    with psycopg.connect(pg_dsn, autocommit=True) as admin:  # the row is lost on the server
        admin.execute("delete from public.recap_rows where id = %s", (row_id,))
    with _as_user(pg_dsn, user["id"]) as conn:
        (a,) = _push(conn, "dev-a", [_edit(row_id, "A's edit, made later", base=2,
                                           stamp="2026-03-01T11:00:00+00:00")])
        assert a["accepted"] and a["version"] > 2  # versions never go back
        (b,) = _push(conn, "dev-b", [_edit(row_id, "B's edit, made earlier", base=2,
                                           stamp="2026-03-01T10:30:00+00:00")])
        # B had not seen A's write: a conflict, settled by the rule (A's is later), and B
        # gets the winner back so its own version goes to its history.
        assert not b["accepted"]
        assert b["row"]["data"] == {"title": "A's edit, made later"}
        (c,) = _push(conn, "dev-c", [_edit(row_id, "C's edit, based on a future", base=9,
                                           stamp="2026-03-01T10:45:00+00:00")])
        assert not c["accepted"]  # a base above the server's version is a conflict too
        (final,) = [r for r in _pull(conn) if r["id"] == row_id]
    assert final["data"] == {"title": "A's edit, made later"}
