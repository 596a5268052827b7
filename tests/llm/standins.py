"""Loopback stand-ins for Ollama and the Anthropic API, speaking enough of the real HTTP
protocols for the official clients (see shared NOTES), scriptable per test.

``OllamaStandIn(answer=...)`` takes a callable that receives the /api/chat request body and
returns a ``Reply``, so a test (or a real in-process model behind it) decides every answer.
``script`` is a queue of replies used first, for one-off failures.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str = ""
    done_reason: str = "stop"
    prompt_tokens: int = 120
    output_tokens: int = 40
    status: int = 200  # non-200: an error body {"error": error}
    error: str = ""
    delay_s: float = 0.0  # before the first byte (a slow model)
    stream_error: str = ""  # an {"error": ...} line after the first content piece
    drop: bool = False  # close the connection after the first content piece
    pieces: int = 3  # how many stream chunks the content is cut into
    piece_delay_s: float = 0.0  # between stream chunks (a slow or endless generation)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _StandIn:
    def __init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> _StandIn:
        self._server = _Server(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering (the port is kept, so ``start`` brings it back at the same URL)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> _StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def start_ndjson(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: dict[str, Any]) -> None:
        line = json.dumps(data).encode() + b"\n"
        self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        self.wfile.flush()

    def end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class OllamaStandIn(_StandIn):
    def __init__(self, models: list[str] | None = None,
                 answer: Callable[[dict[str, Any]], Reply] | None = None) -> None:
        super().__init__()
        self.models = list(models if models is not None else ["mistral:latest"])
        self.answer = answer or (lambda request: Reply('{"note": "no answer scripted"}'))
        self.script: deque[Reply] = deque()
        self.pull_total = 4_000_000

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("path") == "/api/chat"]

    def _has(self, name: str) -> bool:
        return any(m == name or m == f"{name}:latest" for m in self.models)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(_Base):
            def do_GET(self) -> None:
                if self.path == "/api/version":
                    self.send_json(200, {"version": "0.12.0"})
                elif self.path == "/api/tags":
                    self.send_json(200, {"models": [
                        {"name": m, "model": m, "modified_at": _now(), "size": 4_100_000_000,
                         "digest": "f" * 64, "details": {"format": "gguf", "family": "llama",
                                                         "parameter_size": "7B",
                                                         "quantization_level": "Q4_0"}}
                        for m in stand_in.models]})
                else:
                    self.send_json(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = self.body()
                stand_in.requests.append({"path": self.path, **body})
                if self.path == "/api/chat":
                    self.chat(body)
                elif self.path == "/api/show":
                    if stand_in._has(body.get("model", "")):
                        self.send_json(200, {"modelfile": "", "parameters": "", "template": "",
                                             "details": {"format": "gguf"},
                                             "model_info": {"general.architecture": "llama"}})
                    else:
                        self.send_json(404, {"error": f"model '{body.get('model')}' not found"})
                elif self.path == "/api/pull":
                    self.pull(body)
                else:
                    self.send_json(404, {"error": "not found"})

            def chat(self, body: dict[str, Any]) -> None:
                model = body.get("model", "")
                if not stand_in._has(model):
                    self.send_json(404, {"error": f"model '{model}' not found, try pulling it"})
                    return
                reply = stand_in.script.popleft() if stand_in.script else stand_in.answer(body)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status != 200:
                    self.send_json(reply.status, {"error": reply.error or "internal error"})
                    return
                base = {"model": model, "created_at": _now()}
                if not body.get("stream", True):
                    self.send_json(200, {**base, **self.final(reply),
                                         "message": {"role": "assistant",
                                                     "content": reply.content}})
                    return
                self.start_ndjson()
                size = max(1, -(-len(reply.content) // max(1, reply.pieces)))
                pieces = [reply.content[i:i + size] for i in range(0, len(reply.content), size)]
                for number, piece in enumerate(pieces or [""]):
                    if number and reply.piece_delay_s:
                        time.sleep(reply.piece_delay_s)
                    try:
                        self.chunk({**base, "message": {"role": "assistant", "content": piece},
                                    "done": False})
                    except OSError:  # the client hung up (cancel, deadline)
                        return
                    if number == 0 and reply.drop:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    if number == 0 and reply.stream_error:
                        self.chunk({"error": reply.stream_error})
                        self.end_chunks()
                        return
                # The real server sends `message` in the last chunk too (the client needs it).
                self.chunk({**base, "message": {"role": "assistant", "content": ""},
                            **self.final(reply)})
                self.end_chunks()

            def final(self, reply: Reply) -> dict[str, Any]:
                return {"done": True, "done_reason": reply.done_reason,
                        "total_duration": 1_000_000, "load_duration": 1000,
                        "prompt_eval_count": reply.prompt_tokens,
                        "prompt_eval_duration": 1000, "eval_count": reply.output_tokens,
                        "eval_duration": 1000}

            def pull(self, body: dict[str, Any]) -> None:
                name = body.get("model") or body.get("name") or ""
                self.start_ndjson()
                self.chunk({"status": "pulling manifest"})
                total = stand_in.pull_total
                for done in (0, total // 4, total // 2, total):
                    self.chunk({"status": "pulling " + "a" * 12, "digest": "sha256:" + "a" * 64,
                                "total": total, "completed": done})
                self.chunk({"status": "verifying sha256 digest"})
                self.chunk({"status": "success"})
                self.end_chunks()
                if name and not stand_in._has(name):
                    stand_in.models.append(name if ":" in name else f"{name}:latest")

        return Handler


@dataclass
class ClaudeReply:
    text: str = ""
    status: int = 200
    error_type: str = ""
    input_tokens: int = 500
    output_tokens: int = 200
    stop_reason: str = "end_turn"


@dataclass
class AnthropicStandIn(_StandIn):
    api_key: str = "test-key"
    answer: Callable[[dict[str, Any]], ClaudeReply] = field(
        default=lambda request: ClaudeReply('{"note": "no answer scripted"}'))

    def __post_init__(self) -> None:
        super().__init__()
        self.script: deque[ClaudeReply] = deque()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(_Base):
            def do_POST(self) -> None:
                body = self.body()
                stand_in.requests.append({"path": self.path, **body})
                if self.path.split("?")[0] != "/v1/messages":
                    self.send_json(404, self.error("not_found_error", "Not found"))
                    return
                given = self.headers.get("x-api-key") or (
                    self.headers.get("Authorization", "").removeprefix("Bearer "))
                if given != stand_in.api_key:
                    self.send_json(401, self.error("authentication_error", "invalid x-api-key"))
                    return
                reply = stand_in.script.popleft() if stand_in.script else stand_in.answer(body)
                if reply.status != 200:
                    kind = reply.error_type or {429: "rate_limit_error",
                                                529: "overloaded_error"}.get(reply.status,
                                                                             "api_error")
                    self.send_json(reply.status, self.error(kind, kind.replace("_", " ")),
                                   {"retry-after": "0"} if reply.status == 429 else None)
                    return
                self.send_json(200, {
                    "id": "msg_standin", "type": "message", "role": "assistant",
                    "model": body.get("model", ""),
                    "content": [{"type": "text", "text": reply.text}],
                    "stop_reason": reply.stop_reason, "stop_sequence": None,
                    "usage": {"input_tokens": reply.input_tokens,
                              "output_tokens": reply.output_tokens},
                })

            def error(self, kind: str, message: str) -> dict[str, Any]:
                return {"type": "error", "error": {"type": kind, "message": message},
                        "request_id": "req_standin"}

        return Handler
