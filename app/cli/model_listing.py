"""The shape `recap models` and `recap llm-models` share: list, download, import, use, delete.

Each command module describes what differs (help texts, handlers) in a `ModelCommand`;
`register_model_command` builds the parsers, and the helpers below print listings and run
downloads the same way for both, so the two commands cannot drift apart.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeAlias

from app.cli.context import EXIT_OK, CliContext
from app.cli.progress import ProgressBar

Handler = Callable[[argparse.Namespace, CliContext], int]
Progress = Callable[[int, int | None], None]  # (bytes done, total bytes or None if unknown)
Cancel = Callable[[], bool]


class Downloader(Protocol):
    def __call__(self, name: str, *, progress: Progress, cancel: Cancel) -> Path: ...


@dataclass(frozen=True)
class ModelCommand:
    """What differs between the model commands; the actions and their arguments are shared."""

    name: str  # the command word, e.g. "models"
    help: str
    list: Handler
    download: Handler
    import_file: Handler
    use: Handler
    delete: Handler
    list_help: str
    download_help: str
    import_help: str
    use_help: str
    delete_help: str = "remove a downloaded or imported model"
    list_all: bool = False  # `list --all`: also what could be downloaded (else always listed)
    download_default: str | None = None  # the help of an optional NAME (None: NAME is required)


# A string: argparse's class is generic only to type checkers.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register_model_command(sub: Subparsers, command: ModelCommand) -> Subparsers:
    """Adds `recap NAME list|download|import|use|delete`; returns the action parsers, so a
    command can add actions of its own."""
    p = sub.add_parser(command.name, help=command.help)
    actions: Subparsers = p.add_subparsers(
        dest=f"{command.name.replace('-', '_')}_command", metavar="ACTION", required=True
    )
    q = actions.add_parser("list", help=command.list_help)
    if command.list_all:
        q.add_argument("--all", action="store_true", help="also list models you could download")
    q.set_defaults(func=command.list)
    q = actions.add_parser("download", help=command.download_help)
    if command.download_default is None:
        q.add_argument("name")
    else:
        q.add_argument("name", nargs="?", help=command.download_default)
    q.set_defaults(func=command.download)
    q = actions.add_parser("import", help=command.import_help)
    q.add_argument("path", type=Path)
    q.add_argument("--name")
    q.set_defaults(func=command.import_file)
    q = actions.add_parser("use", help=command.use_help)
    q.add_argument("name")
    q.set_defaults(func=command.use)
    q = actions.add_parser("delete", help=command.delete_help)
    q.add_argument("name")
    q.set_defaults(func=command.delete)
    return actions


def use_hint(command: str, name: str) -> str:
    return f"Use it with: recap {command} use {name}"


def download_with_progress(ctx: CliContext, command: str, name: str, download: Downloader) -> int:
    """Downloads under a progress bar (Ctrl+C cancels the download) and says how to use it."""
    bar = ProgressBar()
    cancel = threading.Event()

    def progress(done: int, total: int | None) -> None:
        bar.update(f"Downloading {name}", done / total if total else 0.0)

    try:
        path = download(name, progress=progress, cancel=cancel.is_set)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        bar.finish()
    ctx.out(f"Downloaded {name} to {path}. {use_hint(command, name)}")
    return EXIT_OK


@dataclass(frozen=True)
class ListedModel:
    name: str
    size: int | None  # bytes; None or 0 when not known yet
    detail: str  # where it comes from, or what it is
    chosen: bool = False


@dataclass(frozen=True)
class ListingLayout:
    name_width: int
    size_width: int  # of the megabytes figure, before " MB"


def print_listing(
    ctx: CliContext,
    command: str,
    heading: str,
    installed: Sequence[ListedModel],
    available: Sequence[ListedModel] | None,
    layout: ListingLayout,
    note: str = "",
) -> None:
    """The installed models (the chosen one starred), a note, then those to download."""
    ctx.out(heading)
    for m in installed:
        ctx.out(_row(m, layout))
    if note:
        ctx.out(note)
    if available is not None:
        ctx.out(f"\nAvailable to download (recap {command} download NAME):")
        for m in available:
            ctx.out(_row(m, layout))


def _row(m: ListedModel, layout: ListingLayout) -> str:
    mark = "*" if m.chosen else " "
    size = (
        f"{m.size / 1e6:{layout.size_width}.1f} MB"
        if m.size
        else f"{'-':>{layout.size_width + 1}}  "
    )
    return f" {mark} {m.name:<{layout.name_width}} {size}  {m.detail}"
