"""Clustering on its own, with embeddings whose groups are known."""

from __future__ import annotations

import numpy as np

from app.speakers.cluster import ClusterConfig, cluster, normalise


def _voices(counts: list[int], spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Windows of len(counts) voices: each voice a random direction, windows scattered
    around it so that same-voice windows score about 0.7 (as CAM++ windows do)."""
    rng = np.random.default_rng(seed)
    centres = normalise(rng.standard_normal((len(counts), 192)))
    points, truth = [], []
    for k, n in enumerate(counts):
        points.append(normalise(centres[k] + spread * rng.standard_normal((n, 192))))
        truth += [k] * n
    return np.concatenate(points), np.array(truth)


def _pure(labels: np.ndarray, truth: np.ndarray) -> bool:
    return all(len(set(truth[labels == k])) == 1 for k in set(labels.tolist()))


def test_the_count_comes_from_the_data() -> None:
    for counts in ([40, 30], [30, 25, 20], [25, 20, 20, 15, 10]):
        emb, truth = _voices(counts, 0.045)
        labels = cluster(emb)
        assert len(set(labels.tolist())) == len(counts)
        assert _pure(labels, truth)


def test_one_voice_is_not_split() -> None:
    emb, _ = _voices([80], 0.045, seed=3)
    assert set(cluster(emb).tolist()) == {0}


def test_a_given_count_is_obeyed() -> None:
    emb, _ = _voices([30, 25, 20], 0.045)
    assert len(set(cluster(emb, num_speakers=2).tolist())) == 2
    assert len(set(cluster(emb, num_speakers=5).tolist())) == 5
    assert set(cluster(emb, num_speakers=1).tolist()) == {0}


def test_few_windows() -> None:
    assert cluster(np.zeros((0, 192))).size == 0
    assert cluster(normalise(np.ones((1, 192)))).tolist() == [0]
    emb, truth = _voices([4, 3], 0.045)  # under ClusterConfig.few_windows: agglomerative
    assert len(emb) < ClusterConfig().few_windows
    labels = cluster(emb)
    assert len(set(labels.tolist())) == 2 and _pure(labels, truth)
