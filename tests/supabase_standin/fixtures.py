"""Fixtures for tests that talk to the Supabase stand-in: a throwaway PostgreSQL database
carrying our Supabase SQL, the stand-in server in front of it, and users. A conftest that
needs them imports them by name (the in-memory keychain comes from the top-level conftest).

PostgreSQL is required: without it these tests fail with the fix, they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.paths import migrations_path
from app.settings import SyncSettings
from tests.supabase_standin.server import StandIn

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
AUTH_SCHEMA = Path(__file__).with_name("auth_schema.sql")


def require_postgres() -> None:
    try:
        psycopg.connect(ADMIN_DSN).close()
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at 127.0.0.1:5432 (user postgres, trust) is required for "
            f"these tests and is not reachable: {exc}. Start it (`.ci/run` does)."
        )


def supabase_sql_files() -> list[Path]:
    return sorted((migrations_path() / "supabase").glob("*.sql"))


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A database for this test session, with Supabase's auth slice and our SQL applied."""
    require_postgres()
    name = f"recap_sync_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(AUTH_SCHEMA.read_text())
            for path in supabase_sql_files():
                conn.execute(path.read_text())
        yield dsn
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def server(pg_dsn: str) -> Iterator[StandIn]:
    standin = StandIn(pg_dsn).start()
    yield standin
    standin.stop()


@pytest.fixture(autouse=True)
def _calm_server(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with a well-behaved server."""
    yield
    if "server" in request.fixturenames:
        standin: StandIn = request.getfixturevalue("server")
        standin.faults.rate = 0.0
        standin.faults.forced.clear()
        standin.on_rpc = None
        standin.access_ttl_s = 3600.0


@pytest.fixture
def user(server: StandIn) -> dict[str, Any]:
    """A fresh Supabase user (every test gets its own, so tests never see each other's rows)."""
    email = f"u{uuid.uuid4().hex[:10]}@example.test"
    password = "correct horse battery staple"
    user_id = server.create_user(email, password)
    return {"email": email, "password": password, "id": user_id}


@pytest.fixture
def sync_settings(server: StandIn, user: dict[str, Any]) -> SyncSettings:
    return SyncSettings(
        enabled=True,
        supabase_url=server.url,
        supabase_anon_key=server.anon_key,
        email=user["email"],
    )
