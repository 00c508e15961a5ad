"""HDF5 data files: the native sciml layout, lazy arrays and layout detection.

Every array that comes out of :mod:`sciml.data` is laid out ``(sample, time, *space,
channel)``; a static field has time length 1.

Native layout (``format="sciml"``, ``version=1``), as written by :func:`write` and
:class:`Writer`::

    /                     attrs: format="sciml", version=1, n_samples, pde (str),
                                 params (JSON text of the global PDE parameters),
                                 and any user attributes (str, number, bool or 1-D list)
    /grid                 attrs: axes (axis names in order)
    /grid/<axis>          float64 (n_axis,); attrs: periodic, kind, lower, upper
    /grid/t               float64 (time,), only when times were given
    /fields/<name>        (sample, time, *space, channel), chunks (1, time, *space, channel)
    /params/<name>        (sample, ...) per-sample parameters

One sample per chunk means a read of sample ``i`` decompresses exactly one chunk, which is
what a data loader that visits samples in random order wants.

Compression defaults to LZF with the byte-shuffle filter. Measured on 64x64 float32 fields
(smooth random fields and a piecewise-constant coefficient): LZF writes about as fast as no
compression and 3-4x faster than gzip level 4, reads 1.5x faster than gzip, and keeps
within 10% of gzip's file size on smooth data (both only save 15-20% there) while shrinking
piecewise-constant fields about tenfold. Pass ``compression="gzip"`` for archival files
(any HDF5 tool reads gzip; LZF needs h5py's filter) or ``None`` for the fastest reads.

Reading goes through :func:`open_dataset`, which detects the layout of a file among those
registered with :func:`register_layout` and returns an :class:`H5Dataset`. Besides the
native layout, :mod:`sciml.data.pdebench` and :mod:`sciml.data.the_well` read the benchmark
files as they are (imported on first use, which registers them). Fields and per-sample
parameters are :class:`LazyArray` objects: they read nothing until sliced, pickle as a path
and a key, and reopen the file once per process, so each data-loader worker gets its own
HDF5 handle. :class:`ExpandedArray` (axes a file leaves out, put back by broadcasting) and
:class:`StackedArray` (one dataset per sample, in separate groups) present other storage
with the same ``(sample, time, *space, channel)`` interface.

:class:`Writer` with ``resume=True`` keeps its work in ``<path>.partial`` across an
interruption so that a second run writes only the missing samples.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import h5py
import numpy as np

from sciml.core.files import fsync_path
from sciml.core.grid import Box, Grid
from sciml.core.registry import Registry
from sciml.core.validation import describe

__all__ = [
    "FORMAT",
    "LAYOUTS",
    "VERSION",
    "ExpandedArray",
    "FieldSpec",
    "H5Dataset",
    "LazyArray",
    "NativeDataset",
    "StackedArray",
    "Writer",
    "axis_box",
    "check_coordinates",
    "detect_layout",
    "grid_from_coordinates",
    "open_dataset",
    "read_real",
    "register_layout",
    "write",
]

FORMAT = "sciml"
VERSION = 1

PathLike = str | os.PathLike[str]

# HDF5 itself only forbids "/" and "." as names; we also keep names shell- and
# attribute-friendly so they can be used as keyword arguments and CLI options.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,254}$")
_RESERVED_ATTRS = ("format", "version", "n_samples")
_COMPRESSIONS = ("lzf", "gzip", None)

LAYOUTS: Registry[Any] = Registry("data layout")


# ---------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------
def _check_name(argument: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"{argument}: got {name!r}; a name must be a non-empty string of letters, digits "
            f"and '_', '.', '+', '-' (not starting with '.', '+' or '-', at most 255 characters)"
        )
    return name


def _to_numpy(value: Any) -> np.ndarray:
    """numpy view of an array-like, moving torch tensors to the CPU first."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _check_numeric(argument: str, arr: np.ndarray) -> None:
    if arr.dtype.kind not in "biufc":
        raise ValueError(
            f"{argument}: expected a numeric array (bool, int, float or complex), "
            f"got dtype {arr.dtype}"
        )


def _check_finite_block(argument: str, arr: np.ndarray, first_sample: int) -> None:
    """Raise naming the sample and position of the first NaN/Inf of a (sample, ...) block."""
    if arr.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{argument}: non-finite value (NaN or Inf) in sample {first_sample + where[0]} "
            f"at index {where[1:]} ({int(bad.sum())} non-finite values in this write); "
            f"all values must be finite"
        )


def _decode_attr(value: Any) -> Any:
    """Plain Python value of an HDF5 attribute (str, int, float, bool or list)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_decode_attr(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _encode_attr(argument: str, value: Any) -> Any:
    """Value storable as a native HDF5 attribute; nested containers are refused."""
    if isinstance(value, (str, bool, np.bool_)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        if isinstance(value, (float, np.floating)) and not math.isfinite(value):
            raise ValueError(f"{argument}: got {value!r}; attribute values must be finite")
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(np.asarray(value).tolist()) if isinstance(value, np.ndarray) else list(value)
        if all(isinstance(v, str) for v in items) and items:
            return np.array(items, dtype=h5py.string_dtype())
        arr = np.asarray(items)
        if arr.ndim == 1 and arr.dtype.kind in "biuf" and np.all(np.isfinite(arr)):
            return arr
    raise ValueError(
        f"{argument}: got {describe(value)}; attribute values must be a str, a finite number, "
        f"a bool or a flat list of numbers or of strings (put nested data in attrs['params'])"
    )


def _open_h5(path: PathLike) -> h5py.File:
    """Open read-only; a missing file is FileNotFoundError, anything unreadable ValueError."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path}: cannot be read as an HDF5 file ({err})") from None


# ---------------------------------------------------------------------------------------
# lazy arrays
# ---------------------------------------------------------------------------------------
class _Selection(NamedTuple):
    """A NumPy basic/first-axis-fancy index rewritten into what h5py accepts."""

    h5: tuple[Any, ...]  # ints, ascending slices, and a sorted unique array on axis 0
    order: np.ndarray | None  # reorders (and repeats) axis 0 after the read
    flips: tuple[int, ...]  # output axes to reverse (negative-step slices)
    shape: tuple[int, ...]  # shape of the result


def _normalize_index(key: Any, shape: tuple[int, ...]) -> _Selection:
    ndim = len(shape)
    if not isinstance(key, tuple):
        key = (key,)
    n_ellipsis = sum(k is Ellipsis for k in key)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_ellipsis:
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:at] + (slice(None),) * (ndim - len(key) + 1) + key[at + 1 :]
    if len(key) > ndim:
        raise IndexError(f"too many indices: array is {ndim}-dimensional, got {len(key)}")
    key = key + (slice(None),) * (ndim - len(key))

    h5: list[Any] = []
    out_shape: list[int] = []
    flips: list[int] = []
    order = None
    for axis, (k, n) in enumerate(zip(key, shape)):
        if getattr(k, "ndim", None) == 0 and np.asarray(k).dtype.kind in "iu":
            k = int(k)  # 0-d numpy arrays and tensors index like plain ints
        if isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
            i = int(k) + (n if int(k) < 0 else 0)
            if not 0 <= i < n:
                raise IndexError(f"index {int(k)} is out of bounds for axis {axis} with size {n}")
            h5.append(i)
        elif isinstance(k, slice):
            start, stop, step = k.indices(n)
            picked = range(start, stop, step)
            if step < 0 and len(picked) > 0:
                # h5py only reads ascending hyperslabs: read forward, flip afterwards
                h5.append(slice(picked[-1], picked[0] + 1, -step))
                flips.append(len(out_shape))
            elif len(picked) == 0:
                h5.append(slice(0, 0))
            else:
                h5.append(slice(start, stop, step))
            out_shape.append(len(picked))
        elif k is None:
            raise IndexError("LazyArray does not support np.newaxis; add axes after reading")
        else:
            arr = np.asarray(k)
            if axis != 0:
                raise IndexError(
                    f"LazyArray supports integer-array indices on the first (sample) axis "
                    f"only; got {describe(k)} on axis {axis}"
                )
            if arr.dtype.kind == "b":
                if arr.shape != (n,):
                    raise IndexError(
                        f"boolean index on axis 0 must have shape ({n},), got {arr.shape}"
                    )
                arr = np.flatnonzero(arr)
            elif arr.size == 0:
                arr = arr.astype(np.int64)
            if arr.ndim != 1 or arr.dtype.kind not in "iu":
                raise IndexError(
                    f"array index on axis 0 must be a 1-D sequence of ints or bools, "
                    f"got {describe(k)}"
                )
            arr = np.where(arr < 0, arr + n, arr).astype(np.int64)
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise IndexError(f"array index out of bounds for axis 0 with size {n}: {k!r}")
            # h5py needs strictly increasing indices: read the unique sorted set once
            unique, inverse = np.unique(arr, return_inverse=True)
            h5.append(unique)
            if unique.size != arr.size or np.any(unique != arr):
                order = inverse.reshape(-1)
            out_shape.append(int(arr.size))
    return _Selection(tuple(h5), order, tuple(flips), tuple(out_shape))


