"""Group window embeddings by speaker: spectral clustering, the eigengap picks the count.

The affinity is the cosine similarity between windows, pruned to each window's strongest
neighbours (so that weak cross-speaker links do not join clusters) and made symmetric. The
number of speakers is where the sorted eigenvalues of its Laplacian jump the most; k-means on
the leading eigenvectors gives the groups. Two safeguards follow: clusters whose mean voices
are as alike as one speaker's windows are merged (this is also how a one-person recording comes
out as one speaker), and clusters too small to be a person are folded into their nearest
neighbour. Short recordings (few windows) use agglomerative clustering with the same threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class ClusterConfig:
    max_speakers: int = 8
    prune_fraction: float = 0.08  # neighbours kept per row, as a share of all windows
    min_neighbours: int = 6
    merge_threshold: float = 0.85  # centroid cosine above which two clusters are one voice
    single_voice_gap: float = 0.025  # second Laplacian eigenvalue above which: one voice
    min_cluster_share: float = 0.03  # clusters with fewer windows than this share are folded
    min_cluster_windows: int = 2
    few_windows: int = 12  # below this, agglomerative clustering instead of spectral
    # Average window-to-window cosine above which agglomerative clustering joins two groups
    # (single windows of one voice score about 0.7 with each other, of two voices about 0.3).
    window_threshold: float = 0.5


def normalise(x: Array) -> Array:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    out: Array = x / np.maximum(norms, 1e-12)
    return out


def _kmeans(points: Array, k: int, seed: int = 0, restarts: int = 8,
            iterations: int = 100) -> Array:
    rng = np.random.default_rng(seed)
    n = points.shape[0]
    best_labels, best_cost = np.zeros(n, dtype=np.int64), np.inf
    for _ in range(restarts):
        centres = [points[rng.integers(n)]]
        for _ in range(1, k):  # k-means++ seeding
            d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
            total = d2.sum()
            probs = d2 / total if total > 0 else np.full(n, 1.0 / n)
            centres.append(points[rng.choice(n, p=probs)])
        c = np.array(centres)
        labels = np.zeros(n, dtype=np.int64)
        for _ in range(iterations):
            d2 = ((points[:, None, :] - c[None]) ** 2).sum(-1)
            new = d2.argmin(axis=1)
            if _ and np.array_equal(new, labels):
                break
            labels = new
            for j in range(k):
                members = points[labels == j]
                if len(members):
                    c[j] = members.mean(axis=0)
        cost = float(((points - c[labels]) ** 2).sum())
        if cost < best_cost:
            best_cost, best_labels = cost, labels.copy()
    return best_labels


def _affinity(emb: Array, cfg: ClusterConfig) -> Array:
    sim = np.clip(emb @ emb.T, 0.0, 1.0)
    n = sim.shape[0]
    keep = min(n, max(cfg.min_neighbours, int(round(cfg.prune_fraction * n))))
    order = np.argsort(-sim, axis=1)
    pruned = np.zeros_like(sim)
    rows = np.arange(n)[:, None]
    pruned[rows, order[:, :keep]] = sim[rows, order[:, :keep]]
    sym: Array = 0.5 * (pruned + pruned.T)
    return sym


def spectral(emb: Array, cfg: ClusterConfig, num_speakers: int | None = None) -> Array:
    """Labels for L2-normalised embeddings (n, d) by normalised spectral clustering."""
    aff = _affinity(emb, cfg)
    scale = 1.0 / np.sqrt(np.maximum(aff.sum(axis=1), 1e-12))
    laplacian = np.eye(len(aff)) - scale[:, None] * aff * scale[None, :]
    values, vectors = np.linalg.eigh(laplacian)
    if num_speakers is not None:
        k = num_speakers
    elif values[1] > cfg.single_voice_gap:
        # No split of the window graph is much weaker than the rest: one voice throughout.
        return np.zeros(emb.shape[0], dtype=np.int64)
    else:
        top = min(cfg.max_speakers, emb.shape[0] - 1)
        gaps = np.diff(values[: top + 1])
        k = int(np.argmax(gaps[1:])) + 2 if gaps.size > 1 else 2
    rows = normalise(vectors[:, :k])
    return _kmeans(rows, k)


def agglomerative(emb: Array, threshold: float, num_speakers: int | None = None) -> Array:
    """Average-linkage clustering on cosine similarity, stopping at `threshold` (or a count)."""
    groups: list[list[int]] = [[i] for i in range(emb.shape[0])]
    sim = emb @ emb.T
    while len(groups) > 1:
        best, pair = -np.inf, (0, 1)
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                s = float(sim[np.ix_(groups[i], groups[j])].mean())
                if s > best:
                    best, pair = s, (i, j)
        if num_speakers is not None:
            if len(groups) <= num_speakers:
                break
        elif best < threshold:
            break
        i, j = pair
        groups[i].extend(groups.pop(j))
    labels = np.zeros(emb.shape[0], dtype=np.int64)
    for index, members in enumerate(groups):
        labels[members] = index
    return labels


def centroids(emb: Array, labels: Array) -> Array:
    return normalise(np.stack([emb[labels == k].mean(axis=0) for k in np.unique(labels)]))


def _relabel(labels: Array) -> Array:
    _, inverse = np.unique(labels, return_inverse=True)
    out: Array = inverse.astype(np.int64)
    return out


def merge_similar(emb: Array, labels: Array, threshold: float) -> Array:
    labels = _relabel(labels)
    while True:
        cents = centroids(emb, labels)
        if len(cents) < 2:
            return labels
        sim = cents @ cents.T
        np.fill_diagonal(sim, -1.0)
        i, j = np.unravel_index(int(np.argmax(sim)), sim.shape)
        if sim[i, j] < threshold:
            return labels
        labels = _relabel(np.where(labels == j, i, labels))


def fold_small(emb: Array, labels: Array, min_size: int) -> Array:
    labels = _relabel(labels)
    while True:
        counts = np.bincount(labels)
        if len(counts) < 2 or counts.min() >= min_size:
            return labels
        small = int(np.argmin(counts))
        cents = centroids(emb, labels)
        sims = cents @ cents[small]
        sims[small] = -np.inf
        labels = _relabel(np.where(labels == small, int(np.argmax(sims)), labels))


def cluster(emb: Array, cfg: ClusterConfig | None = None,
            num_speakers: int | None = None) -> Array:
    """Speaker index per embedding (0..k-1). `num_speakers` forces the count."""
    cfg = cfg or ClusterConfig()
    n = emb.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    emb = normalise(np.asarray(emb, dtype=np.float64))
    if num_speakers is not None:
        num_speakers = max(1, min(num_speakers, n))
        if num_speakers == 1:
            return np.zeros(n, dtype=np.int64)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    if n < cfg.few_windows or (num_speakers is not None and n <= num_speakers + 2):
        labels = agglomerative(emb, cfg.window_threshold, num_speakers)
    else:
        labels = spectral(emb, cfg, num_speakers)
    if num_speakers is None:
        min_size = max(cfg.min_cluster_windows, int(np.ceil(cfg.min_cluster_share * n)))
        labels = fold_small(emb, labels, min_size)
        labels = merge_similar(emb, labels, cfg.merge_threshold)
    return _relabel(labels)
