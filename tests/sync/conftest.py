"""Fixtures for the sync tests: the Supabase stand-in on a throwaway PostgreSQL database, and
users (shared with the GUI tests, in tests/supabase_standin)."""

from tests.llm.leaks import leaks, proxy_env  # noqa: F401
from tests.supabase_standin.fixtures import (  # noqa: F401 (fixtures are found by name)
    _calm_server,
    pg_dsn,
    server,
    sync_settings,
    user,
)
