"""recap models list|download|import|use|delete — the transcription models."""

from __future__ import annotations

import argparse

from app.cli.context import EXIT_OK, CliContext
from app.cli.model_listing import (
    ListedModel,
    ListingLayout,
    ModelCommand,
    download_with_progress,
    print_listing,
    register_model_command,
    use_hint,
)

_LAYOUT = ListingLayout(name_width=22, size_width=7)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    register_model_command(sub, ModelCommand(
        name="models", help="transcription models: list, download, import, choose",
        list=cmd_list, list_help="installed and downloadable models", list_all=True,
        download=cmd_download, download_help="download an official whisper.cpp model",
        import_file=cmd_import, import_help="use a whisper.cpp ggml .bin file you already have",
        use=cmd_use, use_help="choose the model for new transcriptions",
        delete=cmd_delete,
    ))


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
    available = None
    if args.all:
        available = [ListedModel(c.name, c.size,
                                 "multilingual" if c.multilingual else "English")
                     for c in store.catalog() if c.name not in names]
    print_listing(
        ctx, "models", "Installed:",
        [ListedModel(m.name, m.size, m.kind, chosen=m.name == current) for m in installed],
        available, _LAYOUT,
        note="" if current in names else f"   (default {current} will be prepared on first use)")
    return EXIT_OK


def cmd_download(args: argparse.Namespace, ctx: CliContext) -> int:
    return download_with_progress(ctx, "models", args.name, ctx.container.model_store.download)


def cmd_import(args: argparse.Namespace, ctx: CliContext) -> int:
    name = ctx.container.model_store.import_file(args.path, name=args.name).name
    ctx.out(f"Imported {name}. {use_hint('models', name)}")
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
