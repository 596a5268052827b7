"""`recap sync`: one sync round now; `--status` shows where sync stands; sign in and out."""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import asdict

from app.cli.context import CliContext
from app.formatting import local_minute, local_second


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sync", help="sync notes with your Supabase project",
                       description="Run one sync round with your Supabase project.")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--status", action="store_true", help="show sync state, do not sync")
    group.add_argument("--sign-in", action="store_true", help="sign in (asks the password)")
    group.add_argument("--sign-out", action="store_true", help="sign out and forget the token")
    group.add_argument("--history", action="store_true",
                       help="list versions that lost a conflict with another device")
    group.add_argument("--restore", type=int, metavar="N",
                       help="make version N of --history the current one again")
    p.add_argument("--full", action="store_true",
                   help="re-read every row from the server, not only what changed")
    p.add_argument("--email", help="account email for --sign-in (default: from settings)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input (for scripts)")
    p.set_defaults(func=cmd_sync)


def cmd_sync(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.status:
        return _status(ctx)
    if args.sign_in:
        return _sign_in(args, ctx)
    if args.sign_out:
        return _sign_out(ctx)
    if args.history:
        return _history(ctx)
    if args.restore is not None:
        return _restore(args.restore, ctx)
    return _round(ctx, full=args.full)


def _history(ctx: CliContext) -> int:
    entries = ctx.container.sync.history()
    if ctx.json_output:
        ctx.emit_json([asdict(e) for e in entries])
        return 0
    if not entries:
        ctx.out("No conflicting versions: nothing was overridden.")
    for e in entries:
        done = " (restored)" if e.restored_at else ""
        ctx.out(f"{e.id:>4}  {local_minute(e.recorded_at)}  {e.kind}: {e.label}{done}")
        ctx.out(f"      {e.why}")
    return 0


def _restore(history_id: int, ctx: CliContext) -> int:
    restored = ctx.container.sync.restore(history_id)
    ctx.out(f"Restored {restored.row_id}; it syncs with the next round.")
    return 0


def _round(ctx: CliContext, full: bool = False) -> int:
    report = ctx.container.sync.run_round(full=full)
    if ctx.json_output:
        ctx.emit_json(report.__dict__)
    else:
        ctx.out(f"Synced: sent {report.pushed}, received {report.applied}, "
                f"{report.pending} still waiting"
                + (f", {report.kept_in_history} conflicting versions kept in history"
                   if report.kept_in_history else "")
                + (f", {report.set_aside} received but set aside (see --status)"
                   if report.set_aside else "") + f" ({report.seconds:.1f} s).")
    return 0


def _status(ctx: CliContext) -> int:
    state = ctx.container.sync.overview()
    if ctx.json_output:
        ctx.emit_json(asdict(state))
        return 0
    if state.privacy_mode:
        ctx.out("Sync: off (privacy mode is on)")
    elif not state.enabled:
        ctx.out("Sync: not set up (see README: Sync between devices)")
    else:
        ctx.out(f"Sync: on, {state.project_url} as {state.email or '?'}"
                + ("" if state.signed_in else " (not signed in: recap sync --sign-in)"))
    last = state.last_synced_at
    ctx.out(f"Last synced: {local_second(last) if last else 'never'}")
    ctx.out(f"Waiting to sync: {state.pending}")
    if state.last_error:
        ctx.out(f"Last error: {state.last_error}")
    if state.set_aside:
        ctx.out(f"Set aside: {len(state.set_aside)} received rows could not be used here "
                "(the rest synced normally):")
        for row in state.set_aside:
            ctx.out(f"  {row.kind or '?'} {row.id} v{row.version}: {row.reason}")
        ctx.out("  They are tried again when a newer version arrives, or with "
                "`recap sync --full`.")
    return 0


def _sign_in(args: argparse.Namespace, ctx: CliContext) -> int:
    email = args.email or ctx.container.settings.sync.email
    if not email:
        email = input("Email: ").strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {email}: ")
    ctx.container.sync.sign_in(email, password)
    ctx.out(f"Signed in as {email}. Run `recap sync` to sync now.")
    return 0


def _sign_out(ctx: CliContext) -> int:
    ctx.container.sync.sign_out()
    ctx.out("Signed out. Notes stay on this device; nothing more is sent.")
    return 0
