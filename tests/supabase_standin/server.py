"""A stand-in for the slice of Supabase that Recap's sync uses, on 127.0.0.1.

GoTrue: ``POST /auth/v1/token`` (password and refresh_token grants, users in ``auth.users``),
``POST /auth/v1/logout``, ``GET /auth/v1/user``, ``GET /auth/v1/health``. PostgREST:
``POST /rest/v1/rpc/<fn>``. Tokens are HS256 JWTs. Each REST request runs in its own
transaction, connected as the non-owner ``authenticator`` role, with
``set_config('role', ...)`` and ``set_config('request.jwt.claims', ...)`` as PostgREST does, so
row-level security really applies; errors come back in PostgREST's JSON shape. As PostgREST
does, it keeps its database connections (one per client connection here) and sends the
arguments as parameters of the statement, typed by the function's signature.

``faults`` lets a test make the server misbehave: drop the connection before or after the
transaction commits, answer 500, or stall past the client's timeout.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import psycopg
from psycopg import sql
from psycopg.types.string import StrDumperUnknown

JWT_SECRET = "recap-standin-secret-with-at-least-32-bytes"
FAULTS = ("drop_before", "drop_after_commit", "error_500", "stall")


def password_hash(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def make_jwt(role: str, sub: str | None = None, ttl_s: float = 3600.0,
             email: str = "") -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"role": role, "iat": now, "exp": now + int(ttl_s), "iss": "standin"}
    if sub:
        claims.update(sub=sub, aud="authenticated", email=email)
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@dataclass
class Faults:
    """Which misbehaviour to apply to the next REST calls (seeded, so runs repeat)."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULTS
    seed: int = 0
    forced: list[str] = field(default_factory=list)  # applied first, one per request
    stall_s: float = 1.5
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def next(self) -> str | None:
        if self.forced:
            return self.forced.pop(0)
        if self.rate and self._rng.random() < self.rate:
            return self._rng.choice(self.kinds)
        return None


