"""A loopback stand-in for the model host: serves files with HTTP Range, ETag and If-Range.

It can cut the connection part-way through a file (once), answer 404, and records every
request's Range headers, so the tests can see what the downloader asked for.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    data: bytes
    etag: str = ""
    cut_after: int | None = None  # close the connection after this many body bytes, once
    stall_after: int | None = None  # go silent after this many body bytes, once

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.sha1(self.data).hexdigest() + '"'


@dataclass
class ModelServer:
    url: str = ""
    files: dict[str, Served] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)  # path -> where it moved (302)

    def add(self, name: str, data: bytes, **kw: object) -> Served:
        served = Served(data, **kw)  # type: ignore[arg-type]
        self.files["/" + name] = served
        return served


def _handler(state: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            state.requests.append({"path": self.path, "range": self.headers.get("Range", ""),
                                   "if-range": self.headers.get("If-Range", "")})
            if self.path in state.redirects:  # like Hugging Face's resolve/ URLs to its CDN
                self.send_response(302)
                self.send_header("Location", state.url + state.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            served = state.files.get(self.path)
            if served is None:
                body = b"Entry not found"
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            data, start = served.data, 0
            rng = self.headers.get("Range", "")
            if_range = self.headers.get("If-Range")
            if rng.startswith("bytes=") and (if_range is None or if_range == served.etag):
                start = int(rng[6:].split("-", 1)[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.send_header("ETag", served.etag)
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            body = memoryview(data)[start:]
            if served.stall_after is not None:
                stall, served.stall_after = served.stall_after, None
                self.wfile.write(body[:stall])
                self.wfile.flush()
                time.sleep(2)  # longer than the client's read timeout
                self.close_connection = True
                return
            if served.cut_after is not None:
                cut, served.cut_after = served.cut_after, None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            try:
                for i in range(0, len(body), 1 << 16):
                    self.wfile.write(body[i:i + (1 << 16)])
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (cancel, disk full)

    return Handler


@contextmanager
def running_model_server() -> Iterator[ModelServer]:
    state = ModelServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
