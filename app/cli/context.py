"""What every CLI command shares: the container (built on first use), output, error handling."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.cli.output import json_printable, printable
from app.errors import RecapError

if TYPE_CHECKING:
    from app.container import Container

log = logging.getLogger("app.cli")

EXIT_OK = 0
EXIT_FAILED = 1  # the job could not be done (bad input, nothing found)
EXIT_UNEXPECTED = 2


@dataclass
class CliContext:
    json_output: bool = False
    _container: Container | None = field(default=None, repr=False)

    @property
    def container(self) -> Container:
        if self._container is None:
            from app.container import Container

            self._container = Container()
        return self._container

    # Every line the CLI prints goes through these: see app/cli/output.py.
    def out(self, text: str = "") -> None:
        print(printable(text), flush=True)

    def write(self, text: str) -> None:
        """`text` as it is (no newline added), made safe for the terminal."""
        sys.stdout.write(printable(text))
        sys.stdout.flush()

    def out_json(self, text: str) -> None:
        """Already-serialised JSON: control characters escaped, never dropped."""
        print(json_printable(text), flush=True)

    def emit_json(self, data: Any) -> None:
        self.out_json(json.dumps(data, indent=2, ensure_ascii=False, default=str))

    def error(self, message: str, fix: str = "") -> None:
        """One human line on stderr (and a fix when there is one); never a traceback."""
        print(f"recap: {printable(message)}", file=sys.stderr, flush=True)
        if fix:
            print(f"  → {printable(fix)}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()


def run_handler(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        return int(args.func(args, ctx) or 0)
    except KeyboardInterrupt:
        ctx.error("Interrupted. Nothing finished so far is lost; `recap resume` continues.")
        return 130
    except RecapError as exc:
        log.info("command failed: %s", exc, exc_info=True)
        ctx.error(str(exc), exc.fix)
        return EXIT_FAILED
    except Exception as exc:  # the last line of defence: a message, never a traceback
        log.exception("unexpected error in %s", args.command)
        where = ""
        if ctx._container is not None:
            where = f" Details are in {ctx._container.paths.log_file}"
        ctx.error(f"Something went wrong: {exc}.{where}")
        return EXIT_UNEXPECTED
    finally:
        ctx.close()
