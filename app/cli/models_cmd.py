"""recap models list|download|import|use|delete — the transcription models."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from app.cli.context import EXIT_OK, CliContext


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("models", help="transcription models: list, download, import, choose")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    q = msub.add_parser("list", help="installed and downloadable models")
    q.add_argument("--all", action="store_true", help="also list models you could download")
    q.set_defaults(func=cmd_list)
    q = msub.add_parser("download", help="download an official whisper.cpp model")
    q.add_argument("name")
    q.set_defaults(func=cmd_download)
    q = msub.add_parser("import", help="use a whisper.cpp ggml .bin file you already have")
    q.add_argument("path", type=Path)
    q.add_argument("--name")
    q.set_defaults(func=cmd_import)
    q = msub.add_parser("use", help="choose the model for new transcriptions")
    q.add_argument("name")
    q.set_defaults(func=cmd_use)
    q = msub.add_parser("delete", help="remove a downloaded or imported model")
    q.add_argument("name")
    q.set_defaults(func=cmd_delete)


def _mb(size: int | None) -> str:
    return f"{size / 1e6:7.1f} MB" if size else "       -  "


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    store = ctx.container.model_store
    current = ctx.container.settings.transcription.model
    installed = store.list_installed(default=current)
    names = {m.name for m in installed}
    if ctx.json_output:
        data = {"default": current, "installed": [m.__dict__ | {"path": str(m.path)}
                                                    for m in installed]}
        if args.all:
            data["available"] = [c.__dict__ for c in store.catalog() if c.name not in names]
        ctx.emit_json(data)
        return EXIT_OK
    ctx.out("Installed:")
    for m in installed:
        mark = "*" if m.name == current else " "
        ctx.out(f" {mark} {m.name:<22} {_mb(getattr(m, 'size', None))}  {m.kind}")
    if current not in names:
        ctx.out(f"   (default {current} will be prepared on first use)")
    if args.all:
        ctx.out("\nAvailable to download (recap models download NAME):")
        for c in store.catalog():
            if c.name not in names:
                lang = "multilingual" if getattr(c, "multilingual", False) else "English"
                ctx.out(f"   {c.name:<22} {_mb(getattr(c, 'size', None))}  {lang}")
    return EXIT_OK


def cmd_download(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.cli.progress import ProgressBar

    bar = ProgressBar()
    cancel = threading.Event()

    def progress(done: int, total: int | None) -> None:
        bar.update(f"Downloading {args.name}", done / total if total else 0.0)

    try:
        path = ctx.container.model_store.download(args.name, progress=progress,
                                                   cancel=cancel.is_set)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        bar.finish()
    ctx.out(f"Downloaded {args.name} to {path}. Use it with: recap models use {args.name}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace, ctx: CliContext) -> int:
    name = ctx.container.model_store.import_file(args.path, name=args.name).name
    ctx.out(f"Imported {name}. Use it with: recap models use {name}")
    return EXIT_OK


def cmd_use(args: argparse.Namespace, ctx: CliContext) -> int:
    container = ctx.container
    name = container.model_store.resolve(args.name)  # raises with a fix if not installed
    container.settings.transcription.model = name
    if ".en" in name:
        container.settings.transcription.language = "en"
    elif container.settings.transcription.language == "en":
        container.settings.transcription.language = "auto"
    container.save_settings()
    ctx.out(f"New meetings will be transcribed with {name}.")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.name == ctx.container.settings.transcription.model:
        ctx.error(f"{args.name} is the model in use.",
                  "Choose another first: recap models use NAME")
        return 1
    ctx.container.model_store.delete(args.name)
    ctx.out(f"Deleted {args.name}.")
    return EXIT_OK
