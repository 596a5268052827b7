"""`recap`: the headless face of the app.

Starts fast: the command modules import nothing heavy (no Whisper, no Qt, no SQLAlchemy); what
a command needs is built on first use by the container (app/container.py), the one place where
heavy modules load.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app import __version__
from app.cli import (
    ai_cmd,
    doctor_cmd,
    gui_cmd,
    llm_models_cmd,
    meetings_cmd,
    models_cmd,
    record_cmd,
    sync_cmd,
)
from app.cli.context import CliContext, run_handler

# Each module exposes register(subparsers); a handler is set with set_defaults(func=...),
# called as func(args, ctx) and returning an exit code. In the order `recap --help` lists them.
COMMAND_MODULES = [meetings_cmd, models_cmd, doctor_cmd, record_cmd, sync_cmd, ai_cmd,
                   llm_models_cmd, gui_cmd]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recap",
        description="Offline-first meeting notes: transcript, action items, summary, email draft.",
    )
    parser.add_argument("--version", action="version", version=f"recap {__version__}")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `recap` alone opens the window
        args = parser.parse_args(["gui"])
    ctx = CliContext(json_output=args.json)
    return run_handler(args, ctx)


if __name__ == "__main__":
    sys.exit(main())
