"""`recap gui [FILE...]`: open the desktop app (also what `recap` alone does).

Qt is imported only inside the handler, so the rest of the CLI never pays for it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.cli.context import CliContext


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("gui", help="open the desktop app (the default without a command)")
    p.add_argument("files", nargs="*", metavar="FILE", help="recordings to import at once")
    p.set_defaults(func=cmd_gui)


def cmd_gui(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        from app.ui.app import run
    except ImportError as exc:
        ctx.error(f"The desktop app cannot start: {exc}.",
                  "Install Recap with its GUI dependencies (pyside6-essentials, "
                  "pyside6-addons), or use the commands listed by `recap --help`.")
        return 1
    return run(files=[str(f) for f in args.files])
