"""Read a PyTorch zip checkpoint (a state dict of tensors) into numpy arrays, without torch.

A `.pt` file is a zip archive: `<root>/data.pkl` pickles the state dict, each tensor points
at a raw little-endian storage `<root>/data/<key>`. Unpickling runs code named by the file,
so the unpickler here resolves only the few globals a plain state dict needs (the tensor
rebuild function, storage types, OrderedDict) and refuses every other one: a crafted file can
fail to load, but cannot run anything. Views are bounds-checked against their storage.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from app.speakers.errors import WeightsError

_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}
_MAX_PICKLE_BYTES = 16 << 20


class UnsafeCheckpoint(pickle.UnpicklingError):
    """The pickle asked for something a plain tensor state dict never needs."""


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


def _rebuild_tensor_v2(storage: object, offset: object, size: object, stride: object,
                       *_rest: object) -> np.ndarray[Any, Any]:
    if not isinstance(storage, np.ndarray):
        raise UnsafeCheckpoint("a tensor without a storage")
    if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride)
            and all(isinstance(v, int) and v >= 0 for v in (offset, *size, *stride))):
        raise UnsafeCheckpoint("a tensor with a malformed shape")
    if any(n == 0 for n in size):
        return np.zeros(size, dtype=storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= storage.size:
        raise UnsafeCheckpoint("a tensor that reaches past its storage")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=tuple(s * item for s in stride), writeable=False)
    return np.array(view)  # a compact copy, detached from the storage


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, root: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._root = root
        self._storages: dict[str, np.ndarray[Any, Any]] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeCheckpoint(f"refused to load {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and pid[2].isdigit()):
            raise UnsafeCheckpoint("an unexpected persistent reference")
        kind, key = pid[1], pid[2]
        if key not in self._storages:
            try:
                raw = self._archive.read(f"{self._root}/data/{key}")
            except KeyError as exc:
                raise UnsafeCheckpoint(f"storage {key} is missing") from exc
            usable = len(raw) - len(raw) % kind.dtype.itemsize
            self._storages[key] = np.frombuffer(raw[:usable], dtype=kind.dtype)
        storage = self._storages[key]
        if storage.dtype != kind.dtype:
            raise UnsafeCheckpoint(f"storage {key} used with two types")
        return storage


def load_state_dict(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    """The tensors of a torch zip checkpoint by name; WeightsError if it cannot be read safely."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise WeightsError(f"{path.name} is not a PyTorch checkpoint.",
                                   "Replace it with the original weight file.")
            root = pickles[0].rsplit("/", 1)[0]
            info = archive.getinfo(pickles[0])
            if info.file_size > _MAX_PICKLE_BYTES:
                raise UnsafeCheckpoint("the index is implausibly large")
            state = _Unpickler(archive.read(info), archive, root).load()
    except WeightsError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise WeightsError(f"The weight file {path.name} is damaged ({exc}).",
                           "Delete it and let Recap fetch it again.") from exc
    except (pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError,
            KeyError) as exc:
        raise WeightsError(f"The weight file {path.name} was refused: {exc}.",
                           "Delete it and let Recap fetch the original again.") from exc
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, np.ndarray) for k, v in state.items()):
        raise WeightsError(f"{path.name} does not hold a plain set of weights.",
                           "Replace it with the original weight file.")
    return dict(state)
