"""polish, costs, email, ollama, key: the AI layer's commands."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

from app.cli.context import EXIT_FAILED, EXIT_OK, CliContext
from app.cli.progress import ProgressBar
from app.errors import RecapError
from app.secrets import ANTHROPIC_KEY, delete_secret, get_secret, set_secret

if TYPE_CHECKING:
    from app.llm.ollama_backend import PullProgress


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("polish", help="polish a meeting's email draft with Claude (shows a diff)")
    p.add_argument("id", help="meeting id (the first characters are enough)")
    choice = p.add_mutually_exclusive_group()
    choice.add_argument("--yes", action="store_true", help="accept the polished version")
    choice.add_argument("--no", action="store_true", help="only show the diff")
    p.set_defaults(func=cmd_polish)

    p = sub.add_parser("costs", help="what the AI work cost, and how much of it ran locally")
    p.set_defaults(func=cmd_costs)

    p = sub.add_parser("email", help="show the follow-up email draft; set recipients; open it")
    p.add_argument("id")
    p.add_argument("--to", help="recipients, comma separated (only you choose them)")
    p.add_argument("--open", action="store_true", help="open it in the mail app (not sent)")
    p.set_defaults(func=cmd_email)

    p = sub.add_parser("ollama", help="is Ollama ready for Recap; pull the model it needs")
    p.add_argument("action", choices=["status", "pull"])
    p.add_argument("model", nargs="?", help="model to pull (default: the one in settings)")
    p.set_defaults(func=cmd_ollama)

    p = sub.add_parser("key", help="store or remove the Claude API key (OS keychain)")
    p.add_argument("action", choices=["set", "delete", "status"])
    p.add_argument("service", choices=["anthropic"])
    p.set_defaults(func=cmd_key)


def cmd_polish(args: argparse.Namespace, ctx: CliContext) -> int:
    mail = ctx.container.mail
    meeting_id = ctx.container.queries.resolve(args.id)
    try:
        proposal = mail.propose_polish(meeting_id)
    except RecapError as exc:  # Claude not allowed, no key, no draft, no answer
        ctx.error(str(exc), exc.fix or "Allow the cloud and add a key: `recap key set "
                                       "anthropic`.")
        return EXIT_FAILED
    if ctx.json_output:
        ctx.emit_json({"meeting_id": meeting_id, "model": proposal.model,
                       "changed": proposal.changed, "diff": proposal.diff,
                       "subject": proposal.new_subject, "body": proposal.new_body,
                       "accepted": bool(args.yes and proposal.changed)})
    elif not proposal.changed:
        ctx.out("Claude suggests no changes.")
    else:
        ctx.out(proposal.diff)
    if not proposal.changed or args.no:
        return EXIT_OK
    accepted = args.yes or (not ctx.json_output and _confirm("Use the polished version?"))
    if accepted:
        mail.accept_polish(proposal, meeting_id)
        if not ctx.json_output:
            ctx.out("Polished draft saved.")
    elif not ctx.json_output:
        ctx.out("Kept your draft unchanged.")
    return EXIT_OK


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False  # never accept silently when nobody is there to answer
    return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}


def cmd_costs(args: argparse.Namespace, ctx: CliContext) -> int:
    report = ctx.container.local_ai.costs()
    if ctx.json_output:
        ctx.emit_json({
            "meetings": [m.__dict__ for m in report.meetings], "calls": report.calls,
            "local_calls": report.local_calls, "tokens": report.tokens,
            "local_tokens": report.local_tokens, "local_call_share": report.local_call_share,
            "local_token_share": report.local_token_share,
            "month_cloud_usd": report.month_cloud_usd, "monthly_cap_usd": report.monthly_cap_usd,
        })
        return EXIT_OK
    if not report.calls:
        ctx.out("No AI calls yet.")
        return EXIT_OK
    ctx.out(f"{'Meeting':<40} {'Calls':>6} {'Local':>6} {'Cost (USD)':>11}")
    for m in report.meetings:
        title = (m.title or (m.meeting_id or "(no meeting)")[:8])[:40]
        ctx.out(f"{title:<40} {m.calls:>6} {m.local_calls:>6} {m.cost_usd:>11.4f}")
    ctx.out(f"\nRan locally: {report.local_call_share:.0%} of calls, "
            f"{report.local_token_share:.0%} of tokens")
    ctx.out(f"Cloud this month: ${report.month_cloud_usd:.2f} of "
            f"${report.monthly_cap_usd:.2f} cap")
    return EXIT_OK


def cmd_email(args: argparse.Namespace, ctx: CliContext) -> int:
    meeting_id = ctx.container.queries.resolve(args.id)
    email = ctx.container.mail.address(meeting_id, args.to)
    if ctx.json_output:
        data: dict[str, Any] = {"subject": email.draft.subject, "body": email.draft.body,
                                "recipients": email.recipients, "mailto": email.mailto}
        ctx.emit_json(data)
    else:
        ctx.out(f"To: {', '.join(email.recipients) or '(add recipients with --to)'}")
        ctx.out(f"Subject: {email.draft.subject}\n\n{email.draft.body}")
    if args.open:
        import webbrowser  # slow to import (subprocess, shlex): only when asked for

        webbrowser.open(email.mailto)  # the mail app opens a new message; nothing is sent here
    return EXIT_OK


def cmd_key(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.action == "status":
        stored = get_secret(ANTHROPIC_KEY) is not None
        ctx.out("A Claude API key is stored." if stored else "No Claude API key is stored.")
        return EXIT_OK
    if args.action == "delete":
        delete_secret(ANTHROPIC_KEY)
        ctx.out("Claude API key removed.")
        return EXIT_OK
    key = getpass.getpass("Claude API key: ") if sys.stdin.isatty() else sys.stdin.readline()
    if not key.strip():
        ctx.error("No key given.", "Paste the key from console.anthropic.com.")
        return EXIT_FAILED
    set_secret(ANTHROPIC_KEY, key.strip())
    ctx.out("Claude API key stored in the system keychain.")
    return EXIT_OK


def cmd_ollama(args: argparse.Namespace, ctx: CliContext) -> int:
    local_ai = ctx.container.local_ai
    if args.action == "pull":
        bar = None if ctx.json_output else ProgressBar()
        model = args.model or ctx.container.settings.llm.ollama_model

        def show(event: PullProgress) -> None:
            if bar is not None:
                bar.update(f"{model}: {event.status}"[:40], event.fraction or 0.0)

        try:
            state = local_ai.pull(args.model, show)
        finally:
            if bar is not None:
                bar.finish()
    else:
        state = local_ai.ollama(args.model)
    status = state.availability
    if ctx.json_output:
        ctx.emit_json({"host": state.host, "model": state.model, "ready": status.ok,
                       "reason": status.reason, "fix": status.fix})
    elif status.ok:
        ctx.out(f"Ollama at {state.host} is ready with {state.model}.")
    else:
        ctx.error(status.reason, status.fix)
    return EXIT_OK if status.ok else EXIT_FAILED
