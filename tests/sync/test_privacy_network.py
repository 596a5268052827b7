"""Sync and the network: privacy mode refuses signing out (it sends the refresh token), a
project off this machine must be https, proxy variables in the environment are ignored, and
a redirect from the server is never followed. Connections are watched by the audit-hook
recorder of ``tests.llm.leaks``: a non-loopback one is refused and fails the test."""

from __future__ import annotations

import io
from typing import Any

import pytest

from app.cli import main
from app.net import NetworkGate, PrivacyBlocked
from app.paths import app_paths
from app.secrets import set_secret
from app.settings import Settings, SyncSettings, save_settings
from app.sync.client import SupabaseRpc
from tests.llm.leaks import FAR_HOST, Leaks, LoopbackServer

from .devices import server_snapshot

pytestmark = pytest.mark.postgres


def _configure(url: str, anon_key: str, email: str, privacy: bool = False) -> None:
    save_settings(Settings(device_id="cli-device", privacy_mode=privacy,
                           sync=SyncSettings(enabled=True, supabase_url=url,
                                             supabase_anon_key=anon_key, email=email)),
                  app_paths().ensure().settings_file)


def _sign_in(password: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["sync", "--sign-in", "--password-stdin"])


def test_signing_out_is_refused_in_privacy_mode_and_keeps_the_sign_in(
        server: Any, user: dict[str, Any], memory_keyring: Any, leaks: Leaks,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(server.url, server.anon_key, user["email"])
    assert _sign_in(user["password"], monkeypatch) == 0
    token = dict(memory_keyring.store)
    _configure(server.url, server.anon_key, user["email"], privacy=True)
    capsys.readouterr()
    seen = len(server.requests)
    assert main(["sync", "--sign-out"]) == 1
    assert "Privacy mode is on" in capsys.readouterr().err
    assert len(server.requests) == seen  # the refresh token was not sent
    assert memory_keyring.store == token  # still signed in: nothing was half done
    assert leaks.attempts == []


def test_a_sync_project_off_this_machine_must_be_https(
        memory_keyring: Any, leaks: Leaks, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://{FAR_HOST}:54321"
    _configure(url, "anon-key", "ana@example.test")
    assert _sign_in("a password", monkeypatch) == 1
    assert "not https" in capsys.readouterr().err
    # Signed in earlier (say, before this rule): signing out would send the token in clear.
    set_secret(f"supabase_refresh_token:{url}:ana@example.test", "refresh-token")
    assert main(["sync", "--sign-out"]) == 1
    assert "not https" in capsys.readouterr().err
    assert main(["sync"]) == 1
    assert "not https" in capsys.readouterr().err
    assert leaks.attempts == []


def test_sync_goes_straight_to_the_server_whatever_the_proxy_variables_say(
        server: Any, user: dict[str, Any], pg_dsn: str, leaks: Leaks, proxy_env: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from app.container import Container
    from app.store.models import Meeting

    _configure(server.url, server.anon_key, user["email"])
    assert _sign_in(user["password"], monkeypatch) == 0
    container = Container()
    with container.db.session() as s:
        s.add(Meeting(title="Through no proxy"))
    container.close()
    assert main(["sync"]) == 0
    assert [d["title"] for _, d in server_snapshot(pg_dsn, user["id"]).values()] == \
        ["Through no proxy"]
    assert SupabaseRpc(server.url, server.anon_key, user["email"]).probe()
    assert leaks.attempts == []


def test_a_redirect_from_the_sync_server_is_never_followed(
        user: dict[str, Any], leaks: Leaks, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with LoopbackServer() as catcher, LoopbackServer(location=catcher.url) as redirector:
        _configure(redirector.url, "anon-key", user["email"])
        assert _sign_in(user["password"], monkeypatch) == 1
        assert len(redirector.requests) == 1
        assert catcher.requests == []  # the password never reached the redirect's target
    assert leaks.attempts == []


def test_the_supabase_library_itself_asks_the_gate_before_each_request(
        server: Any, user: dict[str, Any], leaks: Leaks) -> None:
    """Below Recap's own checks: PostgREST's and GoTrue's clients inside supabase-py send
    through the gated httpx client, so a request made there once privacy mode is on (say, by
    a round already under way) is refused before it leaves."""
    privacy = {"on": False}
    rpc = SupabaseRpc(server.url, server.anon_key, user["email"],
                      gate=NetworkGate(lambda: privacy["on"]))
    rpc.sign_in(user["email"], user["password"])
    library = rpc._client  # the supabase client Recap built
    seen = len(server.requests)
    privacy["on"] = True
    with pytest.raises(PrivacyBlocked):
        library.rpc("recap_pull", {"p_after": 0}).execute()
    with pytest.raises(PrivacyBlocked):
        library.auth.refresh_session(rpc._refresh_token)
    assert len(server.requests) == seen
    rpc.close()
    assert leaks.attempts == []