class StandIn:
    def __init__(self, dsn: str, access_ttl_s: float = 3600.0) -> None:
        self.dsn = dsn  # connects as `authenticator` for REST, as owner for auth tables
        self.rest_dsn = dsn.replace("user=postgres", "user=authenticator")
        self.access_ttl_s = access_ttl_s
        self.faults = Faults()
        self.anon_key = make_jwt("anon", ttl_s=10 * 365 * 86400)
        self.requests: list[str] = []
        self.on_rpc: Callable[[str], None] | None = None  # test hook, runs before each RPC
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"standin": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def create_user(self, email: str, password: str) -> str:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            row = conn.execute(
                "insert into auth.users (email, encrypted_password) values (%s, %s) returning id",
                (email, password_hash(password)),
            ).fetchone()
        assert row is not None
        return str(row[0])

    # --- GoTrue ---------------------------------------------------------------------------

    def issue_session(self, conn: psycopg.Connection[Any], user_id: str, email: str,
                      created: Any) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(24)
        conn.execute("insert into auth.refresh_tokens (token, user_id) values (%s, %s)",
                     (refresh, user_id))
        ttl = self.access_ttl_s
        return {
            "access_token": make_jwt("authenticated", user_id, ttl, email),
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": int(ttl),
            "expires_at": int(time.time() + ttl),
            "user": {"id": user_id, "aud": "authenticated", "role": "authenticated",
                     "email": email, "app_metadata": {"provider": "email"},
                     "user_metadata": {}, "created_at": created.isoformat()},
        }


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, JWT_SECRET, algorithms=["HS256"],
                      options={"verify_aud": False})


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.1"

    _db: psycopg.Connection[Any] | None = None

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def finish(self) -> None:
        super().finish()
        if self._db is not None:
            self._db.close()

    def rest_connection(self) -> psycopg.Connection[Any]:
        """This client connection's database connection (PostgREST keeps a pool of them)."""
        if self._db is None or self._db.closed or self._db.broken:
            self._db = psycopg.connect(self.standin.rest_dsn)
            # Arguments go as untyped text, so PostgreSQL types them by the function's
            # signature, as it does for PostgREST.
            self._db.adapters.register_dumper(str, StrDumperUnknown)
        return self._db

    def _send(self, status: int, body: Any | None) -> None:
        data = b"" if body is None else json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str, details: str | None = None,
               hint: str | None = None) -> None:
        self._send(status, {"code": code, "message": message, "details": details, "hint": hint})

    def _auth_error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"code": status, "error_code": code, "msg": message})

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(2)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/auth/v1/health":
            self._send(200, {"name": "GoTrue", "version": "standin"})
        elif path == "/auth/v1/user":
            claims = self._user_claims()
            if claims is None:
                return
            self._send(200, {"id": claims["sub"], "aud": "authenticated",
                             "email": claims.get("email", ""), "app_metadata": {},
                             "user_metadata": {}, "created_at": "2026-01-01T00:00:00Z"})
        else:
            self._error(404, "PGRST125", "Invalid path specified in request URL")

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        self.standin.requests.append(parts.path)
        if self.headers.get("apikey") != self.standin.anon_key:
            self._error(401, "PGRST301", "No API key found in request",
                        hint="No `apikey` request header or url param was found.")
            return
        if parts.path == "/auth/v1/token":
            self._token(parse_qs(parts.query).get("grant_type", [""])[0], self._body())
        elif parts.path == "/auth/v1/logout":
            self._logout()
        elif parts.path.startswith("/rest/v1/rpc/"):
            self._rpc(parts.path.removeprefix("/rest/v1/rpc/"), self._body())
        else:
            self._error(404, "PGRST125", "Invalid path specified in request URL")

    def _token(self, grant: str, body: dict[str, Any]) -> None:
        with psycopg.connect(self.standin.dsn) as conn:
            if grant == "password":
                row = conn.execute(
                    "select id, email, created_at from auth.users"
                    " where email = %s and encrypted_password = %s",
                    (body.get("email"), password_hash(body.get("password") or "")),
                ).fetchone()
                if row is None:
                    self._auth_error(400, "invalid_credentials", "Invalid login credentials")
                    return
            elif grant == "refresh_token":
                # Refresh tokens are single use (rotated), as in GoTrue.
                row = conn.execute(
                    "update auth.refresh_tokens t set revoked = true from auth.users u"
                    " where t.token = %s and not t.revoked and u.id = t.user_id"
                    " returning u.id, u.email, u.created_at",
                    (body.get("refresh_token"),),
                ).fetchone()
                if row is None:
                    self._auth_error(400, "refresh_token_not_found",
                                     "Invalid Refresh Token: Refresh Token Not Found")
                    return
            else:
                self._auth_error(400, "validation_failed", "unsupported grant_type")
                return
            session = self.standin.issue_session(conn, str(row[0]), row[1], row[2])
        self._send(200, session)

    def _bearer_claims(self) -> dict[str, Any]:
        """The claims of the request's bearer token; raises jwt.PyJWTError for a bad one."""
        return _claims((self.headers.get("Authorization") or "").removeprefix("Bearer "))

    def _user_claims(self) -> dict[str, Any] | None:
        """The bearer token's claims, or None after answering 401 as GoTrue does."""
        try:
            return self._bearer_claims()
        except jwt.PyJWTError:
            self._auth_error(401, "bad_jwt", "invalid JWT")
            return None

    def _logout(self) -> None:
        claims = self._user_claims()
        if claims is None:
            return
        with psycopg.connect(self.standin.dsn) as conn:
            conn.execute("update auth.refresh_tokens set revoked = true where user_id = %s",
                         (claims["sub"],))
        self._send(204, None)

    def _rpc(self, fn: str, params: dict[str, Any]) -> None:
        try:
            claims = self._bearer_claims()
        except jwt.ExpiredSignatureError:
            self._error(401, "PGRST303", "JWT expired")
            return
        except jwt.PyJWTError:
            self._error(401, "PGRST301", "JWSError JWSInvalidSignature")
            return
        if self.standin.on_rpc is not None:
            self.standin.on_rpc(fn)
        fault = self.standin.faults.next()
        if fault == "drop_before":
            self._drop()
            return
        if fault == "error_500":
            self._error(500, "XX000", "injected failure")
            return
        if fault == "stall":
            time.sleep(self.standin.faults.stall_s)
            self._drop()
            return
        try:
            result = self._call(fn, params, claims)
        except _NoFunction:
            self._error(404, "PGRST202", f"Could not find the function public.{fn}",
                        hint="Perhaps you meant to call another function")
            return
        except psycopg.Error as exc:
            state = exc.sqlstate or "XX000"
            status = {"42501": 403 if claims.get("sub") else 401, "22023": 400,
                      "P0001": 400, "23505": 409}.get(state, 500 if state[:2] in {"XX", "58"}
                                                       else 400)
            diag = exc.diag
            self._error(status, state, diag.message_primary or str(exc), diag.message_detail,
                        diag.message_hint)
            return
        if fault == "drop_after_commit":
            self._drop()
            return
        self._send(200, result)

    def _call(self, fn: str, params: dict[str, Any], claims: dict[str, Any]) -> Any:
        conn = self.rest_connection()
        with conn.transaction():
            known = conn.execute(
                "select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname = 'public' and p.proname = %s", (fn,)).fetchone()
            if known is None:
                raise _NoFunction
            conn.execute("select set_config('role', %s, true),"
                         " set_config('request.jwt.claims', %s, true)",
                         (claims.get("role", "anon"), json.dumps(claims)))
            args = sql.SQL(", ").join(
                sql.SQL("{} => {}").format(sql.Identifier(k), sql.Placeholder()) for k in params)
            query = sql.SQL("select to_jsonb(public.{}({}))").format(sql.Identifier(fn), args)
            row = conn.execute(query, [_as_text(v) for v in params.values()]).fetchone()
        return None if row is None else row[0]


def _as_text(value: Any) -> str | None:
    """PostgREST hands JSON arguments to PostgreSQL as text of the declared type."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value)


class _NoFunction(Exception):
    pass


def new_user_id() -> str:
    return str(uuid.uuid4())
