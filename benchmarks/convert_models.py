"""Time the CTranslate2 -> ggml conversion of the built-in models and compare the outputs.

Prints, for each built-in source that is installed (tiny.en; base with the `multilingual`
extra) and each output type: wall and CPU time, output size, peak resident memory (which
includes the memory-mapped source pages), and, with --speech, the time whisper.cpp takes to
transcribe a clip with each output (alternating runs, best of --runs).

    python benchmarks/convert_models.py [--types f16 q8_0] [--speech FILE] [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import tempfile
import time
from pathlib import Path

from app.transcribe.catalog import EMBEDDED
from app.transcribe.ct2_ggml import convert
from app.transcribe.model_store import ModelStore


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _decode(path: Path) -> object:
    import av
    import numpy as np

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
        chunks = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0)
                  for f in resampler.resample(frame)]
    return np.concatenate(chunks).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", nargs="+", default=["f16", "q8_0"])
    parser.add_argument("--speech", type=Path, help="audio clip to transcribe with each output")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    out_dir = Path(tempfile.mkdtemp(prefix="recap-convert-"))
    locate = ModelStore._locate
    outputs: dict[str, Path] = {}
    for family, key in (("tiny.en", "tiny.en"), ("base", "base")):
        src = EMBEDDED[key]
        if any(importlib.util.find_spec(p.partition(":")[0]) is None for p in src.parts):
            print(f"{family}: weights not installed, skipped")
            continue
        parts = [locate(p) for p in src.parts]
        source_mb = sum(p.stat().st_size for p in parts) / 1e6
        for out_type in args.types:
            target = out_dir / f"ggml-{family}-{out_type}.bin"
            wall, cpu = time.perf_counter(), time.process_time()
            convert(parts, locate(src.vocabulary), target, out_type)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            outputs[f"{family} {out_type}"] = target
            print(f"{family:8} {out_type:5} convert {wall:5.2f} s wall {cpu:5.2f} s CPU   "
                  f"{target.stat().st_size / 1e6:6.1f} MB (source {source_mb:.1f} MB)   "
                  f"peak RSS so far {_peak_mb():.0f} MB")
    if args.speech:
        from pywhispercpp.model import Model

        audio = _decode(args.speech)
        models = {k: Model(str(p), n_threads=args.threads, print_progress=False,
                           print_realtime=False, redirect_whispercpp_logs_to=None)
                  for k, p in outputs.items()}
        best = dict.fromkeys(models, float("inf"))
        for _ in range(args.runs):  # alternate, so load from other processes hits all alike
            for key, model in models.items():
                start = time.perf_counter()
                model.transcribe(audio)
                best[key] = min(best[key], time.perf_counter() - start)
        for key, seconds in best.items():
            print(f"{key:14} transcribe {seconds:5.2f} s (best of {args.runs})")


if __name__ == "__main__":
    main()
