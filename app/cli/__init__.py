"""`recap`: the headless face of the app. Starts fast: command modules import nothing heavy
at module level (no Whisper, no Qt, no SQLAlchemy models) — only inside their handlers."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

log = logging.getLogger("app.cli")

# Each module exposes register(subparsers); a handler is set with set_defaults(func=...),
# called as func(args, ctx) and returning an exit code.
COMMAND_MODULES = [
    "app.cli.core_cmds",
    "app.cli.models_cmd",
    "app.cli.doctor_cmd",
    "app.cli.record_cmd",
    "app.cli.sync_cmd",
    "app.cli.llm_cmds",
    "app.llm.builtin.cli",
    "app.cli.gui_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    from app import __version__

    parser = argparse.ArgumentParser(
        prog="recap",
        description="Offline-first meeting notes: transcript, action items, summary, email draft.",
    )
    parser.add_argument("--version", action="version", version=f"recap {__version__}")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # an optional part is not installed: say so, keep going
            log.warning("command module %s unavailable: %s", name, exc)
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from app.cli.context import CliContext, run_handler

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        if "gui" in sub_names(parser):
            args = parser.parse_args(["gui"])
        else:
            parser.print_help()
            return 0
    ctx = CliContext(json_output=args.json)
    return run_handler(args, ctx)


def sub_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


if __name__ == "__main__":
    sys.exit(main())