class LazyArray:
    """A read-only view of one HDF5 dataset that reads only the slices asked for.

    Supports NumPy basic indexing (integers, slices with any step, ``...``) and integer or
    boolean arrays on the first axis, in any order and with repeats: ``arr[3]``,
    ``arr[2:5, 0]``, ``arr[[4, 1, 4]]``, ``arr[::-1, :, ::2]``. ``np.asarray(arr)`` reads
    everything.

    The object holds only the file path and dataset key. The HDF5 file is opened on the
    first read in each process (the process id is checked on every read), so a
    ``LazyArray`` can be pickled into data-loader workers, or inherited by forked ones,
    and each worker reads through its own handle.

    Parameters
    ----------
    path : str or PathLike
        The HDF5 file (stored as an absolute path).
    key : str
        The dataset inside the file, e.g. ``"fields/u"``.
    shape, dtype : optional
        Known shape and dtype; when either is missing the file is opened to read them.
    """

    def __init__(
        self,
        path: PathLike,
        key: str,
        shape: Sequence[int] | None = None,
        dtype: Any = None,
    ) -> None:
        self._path = os.path.abspath(os.fspath(path))
        self._key = key
        self._file: h5py.File | None = None
        self._dset: h5py.Dataset | None = None
        self._pid: int | None = None
        if shape is None or dtype is None:
            dset = self._dataset()
            shape, dtype = dset.shape, dset.dtype
        self._shape = tuple(int(s) for s in shape)
        self._dtype = np.dtype(dtype)

    # -- metadata -------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """Absolute path of the file."""
        return self._path

    @property
    def key(self) -> str:
        """Name of the dataset inside the file."""
        return self._key

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the full array."""
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        """Element type."""
        return self._dtype

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self._shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self._shape))

    @property
    def nbytes(self) -> int:
        """Bytes the full array takes in memory."""
        return self.size * self._dtype.itemsize

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d LazyArray")
        return self._shape[0]

    def __repr__(self) -> str:
        return (
            f"LazyArray({os.path.basename(self._path)!r}, {self._key!r}, "
            f"shape={self._shape}, dtype={self._dtype})"
        )

    # -- reading --------------------------------------------------------------------------
    def _handle(self) -> h5py.File:
        """This process's open file."""
        pid = os.getpid()
        if self._file is None or self._pid != pid or not self._file.id.valid:
            # A handle inherited through fork() must not be used: HDF5 keeps per-process
            # state (file offsets, caches), so every process opens its own.
            self._file = _open_h5(self._path)
            self._dset = None
            self._pid = pid
        return self._file

    def _lookup(self, key: str) -> h5py.Dataset:
        f = self._handle()
        obj = f.get(key)
        if not isinstance(obj, h5py.Dataset):
            raise ValueError(f"{self._path}: {key!r}: no such dataset in the file")
        return obj

    def _dataset(self) -> h5py.Dataset:
        if self._dset is None or self._pid != os.getpid() or not self._dset.id.valid:
            try:
                self._dset = self._lookup(self._key)
            except ValueError:
                self.close()
                raise
        return self._dset

    def _fetch(self, selection: tuple[Any, ...]) -> np.ndarray:
        """Read an h5py-compatible selection; subclasses with other storage override this.

        ``selection`` has one entry per axis (ints, ascending slices, or a sorted array on
        axis 0).
        """
        dset = self._dataset()
        # h5py's selection parsing costs per axis: leave trailing whole axes implicit
        end = len(selection)
        while end > 1 and _is_whole(selection[end - 1], self._shape[end - 1]):
            end -= 1
        try:
            return np.asarray(dset[selection[:end]])
        except OSError as err:
            # h5py's message alone does not say which file or dataset failed
            raise OSError(f"{self._path}: {self._key!r}: read failed ({err})") from err

    def __getitem__(self, key: Any) -> np.ndarray:
        if (
            isinstance(key, (int, np.integer))
            and not isinstance(key, (bool, np.bool_))
            and self._shape
        ):
            # fast path for the data-loader case, one sample: skip the general bookkeeping
            n, i = self._shape[0], int(key)
            i += n if i < 0 else 0
            if not 0 <= i < n:
                raise IndexError(f"index {int(key)} is out of bounds for axis 0 with size {n}")
            full = (slice(None),) * (len(self._shape) - 1)
            return np.ascontiguousarray(self._fetch((i, *full)))
        sel = _normalize_index(key, self._shape)
        if 0 in sel.shape:
            return np.empty(sel.shape, dtype=self._dtype)
        out = self._fetch(sel.h5)
        if sel.order is not None:
            out = np.take(out, sel.order, axis=0)
        if sel.flips:
            out = np.flip(out, axis=sel.flips)
        return np.ascontiguousarray(out)

    def read(self) -> np.ndarray:
        """The whole array in memory."""
        return self[()]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self.read()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self[i]

    def close(self) -> None:
        """Close this process's handle; a later read reopens the file."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None
        self._dset = None
        self._pid = None

    # -- pickling -------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_file=None, _dset=None, _pid=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _is_whole(sel: Any, n: int) -> bool:
    """Whether an h5py selection on an axis of size n takes the whole axis in order."""
    return isinstance(sel, slice) and sel.indices(n) == (0, n, 1)


def _selection_length(sel: Any, n: int) -> int | None:
    """Length an h5py-style selection keeps on an axis of size n; None if it drops the axis."""
    if isinstance(sel, (int, np.integer)):
        return None
    if isinstance(sel, slice):
        return len(range(*sel.indices(n)))
    return int(np.asarray(sel).size)


def _read_expanded(
    dset: h5py.Dataset,
    selection: tuple[Any, ...],
    shape: tuple[int, ...],
    stored: tuple[bool, ...],
    merge: int,
) -> np.ndarray:
    """Read ``selection`` of a logical array whose axes are a subset of the stored ones.

    ``stored[i]`` says whether logical axis ``i`` exists on disk (in the same order);
    a missing axis is re-inserted and broadcast. The last logical axis (the channel) is
    stored as ``merge`` trailing axes (2 for a ``(D, D)`` tensor), flattened in C order.
    """
    body, chan = selection[:-1], selection[-1]
    h5 = [sel for sel, keep in zip(body, stored[:-1]) if keep]
    if merge == 1 and stored[-1]:
        h5.append(chan)
    elif merge > 1:
        # the channel is split over several stored axes: read them whole, pick afterwards
        h5.extend([slice(None)] * merge)
    while len(h5) > 1 and _is_whole(h5[-1], dset.shape[len(h5) - 1]):
        h5.pop()  # trailing whole axes are implicit: h5py parses fewer selections
    out = np.asarray(dset[tuple(h5)]) if h5 else np.asarray(dset[()])
    present = list(stored)
    if merge > 1:
        out = out.reshape(*out.shape[: out.ndim - merge], -1)[..., chan]
        present[-1] = True
    lengths = [_selection_length(sel, n) for sel, n in zip(selection, shape)]
    inserted = [ln for ln, keep in zip(lengths, present) if ln is not None and not keep]
    if all(ln == 1 for ln in inserted):
        # the usual case (a missing time or channel axis): one reshape, no copy
        return out.reshape([ln for ln in lengths if ln is not None])
    axis = 0
    for length, keep in zip(lengths, present):
        if length is None:
            continue
        if not keep:
            out = np.broadcast_to(
                np.expand_dims(out, axis), (*out.shape[:axis], length, *out.shape[axis:])
            )
        axis += 1
    return out


class ExpandedArray(LazyArray):
    """A :class:`LazyArray` over a dataset that stores fewer axes than it presents.

    External layouts drop axes that do not vary (The Well's ``sample_varying``,
    ``time_varying`` and ``dim_varying`` flags, PDEBench's missing channel or time axis)
    or split the channel over several axes (a ``(D, D)`` tensor). This view presents the
    full logical shape, reads only the stored part of the requested slice, and broadcasts
    the missing axes afterwards.

    Parameters
    ----------
    path, key : see :class:`LazyArray`
    shape : sequence of int
        Logical shape, e.g. ``(sample, time, *space, channel)``.
    dtype : dtype
    stored : sequence of bool
        Per logical axis, whether it exists on disk (stored axes keep their order).
    merge : int
        How many trailing stored axes make up the last logical axis: 1 (one axis),
        0 (no channel axis on disk: logical length 1) or 2 or more (flattened in C order).
    """

    def __init__(
        self,
        path: PathLike,
        key: str,
        shape: Sequence[int],
        dtype: Any,
        stored: Sequence[bool],
        merge: int = 1,
    ) -> None:
        super().__init__(path, key, shape, dtype)
        stored = tuple(bool(s) for s in stored)
        if len(stored) != len(self.shape):
            raise ValueError(f"stored: expected {len(self.shape)} flags, got {len(stored)}")
        if merge == 0:
            stored = (*stored[:-1], False)
        self._stored = stored
        self._merge = int(merge)
        # one sample is a plain read plus a reshape when nothing must be broadcast
        self._reshape_sample = stored[0] and all(
            keep or n == 1 for keep, n in zip(stored[1:], self.shape[1:])
        )

    def __getitem__(self, key: Any) -> np.ndarray:
        if (
            self._reshape_sample
            and isinstance(key, (int, np.integer))
            and not isinstance(key, (bool, np.bool_))
            and -self.shape[0] <= key < self.shape[0]
        ):
            dset = self._dataset()
            try:
                return np.ascontiguousarray(dset[int(key)]).reshape(self.shape[1:])
            except OSError as err:
                raise OSError(f"{self._path}: {self._key!r}: read failed ({err})") from err
        return super().__getitem__(key)

    def _fetch(self, selection: tuple[Any, ...]) -> np.ndarray:
        dset = self._dataset()
        try:
            return _read_expanded(dset, selection, self.shape, self._stored, self._merge)
        except OSError as err:
            raise OSError(f"{self._path}: {self._key!r}: read failed ({err})") from err


class StackedArray(LazyArray):
    """A :class:`LazyArray` whose first axis runs over datasets in separate groups.

    PDEBench's per-sample layout stores sample ``i`` as ``<group_i>/data``; this view
    presents them as one array ``(sample, *rest)`` and opens only the groups a read
    selects.

    Parameters
    ----------
    path : str or PathLike
    keys : sequence of str
        One dataset per sample, in sample order.
    shape : sequence of int
        Logical shape ``(len(keys), *rest)``.
    dtype : dtype
    stored, merge : see :class:`ExpandedArray` (for the axes after the first)
    """

    def __init__(
        self,
        path: PathLike,
        keys: Sequence[str],
        shape: Sequence[int],
        dtype: Any,
        stored: Sequence[bool] | None = None,
        merge: int = 1,
    ) -> None:
        keys = tuple(keys)
        last = {k.rsplit("/", 1)[-1] for k in keys}
        name = last.pop() if len(last) == 1 else "..."
        super().__init__(path, f"<{len(keys)} groups>/{name}", shape, dtype)
        if self.shape[0] != len(keys):
            raise ValueError(f"shape: first axis {self.shape[0]} != {len(keys)} keys")
        rest = tuple(True for _ in self.shape[1:]) if stored is None else tuple(stored)
        if merge == 0:
            rest = (*rest[:-1], False)
        self._keys = keys
        self._stored = rest
        self._merge = int(merge)

    @property
    def keys(self) -> tuple[str, ...]:
        """The per-sample dataset keys."""
        return self._keys

    def _dataset(self) -> h5py.Dataset:
        raise TypeError("a StackedArray has one dataset per sample; see .keys")

    def _fetch(self, selection: tuple[Any, ...]) -> np.ndarray:
        first, rest = selection[0], selection[1:]
        if isinstance(first, (int, np.integer)):
            samples = [int(first)]
        elif isinstance(first, slice):
            samples = list(range(*first.indices(self.shape[0])))
        else:
            samples = [int(i) for i in np.asarray(first)]
        parts = []
        for i in samples:
            key = self._keys[i]
            dset = self._lookup(key)
            try:
                parts.append(_read_expanded(dset, rest, self.shape[1:], self._stored,
                                            self._merge))
            except OSError as err:
                raise OSError(f"{self._path}: {key!r}: read failed ({err})") from err
        if isinstance(first, (int, np.integer)):
            return parts[0]
        return np.stack(parts) if parts else np.empty((0,), dtype=self.dtype)


def axis_box(coords: np.ndarray, periodic: bool) -> tuple[float, float]:
    """Domain bounds of an axis known only by its coordinates.

    A uniform axis whose points sit half a cell inside a bound at 0, or symmetric about 0,
    is taken as cell-centred (PDEBench and The Well store cell centres), so the domain
    extends half a cell beyond the first and last points; a periodic axis otherwise ends
    one cell after its last point; anything else spans its first to last point.
    """
    c = np.asarray(coords, dtype=np.float64)
    if c.size < 2:
        return (float(c[0]) - 0.5, float(c[0]) + 0.5)
    d = np.diff(c)
    h = float(c[-1] - c[0]) / (c.size - 1)
    # coordinates are often float32 on disk: compare at that precision
    uniform = bool(np.all(np.abs(d - h) <= 1e-4 * abs(h)))
    if uniform:
        lo, hi = float(c[0]) - h / 2, float(c[-1]) + h / 2
        if abs(lo) <= 1e-4 * abs(h) or abs(lo + hi) <= 1e-4 * abs(h):
            return (0.0 if abs(lo) <= 1e-4 * abs(h) else lo, hi)
        if periodic:
            return (float(c[0]), float(c[-1]) + h)
    return (float(c[0]), float(c[-1]))


def grid_from_coordinates(
    coords: Mapping[str, np.ndarray], periodic: Mapping[str, bool] | None = None
) -> Grid:
    """A :class:`Grid` from bare coordinate arrays (bounds from :func:`axis_box`).

    Each axis is ``kind="uniform"`` (or ``"periodic"``) when equispaced, else ``"custom"``.
    Coordinates must already be checked to be finite, 1-D and strictly increasing.
    """
    periodic = dict(periodic or {})
    kinds, bounds, per = {}, {}, {}
    for a, c in coords.items():
        p = bool(periodic.get(a, False))
        c = np.asarray(c, dtype=np.float64)
        h = (c[-1] - c[0]) / max(c.size - 1, 1)
        uniform = c.size < 2 or bool(np.all(np.abs(np.diff(c) - h) <= 1e-4 * abs(h)))
        kinds[a] = ("periodic" if p else "uniform") if uniform else "custom"
        bounds[a] = axis_box(c, p)
        per[a] = p
    return Grid(dict(coords), periodic=per, box=Box(**bounds), kind=kinds)


def read_real(path: str, key: str, values: Any) -> np.ndarray:
    """Real numbers of an HDF5 dataset (or an array) as float64, or a ValueError.

    A group, a non-numeric or complex dtype, or a dataset that cannot be read (damaged
    storage) is a ``ValueError`` naming file and key, never h5py's ``TypeError`` or
    ``OSError`` nor NumPy's ``ComplexWarning``.
    """
    if isinstance(values, h5py.Group):
        raise ValueError(f"{path}: {key!r}: expected a dataset, found a group")
    if isinstance(values, h5py.Dataset):
        try:
            values = values[()]
        except OSError as err:
            raise ValueError(f"{path}: {key!r}: cannot be read ({err})") from None
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{path}: {key!r}: expected real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def check_coordinates(path: str, key: str, values: Any) -> np.ndarray:
    """A coordinate array as float64, or a ValueError naming file, key and problem.

    ``values`` is an array or an HDF5 dataset (read here, see :func:`read_real`).
    """
    c = read_real(path, key, values)
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"{path}: {key!r}: wrong rank: coordinates must be a non-empty 1-D "
                         f"array, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{path}: {key!r}: coordinates contain NaN or Inf")
    if c.size > 1 and not np.all(np.diff(c) > 0):
        raise ValueError(f"{path}: {key!r}: coordinates are not strictly increasing")
    return c


# ---------------------------------------------------------------------------------------
# datasets and layout detection
# ---------------------------------------------------------------------------------------
class H5Dataset(ABC):
    """Abstract base of a dataset read from an HDF5 file, whatever its layout.

    A subclass implements :meth:`detect` (does an open file have this layout?) and
    :meth:`_load` (read the metadata and build the lazy arrays, raising ``ValueError``
    naming the file, the key and the problem). Nothing but metadata is read at open time,
    and no file handle is kept by the dataset itself: its :class:`LazyArray` objects
    open the file when read. Datasets pickle.

    Attributes
    ----------
    layout : str
        Name of the layout, set by :func:`register_layout`.
    """

    layout: ClassVar[str] = ""

    def __init__(self, path: PathLike) -> None:
        self._path = os.path.abspath(os.fspath(path))
        self._grid: Grid | None = None
        self._times: np.ndarray | None = None
        self._attrs: dict[str, Any] = {}
        self._fields: dict[str, LazyArray] = {}
        self._params: dict[str, LazyArray] = {}
        self._n_samples = 0
        with _open_h5(self._path) as f:
            self._load(f)

    @classmethod
    @abstractmethod
    def detect(cls, file: h5py.File) -> bool:
        """Whether an open file has this layout (cheap: look at keys and attributes)."""

    @abstractmethod
    def _load(self, file: h5py.File) -> None:
        """Fill ``_grid``, ``_times``, ``_attrs``, ``_fields``, ``_params``, ``_n_samples``."""

    def _error(self, key: str, problem: str) -> ValueError:
        return ValueError(f"{self._path}: {key!r}: {problem}")

    # -- public API -----------------------------------------------------------------------
    @property
    def path(self) -> str:
        """Absolute path of the file."""
        return self._path

    @property
    def fields(self) -> tuple[str, ...]:
        """Field names, in file order."""
        return tuple(self._fields)

    def field(self, name: str) -> LazyArray:
        """Lazy array ``(sample, time, *space, channel)`` of one field."""
        if name not in self._fields:
            raise ValueError(f"field: got {name!r}; {self._path} has fields {list(self._fields)}")
        return self._fields[name]

    def __getitem__(self, name: str) -> LazyArray:
        return self.field(name)

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    @property
    def grid(self) -> Grid:
        """The spatial grid; its shape is the ``*space`` part of every field."""
        assert self._grid is not None
        return self._grid

    @property
    def times(self) -> np.ndarray | None:
        """Time coordinates, shape ``(time,)``, or ``None`` when the file has none."""
        return None if self._times is None else self._times.copy()

    @property
    def attrs(self) -> dict[str, Any]:
        """File-level metadata as plain Python values."""
        return dict(self._attrs)

    @property
    def params(self) -> dict[str, LazyArray]:
        """Per-sample parameters, each a lazy array ``(sample, ...)``."""
        return dict(self._params)

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return self._n_samples

    def __len__(self) -> int:
        return self._n_samples

    def close(self) -> None:
        """Release every file handle this process holds; metadata stays available."""
        for arr in (*self._fields.values(), *self._params.values()):
            arr.close()

    def __enter__(self) -> H5Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({os.path.basename(self._path)!r}, layout={self.layout!r}"]
        lines.append(f"  n_samples={self._n_samples}, grid={self._grid!r}")
        if self._times is not None:
            t = self._times
            lines.append(f"  times={t.size} in [{t[0]:g}, {t[-1]:g}]")
        for name, arr in self._fields.items():
            lines.append(f"  field {name}: {arr.shape} {arr.dtype}")
        for name, arr in self._params.items():
            lines.append(f"  param {name}: {arr.shape} {arr.dtype}")
        if self._attrs.get("pde"):
            lines.append(f"  pde={self._attrs['pde']!r}")
        return "\n".join(lines) + ")"


def register_layout(name: str) -> Callable[[type[H5Dataset]], type[H5Dataset]]:
    """Class decorator registering an :class:`H5Dataset` subclass under a layout name."""

    def add(cls: type[H5Dataset]) -> type[H5Dataset]:
        cls.layout = name
        return LAYOUTS.register(name)(cls)

    return add


def detect_layout(path: PathLike) -> str:
    """Name of the registered layout of an HDF5 file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not HDF5, or no layout (or more than one) recognises it; the message lists
        what the file holds at its root.
    """
    _import_builtin_layouts()
    with _open_h5(path) as f:
        found = [name for name in LAYOUTS.names() if LAYOUTS.get(name).detect(f)]
        if len(found) == 1:
            return found[0]
        keys = sorted(f.keys())[:20]
        attrs = {k: _decode_attr(v) for k, v in list(f.attrs.items())[:20]}
    if not found:
        raise ValueError(
            f"{os.fspath(path)}: unknown HDF5 layout; found root keys {keys} and root "
            f"attributes {attrs}; known layouts are {LAYOUTS.names()}"
        )
    raise ValueError(f"{os.fspath(path)}: ambiguous layout, recognised as each of {found}")


def open_dataset(path: PathLike, layout: str | None = None) -> H5Dataset:
    """Open an HDF5 data file, detecting its layout unless ``layout`` names one.

    Only metadata is read; fields are :class:`LazyArray` objects. ``sciml.data.open`` is
    this function.

    Parameters
    ----------
    path : str or PathLike
    layout : str, optional
        One of :data:`LAYOUTS`; detected when omitted.
    """
    _import_builtin_layouts()
    name = detect_layout(path) if layout is None else layout
    return LAYOUTS.get(name)(path)


def _import_builtin_layouts() -> None:
    # The external-layout readers import this module, so they are loaded on first use
    # rather than at import time; importing them registers their layouts.
    import sciml.data.pdebench
    import sciml.data.the_well  # noqa: F401


# ---------------------------------------------------------------------------------------
# native layout: reading
# ---------------------------------------------------------------------------------------
@register_layout("sciml")
class NativeDataset(H5Dataset):
    """A file in the native sciml layout (see the module docstring)."""

    @classmethod
    def detect(cls, file: h5py.File) -> bool:
        return _decode_attr(file.attrs.get("format")) == FORMAT

    def _load(self, f: h5py.File) -> None:
        attrs = {k: _decode_attr(v) for k, v in f.attrs.items()}
        version = attrs.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise self._error("version", f"root attribute missing or not an int: {version!r}")
        if not 1 <= version <= VERSION:
            raise self._error(
                "version", f"file has version {version}; this sciml reads versions 1..{VERSION}"
            )
        n = attrs.get("n_samples")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise self._error("n_samples", f"root attribute missing or not positive: {n!r}")
        if not isinstance(attrs.get("pde", ""), str):
            raise self._error("pde", f"root attribute must be a string, got {attrs['pde']!r}")
        attrs.setdefault("pde", "")
        try:
            # json.loads only: the file is data, never code
            params = json.loads(attrs.get("params", "{}"))
        except (TypeError, ValueError) as err:
            raise self._error("params", f"root attribute is not valid JSON ({err})") from None
        if not isinstance(params, dict):
            raise self._error("params", f"expected a JSON object, got {type(params).__name__}")
        attrs["params"] = params
        self._attrs = attrs
        self._n_samples = n
        self._grid, self._times = self._load_grid(f)
        self._fields = self._load_fields(f)
        self._params = self._load_params(f)

    def _load_grid(self, f: h5py.File) -> tuple[Grid, np.ndarray | None]:
        if "grid" not in f or not isinstance(f["grid"], h5py.Group):
            raise self._error("grid", "missing group (the spatial grid)")
        g = f["grid"]
        names = _decode_attr(g.attrs.get("axes"))
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(a, str) for a in names):
            raise self._error("grid", f"attribute 'axes' missing or not a list of names: {names!r}")
        coords, periodic, kinds, bounds = {}, {}, {}, {}
        for a in names:
            key = f"grid/{a}"
            if a not in g or not isinstance(g[a], h5py.Dataset):
                raise self._error(key, "missing coordinate dataset")
            c = read_real(self._path, key, g[a])
            if c.ndim != 1 or c.size == 0:
                raise self._error(key, f"expected a non-empty 1-D array, got shape {c.shape}")
            if not np.all(np.isfinite(c)):
                raise self._error(key, "coordinates contain NaN or Inf")
            meta = {
                k: _decode_attr(g[a].attrs.get(k)) for k in ("periodic", "kind", "lower", "upper")
            }
            missing = [k for k, v in meta.items() if v is None]
            if missing:
                raise self._error(key, f"missing attributes {missing}")
            coords[a] = c
            periodic[a] = bool(meta["periodic"])
            kinds[a] = str(meta["kind"])
            bounds[a] = (meta["lower"], meta["upper"])
        try:
            grid = Grid(coords, periodic=periodic, box=Box(**bounds), kind=kinds)
        except (ValueError, TypeError) as err:
            raise self._error("grid", f"invalid grid ({err})") from None
        times = None
        if "t" in g and "t" not in names:
            times = read_real(self._path, "grid/t", g["t"])
            if times.ndim != 1 or times.size == 0:
                raise self._error("grid/t", f"expected a non-empty 1-D array, got {times.shape}")
            if not np.all(np.isfinite(times)):
                raise self._error("grid/t", "time coordinates contain NaN or Inf")
            times.setflags(write=False)
        return grid, times

    def _load_fields(self, f: h5py.File) -> dict[str, LazyArray]:
        if "fields" not in f or not isinstance(f["fields"], h5py.Group):
            raise self._error("fields", "missing group (the data fields)")
        grid = self.grid
        out = {}
        for name, dset in f["fields"].items():
            key = f"fields/{name}"
            if not isinstance(dset, h5py.Dataset):
                raise self._error(key, "expected a dataset, found a group")
            shape = dset.shape
            if len(shape) != grid.ndim + 3:
                axes = ", ".join(grid.names)
                raise self._error(
                    key,
                    f"wrong rank: expected {grid.ndim + 3} axes (sample, time, {axes}, channel),"
                    f" got shape {shape}",
                )
            if shape[2:-1] != grid.shape:
                raise self._error(
                    key, f"space shape {shape[2:-1]} does not match the grid shape {grid.shape}"
                )
            if shape[0] != self._n_samples:
                raise self._error(
                    key,
                    f"has {shape[0]} samples but the file declares n_samples={self._n_samples}"
                    f" (truncated or inconsistent file)",
                )
            if self._times is not None and shape[1] not in (1, self._times.size):
                raise self._error(
                    key, f"time length {shape[1]} does not match grid/t ({self._times.size})"
                )
            out[name] = LazyArray(self._path, key, shape, dset.dtype)
        if not out:
            raise self._error("fields", "group is empty")
        return out

    def _load_params(self, f: h5py.File) -> dict[str, LazyArray]:
        if "params" not in f:
            return {}
        if not isinstance(f["params"], h5py.Group):
            raise self._error("params", "expected a group of per-sample parameters, found a "
                                        "dataset")
        out = {}
        for name, dset in f["params"].items():
            key = f"params/{name}"
            if not isinstance(dset, h5py.Dataset) or dset.ndim < 1:
                raise self._error(key, "expected a dataset with a leading sample axis")
            if dset.shape[0] != self._n_samples:
                raise self._error(
                    key,
                    f"has {dset.shape[0]} samples but the file declares "
                    f"n_samples={self._n_samples} (truncated or inconsistent file)",
                )
            out[name] = LazyArray(self._path, key, dset.shape, dset.dtype)
        return out


# ---------------------------------------------------------------------------------------
# native layout: writing
# ---------------------------------------------------------------------------------------
class FieldSpec(NamedTuple):
    """Shape of one sample of a field, ``(time, *space, channel)``, and its dtype."""

    shape: tuple[int, ...]
    dtype: np.dtype


def _parse_spec(argument: str, spec: Any, default_dtype: Any = np.float32) -> FieldSpec:
    """Accept a FieldSpec, ``(shape, dtype)``, a bare shape, or anything with shape/dtype."""
    if hasattr(spec, "shape") and hasattr(spec, "dtype"):
        shape, dtype = spec.shape, spec.dtype
    elif (
        isinstance(spec, (tuple, list))
        and len(spec) == 2
        and isinstance(spec[0], (tuple, list))
    ):
        shape, dtype = spec
    elif isinstance(spec, (tuple, list)):
        shape, dtype = spec, default_dtype
    else:
        raise ValueError(
            f"{argument}: expected a shape tuple, a (shape, dtype) pair or an array, "
            f"got {describe(spec)}"
        )
    try:
        shape = tuple(int(s) for s in shape)
        if str(dtype).startswith("torch."):
            dtype = str(dtype)[len("torch.") :]
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        raise ValueError(f"{argument}: cannot read a shape and a dtype from {spec!r}") from None
    if any(s < 1 for s in shape):
        raise ValueError(f"{argument}: every axis must have length >= 1, got shape {shape}")
    if dtype.kind not in "biufc":
        raise ValueError(f"{argument}: dtype must be numeric, got {dtype}")
    return FieldSpec(shape, dtype)


class Writer:
    """Write a native sciml file sample by sample, atomically.

    Data go to a hidden temporary file next to ``path``; on successful exit from the
    ``with`` block (or :meth:`commit`) every sample must have been written, and the file is
    flushed, fsynced and renamed onto ``path``. An exception inside the block (or
    :meth:`abort`) deletes the temporary file, so ``path`` never holds half a file and a
    previous file at ``path`` survives.

    Parameters
    ----------
    path : str or PathLike
        Final file name.
    grid : Grid
        The spatial grid; every field's ``*space`` shape must equal ``grid.shape``.
    fields : mapping of str to spec
        Shape of one sample ``(time, *space, channel)`` of each field, as a tuple (dtype
        float32), a ``(shape, dtype)`` pair, a :class:`FieldSpec` or an example array.
        Time lengths are 1 (static) or one common ``T``.
    n_samples : int
        Number of samples the file will hold.
    attrs : mapping, optional
        File metadata. ``attrs["pde"]`` (str) names the equation and ``attrs["params"]``
        (a JSON-serialisable dict) holds its global parameters; other entries must be a
        str, a finite number, a bool or a flat list, and are stored as root attributes.
    times : array, optional
        Time coordinates ``(T,)``, strictly increasing, stored as ``grid/t``.
    params : mapping of str to spec, optional
        Shape and dtype of one sample of each per-sample parameter (``()`` for a scalar).
        When omitted, they are taken from the first write; every write must then give the
        same names.
    compression : {"lzf", "gzip", None}
        Chunk compression; see the module docstring for measurements.
    compression_level : int, optional
        gzip level 0-9 (default 4); only with ``compression="gzip"``.
    overwrite : bool
        Replace an existing file at ``path`` on commit; if ``False`` an existing file is a
        ``FileExistsError`` right away.
    resume : bool
        Make the work survive an interruption. The temporary file is then ``<path>.partial``
        (a fixed name), it records which samples are written (dataset ``_written``, removed
        on commit) and is flushed after every write, and an exception inside the ``with``
        block (``KeyboardInterrupt`` included) closes it instead of deleting it. A later
        ``Writer(..., resume=True)`` with the same grid, fields, sample count, attributes,
        times, parameters and compression reopens it, and :attr:`missing` lists only the
        samples still to write; any difference is a ``ValueError`` naming it. Only
        :meth:`abort` deletes a partial file. Two writers must not resume the same path at
        the same time.

    Examples
    --------
    >>> with Writer("burgers.h5", grid, {"u": (11, 128, 1)}, n_samples=4,
    ...             attrs={"pde": "burgers", "params": {"nu": 0.01}}) as w:  # doctest: +SKIP
    ...     for i in range(4):
    ...         w.write_sample(i, {"u": solve(i)}, params={"seed": i})

    Resumable generation (run the same code again after an interruption):

    >>> with Writer("ns.h5", grid, specs, n_samples=1000, resume=True) as w:  # doctest: +SKIP
    ...     for i in w.missing:
    ...         w.write_sample(i, {"w": solve(i)})
    """

    #: name of the bool dataset ``(n_samples,)`` that marks written samples in a partial file
    WRITTEN_KEY: ClassVar[str] = "_written"

    def __init__(
        self,
        path: PathLike,
        grid: Grid,
        fields: Mapping[str, Any],
        n_samples: int,
        attrs: Mapping[str, Any] | None = None,
        *,
        times: Any = None,
        params: Mapping[str, Any] | None = None,
        compression: str | None = "lzf",
        compression_level: int | None = None,
        overwrite: bool = True,
        resume: bool = False,
    ) -> None:
        self._path = Path(os.fspath(path)).absolute()
        if not isinstance(resume, (bool, np.bool_)):
            raise ValueError(f"resume: expected a bool, got {describe(resume)}")
        self._resume = bool(resume)
        if not isinstance(grid, Grid):
            raise ValueError(f"grid: expected a sciml.core.grid.Grid, got {describe(grid)}")
        if (
            not isinstance(n_samples, (int, np.integer))
            or isinstance(n_samples, bool)
            or n_samples < 1
        ):
            raise ValueError(f"n_samples: expected a positive integer, got {n_samples!r}")
        if compression not in _COMPRESSIONS:
            raise ValueError(f"compression: got {compression!r}; allowed are {_COMPRESSIONS}")
        if compression_level is not None and (
            compression != "gzip" or not 0 <= int(compression_level) <= 9
        ):
            raise ValueError(
                f"compression_level: got {compression_level!r}; only compression='gzip' takes "
                f"a level, an int in 0..9"
            )
        if not overwrite and self._path.exists():
            raise FileExistsError(f"{self._path}: exists; pass overwrite=True to replace it")
        if not isinstance(fields, Mapping) or not fields:
            raise ValueError(
                f"fields: expected a non-empty mapping of name to sample shape, "
                f"got {describe(fields)}"
            )
        self._grid = grid
        self._n = int(n_samples)
        self._specs = self._check_specs(fields, grid)
        self._times = self._check_times(times)
        self._root_attrs = self._check_attrs(attrs)
        self._param_specs: dict[str, FieldSpec] | None = None
        if params is not None:
            if not isinstance(params, Mapping):
                raise ValueError(f"params: expected a mapping of specs, got {describe(params)}")
            # a bare () is the shape of a scalar, which _parse_spec cannot tell from a pair
            self._param_specs = {
                _check_name("params", k): FieldSpec((), np.dtype(np.float64))
                if isinstance(v, (tuple, list)) and len(v) == 0
                else _parse_spec(f"params[{k!r}]", v, np.float64)
                for k, v in params.items()
            }
        self._filters: dict[str, Any] = {}
        if compression is not None:
            self._filters = {"compression": compression, "shuffle": True}
            if compression == "gzip":
                self._filters["compression_opts"] = (
                    4 if compression_level is None else int(compression_level)
                )
        self._written = np.zeros(self._n, dtype=bool)
        self._state = "open"
        self._file: h5py.File | None = None
        if self._resume:
            self._tmp = self.partial_path(self._path)
            if self._tmp.exists():
                self._reopen_partial()
                return
        else:
            fd, tmp = tempfile.mkstemp(
                dir=self._path.parent, prefix=f".{self._path.name}.", suffix=".tmp"
            )
            os.close(fd)
            # mkstemp makes the file 0600 and the rename keeps it; give the finished file
            # the permissions of any file the user creates (0666 less the umask)
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)
            self._tmp = Path(tmp)
        try:
            self._file = h5py.File(self._tmp, "w")
            self._set_finalizer()
            self._create_layout()
            if self._param_specs:
                self._create_params(self._param_specs)
            if self._resume:
                self._file.create_dataset(self.WRITTEN_KEY, data=self._written)
                self._file.flush()
        except BaseException:
            self.abort()
            raise

    @staticmethod
    def partial_path(path: PathLike) -> Path:
        """Name of the partial file a ``resume=True`` writer keeps for ``path``."""
        p = Path(os.fspath(path)).absolute()
        return p.with_name(p.name + ".partial")

    def _set_finalizer(self) -> None:
        # A writer dropped without commit or abort must not leave a temporary file behind,
        # except a resumable one, whose partial file is the point.
        if self._resume:
            self._finalizer = weakref.finalize(self, _close_quietly, self._file)
        else:
            self._finalizer = weakref.finalize(self, _discard, self._file, self._tmp)

    # -- resuming -------------------------------------------------------------------------
    def _reopen_partial(self) -> None:
        tmp = self._tmp
        try:
            f = h5py.File(tmp, "r+")
        except OSError as err:
            raise ValueError(
                f"{tmp}: the partial file of an interrupted write cannot be opened ({err}); "
                f"delete it to start over"
            ) from None
        self._file = f
        self._set_finalizer()
        try:
            self._compare_partial(f)
            self._written = np.asarray(f[self.WRITTEN_KEY][()], dtype=bool)
        except BaseException:
            self._finalizer.detach()
            _close_quietly(f)
            self._file = None
            self._state = "closed"
            raise

    def _compare_partial(self, f: h5py.File) -> None:
        """Raise ValueError naming the first thing that differs from the partial file."""
        tmp = self._tmp

        def differ(what: str, old: Any, new: Any) -> ValueError:
            return ValueError(
                f"{tmp}: cannot resume: {what} differs from the interrupted write "
                f"(partial file has {old!r}, this Writer has {new!r}); use the same arguments, "
                f"or delete the partial file to start over"
            )

        if _decode_attr(f.attrs.get("format")) != FORMAT or self.WRITTEN_KEY not in f:
            raise ValueError(
                f"{tmp}: cannot resume: not a partial file of a resumable sciml Writer; "
                f"delete it to start over"
            )
        n_old = _decode_attr(f.attrs.get("n_samples"))
        if n_old != self._n:
            raise differ("n_samples", n_old, self._n)
        old_attrs = {
            k: _decode_attr(v) for k, v in f.attrs.items() if k not in ("n_samples",)
        }
        new_attrs = {k: _decode_attr(v) for k, v in self._root_attrs.items()}
        for k in sorted(set(old_attrs) | set(new_attrs)):
            if old_attrs.get(k) != new_attrs.get(k):
                raise differ(f"attrs[{k!r}]", old_attrs.get(k), new_attrs.get(k))
        g = f["grid"]
        old_axes = tuple(_decode_attr(g.attrs["axes"]))
        if old_axes != self._grid.names:
            raise differ("grid axes", old_axes, self._grid.names)
        box, per, kinds = self._grid.box, self._grid.periodic_axes, self._grid.kinds
        for a, c in self._grid.coords.items():
            d = g[a]
            old_c = np.asarray(d[()])
            if old_c.shape != c.shape or not np.array_equal(old_c, c):
                raise differ(f"grid coordinates {a!r}", old_c.shape, c.shape)
            old_meta = (bool(d.attrs["periodic"]), _decode_attr(d.attrs["kind"]),
                        float(d.attrs["lower"]), float(d.attrs["upper"]))
            new_meta = (bool(per[a]), kinds[a], float(box[a][0]), float(box[a][1]))
            if old_meta != new_meta:
                raise differ(f"grid axis {a!r} (periodic, kind, lower, upper)", old_meta,
                             new_meta)
        old_t = np.asarray(g["t"][()]) if "t" in g else None
        if (old_t is None) != (self._times is None) or (
            old_t is not None and not np.array_equal(old_t, self._times)
        ):
            raise differ("times", old_t, self._times)
        old_fields = {k: FieldSpec(d.shape[1:], d.dtype) for k, d in f["fields"].items()}
        if old_fields != self._specs:
            raise differ("fields", old_fields, self._specs)
        for k, d in f["fields"].items():
            old_filters = {"compression": d.compression, "shuffle": d.shuffle}
            if d.compression == "gzip":
                old_filters["compression_opts"] = d.compression_opts
            new_filters = {"compression": None, "shuffle": False, **self._filters}
            if old_filters != new_filters:
                raise differ(f"compression of fields/{k}", old_filters, new_filters)
        old_params = (
            {k: FieldSpec(d.shape[1:], d.dtype) for k, d in f["params"].items()}
            if "params" in f
            else None
        )
        if self._param_specs is not None and old_params is not None:
            if old_params != self._param_specs:
                raise differ("params", old_params, self._param_specs)
        elif self._param_specs is not None and f[self.WRITTEN_KEY][()].any():
            # samples were written without parameters
            if self._param_specs:
                raise differ("params", {}, self._param_specs)
        elif self._param_specs is not None and self._param_specs:
            self._create_params(self._param_specs)
        if old_params is not None:
            self._param_specs = old_params

    @property
    def resume(self) -> bool:
        """Whether this writer keeps a partial file across interruptions."""
        return self._resume

    # -- validation -----------------------------------------------------------------------
    @staticmethod
    def _check_specs(fields: Mapping[str, Any], grid: Grid) -> dict[str, FieldSpec]:
        specs = {}
        for name, spec in fields.items():
            _check_name("fields", name)
            s = _parse_spec(f"fields[{name!r}]", spec)
            if len(s.shape) != grid.ndim + 2 or s.shape[1:-1] != grid.shape:
                axes = ", ".join(grid.names)
                raise ValueError(
                    f"fields[{name!r}]: a sample must have shape (time, {axes}, channel) = "
                    f"(T, {', '.join(map(str, grid.shape))}, C) to match the grid, "
                    f"got {s.shape}"
                )
            specs[name] = s
        lengths = {s.shape[0] for s in specs.values()} - {1}
        if len(lengths) > 1:
            raise ValueError(
                f"fields: time lengths must be 1 (static) or one common length, got "
                f"{ {k: s.shape[0] for k, s in specs.items()} }"
            )
        return specs

    def _check_times(self, times: Any) -> np.ndarray | None:
        if times is None:
            return None
        t = _to_numpy(times).astype(np.float64)
        if t.ndim != 1 or t.size == 0:
            raise ValueError(f"times: expected a non-empty 1-D array, got shape {t.shape}")
        if not np.all(np.isfinite(t)) or (t.size > 1 and not np.all(np.diff(t) > 0)):
            raise ValueError("times: must be finite and strictly increasing")
        if "t" in self._grid.names:
            raise ValueError(
                "times: the grid already has a spatial axis named 't'; rename that axis "
                "or leave times out"
            )
        lengths = {s.shape[0] for s in self._specs.values()}
        allowed = (lengths - {1}) or {1}
        if t.size not in allowed:
            raise ValueError(
                f"times: got {t.size} time points but the fields have time lengths "
                f"{ {k: s.shape[0] for k, s in self._specs.items()} }"
            )
        return t

    @staticmethod
    def _check_attrs(attrs: Mapping[str, Any] | None) -> dict[str, Any]:
        attrs = dict(attrs or {})
        clash = [k for k in _RESERVED_ATTRS if k in attrs]
        if clash:
            raise ValueError(f"attrs: keys {clash} are set by the writer; remove them")
        pde = attrs.pop("pde", "")
        if not isinstance(pde, str):
            raise ValueError(f"attrs['pde']: expected a string, got {describe(pde)}")
        params = attrs.pop("params", {})
        if not isinstance(params, Mapping):
            raise ValueError(f"attrs['params']: expected a mapping, got {describe(params)}")
        try:
            params_json = json.dumps(dict(params), allow_nan=False, sort_keys=True)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"attrs['params']: must be JSON-serialisable with finite numbers ({err})"
            ) from None
        out: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "pde": pde,
            "params": params_json,
        }
        for k, v in attrs.items():
            _check_name("attrs", k)
            out[k] = _encode_attr(f"attrs[{k!r}]", v)
        return out

    # -- file structure -------------------------------------------------------------------
    def _create_layout(self) -> None:
        f = self._file
        for k, v in self._root_attrs.items():
            f.attrs[k] = v
        f.attrs["n_samples"] = self._n
        g = f.create_group("grid", track_order=True)
        g.attrs["axes"] = np.array(self._grid.names, dtype=h5py.string_dtype())
        box, per, kinds = self._grid.box, self._grid.periodic_axes, self._grid.kinds
        for a, c in self._grid.coords.items():
            d = g.create_dataset(a, data=np.asarray(c, dtype=np.float64))
            d.attrs["periodic"] = bool(per[a])
            d.attrs["kind"] = kinds[a]
            d.attrs["lower"], d.attrs["upper"] = (float(b) for b in box[a])
        if self._times is not None:
            g.create_dataset("t", data=self._times)
        fg = f.create_group("fields", track_order=True)
        for name, s in self._specs.items():
            fg.create_dataset(
                name, shape=(self._n, *s.shape), dtype=s.dtype, chunks=(1, *s.shape),
                **self._filters,
            )

    def _create_params(self, specs: dict[str, FieldSpec]) -> None:
        pg = self._file.create_group("params", track_order=True)
        for name, s in specs.items():
            # Per-sample parameters are small; contiguous storage keeps them cheap to scan.
            pg.create_dataset(name, shape=(self._n, *s.shape), dtype=s.dtype)

    # -- writing --------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """Final file name."""
        return self._path

    @property
    def n_samples(self) -> int:
        """Number of samples the file will hold."""
        return self._n

    @property
    def missing(self) -> np.ndarray:
        """Indices of samples not written yet."""
        return np.flatnonzero(~self._written)

    def write_sample(
        self,
        index: int,
        fields: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Write sample ``index``: each field ``(time, *space, channel)``, params any shape."""
        self.write_samples(
            index,
            {k: _to_numpy(v)[None] for k, v in _as_mapping("fields", fields).items()},
            None
            if params is None
            else {k: _to_numpy(v)[None] for k, v in _as_mapping("params", params).items()},
        )

    def write_samples(
        self,
        start: int,
        fields: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """Write samples ``start, start+1, ...``: each field ``(k, time, *space, channel)``.

        Raises
        ------
        ValueError
            On unknown or missing names, wrong shapes, non-numeric dtypes, lossy casts
            (float into an integer field), NaN/Inf values, or indices out of range.
        """
        if self._state != "open":
            raise RuntimeError(f"Writer for {self._path} is {self._state}; cannot write")
        fields = _as_mapping("fields", fields)
        self._check_keys("fields", fields, self._specs)
        arrays = {name: _to_numpy(v) for name, v in fields.items()}
        k = next(iter(arrays.values())).shape[0] if next(iter(arrays.values())).ndim else 0
        if (
            not isinstance(start, (int, np.integer))
            or isinstance(start, bool)
            or not (0 <= start and start + k <= self._n)
        ):
            raise ValueError(
                f"start: got {start!r} for {k} sample(s); indices must lie in [0, {self._n})"
            )
        start = int(start)
        blocks = {
            name: self._prepare(f"fields[{name!r}]", arr, self._specs[name], k, start)
            for name, arr in arrays.items()
        }
        pblocks = self._prepare_params(params, k, start)
        for name, block in blocks.items():
            self._file["fields"][name][start : start + k] = block
        for name, block in pblocks.items():
            self._file["params"][name][start : start + k] = block
        self._written[start : start + k] = True
        if self._resume:
            # data first, then the mark, then a flush: a crash between them only redoes work
            self._file[self.WRITTEN_KEY][start : start + k] = True
            self._file.flush()

    def _prepare_params(
        self, params: Mapping[str, Any] | None, k: int, start: int
    ) -> dict[str, np.ndarray]:
        arrays = {n: _to_numpy(v) for n, v in _as_mapping("params", params or {}).items()}
        if self._param_specs is None:
            # The first write fixes the parameter names, shapes and dtypes.
            specs = {}
            for name, arr in arrays.items():
                _check_name("params", name)
                _check_numeric(f"params[{name!r}]", arr)
                if arr.ndim < 1 or arr.shape[0] != k:
                    raise ValueError(
                        f"params[{name!r}]: expected a leading axis of {k} samples, "
                        f"got shape {arr.shape}"
                    )
                specs[name] = FieldSpec(arr.shape[1:], arr.dtype)
            blocks = {
                n: self._prepare(f"params[{n!r}]", a, specs[n], k, start)
                for n, a in arrays.items()
            }
            self._param_specs = specs
            if specs:
                self._create_params(specs)
            return blocks
        self._check_keys("params", arrays, self._param_specs)
        return {
            n: self._prepare(f"params[{n!r}]", a, self._param_specs[n], k, start)
            for n, a in arrays.items()
        }

    @staticmethod
    def _check_keys(argument: str, given: Mapping[str, Any], specs: Mapping[str, Any]) -> None:
        unknown = [k for k in given if k not in specs]
        missing = [k for k in specs if k not in given]
        if unknown or missing:
            raise ValueError(
                f"{argument}: every write must give exactly {list(specs)}; "
                f"unknown {unknown}, missing {missing}"
            )

    @staticmethod
    def _prepare(argument: str, arr: np.ndarray, spec: FieldSpec, k: int, start: int) -> Any:
        _check_numeric(argument, arr)
        if arr.shape != (k, *spec.shape):
            raise ValueError(
                f"{argument}: expected shape {(k, *spec.shape)} for {k} sample(s), "
                f"got {arr.shape}"
            )
        if not np.can_cast(arr.dtype, spec.dtype, casting="same_kind"):
            raise ValueError(
                f"{argument}: cannot store dtype {arr.dtype} into the declared {spec.dtype} "
                f"without losing information"
            )
        _check_finite_block(argument, arr, start)
        out = arr.astype(spec.dtype, copy=False)
        if out.dtype.kind in "fc" and out is not arr:
            _check_finite_block(argument + f" (cast to {spec.dtype})", out, start)
        return out

    # -- finishing ------------------------------------------------------------------------
    def commit(self) -> Path:
        """Check every sample was written, then move the file into place; returns its path.

        Raises
        ------
        ValueError
            If samples are missing; the temporary file is deleted and nothing is saved.
        """
        if self._state != "open":
            raise RuntimeError(f"Writer for {self._path} is {self._state}; cannot commit")
        missing = self.missing
        if missing.size:
            shown = missing[:10].tolist()
            more = f" and {missing.size - 10} more" if missing.size > 10 else ""
            if self._resume:
                self.close()
                kept = f"; the partial file {self._tmp} is kept for resume=True"
            else:
                self.abort()
                kept = ""
            raise ValueError(
                f"Writer for {self._path}: samples {shown}{more} of {self._n} were never "
                f"written; nothing was saved{kept}"
            )
        if self._param_specs is None:
            self._param_specs = {}
        self._finalizer.detach()
        if self._resume and self.WRITTEN_KEY in self._file:
            del self._file[self.WRITTEN_KEY]
        self._file.flush()
        self._file.close()
        fsync_path(self._tmp)
        os.replace(self._tmp, self._path)
        fsync_path(self._path.parent, directory=True)
        self._state = "committed"
        return self._path

    def abort(self) -> None:
        """Discard everything written (a partial file too); ``path`` is left as it was."""
        if self._state == "committed":
            return
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer.detach()
        _discard(self._file, self._tmp)
        self._state = "aborted"

    def close(self) -> None:
        """Stop without committing.

        With ``resume=True`` the partial file is flushed, closed and kept for a later
        resumable writer; otherwise this is :meth:`abort`.
        """
        if not self._resume:
            self.abort()
            return
        if self._state != "open":
            return
        self._finalizer.detach()
        _close_quietly(self._file)
        self._state = "closed"

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            # resumable: keep the partial file (also on KeyboardInterrupt); else discard it
            self.close()

    def __repr__(self) -> str:
        done = int(self._written.sum())
        return f"Writer({str(self._path)!r}, {done}/{self._n} samples written, {self._state})"


def _close_quietly(file: h5py.File | None) -> None:
    if file is not None:
        with contextlib.suppress(Exception):
            file.close()


def _discard(file: h5py.File | None, tmp: Path) -> None:
    if file is not None:
        with contextlib.suppress(Exception):
            file.close()
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()


def _as_mapping(argument: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{argument}: expected a mapping of name to array, got {describe(value)}")
    return value


def write(
    path: PathLike,
    fields: Mapping[str, Any],
    grid: Grid,
    attrs: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    times: Any = None,
    compression: str | None = "lzf",
    compression_level: int | None = None,
    overwrite: bool = True,
) -> Path:
    """Write arrays in memory to a native sciml file, atomically.

    Parameters
    ----------
    path : str or PathLike
    fields : mapping of str to array, each ``(sample, time, *space, channel)``
        Same sample count for all; ``*space`` equal to ``grid.shape``; time length 1
        (static) or one common ``T``. Dtypes are kept.
    grid : Grid
    attrs : mapping, optional
        ``pde`` (str), ``params`` (JSON-serialisable dict of global PDE parameters) and
        other flat metadata; see :class:`Writer`.
    params : mapping of str to array, optional
        Per-sample parameters, each ``(sample, ...)``.
    times : array, optional
        Time coordinates ``(T,)``.
    compression, compression_level, overwrite
        See :class:`Writer`.

    Returns
    -------
    Path
        The written file.
    """
    fields = _as_mapping("fields", fields)
    if not fields:
        raise ValueError("fields: expected at least one field, got an empty mapping")
    arrays = {}
    n = None
    for name, value in fields.items():
        arr = _to_numpy(value)
        if arr.ndim < 1:
            raise ValueError(
                f"fields[{name!r}]: expected (sample, time, *space, channel), got a scalar"
            )
        if n is None:
            n, first = arr.shape[0], name
        elif arr.shape[0] != n:
            raise ValueError(
                f"fields[{name!r}]: has {arr.shape[0]} samples but fields[{first!r}] has {n}"
            )
        arrays[name] = arr
    pvals = {k: _to_numpy(v) for k, v in _as_mapping("params", params or {}).items()}
    with Writer(
        path,
        grid,
        {k: FieldSpec(a.shape[1:], a.dtype) for k, a in arrays.items()},
        n_samples=n if n else 0,
        attrs=attrs,
        times=times,
        compression=compression,
        compression_level=compression_level,
        overwrite=overwrite,
    ) as w:
        w.write_samples(0, arrays, pvals)
    return w.path
