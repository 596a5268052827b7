"""The CAM++ speaker-embedding network (3D-Speaker), forward pass only, in numpy.

Input: windows of Kaldi fbank frames, mean-normalised per window; output: one 192-d embedding
per window. Shapes are kept channel-first, `(channels, batch, ...)`, so every convolution is a
single 2-D matrix product over an im2col buffer and no batched matmul or transpose of the big
activations is needed. Batch norms that follow a convolution are folded into its weights at
load time; the pre-activation ones (norm, ReLU, then convolution) stay as a scale and shift.
The 2-D convolutional front end does most of the arithmetic (about half of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.speakers.checkpoint import load_state_dict
from app.speakers.errors import WeightsError

Array = np.ndarray[Any, Any]
EMBEDDING_DIM = 192
_BN_EPS = 1e-5
_SEG_LEN = 100  # CAM context pooling segment, in frames after the stride-2 TDNN
# (layers, dilation) of the three dense blocks; growth rate 32, bottleneck 128.
_BLOCKS = ((12, 1), (24, 2), (16, 2))


@dataclass(frozen=True)
class _Conv:
    weight: Array  # (out, in * kernel) as a matrix
    bias: Array | None  # (out, 1) or None


@dataclass(frozen=True)
class _Norm:
    scale: Array  # (channels, 1)
    shift: Array


@dataclass(frozen=True)
class _DenseLayer:
    norm1: _Norm
    linear1: _Conv  # 1x1 with the following batch norm folded in
    local: _Conv  # kernel 3
    ctx1: _Conv
    ctx2: _Conv
    dilation: int


@dataclass(frozen=True)
class _ResBlock:
    conv1: _Conv
    conv2: _Conv
    shortcut: _Conv | None
    stride: int


def _norm(sd: dict[str, Array], prefix: str, affine: bool = True) -> _Norm:
    var = sd[f"{prefix}.running_var"].astype(np.float64)
    mean = sd[f"{prefix}.running_mean"].astype(np.float64)
    gamma = sd[f"{prefix}.weight"].astype(np.float64) if affine else np.ones_like(var)
    beta = sd[f"{prefix}.bias"].astype(np.float64) if affine else np.zeros_like(var)
    scale = gamma / np.sqrt(var + _BN_EPS)
    return _Norm(scale.astype(np.float32)[:, None],
                 (beta - mean * scale).astype(np.float32)[:, None])


def _conv(sd: dict[str, Array], name: str, norm: str | None = None,
          bias: bool = False) -> _Conv:
    """A convolution as a matrix; `norm` folds the batch norm that follows it."""
    weight = sd[f"{name}.weight"].astype(np.float64)
    # torch orders weights (out, in, *kernel); im2col buffers here are (in, *kernel, ...).
    matrix = weight.reshape(weight.shape[0], -1)
    b = sd[f"{name}.bias"].astype(np.float64) if bias else None
    if norm is not None:
        n = _norm(sd, norm)
        matrix = matrix * n.scale.astype(np.float64)
        b = (b if b is not None else 0.0) * n.scale[:, 0] + n.shift[:, 0]
    return _Conv(np.ascontiguousarray(matrix, dtype=np.float32),
                 None if b is None else np.asarray(b, dtype=np.float32).reshape(-1, 1))


def _apply(conv: _Conv, cols: Array) -> Array:
    out: Array = conv.weight @ cols
    if conv.bias is not None:
        out += conv.bias
    return out


def _relu(x: Array) -> Array:
    return np.maximum(x, 0.0, out=x)


def _conv2d3(x: Array, conv: _Conv, stride: int) -> Array:
    """3x3 convolution, padding 1, stride along frequency only. x: (C, B, H, W)."""
    c, b, h, w = x.shape
    ho = (h - 1) // stride + 1
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((c, 3, 3, b, ho, w), dtype=np.float32)
    for dh in range(3):
        for dw in range(3):
            cols[:, dh, dw] = padded[:, :, dh:dh + stride * (ho - 1) + 1:stride, dw:dw + w]
    return _apply(conv, cols.reshape(c * 9, -1)).reshape(-1, b, ho, w)


def _conv1d(x: Array, conv: _Conv, kernel: int, dilation: int = 1, stride: int = 1) -> Array:
    """Same-padded 1-D convolution along time. x: (C, B, T)."""
    c, b, t = x.shape
    pad = (kernel - 1) // 2 * dilation
    to = (t + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    cols = np.empty((c, kernel, b, to), dtype=np.float32)
    for k in range(kernel):
        start = k * dilation
        cols[:, k] = padded[:, :, start:start + stride * (to - 1) + 1:stride]
    return _apply(conv, cols.reshape(c * kernel, -1)).reshape(-1, b, to)


def _segment_means(x: Array) -> tuple[Array, Array]:
    """Per-window mean and per-100-frame segment means (the last segment may be shorter)."""
    t = x.shape[2]
    starts = np.arange(0, t, _SEG_LEN)
    sums = np.add.reduceat(x, starts, axis=2)
    counts = np.minimum(starts + _SEG_LEN, t) - starts
    return x.mean(axis=2, keepdims=True), sums / counts


class CamPlusPlus:
    """CAM++ with weights from a 3D-Speaker checkpoint (`campplus_cn_en_common.pt`)."""

    def __init__(self, state: dict[str, Array]) -> None:
        try:
            self._build(state)
        except (KeyError, ValueError) as exc:
            raise WeightsError(f"The speaker weights are not a CAM++ model ({exc}).",
                               "Replace the file with the original one.") from exc

    @classmethod
    def load(cls, path: Path) -> CamPlusPlus:
        return cls(load_state_dict(path))

    def _build(self, sd: dict[str, Array]) -> None:
        self.head_conv1 = _conv(sd, "head.conv1", "head.bn1")
        self.res_blocks: list[_ResBlock] = []
        for layer in ("layer1", "layer2"):
            for i, stride in enumerate((2, 1)):
                p = f"head.{layer}.{i}"
                shortcut = (_conv(sd, f"{p}.shortcut.0", f"{p}.shortcut.1")
                            if f"{p}.shortcut.0.weight" in sd else None)
                self.res_blocks.append(_ResBlock(_conv(sd, f"{p}.conv1", f"{p}.bn1"),
                                                 _conv(sd, f"{p}.conv2", f"{p}.bn2"),
                                                 shortcut, stride))
        self.head_conv2 = _conv(sd, "head.conv2", "head.bn2")
        self.tdnn = _conv(sd, "xvector.tdnn.linear", "xvector.tdnn.nonlinear.batchnorm")
        self.blocks: list[tuple[list[_DenseLayer], _Norm, _Conv]] = []
        for b, (layers, dilation) in enumerate(_BLOCKS, start=1):
            dense = []
            for i in range(1, layers + 1):
                p = f"xvector.block{b}.tdnnd{i}"
                dense.append(_DenseLayer(
                    _norm(sd, f"{p}.nonlinear1.batchnorm"),
                    _conv(sd, f"{p}.linear1", f"{p}.nonlinear2.batchnorm"),
                    _conv(sd, f"{p}.cam_layer.linear_local"),
                    _conv(sd, f"{p}.cam_layer.linear1", bias=True),
                    _conv(sd, f"{p}.cam_layer.linear2", bias=True),
                    dilation))
            t = f"xvector.transit{b}"
            self.blocks.append((dense, _norm(sd, f"{t}.nonlinear.batchnorm"),
                                _conv(sd, f"{t}.linear")))
        self.out_norm = _norm(sd, "xvector.out_nonlinear.batchnorm")
        self.dense = _conv(sd, "xvector.dense.linear", None)
        self.dense_norm = _norm(sd, "xvector.dense.nonlinear.batchnorm", affine=False)
        if self.dense.weight.shape[0] != EMBEDDING_DIM or self.head_conv1.weight.shape != (32, 9):
            raise ValueError("unexpected layer sizes")

    def _head(self, feats: Array) -> Array:
        """(B, T, 80) features -> (320, B, T) for the TDNN."""
        x = feats.transpose(0, 2, 1)[None]  # (1, B, 80, T): frequency is the image height
        x = _relu(_conv2d3(np.ascontiguousarray(x), self.head_conv1, 1))
        for block in self.res_blocks:
            out = _relu(_conv2d3(x, block.conv1, block.stride))
            out = _conv2d3(out, block.conv2, 1)
            if block.shortcut is not None:
                strided = x[:, :, ::block.stride]
                c, b, h, w = strided.shape
                out += _apply(block.shortcut, strided.reshape(c, -1)).reshape(out.shape)
            else:
                out += x
            x = _relu(out)
        x = _relu(_conv2d3(x, self.head_conv2, 2))
        c, b, h, w = x.shape
        return np.ascontiguousarray(x.transpose(0, 2, 1, 3)).reshape(c * h, b, w)

    @staticmethod
    def _dense_layer(x: Array, layer: _DenseLayer) -> Array:
        c, b, t = x.shape
        h = _relu(x.reshape(c, -1) * layer.norm1.scale + layer.norm1.shift)
        h = _relu(_apply(layer.linear1, h)).reshape(-1, b, t)
        y = _conv1d(h, layer.local, 3, layer.dilation)
        mean, segs = _segment_means(h)
        ctx = (mean + segs).reshape(h.shape[0], -1)
        gate = _apply(layer.ctx2, _relu(_apply(layer.ctx1, ctx)))
        gate = 1.0 / (1.0 + np.exp(-gate))
        gate = np.repeat(gate.reshape(-1, b, segs.shape[2]), _SEG_LEN, axis=2)[:, :, :t]
        out: Array = y * gate
        return out

    def embed(self, feats: Array) -> Array:
        """(B, T, 80) mean-normalised fbank windows -> (B, 192) embeddings (not normalised)."""
        feats = np.asarray(feats, dtype=np.float32)
        x = _conv1d(self._head(feats), self.tdnn, 5, stride=2)
        x = _relu(x)
        for dense, norm, transit in self.blocks:
            c0, b, t = x.shape
            buf = np.empty((c0 + 32 * len(dense), b, t), dtype=np.float32)
            buf[:c0] = x
            filled = c0
            for layer in dense:
                buf[filled:filled + 32] = self._dense_layer(buf[:filled], layer)
                filled += 32
            h = _relu(buf.reshape(filled, -1) * norm.scale + norm.shift)
            x = _apply(transit, h).reshape(-1, b, t)
        c, b, t = x.shape
        x = _relu(x.reshape(c, -1) * self.out_norm.scale + self.out_norm.shift).reshape(c, b, t)
        std = x.std(axis=2, ddof=1) if t > 1 else np.full((c, b), 1e-2, dtype=np.float32)
        stats = np.concatenate([x.mean(axis=2), std], axis=0)  # (2C, B)
        emb = _apply(self.dense, stats) * self.dense_norm.scale + self.dense_norm.shift
        return np.ascontiguousarray(emb.T, dtype=np.float32)
