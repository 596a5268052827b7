"""recap llm-models list|download|import|use|delete|prepare — the built-in engine's models.

A command module like those in ``app.cli`` (``register(sub)``; handlers take ``(args, ctx)``);
listed in ``app.cli.COMMAND_MODULES`` to appear. Imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.context import EXIT_OK, CliContext

if TYPE_CHECKING:
    from app.llm.builtin.models import LLMModelStore


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("llm-models", help="built-in AI models (GGUF): list, download, choose")
    msub = p.add_subparsers(dest="llm_models_command", metavar="ACTION", required=True)
    q = msub.add_parser("list", help="installed models, and those you could download")
    q.set_defaults(func=cmd_list)
    q = msub.add_parser("download", help="download a model (resumable, checksum-verified)")
    q.add_argument("name", nargs="?", help="default: the recommended one for this machine")
    q.set_defaults(func=cmd_download)
    q = msub.add_parser("import", help="use a .gguf model file you already have")
    q.add_argument("path", type=Path)
    q.add_argument("--name")
    q.set_defaults(func=cmd_import)
    q = msub.add_parser("use", help="choose the built-in model ('auto': the best installed)")
    q.add_argument("name")
    q.set_defaults(func=cmd_use)
    q = msub.add_parser("delete", help="remove a downloaded or imported model")
    q.add_argument("name")
    q.set_defaults(func=cmd_delete)
    q = msub.add_parser("prepare", help="verify (and assemble) a packaged model now")
    q.add_argument("name", nargs="?")
    q.set_defaults(func=cmd_prepare)


def _store(ctx: CliContext) -> LLMModelStore:
    from app.llm.builtin.models import LLMModelStore

    paths = ctx.container.paths
    return LLMModelStore(paths.models, paths.cache)


def _mb(size: int) -> str:
    return f"{size / 1e6:8.1f} MB"


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
    ctx.out("Installed:" if installed else "No built-in model is installed.")
    for m in installed:
        mark = "*" if active and m.name == active.name else " "
        ctx.out(f" {mark} {m.name:<38} {_mb(m.size)}  {m.source}")
    if available:
        ctx.out("\nAvailable to download (recap llm-models download NAME):")
        for c in available:
            ctx.out(f"   {c.name:<38} {_mb(c.size)}  {c.label}")
    return EXIT_OK


def cmd_download(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.cli.progress import ProgressBar

    store = _store(ctx)
    name = args.name
    if not name:
        best = store.recommended()
        if best is None:
            ctx.error("This machine has too little memory for the built-in models.",
                      "Use Ollama on another machine, or the cloud fallback.")
            return 1
        name = best.name
    bar = ProgressBar()
    cancel = threading.Event()

    def progress(done: int, total: int | None) -> None:
        bar.update(f"Downloading {name}", done / total if total else 0.0)

    try:
        path = store.download(name, progress=progress, cancel=cancel.is_set)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        bar.finish()
    ctx.out(f"Downloaded {name} to {path}. Use it with: recap llm-models use {name}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace, ctx: CliContext) -> int:
    path = _store(ctx).import_file(args.path, name=args.name)
    ctx.out(f"Imported {path.stem}. Use it with: recap llm-models use {path.stem}")
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
