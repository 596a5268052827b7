"""The connection to the user's Supabase project, through the official ``supabase`` client.

Signs in with email and password and keeps only the refresh token, in the OS keychain (the
access token lives in memory). An RPC answered "JWT expired" is retried once after a refresh:
the REST side never refreshes by itself. Privacy mode refuses sync outright, signing out
included (that sends the refresh token). The supabase client (PostgREST and GoTrue alike)
sends through one httpx client built by the network gate: its hook refuses every request in
privacy mode, a redirect is never followed (the tokens would go with it), and the
environment's proxy variables are ignored. A project URL off this machine must be https.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

from app import secrets
from app.net import NetworkGate, PrivacyBlocked, host_of, is_loopback_host
from app.sync.errors import (
    InsecureSyncUrl,
    NotSignedIn,
    ServerRejected,
    ServerUnreachable,
    SyncBlocked,
    SyncError,
    SyncNotConfigured,
)

log = logging.getLogger(__name__)

_PURPOSE = "sync"
_CHECK_URL = "Check the project URL: copy it from the project's Settings › API page."
_AUTH_CODES = {"PGRST301", "PGRST302", "PGRST303", "401"}
# SQLSTATE classes worth retrying later: connection, resources, server-side failures.
_TRANSIENT_STATES = ("08", "53", "57", "58", "XX", "40001", "40P01", "500", "502", "503", "504")


class SupabaseRpc:
    def __init__(self, url: str, anon_key: str, email: str = "",
                 gate: NetworkGate | None = None, timeout_s: float = 30.0) -> None:
        if not url or not anon_key:
            raise SyncNotConfigured()
        self.url = url.rstrip("/")
        self.anon_key = anon_key
        self.email = email
        # No gate given (tests, tools): privacy off, but the same client options all the same.
        self.gate = gate if gate is not None else NetworkGate(lambda: False)
        self.timeout_s = timeout_s
        self._client: Any = None
        self._http: httpx.Client | None = None
        self._user: str | None = None
        self._refresh_token: str | None = None

    # --- the supabase client ----------------------------------------------------------

    def _check_gate(self) -> None:
        if self.gate.privacy_mode():
            raise SyncBlocked()  # "nothing leaves this device" means no sync, loopback or not
        if urlsplit(self.url).scheme != "https" and not is_loopback_host(host_of(self.url)):
            raise InsecureSyncUrl(self.url)  # the password and tokens would travel in clear
        try:
            self.gate.check(self.url, "sync")
        except PrivacyBlocked as exc:
            raise SyncBlocked() from exc

    def _http_options(self) -> dict[str, Any]:
        return self.gate.client_options(_PURPOSE, refuse_in_privacy=True)

    def _supabase(self) -> Any:
        self._check_gate()
        if self._client is None:
            from supabase import create_client
            from supabase.lib.client_options import SyncClientOptions

            self._http = httpx.Client(timeout=self.timeout_s, **self._http_options())
            options = SyncClientOptions(
                auto_refresh_token=False,  # no background timer threads; we refresh on 401
                persist_session=False,  # the refresh token goes to the keychain, not a file
                postgrest_client_retry=False,  # the worker owns retries and backoff
                httpx_client=self._http,
            )
            self._client = create_client(self.url, self.anon_key, options)
        return self._client

    def _secret_name(self) -> str:
        return f"supabase_refresh_token:{self.url}:{self.email}"

    def _keep_session(self, session: Any) -> None:
        if session is None or session.user is None:
            raise NotSignedIn("the server returned no session")
        self._user = str(session.user.id)
        self._refresh_token = session.refresh_token
        secrets.set_secret(self._secret_name(), session.refresh_token)

    # --- account ----------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> str:
        from supabase_auth.errors import AuthApiError, AuthError, AuthRetryableError

        self.email = email
        client = self._supabase()
        try:
            with _refused_as_blocked():
                answer = client.auth.sign_in_with_password({"email": email,
                                                            "password": password})
        except AuthApiError as exc:
            log.info("sign-in refused: %s", exc)
            raise NotSignedIn("the email or password was not accepted") from exc
        except (AuthRetryableError, httpx.HTTPError) as exc:
            raise ServerUnreachable(type(exc).__name__) from exc
        except AuthError as exc:
            raise _unexpected(exc) from exc
        self._keep_session(answer.session)
        return self._user or ""

    def refresh(self) -> None:
        from supabase_auth.errors import AuthApiError, AuthError, AuthRetryableError

        token = self._refresh_token or secrets.get_secret(self._secret_name())
        if not token:
            raise NotSignedIn()
        client = self._supabase()
        try:
            with _refused_as_blocked():
                answer = client.auth.refresh_session(token)
        except AuthApiError as exc:
            log.info("refresh refused: %s", exc)
            self._forget()
            raise NotSignedIn("the saved sign-in expired") from exc
        except (AuthRetryableError, httpx.HTTPError) as exc:
            raise ServerUnreachable(type(exc).__name__) from exc
        except AuthError as exc:
            raise _unexpected(exc) from exc
        self._keep_session(answer.session)

    def user_id(self) -> str:
        if self._user is None:
            self.refresh()
        assert self._user is not None
        return self._user

    def signed_in(self) -> bool:
        return self._user is not None or bool(secrets.get_secret(self._secret_name()))

    def sign_out(self) -> None:
        """Revoke the sign-in on the server when it can be reached, and forget it here.

        Refused outright (the token is kept) in privacy mode and for a plain-http URL off
        this machine: signing out sends the refresh token to the server."""
        self._check_gate()
        if self._user is None and self.signed_in():
            try:  # a session is needed to revoke the refresh token on the server
                self.refresh()
            except SyncBlocked:
                raise
            except SyncError as exc:
                log.info("could not reach the server to sign out there: %s", exc)
        if self._client is not None and self._user is not None:
            try:
                with _refused_as_blocked():
                    self._client.auth.sign_out({"scope": "local"})
            except SyncBlocked:
                raise
            except Exception as exc:  # signing out locally must work offline too
                log.info("server sign-out failed (signed out locally anyway): %s",
                         type(exc).__name__)
        self._forget()

    def _forget(self) -> None:
        self._user = None
        self._refresh_token = None
        secrets.delete_secret(self._secret_name())

    # --- calls ------------------------------------------------------------------------

    def call(self, fn: str, params: dict[str, Any]) -> Any:
        from postgrest.exceptions import APIError

        self.user_id()
        for attempt in (1, 2):
            try:
                with _refused_as_blocked():
                    return self._supabase().rpc(fn, params).execute().data
            except APIError as exc:
                if attempt == 1 and (exc.code or "") in _AUTH_CODES:
                    log.info("access token refused (%s); refreshing", exc.code)
                    self.refresh()
                    continue
                # Not chained: the PostgREST error's details can quote a row (meeting text),
                # and a chained exception would carry them into the log's traceback.
                raise _mapped(fn, exc) from None
            except httpx.TimeoutException as exc:
                raise ServerUnreachable("timed out") from exc
            except httpx.HTTPError as exc:
                raise ServerUnreachable(type(exc).__name__) from exc
        raise NotSignedIn("the server refused the refreshed sign-in")

    def probe(self, timeout_s: float = 3.0) -> bool:
        """Cheap reachability check: any HTTP answer from the auth health endpoint counts."""
        try:
            self._check_gate()
            with httpx.Client(timeout=timeout_s, **self._http_options()) as client, \
                    _refused_as_blocked():
                client.get(f"{self.url}/auth/v1/health", headers={"apikey": self.anon_key})
        except (httpx.HTTPError, SyncError):
            return False
        return True

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        self._client = None
        self._http = None


@contextmanager
def _refused_as_blocked() -> Iterator[None]:
    """The gate's hook refused a request (privacy mode went on): sync is off, say so."""
    try:
        yield
    except PrivacyBlocked as exc:
        raise SyncBlocked() from exc


def _unexpected(exc: Exception) -> SyncError:
    """An answer the sign-in service should never give (a redirect, a page that is not
    GoTrue's): most likely the project URL points somewhere else."""
    cause = exc.__cause__
    if isinstance(cause, httpx.HTTPStatusError) and cause.response.is_redirect:
        return ServerRejected("the project URL answered with a redirect, which Recap never "
                              "follows (the sign-in would go with it)", _CHECK_URL)
    log.warning("unexpected answer from the sign-in service: %s", type(exc).__name__)
    return ServerRejected("the project URL did not answer as a Supabase project does",
                          _CHECK_URL)


def _mapped(fn: str, exc: Any) -> SyncError:
    code = str(exc.code or "")
    # PostgREST's `details` (and, for some errors, `message`) can quote the row that failed,
    # meeting text included: the log gets the code and sizes only.
    log.warning("sync server error %s in %s (message %d chars, details %d chars)", code, fn,
                len(str(exc.message or "")), len(str(exc.details or "")))
    if code.startswith(_TRANSIENT_STATES):
        return ServerUnreachable(f"server error {code}")
    if code in _AUTH_CODES or code == "42501":
        return NotSignedIn(exc.message or code)
    return ServerRejected(exc.message or code, code=code)
