"""process, resume, list, show, search, export, delete."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.context import EXIT_FAILED, EXIT_OK, CliContext

if TYPE_CHECKING:
    from app.pipeline.runner import RunReport


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
    p.add_argument("--format", "-f", default="md", choices=["md", "txt", "srt", "vtt", "json"])
    p.add_argument("--output", "-o", type=Path, help="file to write (default: print)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("delete", help="delete a meeting (kept as a tombstone for sync)")
    p.add_argument("id")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("rename", help="rename a meeting")
    p.add_argument("id")
    p.add_argument("title")
    p.set_defaults(func=cmd_rename)


def run_with_progress(ctx: CliContext, work: Any) -> Any:
    """Run ``work(on_progress, cancel)`` on a worker thread; Ctrl-C cancels it cleanly."""
    from app.cli.progress import ProgressBar

    bar = ProgressBar()
    cancel = threading.Event()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = work(lambda e: bar.update(e.label, e.stage_progress), cancel)
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="pipeline", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        cancel.set()
        bar.finish()
        ctx.error("Stopping… (what is done so far is kept)")
        worker.join(10)
    bar.finish()
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _print_report(ctx: CliContext, report: RunReport) -> None:
    from app.store.models import MeetingStatus

    if report.status == MeetingStatus.FAILED.value:
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
    from app.pipeline.runner import InputError
    from app.store.models import MeetingStatus
    from app.store.queries import meeting_detail

    pipeline = ctx.container.pipeline
    results = []
    failed = False
    for path in args.files:
        try:
            meeting_id = pipeline.add_file(path, title=args.title)
        except InputError as exc:
            ctx.error(str(exc), exc.fix)
            failed = True
            continue
        report = run_with_progress(
            ctx, lambda on_progress, cancel, m=meeting_id: pipeline.run(
                m, on_progress=on_progress, cancel=cancel))
        detail = meeting_detail(ctx.container.db, meeting_id)
        results.append((report, detail))
        if report.status == MeetingStatus.FAILED.value:
            failed = True
        if ctx.json_output:
            continue
        ctx.out(f"Meeting {meeting_id}  {detail.row.title}  [{report.status}]")
        _print_report(ctx, report)
        for note in detail.notes:
            ctx.out(f"  Note: {note}")
        if report.status != MeetingStatus.FAILED.value and not args.quiet:
            _print_notes(ctx, detail)
    if ctx.json_output:
        import json

        from app.export import to_json

        ctx.emit_json([{"status": r.status, "message": r.message,
                        "pending": [s.__dict__ for s in r.pending],
                        **json.loads(to_json(d))} for r, d in results])
    return EXIT_FAILED if failed else EXIT_OK


def _print_notes(ctx: CliContext, d: Any) -> None:
    from app.export import _item_line, short_clock

    if d.summary:
        ctx.out("\nSummary\n  " + d.summary.replace("\n", "\n  "))
    if d.decisions:
        ctx.out("\nDecisions")
        for x in d.decisions:
            ctx.out(f"  - {x}")
    if d.action_items:
        ctx.out("\nAction items")
        for item in d.action_items:
            ctx.out(f"  [{'x' if item.done else ' '}] {_item_line(item)}")
            if item.quote:
                stamp = short_clock(item.quote_start_ms or 0)
                ctx.out(f"      “{item.quote}” at {stamp}")
    if d.email:
        ctx.out(f"\nFollow-up email (draft, not sent)\n  Subject: {d.email.subject}\n")
        ctx.out("  " + d.email.body.replace("\n", "\n  "))
    ctx.out("\nTranscript")
    for seg in d.segments:
        ctx.out(f"  [{short_clock(seg.start_ms)}] {seg.text}")


def cmd_resume(args: argparse.Namespace, ctx: CliContext) -> int:
    pipeline = ctx.container.pipeline
    ids = pipeline.unfinished()
    if not ids:
        ctx.out("Nothing to resume: every meeting is finished.")
        return EXIT_OK
    reports = []
    for meeting_id in ids:
        report = run_with_progress(ctx, lambda on_progress, cancel, m=meeting_id: pipeline.run(
            m, on_progress=on_progress, cancel=cancel))
        reports.append(report)
        if not ctx.json_output:
            ctx.out(f"Meeting {meeting_id}  [{report.status}]")
            _print_report(ctx, report)
    if ctx.json_output:
        ctx.emit_json([{"id": r.meeting_id, "status": r.status, "message": r.message}
                       for r in reports])
    return EXIT_OK


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.store.queries import list_meetings

    rows = list_meetings(ctx.container.db, status=args.status)
    if ctx.json_output:
        ctx.emit_json([r.__dict__ for r in rows])
        return EXIT_OK
    if not rows:
        ctx.out("No meetings yet. Add one with: recap process FILE")
        return EXIT_OK
    for r in rows:
        sync = "synced" if r.synced else ("local only" if r.local_only else "")
        ctx.out(f"{r.id[:8]}  {r.occurred_at:%Y-%m-%d %H:%M}  {_fmt_duration(r.duration_s):>8}  "
                f"{r.status:<15} {r.title}  {sync}".rstrip())
    return EXIT_OK


def cmd_show(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.export import to_json
    from app.store.queries import meeting_detail

    d = meeting_detail(ctx.container.db, args.id)
    if ctx.json_output:
        ctx.out_json(to_json(d).rstrip())
        return EXIT_OK
    ctx.out(f"{d.row.title}\n{d.row.occurred_at:%Y-%m-%d %H:%M} UTC · "
            f"{_fmt_duration(d.row.duration_s)} · {d.row.status} · id {d.row.id}")
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
    from app.export import short_clock
    from app.store.queries import search

    hits = search(ctx.container.db, " ".join(args.text))
    if ctx.json_output:
        ctx.emit_json([h.__dict__ for h in hits])
        return EXIT_OK
    if not hits:
        ctx.out("No matches.")
        return EXIT_FAILED
    for h in hits:
        at = f" at {short_clock(h.start_ms)}" if h.start_ms is not None else ""
        ctx.out(f"{h.meeting_id[:8]}  {h.meeting_title}  ({h.kind.replace('_', ' ')}{at})\n"
                f"    {h.snippet}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.export import export
    from app.store.queries import meeting_detail

    text = export(meeting_detail(ctx.container.db, args.id), args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        ctx.out(f"Wrote {args.output}")
    elif args.format == "json":
        ctx.out_json(text.rstrip("\n"))
    else:
        ctx.write(text)
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.store.queries import delete_meeting

    meeting_id = delete_meeting(ctx.container.db, args.id)
    ctx.out(f"Deleted meeting {meeting_id}.")
    return EXIT_OK


def cmd_rename(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.store.queries import rename_meeting, resolve_id

    meeting_id = resolve_id(ctx.container.db, args.id)
    rename_meeting(ctx.container.db, meeting_id, args.title)
    ctx.out(f"Renamed meeting {meeting_id}.")
    return EXIT_OK
