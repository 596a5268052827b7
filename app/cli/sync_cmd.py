"""`recap sync`: one sync round now; `--status` shows where sync stands; sign in and out."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.cli.context import CliContext


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
    from app.sync.history import REASONS, list_history

    with ctx.container.db.session() as session:
        entries = list_history(session)
        rows: list[dict[str, Any]] = [
            {"id": e.id, "kind": e.kind, "row_id": e.row_id, "reason": e.reason,
             "deleted": e.deleted, "recorded_at": e.recorded_at,
             "restored_at": e.restored_at, "data": e.data} for e in entries]
    if ctx.json_output:
        ctx.emit_json(rows)
        return 0
    if not rows:
        ctx.out("No conflicting versions: nothing was overridden.")
    for row in rows:
        label = row["data"].get("title") or row["data"].get("text") or \
            row["data"].get("subject") or row["row_id"]
        when = row["recorded_at"].astimezone().strftime("%Y-%m-%d %H:%M")
        done = " (restored)" if row["restored_at"] else ""
        ctx.out(f"{row['id']:>4}  {when}  {row['kind']}: {label}{done}")
        ctx.out(f"      {REASONS.get(row['reason'], row['reason'])}")
    return 0


def _restore(history_id: int, ctx: CliContext) -> int:
    from app.sync.history import restore

    with ctx.container.db.session() as session:
        obj = restore(session, history_id)
        kind_id = obj.id
    ctx.out(f"Restored {kind_id}; it syncs with the next round.")
    return 0


def _round(ctx: CliContext, full: bool = False) -> int:
    from app.sync.errors import SyncNotConfigured
    from app.sync.service import build_engine, build_rpc

    container = ctx.container
    if not container.settings.sync.enabled:
        raise SyncNotConfigured()
    rpc = build_rpc(container)
    engine = build_engine(container, rpc)
    try:
        report = engine.run_round(full=full)
    except Exception as exc:
        engine.record_error(str(exc))
        raise
    finally:
        rpc.close()
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
    from app.sync import set_aside
    from app.sync.engine import SyncEngine

    container = ctx.container
    settings = container.settings
    engine = SyncEngine(container.db, rpc=None, device_id=settings.device_id)  # type: ignore[arg-type]
    state = engine.state()
    info: dict[str, Any] = {
        "enabled": settings.sync.enabled and not settings.privacy_mode,
        "privacy_mode": settings.privacy_mode,
        "project_url": settings.sync.supabase_url,
        "email": settings.sync.email,
        "signed_in": _signed_in(container),
        "last_synced_at": state.last_synced_at,
        "pending": engine.pending_count(),
        "last_error": state.last_error,
    }
    with container.db.session() as session:
        info["set_aside"] = set_aside.listed(session)
    if ctx.json_output:
        ctx.emit_json(info)
        return 0
    if settings.privacy_mode:
        ctx.out("Sync: off (privacy mode is on)")
    elif not settings.sync.enabled:
        ctx.out("Sync: not set up (see README: Sync between devices)")
    else:
        who = settings.sync.email or "?"
        ctx.out(f"Sync: on, {settings.sync.supabase_url} as {who}"
                + ("" if info["signed_in"] else " (not signed in: recap sync --sign-in)"))
    last = state.last_synced_at
    ctx.out(f"Last synced: {last.astimezone().strftime('%Y-%m-%d %H:%M:%S') if last else 'never'}")
    ctx.out(f"Waiting to sync: {info['pending']}")
    if state.last_error:
        ctx.out(f"Last error: {state.last_error}")
    if info["set_aside"]:
        ctx.out(f"Set aside: {len(info['set_aside'])} received rows could not be used here "
                "(the rest synced normally):")
        for row in info["set_aside"]:
            ctx.out(f"  {row['kind'] or '?'} {row['id']} v{row['version']}: {row['reason']}")
        ctx.out("  They are tried again when a newer version arrives, or with "
                "`recap sync --full`.")
    return 0


def _signed_in(container: Any) -> bool:
    sync = container.settings.sync
    if not sync.supabase_url or not sync.supabase_anon_key:
        return False
    from app.sync.client import SupabaseRpc

    return SupabaseRpc(sync.supabase_url, sync.supabase_anon_key, sync.email).signed_in()


def _sign_in(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.sync.service import build_rpc

    container = ctx.container
    email = args.email or container.settings.sync.email
    if not email:
        email = input("Email: ").strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {email}: ")
    rpc = build_rpc(container)
    try:
        rpc.sign_in(email, password)
    finally:
        rpc.close()
    container.settings.sync.email = email
    container.settings.sync.enabled = True
    container.save_settings()
    ctx.out(f"Signed in as {email}. Run `recap sync` to sync now.")
    return 0


def _sign_out(ctx: CliContext) -> int:
    from app.sync.service import build_rpc

    sync = ctx.container.settings.sync
    if sync.supabase_url and sync.supabase_anon_key:
        # Through the gate: signing out sends the refresh token, so privacy mode refuses it.
        rpc = build_rpc(ctx.container)
        try:
            rpc.sign_out()
        finally:
            rpc.close()
    ctx.container.settings.sync.enabled = False
    ctx.container.save_settings()
    ctx.out("Signed out. Notes stay on this device; nothing more is sent.")
    return 0
