"""Row-level security: one user can neither read nor change another's rows, whether through
the HTTP API or directly in SQL as the `authenticated` role; anonymous callers get nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
import pytest

from tests.supabase_standin.server import make_jwt

from .devices import Device, server_snapshot

pytestmark = pytest.mark.postgres


@pytest.fixture
def other_user(server: Any) -> dict[str, Any]:
    email = f"b{uuid.uuid4().hex[:10]}@example.test"
    password = "another password"
    return {"email": email, "password": password, "id": server.create_user(email, password)}


def test_user_b_cannot_read_or_change_user_a_rows_over_http(
        tmp_path: Path, server: Any, pg_dsn: str, user: dict[str, Any],
        other_user: dict[str, Any]) -> None:
    a = Device(tmp_path, "a", server, user)
    mid = a.add_meeting("Confidential")
    a.sync()
    before = server_snapshot(pg_dsn, user["id"])
    b = Device(tmp_path, "b", server, other_user)
    b.sync()
    assert b.snapshot() == {}  # nothing of A's arrives
    # B forges a write aimed at A's meeting id.
    answer = b.rpc.call("recap_push", {
        "p_device": "device-b", "p_client_now": "2026-01-01T00:00:00+00:00",
        "p_mutations": [{"mutation_id": "x", "kind": "meeting", "id": mid, "base_version": 0,
                         "deleted": False, "updated_at": "2030-01-01T00:00:00+00:00",
                         "data": {"title": "pwned"}}]})
    assert answer["results"][0]["accepted"] is True  # ...it only ever writes B's own row
    assert server_snapshot(pg_dsn, user["id"]) == before
    a.sync()
    assert a.get("meeting", mid)["title"] == "Confidential"  # type: ignore[index]
    assert b.rpc.call("recap_pull", {"p_after": 0})["rows"][0]["data"] == {"title": "pwned"}
    a.close()
    b.close()


def _as_authenticated(dsn: str, user_id: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn.replace("user=postgres", "user=authenticator"))
    conn.execute("select set_config('role', 'authenticated', true),"
                 " set_config('request.jwt.claims', %s, true)",
                 (json.dumps({"sub": user_id, "role": "authenticated"}),))
    return conn


def test_user_b_cannot_read_or_change_user_a_rows_in_sql(
        tmp_path: Path, server: Any, pg_dsn: str, user: dict[str, Any],
        other_user: dict[str, Any]) -> None:
    """Direct SQL as `authenticated`: the tables are closed to it (only the functions are
    open, and they only ever touch the caller's rows)."""
    a = Device(tmp_path, "a", server, user)
    mid = a.add_meeting("Secret plans")
    a.sync()
    a.close()
    before = server_snapshot(pg_dsn, user["id"])
    for statement, params in (
            ("select count(*) from public.recap_rows", ()),
            ("select count(*) from public.recap_mutations", ()),
            ("update public.recap_rows set data = '{}' where id = %s", (mid,)),
            ("delete from public.recap_rows where id = %s", (mid,)),
            ("insert into public.recap_rows (user_id, id, kind, version, updated_at, device_id,"
             " seq) values (%s, gen_random_uuid(), 'meeting', 1, now(), 'x', 999)", (user["id"],)),
    ):
        with _as_authenticated(pg_dsn, other_user["id"]) as conn, \
                pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement, params)
    assert server_snapshot(pg_dsn, user["id"]) == before
    with _as_authenticated(pg_dsn, other_user["id"]) as conn:  # B's pull: none of A's rows
        assert conn.execute("select public.recap_pull(0)").fetchone()[0]["rows"] == []  # type: ignore[index]
    with _as_authenticated(pg_dsn, user["id"]) as conn:  # A, by contrast, gets its rows
        assert len(conn.execute("select public.recap_pull(0)").fetchone()[0]["rows"]) == 4  # type: ignore[index]


def test_anonymous_and_forged_tokens_are_refused(server: Any) -> None:
    url = f"{server.url}/rest/v1/rpc/recap_pull"
    anon = httpx.post(url, json={"p_after": 0},
                      headers={"apikey": server.anon_key,
                               "Authorization": f"Bearer {server.anon_key}"})
    assert anon.status_code == 401
    assert set(anon.json()) == {"code", "message", "details", "hint"}
    assert anon.json()["code"] == "42501"
    forged = jwt.encode({"sub": str(uuid.uuid4()), "role": "authenticated"}, "x" * 40,
                        algorithm="HS256")
    bad = httpx.post(url, json={"p_after": 0},
                     headers={"apikey": server.anon_key, "Authorization": f"Bearer {forged}"})
    assert bad.status_code == 401 and bad.json()["code"] == "PGRST301"
    expired = make_jwt("authenticated", str(uuid.uuid4()), ttl_s=-10)
    late = httpx.post(url, json={"p_after": 0},
                      headers={"apikey": server.anon_key, "Authorization": f"Bearer {expired}"})
    assert late.status_code == 401 and late.json()["code"] == "PGRST303"
