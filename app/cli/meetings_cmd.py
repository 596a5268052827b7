"""process, resume, list, show, search, export, delete, rename."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.context import EXIT_FAILED, EXIT_OK, CliContext
from app.cli.progress import run_with_progress
from app.errors import RecapError
from app.export import FORMATS, item_line, to_json
from app.formatting import duration, position, utc_minute
from app.pipeline.events import ProgressCallback, Resume, RunReport

if TYPE_CHECKING:
    from app.actions.meetings import Meetings
    from app.actions.queries import MeetingDetail


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("process", help="transcribe (and summarise) audio or video files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--title", help="meeting title (default: from the file name)")
    p.add_argument("--quiet", action="store_true", help="do not print the transcript")
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("resume", help="finish meetings that were interrupted or are waiting")
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("list", help="list meetings")
    p.add_argument("--status", help="only meetings in this state (ready, needs_attention, ...)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show a meeting: notes and transcript")
    p.add_argument("id", help="meeting id (the first characters are enough)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("search", help="full-text search in titles, transcripts, notes")
    p.add_argument("text", nargs="+")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("export", help="export a meeting")
    p.add_argument("id")
    p.add_argument("--format", "-f", default="md", choices=FORMATS)
    p.add_argument("--output", "-o", type=Path, help="file to write (default: print)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("delete", help="delete a meeting (kept as a tombstone for sync)")
    p.add_argument("id")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("rename", help="rename a meeting")
    p.add_argument("id")
    p.add_argument("title")
    p.set_defaults(func=cmd_rename)


def _process(ctx: CliContext, meetings: Meetings, meeting_id: str) -> RunReport:
    def work(on_progress: ProgressCallback, cancel: threading.Event) -> RunReport:
        return meetings.process(meeting_id, on_progress=on_progress, cancel=cancel)

    return run_with_progress(ctx, work)


def _print_report(ctx: CliContext, report: RunReport) -> None:
    if report.failed:
        ctx.error(report.message or "Processing failed.", report.fix)
        return
    for stage in report.pending:
        line = f"  pending: {stage.label}"
        if stage.message:
            line += f" — {stage.message}"
        ctx.out(line)
        if stage.fix:
            ctx.out(f"    → {stage.fix}")


def cmd_process(args: argparse.Namespace, ctx: CliContext) -> int:
    meetings, queries = ctx.container.meetings, ctx.container.queries
    results = []
    failed = False
    for path in args.files:
        try:
            meeting_id = meetings.add_file(path, title=args.title).meeting_id
        except RecapError as exc:  # this file cannot become a meeting: say why, go on
            ctx.error(str(exc), exc.fix)
            failed = True
            continue
        report = _process(ctx, meetings, meeting_id)
        detail = queries.detail(meeting_id)
        results.append((report, detail))
        failed = failed or report.failed
        if ctx.json_output:
            continue
        ctx.out(f"Meeting {meeting_id}  {detail.row.title}  [{report.status}]")
        _print_report(ctx, report)
        for note in detail.notes:
            ctx.out(f"  Note: {note}")
        if not report.failed and not args.quiet:
            _print_notes(ctx, detail)
    if ctx.json_output:
        ctx.emit_json([{"status": r.status, "message": r.message,
                        "pending": [s.__dict__ for s in r.pending],
                        **json.loads(to_json(d))} for r, d in results])
    return EXIT_FAILED if failed else EXIT_OK


def _print_notes(ctx: CliContext, d: MeetingDetail) -> None:
    if d.summary:
        ctx.out("\nSummary\n  " + d.summary.replace("\n", "\n  "))
    if d.decisions:
        ctx.out("\nDecisions")
        for x in d.decisions:
            ctx.out(f"  - {x}")
    if d.action_items:
        ctx.out("\nAction items")
        for item in d.action_items:
            ctx.out(f"  [{'x' if item.done else ' '}] {item_line(item)}")
            if item.quote:
                stamp = position(item.quote_start_ms or 0)
                ctx.out(f"      “{item.quote}” at {stamp}")
    if d.email:
        ctx.out(f"\nFollow-up email (draft, not sent)\n  Subject: {d.email.subject}\n")
        ctx.out("  " + d.email.body.replace("\n", "\n  "))
    ctx.out("\nTranscript")
    for seg in d.segments:
        ctx.out(f"  [{position(seg.start_ms)}] {seg.text}")


def cmd_resume(args: argparse.Namespace, ctx: CliContext) -> int:
    meetings = ctx.container.meetings
    ids = meetings.to_resume(Resume.ASKED)
    if not ids:
        ctx.out("Nothing to resume: every meeting is finished.")
        return EXIT_OK
    reports = []
    for meeting_id in ids:
        report = _process(ctx, meetings, meeting_id)
        reports.append(report)
        if not ctx.json_output:
            ctx.out(f"Meeting {meeting_id}  [{report.status}]")
            _print_report(ctx, report)
    if ctx.json_output:
        ctx.emit_json([{"id": r.meeting_id, "status": r.status, "message": r.message}
                       for r in reports])
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    rows = ctx.container.queries.meetings(status=args.status)
    if ctx.json_output:
        ctx.emit_json([r.__dict__ for r in rows])
        return EXIT_OK
    if not rows:
        ctx.out("No meetings yet. Add one with: recap process FILE")
        return EXIT_OK
    for r in rows:
        sync = "synced" if r.synced else ("local only" if r.local_only else "")
        ctx.out(f"{r.id[:8]}  {utc_minute(r.occurred_at)}  {duration(r.duration_s):>8}  "
                f"{r.status:<15} {r.title}  {sync}".rstrip())
    return EXIT_OK


def cmd_show(args: argparse.Namespace, ctx: CliContext) -> int:
    d = ctx.container.queries.detail(args.id)
    if ctx.json_output:
        ctx.out_json(to_json(d).rstrip())
        return EXIT_OK
    ctx.out(f"{d.row.title}\n{utc_minute(d.row.occurred_at)} UTC · "
            f"{duration(d.row.duration_s)} · {d.row.status} · id {d.row.id}")
    if d.row.error:
        ctx.out(f"Note: {d.row.error}")
    for note in d.notes:
        ctx.out(f"Note: {note}")
    models = ", ".join(x for x in (d.transcript_model, d.notes_model) if x)
    if models:
        ctx.out(f"Models: {models}")
    _print_notes(ctx, d)
    return EXIT_OK


def cmd_search(args: argparse.Namespace, ctx: CliContext) -> int:
    hits = ctx.container.queries.search(" ".join(args.text))
    if ctx.json_output:
        ctx.emit_json([h.__dict__ for h in hits])
        return EXIT_OK
    if not hits:
        ctx.out("No matches.")
        return EXIT_FAILED
    for h in hits:
        at = f" at {position(h.start_ms)}" if h.start_ms is not None else ""
        ctx.out(f"{h.meeting_id[:8]}  {h.meeting_title}  ({h.kind.replace('_', ' ')}{at})\n"
                f"    {h.snippet}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace, ctx: CliContext) -> int:
    meetings = ctx.container.meetings
    if args.output:
        meetings.export_to(args.id, args.output, args.format)
        ctx.out(f"Wrote {args.output}")
    elif args.format == "json":
        ctx.out_json(meetings.export(args.id, args.format).rstrip("\n"))
    else:
        ctx.write(meetings.export(args.id, args.format))
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: CliContext) -> int:
    changes = ctx.container.meetings.delete(args.id)
    ctx.out(f"Deleted meeting {changes.meeting_id}.")
    return EXIT_OK


def cmd_rename(args: argparse.Namespace, ctx: CliContext) -> int:
    changes = ctx.container.meetings.rename(args.id, args.title)
    ctx.out(f"Renamed meeting {changes.meeting_id}.")
    return EXIT_OK
