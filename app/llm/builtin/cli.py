"""recap llm-models list|download|import|use|delete|prepare — the built-in engine's models.

A command module like those in ``app.cli`` (``register(sub)``; handlers take ``(args, ctx)``);
listed in ``app.cli.COMMAND_MODULES`` to appear. Imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from app.cli.context import EXIT_OK, CliContext
from app.cli.model_commands import (
    ListedModel,
    ListingLayout,
    ModelCommand,
    download_with_progress,
    print_listing,
    register_model_command,
    use_hint,
)

if TYPE_CHECKING:
    from app.llm.builtin.models import LLMModelStore

_LAYOUT = ListingLayout(name_width=38, size_width=8)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    actions = register_model_command(sub, ModelCommand(
        name="llm-models", help="built-in AI models (GGUF): list, download, choose",
        list=cmd_list, list_help="installed models, and those you could download",
        download=cmd_download, download_help="download a model (resumable, checksum-verified)",
        download_default="default: the recommended one for this machine",
        import_file=cmd_import, import_help="use a .gguf model file you already have",
        use=cmd_use, use_help="choose the built-in model ('auto': the best installed)",
        delete=cmd_delete,
    ))
    q = actions.add_parser("prepare", help="verify (and assemble) a packaged model now")
    q.add_argument("name", nargs="?")
    q.set_defaults(func=cmd_prepare)


def _store(ctx: CliContext) -> LLMModelStore:
    from app.llm.builtin.models import LLMModelStore
    from app.transcribe.download import gated_client_factory

    paths = ctx.container.paths
    return LLMModelStore(paths.models, paths.cache,
                         client_factory=gated_client_factory(ctx.container.net_gate))


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    store = _store(ctx)
    chosen = ctx.container.settings.llm.builtin_model
    active = store.resolve(chosen)
    installed = store.installed()
    available = [c for c in store.catalog() if c.name not in {m.name for m in installed}]
    if ctx.json_output:
        ctx.emit_json({"chosen": chosen, "active": active.name if active else None,
                       "installed": [{"name": m.name, "label": m.label, "size": m.size,
                                      "source": m.source, "path": str(m.path or "")}
                                     for m in installed],
                       "available": [{"name": c.name, "label": c.label, "size": c.size}
                                     for c in available]})
        return EXIT_OK
    print_listing(
        ctx, "llm-models", "Installed:" if installed else "No built-in model is installed.",
        [ListedModel(m.name, m.size, m.source, chosen=active is not None and m.name == active.name)
         for m in installed],
        [ListedModel(c.name, c.size, c.label) for c in available] or None, _LAYOUT)
    return EXIT_OK


def cmd_download(args: argparse.Namespace, ctx: CliContext) -> int:
    store = _store(ctx)
    name = args.name
    if not name:
        best = store.recommended()
        if best is None:
            ctx.error("This machine has too little memory for the built-in models.",
                      "Use Ollama on another machine, or the cloud fallback.")
            return 1
        name = best.name
    return download_with_progress(ctx, "llm-models", name, store.download)


def cmd_import(args: argparse.Namespace, ctx: CliContext) -> int:
    path = _store(ctx).import_file(args.path, name=args.name)
    ctx.out(f"Imported {path.stem}. {use_hint('llm-models', path.stem)}")
    return EXIT_OK


def cmd_use(args: argparse.Namespace, ctx: CliContext) -> int:
    container = ctx.container
    name = "" if args.name == "auto" else args.name
    if name and _store(ctx).get(name) is None:
        ctx.error(f"No built-in model called {name!r} is installed.",
                  "See the list with `recap llm-models list`.")
        return 1
    container.settings.llm.builtin_model = name
    container.save_settings()
    ctx.out(f"The built-in engine will use {name or 'the best installed model'}.")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: CliContext) -> int:
    _store(ctx).delete(args.name)
    if ctx.container.settings.llm.builtin_model == args.name:
        ctx.container.settings.llm.builtin_model = ""
        ctx.container.save_settings()
    ctx.out(f"Deleted {args.name}.")
    return EXIT_OK


def cmd_prepare(args: argparse.Namespace, ctx: CliContext) -> int:
    store = _store(ctx)
    model = store.resolve(args.name or ctx.container.settings.llm.builtin_model)
    if model is None:
        from app.llm.builtin.provider import INSTALL_FIX

        ctx.error("No built-in model is installed.", INSTALL_FIX)
        return 1
    path = store.prepare(model)
    ctx.out(f"{model.name} is ready: {path}")
    return EXIT_OK
