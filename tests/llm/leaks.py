"""Sees every connection the process tries, and loopback servers that redirect or act as a proxy.

``Leaks`` rides on Python's audit hooks (PEP 578): the ``socket.connect`` and
``socket.getaddrinfo`` events fire inside the socket module itself, before the system call, in
every thread and whatever library opened the socket. A non-loopback connect or lookup is
recorded and refused on the spot, so nothing leaves even if the code under test is wrong, and
the test fails on the record. Audit hooks cannot be removed: one is installed per process and
records only while a ``Leaks`` is active.

Non-loopback addresses in these tests are TEST-NET ones (192.0.2.0/24, RFC 5737), which no
network routes; the recorder refuses them before a packet could be sent anyway.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.net import is_loopback_host

FAR_HOST = "192.0.2.1"  # TEST-NET-1: not this device, and not routed anywhere
FAR_URL = f"http://{FAR_HOST}:11434"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
              "all_proxy")


class Leaks:
    def __init__(self) -> None:
        self.attempts: list[str] = []  # every non-loopback connect or lookup, refused
        self.loopback: list[str] = []


_active: list[Leaks] = []
_installed = False
_lock = threading.Lock()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _active or not event.startswith("socket."):
        return
    if event == "socket.connect":
        sock, address = args
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        host = str(address[0]) if isinstance(address, tuple) else str(address)
        _seen(host, ConnectionRefusedError)
    elif event == "socket.getaddrinfo":
        host = args[0]
        if host is None:
            return
        _seen(host.decode() if isinstance(host, bytes) else str(host), socket.gaierror)


def _seen(host: str, refusal: type[OSError]) -> None:
    record = _active[-1]
    if is_loopback_host(host.lower()):
        record.loopback.append(host)
        return
    record.attempts.append(host)
    raise refusal(f"test: refused a connection to {host}, which is not this device")


@contextmanager
def watching() -> Iterator[Leaks]:
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_audit)
            _installed = True
    record = Leaks()
    _active.append(record)
    try:
        yield record
    finally:
        _active.remove(record)


@pytest.fixture
def leaks() -> Iterator[Leaks]:
    with watching() as record:
        yield record


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """HTTP_PROXY, HTTPS_PROXY and ALL_PROXY all name a proxy on another machine."""
    proxy = f"http://{FAR_HOST}:3128"
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    for var in PROXY_VARS:
        monkeypatch.setenv(var, proxy)
    return proxy


class LoopbackServer:
    """Records every request (path and body); answers each with a redirect to ``location``
    (plus the request path) or, as a forward proxy would, with ``answer``."""

    def __init__(self, location: str = "", status: int = 307,
                 answer: Any = None) -> None:
        self.location = location
        self.status = status
        self.answer = answer if answer is not None else {"ok": True}
        self.requests: list[tuple[str, str, bytes]] = []  # (method, path, body)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append((self.command, self.path, body))
                if server.location:
                    path = self.path if self.path.startswith("/") else "/"
                    self.send_response(server.status)
                    self.send_header("Location", server.location + path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps(server.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_HEAD = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def bodies(self) -> bytes:
        return b"".join(body for _, _, body in self.requests)
