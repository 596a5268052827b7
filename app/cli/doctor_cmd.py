"""recap doctor — what works and what does not, each with the fix."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from app.cli.context import EXIT_FAILED, EXIT_OK, CliContext
from app.errors import RecapError
from app.secrets import keychain_backend


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("doctor", help="check what works and what needs fixing")
    p.set_defaults(func=cmd_doctor)


def _database(ctx: CliContext) -> Check:
    health = ctx.container.queries.health()
    ok = health.problem == ""
    return Check("Database", ok,
                 f"{health.path} ({health.meetings} meetings)" if ok else health.problem,
                 "" if ok else f"Restore a backup from {ctx.container.paths.backups}")


def _model(ctx: CliContext) -> Check:
    name = ctx.container.settings.transcription.model
    store = ctx.container.model_store
    try:
        path = store.path_for(name)  # a built-in model is made here on first run
    except RecapError as exc:
        return Check("Transcription model", False, str(exc), exc.fix)
    # Models kept in the user's folder are checked in full; one shipped inside an installer
    # is read-only and was checked when the installer was built.
    if path.parent == store.models_dir and not store.verify(name):
        return Check("Transcription model", False, f"{name} does not match its checksum",
                     "Run `recap models list`; it is re-made or re-downloaded on next use.")
    return Check("Transcription model", True, f"{name} ({path.stat().st_size / 1e6:.0f} MB)")


def _decoder(ctx: CliContext) -> Check:
    import av  # the check is that the decoder loads at all

    return Check("Audio decoding", True, f"PyAV {av.__version__} (FFmpeg built in)")


def _local_ai(ctx: CliContext) -> Check:
    backend, tried = ctx.container.local_ai.engine()
    if backend is not None:
        return Check("Local AI", True, f"{backend.name} with {backend.model}")
    first = tried[0] if tried else None
    return Check("Local AI", False,
                 (first.reason if first else "no local model found")
                 + "; action items and summaries will wait until one is available",
                 first.fix if first else "", required=False)


def _keyring(ctx: CliContext) -> Check:
    where = keychain_backend()
    ok = "fail" not in where and not where.endswith("PlaintextKeyring")
    return Check("Keychain", ok, where,
                 "" if ok else "Install an OS keychain (e.g. gnome-keyring) to store API keys.",
                 required=False)


def _disk(ctx: CliContext) -> Check:
    free = shutil.disk_usage(ctx.container.paths.data).free
    ok = free > 500e6
    return Check("Disk space", ok, f"{free / 1e9:.1f} GB free in {ctx.container.paths.data}",
                 "" if ok else "Free some disk space: recordings and models need room.")


CHECKS: list[Callable[[CliContext], Check]] = [_database, _model, _decoder, _local_ai,
                                              _keyring, _disk]


def cmd_doctor(args: argparse.Namespace, ctx: CliContext) -> int:
    results = []
    for check in CHECKS:
        name = check.__name__.strip("_").replace("_", " ").capitalize()
        try:
            results.append(check(ctx))
        except RecapError as exc:  # a failing check is a finding, not a crash
            results.append(Check(name, False, str(exc), exc.fix))
        except Exception as exc:
            results.append(Check(name, False, str(exc)))
    if ctx.json_output:
        ctx.emit_json([r.__dict__ for r in results])
    else:
        for r in results:
            mark = "ok  " if r.ok else ("FAIL" if r.required else "warn")
            ctx.out(f"[{mark}] {r.name}: {r.detail}")
            if r.fix and not r.ok:
                ctx.out(f"       → {r.fix}")
    return EXIT_OK if all(r.ok or not r.required for r in results) else EXIT_FAILED
