"""How much time our own work around the model costs, next to the model's own time.

On a synthetic 3-hour meeting (2,160 segments, commitments planted at known times) with an
engine that answers instantly (its answers are prepared before timing), this times what Recap
does around each call: chunking, prompt building, routing, JSON parsing and schema validation,
grounding each quote, due dates, merging, the summary input, and the ledger writes to SQLite.
It prints that next to what a local model would need for the same calls, estimated from the
tokens sent and generated and the speeds measured on this 2-core CPU for Qwen2.5-1.5B Q4_K_M
(prompt 85-170 tok/s, generation 31-34 tok/s; see shared NOTES).

    python benchmarks/llm_overhead.py [--hours 3] [--runs 5] [--num-ctx 8192]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from app.llm.backend import Availability, ChatRequest, ChatResult
from app.llm.chain import CallContext
from app.llm.chunking import Line, estimate_tokens
from app.llm.ledger import Ledger
from app.llm.notes import extract_all, merge_items, split, summarise
from app.settings import LLMSettings
from app.store import migrate
from app.store.db import Database

PROMPT_TOK_PER_S = (85.0, 170.0)
GEN_TOK_PER_S = (31.0, 34.0)

FILLER = [
    "Let us look at the numbers for the last quarter before we move on to the roadmap.",
    "The customer interviews mostly confirmed what we already suspected about onboarding.",
    "I think the dashboard is fine for now, although the loading time could be better.",
    "Support tickets went down a little after the last release, which is encouraging.",
]
PROMISES = ["I will send the revised budget to finance by Friday.",
            "I'll book the venue for the offsite by next Monday.",
            "I will fix the login timeout bug by tomorrow.",
            "I'll write up the hiring plan for the board."]
SPEAKERS = ["Ana", "Ben", "Chloe", "Dev"]


def meeting(hours: float) -> list[Line]:
    count = int(hours * 3600 / 5)
    planted = {int(count * f): text for f, text in zip((0.05, 0.31, 0.58, 0.93), PROMISES,
                                                      strict=True)}
    return [Line(i, i * 5000, i * 5000 + 4800, planted.get(i, FILLER[i % 4]), SPEAKERS[i % 4])
            for i in range(count)]


_LINE = re.compile(r"^\[(\d\d:\d\d:\d\d)\] (\w+): (.*)$")


def answer(request: ChatRequest) -> str:
    """What a good model would answer (prepared before timing)."""
    if "action_items" not in (request.schema or {}).get("properties", {}):
        return json.dumps({"summary": "The team reviewed the quarter and agreed four tasks."})
    items = []
    for raw in request.user.splitlines():
        match = _LINE.match(raw)
        if match and re.search(r"\bI(?: will|'ll) ", match.group(3)):
            items.append({"text": match.group(3), "owner": match.group(2), "due": "Friday",
                          "quote": match.group(3), "time": f"[{match.group(1)}]"})
    return json.dumps({"action_items": items, "decisions": ["Keep the dashboard as it is"],
                       "key_points": ["Quarterly numbers and onboarding were reviewed."]})


class InstantEngine:
    name = "ollama"
    model = "instant"
    is_local = True

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.prompt_tokens = 0
        self.output_tokens = 0

    def availability(self) -> Availability:
        return Availability(True)

    def chat(self, request: ChatRequest, cancel: threading.Event | None = None) -> ChatResult:
        key = request.system + request.user
        text = self.answers.get(key)
        if text is None:  # first (untimed) pass: prepare the answer
            text = self.answers[key] = answer(request)
        prompt = estimate_tokens(request.system) + estimate_tokens(request.user)
        output = estimate_tokens(text)
        self.prompt_tokens += prompt
        self.output_tokens += output
        return ChatResult(text, self.name, self.model, True, prompt, output, 0)


class NoLedger(Ledger):
    def record(self, **kwargs: Any) -> Any:  # type: ignore[override]
        return None

    def budget_left(self, now: Any = None) -> float:
        return 0.0


def run_once(lines: list[Line], engine: InstantEngine, ledger: Ledger,
             settings: LLMSettings) -> dict[str, float]:
    ctx = CallContext(local=engine, cloud=lambda: None, ledger=ledger,
                      settings=lambda: settings, privacy_mode=lambda: False,
                      cloud_key=lambda: False, meeting_id=None)
    started = time.perf_counter()
    chunks = split(lines, settings.num_ctx)
    chunked = time.perf_counter()
    parts = extract_all(ctx, chunks, date(2026, 11, 25), lambda f: None, lambda: None)
    items = merge_items([i for p in parts for i in p.items])
    summarise(ctx, "Planning", parts, items, settings.num_ctx)
    done = time.perf_counter()
    assert len(items) == 4 and all(i.grounded for i in items), items
    return {"chunking_ms": (chunked - started) * 1000, "total_ms": (done - started) * 1000,
            "chunks": len(chunks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--num-ctx", type=int, default=8192)
    args = parser.parse_args()

    settings = LLMSettings(ollama_host="http://127.0.0.1:11434", num_ctx=args.num_ctx)
    lines = meeting(args.hours)
    engine = InstantEngine()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "bench.sqlite3", "bench")
        migrate.upgrade(db.engine, db.path, Path(folder) / "backups")
        ledger = Ledger(db, lambda: settings)
        run_once(lines, engine, NoLedger(db, lambda: settings), settings)  # prepare answers
        engine.prompt_tokens = engine.output_tokens = 0
        bare = [run_once(lines, engine, NoLedger(db, lambda: settings), settings)
                for _ in range(args.runs)]
        calls_per_run_tokens = (engine.prompt_tokens // args.runs,
                                engine.output_tokens // args.runs)
        with_db = [run_once(lines, engine, ledger, settings) for _ in range(args.runs)]
        db.dispose()

    chunks = int(bare[0]["chunks"])
    ours = statistics.median(r["total_ms"] for r in bare)
    ours_db = statistics.median(r["total_ms"] for r in with_db)
    chunking = statistics.median(r["chunking_ms"] for r in bare)
    prompt_tok, output_tok = calls_per_run_tokens
    model_fast = prompt_tok / PROMPT_TOK_PER_S[1] + output_tok / GEN_TOK_PER_S[1]
    model_slow = prompt_tok / PROMPT_TOK_PER_S[0] + output_tok / GEN_TOK_PER_S[0]
    print(f"meeting: {args.hours:g} h, {len(lines)} segments -> {chunks} chunks "
          f"(num_ctx {args.num_ctx}), {chunks + 1} model calls")
    print(f"tokens per run: {prompt_tok} sent, {output_tok} generated")
    print(f"our work (median of {args.runs}):")
    print(f"  chunking                         {chunking:8.1f} ms")
    print(f"  whole notes path, no ledger      {ours:8.1f} ms")
    print(f"  whole notes path + ledger rows   {ours_db:8.1f} ms")
    print(f"local model for the same calls:  {model_fast:8.0f} to {model_slow:.0f} s "
          f"(Qwen2.5-1.5B Q4_K_M on 2 cores)")
    print(f"our share of the wall time:      {ours_db / 1000 / (model_fast + ours_db / 1000):.3%}"
          f" (ratio 1 : {model_fast / (ours_db / 1000):,.0f})")


if __name__ == "__main__":
    main()
