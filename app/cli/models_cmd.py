"""recap models list|download|import|use|delete|recommend — the transcription models."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from app.transcribe.model_store import ModelStore

_LAYOUT = ListingLayout(name_width=22, size_width=7)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    actions = register_model_command(sub, ModelCommand(
        name="models", help="transcription models: list, download, import, choose",
        list=cmd_list, list_help="installed and downloadable models", list_all=True,
        download=cmd_download, download_help="download an official whisper.cpp model",
        import_file=cmd_import, import_help="use a whisper.cpp ggml .bin file you already have",
        use=cmd_use, use_help="choose the model for new transcriptions",
        delete=cmd_delete,
    ))
    q = actions.add_parser("recommend", help="time the installed models here and pick the most "
                           "accurate one that fits your time budget")
    q.add_argument("--budget", type=float, metavar="MINUTES",
                   help="longest a one-hour meeting may take (default: your setting, 15)")
    q.add_argument("--use", action="store_true", help="make the recommended model the default")
    q.set_defaults(func=cmd_recommend)


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


def recommend_candidates(store: ModelStore) -> list[str]:
    """Installed models worth timing: the built-in q8_0 files (the f16 ones are as accurate and
    slower) and every downloaded or imported model."""
    names = []
    for m in store.list_installed():
        if m.kind == "embedded" and not m.name.endswith("-q8_0"):
            continue
        names.append(m.name)
    return names


def cmd_recommend(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.audio.sample import sample_clip
    from app.transcribe.recommend import CLIP_SECONDS, OFFERED_DOWNLOADS, engine_timer, recommend

    container = ctx.container
    settings = container.settings.transcription
    store = container.model_store
    budget = args.budget if args.budget is not None else settings.hour_budget_minutes
    candidates = recommend_candidates(store)
    if not ctx.json_output:
        ctx.out(f"Timing {', '.join(candidates)} on a 30 s clip (a minute or two)...")
    online = container.net_gate.allows(store.base_url)
    timer = engine_timer(store.path_for, threads=settings.threads,
                         clip=sample_clip(CLIP_SECONDS))
    rec = recommend(candidates, timer,
                    budget_minutes=budget, english=settings.language in ("en", "auto"),
                    downloadable=OFFERED_DOWNLOADS if online else ())
    if args.use:
        settings.model = rec.chosen
        container.save_settings()
    if ctx.json_output:
        ctx.emit_json({"chosen": rec.chosen, "budget_minutes": budget, "reason": rec.reason,
                       "used": bool(args.use),
                       "measured": [m.__dict__ | {"minutes_per_hour": m.minutes_per_hour}
                                    for m in rec.measured],
                       "offers": [m.__dict__ | {"minutes_per_hour": m.minutes_per_hour}
                                  for m in rec.offers]})
        return EXIT_OK
    for m in rec.measured:
        mark = "*" if m.name == rec.chosen else " "
        ctx.out(f" {mark} {m.name:<22} one hour in about {m.minutes_per_hour:5.1f} min")
    ctx.out(f"Recommended: {rec.chosen} ({rec.reason}).")
    for m in rec.offers:
        ctx.out(f"   {m.name:<22} (download) one hour in about {m.minutes_per_hour:5.1f} min "
                f"(estimated): recap models download {m.name}")
    if args.use:
        ctx.out(f"New meetings will be transcribed with {rec.chosen}.")
    elif rec.chosen != settings.model:
        ctx.out(use_hint("models", rec.chosen))
    return EXIT_OK
