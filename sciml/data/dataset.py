"""Torch datasets over HDF5 data files.

:class:`OperatorDataset` turns fields of a file, laid out ``(sample, time, *space,
channel)``, into ``(input, output)`` pairs laid out ``(channels, *space)`` for a neural
operator, reading one sample per item: static maps (coefficient to solution) or one time
step. :meth:`OperatorDataset.load` reads a whole (small) dataset into two tensors with
contiguous slab reads, which is much faster than item by item. :class:`WindowDataset`
cuts time series into ``k_in`` input steps and the ``m_out`` steps that follow, for
autoregressive training. :func:`split_indices` fixes which samples train and which test.

Both datasets subsample space by ``stride`` (keep every s-th point) or ``resolution``
(the number of points wanted per axis, turned into a stride) and select channels by field
name.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from sciml.core.grid import Grid
from sciml.core.validation import describe
from sciml.data.hdf5 import H5Dataset, LazyArray, open_dataset

__all__ = [
    "OperatorDataset",
    "WindowDataset",
    "resolution_stride",
    "split_indices",
    "to_tensor_dataset",
]

# Upper bound on the raw bytes one slab read in load()/iter_batches() may hold; keeps the
# peak memory of load() near the size of its result.
_SLAB_BYTES = 256 * 2**20


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def split_indices(n_samples: int, n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test sample indices: the first ``n_train`` and the last ``n_test``.

    PDEBench's own loaders disagree on which end of a file is the test set; sciml always
    trains on the first samples and tests on the last ones, so a file with more samples than
    needed can be used without touching the test set.

    Parameters
    ----------
    n_samples : int
        Samples in the file.
    n_train, n_test : int
        Sizes of the two sets (``n_test`` may be 0).

    Returns
    -------
    train, test : int64 arrays, shapes ``(n_train,)`` and ``(n_test,)``

    Raises
    ------
    ValueError
        If a count is negative or not an integer, or the sets would overlap
        (``n_train + n_test > n_samples``).
    """
    for name, value in (("n_samples", n_samples), ("n_train", n_train), ("n_test", n_test)):
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    if n_train + n_test > n_samples:
        raise ValueError(
            f"n_train + n_test: got {n_train} + {n_test} = {n_train + n_test}, more than the "
            f"{n_samples} samples available; train and test sets would overlap"
        )
    train = np.arange(n_train, dtype=np.int64)
    test = np.arange(n_samples - n_test, n_samples, dtype=np.int64)
    return train, test


def _names(argument: str, value: str | Sequence[str], available: Sequence[str]) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if not names:
        raise ValueError(f"{argument}: expected at least one field name, got {value!r}")
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"{argument}: unknown field(s) {unknown}; the file has {list(available)}")
    return names


def resolution_stride(grid: Grid, resolution: int | Sequence[int]) -> tuple[int, ...]:
    """Per-axis stride that subsamples ``grid`` to ``resolution`` points per axis.

    A stride ``s`` keeps points ``0, s, 2s, ...``. It is ``n // r`` when ``r`` divides the
    ``n`` points of an axis (cell-centred and periodic grids: 1024 -> 256), otherwise
    ``(n - 1) // (r - 1)`` when that divides (grids that include both ends: 65 -> 33).

    Parameters
    ----------
    grid : Grid
    resolution : int or sequence of int
        Points wanted per axis (one int for every axis).

    Raises
    ------
    ValueError
        If a resolution is not a positive int, or no stride gives exactly that many
        points; the message lists the resolutions that axis allows.
    """
    res = (resolution,) * grid.ndim if _is_int(resolution) else tuple(resolution)
    if len(res) != grid.ndim or not all(_is_int(r) and r >= 1 for r in res):
        raise ValueError(
            f"resolution: expected a positive int or {grid.ndim} positive ints (one per axis "
            f"{grid.names}), got {resolution!r}"
        )
    steps = []
    for a, n, r in zip(grid.names, grid.shape, res):
        step = _stride_for(n, int(r))
        if step is None:
            allowed = [q for q in range(n, 0, -1) if _stride_for(n, q) is not None]
            raise ValueError(
                f"resolution: got {r} for axis {a!r} with {n} points; a stride cannot give "
                f"exactly {r} points there; allowed resolutions are {allowed}"
            )
        steps.append(step)
    return tuple(steps)


def _stride_for(n: int, r: int) -> int | None:
    if r > n:
        return None
    if n % r == 0:
        return n // r
    if r > 1 and (n - 1) % (r - 1) == 0:
        return (n - 1) // (r - 1)
    return None


def _space_steps(
    grid: Grid, stride: int | Sequence[int] | None, resolution: int | Sequence[int] | None
) -> tuple[int, ...]:
    if stride is not None and resolution is not None:
        raise ValueError(
            f"stride and resolution: got both ({stride!r}, {resolution!r}); give one of them"
        )
    if resolution is not None:
        return resolution_stride(grid, resolution)
    if stride is None:
        return (1,) * grid.ndim
    steps = (stride,) * grid.ndim if _is_int(stride) else tuple(stride)
    grid.subsample(steps)  # validates: one positive int per axis
    return tuple(int(s) for s in steps)


def _open_source(source: Any) -> H5Dataset:
    if isinstance(source, (str, os.PathLike)):
        source = open_dataset(source)
    if not isinstance(source, H5Dataset):
        raise ValueError(f"source: expected an H5Dataset or a file path, got {describe(source)}")
    return source


def _check_indices(indices: Any, n: int) -> np.ndarray:
    if indices is None:
        return np.arange(n, dtype=np.int64)
    idx = np.asarray(indices)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError(f"indices: expected a 1-D sequence of ints, got {describe(indices)}")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(
            f"indices: values must lie in [0, {n}) for {n} samples, got min "
            f"{idx.min()} and max {idx.max()}"
        )
    return idx


def _check_field_dtypes(arrays: dict[str, LazyArray], dtype: torch.dtype) -> None:
    """Refuse fields that cannot become tensors of ``dtype`` (strings, or complex into real)."""
    allowed = "biufc" if dtype.is_complex else "biuf"
    for name, arr in arrays.items():
        if arr.dtype.kind not in allowed:
            raise ValueError(
                f"fields: field {name!r} has dtype {arr.dtype}; a dataset of {dtype} tensors "
                f"needs {'numeric' if dtype.is_complex else 'real numeric'} fields"
            )


def _check_dtype(dtype: Any) -> torch.dtype:
    if not isinstance(dtype, torch.dtype) or not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"dtype: expected a floating torch dtype, got {dtype!r}")
    return dtype


def _runs(indices: np.ndarray) -> list[tuple[int, int]]:
    """Split indices into maximal runs of consecutive values, as ``(start, stop)`` ranges."""
    if indices.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    bounds = np.concatenate([[0], breaks, [indices.size]])
    return [(int(indices[a]), int(indices[b - 1]) + 1) for a, b in itertools.pairwise(bounds)]


class _SpatialDataset(Dataset):
    """Shared spatial side of the datasets: subsampled grid, stride, dtype, sample indices.

    Subclasses set ``self._indices`` and call :meth:`_init_space` from ``__init__``.
    """

    _indices: np.ndarray

    def _init_space(
        self,
        source: H5Dataset,
        stride: int | Sequence[int] | None,
        resolution: int | Sequence[int] | None,
        dtype: Any,
    ) -> None:
        steps = _space_steps(source.grid, stride, resolution)
        self._grid = source.grid.subsample(steps)
        self._space = tuple(slice(None, None, s) for s in steps)
        self._stride = steps
        self._dtype = _check_dtype(dtype)
        self._path = source.path

    @property
    def grid(self) -> Grid:
        """The (subsampled) grid of the returned fields."""
        return self._grid

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """Shape of the space axes of every item."""
        return self._grid.shape

    @property
    def indices(self) -> np.ndarray:
        """Sample indices in the file, in item order."""
        return self._indices.copy()

    @property
    def stride(self) -> tuple[int, ...]:
        """Subsampling step per space axis."""
        return self._stride


class OperatorDataset(_SpatialDataset):
    """Input/output field pairs from an HDF5 data file, read lazily per item.

    Item ``i`` is ``(input, output)``, tensors of shapes ``(in_channels, *space)`` and
    ``(out_channels, *space)``: the channel axes of the named fields concatenated in the
    order given, at one time step, subsampled by ``stride``.

    Parameters
    ----------
    source : H5Dataset or str or PathLike
        An open dataset, or a path passed to :func:`sciml.data.hdf5.open_dataset`.
    inputs, outputs : str or sequence of str
        Field names whose channels make up the input and the output.
    indices : sequence of int, optional
        Samples to use, in this order (e.g. one side of :func:`split_indices`); all when
        omitted.
    time_index : int
        Time step read from fields that have a time axis longer than 1 (negative counts
        from the end); static fields (time length 1) always give their only step. Use
        ``time_index=-1`` for a map from a static coefficient to a final state.
    stride : int or sequence of int, optional
        Keep every ``stride``-th grid point along each space axis (the first point is
        kept). ``stride=2`` on a 128-point axis gives 64 points. The grid of the dataset,
        :attr:`grid`, is subsampled the same way.
    resolution : int or sequence of int, optional
        Points wanted per space axis instead of a stride, e.g. ``resolution=64`` on a
        256-point file; turned into a stride by :func:`resolution_stride`, which raises
        if no stride gives exactly that many points. Not together with ``stride``.
    dtype : torch.dtype
        Dtype of the returned tensors.

    Notes
    -----
    The dataset keeps :class:`~sciml.data.hdf5.LazyArray` objects, not an open file, so it
    pickles and works with ``DataLoader(num_workers > 0)``: each worker opens the file once.
    """

    def __init__(
        self,
        source: H5Dataset | str | os.PathLike[str],
        inputs: str | Sequence[str],
        outputs: str | Sequence[str],
        indices: Sequence[int] | np.ndarray | None = None,
        time_index: int = 0,
        stride: int | Sequence[int] | None = None,
        dtype: torch.dtype = torch.float32,
        *,
        resolution: int | Sequence[int] | None = None,
    ) -> None:
        source = _open_source(source)
        self._inputs = _names("inputs", inputs, source.fields)
        self._outputs = _names("outputs", outputs, source.fields)
        self._arrays: dict[str, LazyArray] = {
            n: source.field(n) for n in (*self._inputs, *self._outputs)
        }
        _check_field_dtypes(self._arrays, _check_dtype(dtype))
        self._indices = _check_indices(indices, source.n_samples)
        if not _is_int(time_index):
            raise ValueError(f"time_index: expected an integer, got {time_index!r}")
        self._time_index = int(time_index)
        self._times: dict[str, int] = {}
        for name, arr in self._arrays.items():
            t_len = arr.shape[1]
            if t_len == 1:
                self._times[name] = 0
            elif -t_len <= self._time_index < t_len:
                self._times[name] = self._time_index % t_len
            else:
                raise ValueError(
                    f"time_index: got {time_index} but field {name!r} has {t_len} time steps; "
                    f"allowed range is [{-t_len}, {t_len})"
                )
        self._init_space(source, stride, resolution, dtype)

    # -- description ----------------------------------------------------------------------
    @property
    def in_channels(self) -> int:
        """Channels of an input: the sum of the channel counts of :attr:`inputs`."""
        return sum(self._arrays[n].shape[-1] for n in self._inputs)

    @property
    def out_channels(self) -> int:
        """Channels of an output."""
        return sum(self._arrays[n].shape[-1] for n in self._outputs)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input field names, in channel order."""
        return self._inputs

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output field names, in channel order."""
        return self._outputs

    @property
    def dtype(self) -> torch.dtype:
        """Dtype of the returned tensors."""
        return self._dtype

    def __len__(self) -> int:
        return int(self._indices.size)

    def __repr__(self) -> str:
        return (
            f"OperatorDataset({os.path.basename(self._path)!r}, inputs={list(self._inputs)} "
            f"({self.in_channels} ch), outputs={list(self._outputs)} ({self.out_channels} ch), "
            f"n={len(self)}, space={self.spatial_shape}, stride={self._stride})"
        )

    # -- reading --------------------------------------------------------------------------
    def _tensor(self, parts: list[np.ndarray], channel_axis: int) -> torch.Tensor:
        out = np.concatenate(parts, axis=channel_axis) if len(parts) > 1 else parts[0]
        return torch.from_numpy(np.ascontiguousarray(out)).to(self._dtype)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(i, torch.Tensor):
            i = int(i)
        if not _is_int(i):
            raise TypeError(f"OperatorDataset index must be an integer, got {describe(i)}")
        sample = int(self._indices[i])  # IndexError when out of range, as Dataset expects
        cache: dict[str, np.ndarray] = {}

        def read(name: str) -> np.ndarray:
            if name not in cache:
                block = self._arrays[name][sample, self._times[name]]  # (*space, channel)
                cache[name] = np.moveaxis(block[self._space], -1, 0)
            return cache[name]

        x = self._tensor([read(n) for n in self._inputs], 0)
        y = self._tensor([read(n) for n in self._outputs], 0)
        return x, y

    def _read_block(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        """Arrays ``(k, C, *space)`` per field for samples ``indices[positions]``."""
        samples = self._indices[positions]
        out = {}
        for name, arr in self._arrays.items():
            t = self._times[name]
            parts = [arr[a:b, t] for a, b in _runs(samples)]  # contiguous slab reads
            block = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
            out[name] = np.moveaxis(block[(slice(None), *self._space)], -1, 1)
        return out

    def _slab_size(self, batch_size: int | None) -> int:
        if batch_size is not None:
            if not _is_int(batch_size) or batch_size < 1:
                raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
            return int(batch_size)
        per_sample = sum(
            int(np.prod(a.shape[2:])) * a.dtype.itemsize for a in self._arrays.values()
        )
        return max(1, _SLAB_BYTES // max(per_sample, 1))

    def iter_batches(
        self, batch_size: int | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Consecutive batches ``(x, y)``, shapes ``(k, C, *space)``, in item order.

        Reads each batch with one slab read per field and run of consecutive samples,
        instead of one read per item. ``batch_size`` defaults to what fits in 256 MiB.
        """
        size = self._slab_size(batch_size)
        for lo in range(0, len(self), size):
            blocks = self._read_block(np.arange(lo, min(lo + size, len(self))))
            x = self._tensor([blocks[n] for n in self._inputs], 1)
            y = self._tensor([blocks[n] for n in self._outputs], 1)
            yield x, y

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every item in memory: tensors ``(n, in_channels, *space)`` and
        ``(n, out_channels, *space)``, in item order."""
        n = len(self)
        x = torch.empty((n, self.in_channels, *self.spatial_shape), dtype=self._dtype)
        y = torch.empty((n, self.out_channels, *self.spatial_shape), dtype=self._dtype)
        lo = 0
        for xb, yb in self.iter_batches():
            x[lo : lo + len(xb)] = xb
            y[lo : lo + len(yb)] = yb
            lo += len(xb)
        return x, y


class WindowDataset(_SpatialDataset):
    """Time windows of trajectories: ``k_in`` steps in, the next ``m_out`` steps out.

    For autoregressive training. With frames spaced ``stride_t`` steps apart, a window
    starting at step ``t0`` takes frames ``t0, t0 + stride_t, ..., t0 + (k_in + m_out - 1)
    stride_t``; the first ``k_in`` are the input and the rest the output. Every valid start
    ``t0 = 0, hop, 2 hop, ...`` of every selected sample is one item, samples outer, starts
    inner: item ``i`` is sample ``indices[i // W]`` at start ``(i % W) * hop`` for ``W``
    windows per sample (:attr:`windows_per_sample`).

    Channel stacking: an item is ``(input (k_in * C + C_static, *space), output (m_out * C,
    *space))`` where ``C`` is the number of channels of ``fields`` (their channel axes
    concatenated in the order given). Frames are stacked time-major, oldest first: channel
    ``j * C + c`` holds channel ``c`` of frame ``j``. The channels of the ``static`` fields
    (time length 1, e.g. a coefficient), ``C_static`` in all, follow the frames of the input.

    Each item is one strided read per field and sample, inside the sample's chunk.

    Parameters
    ----------
    source : H5Dataset or str or PathLike
    fields : str or sequence of str
        Time-dependent fields (all with the same time length ``T > 1``).
    k_in, m_out : int
        Input and output steps, both >= 1, with ``(k_in + m_out - 1) * stride_t < T``.
    stride_t : int
        Time steps between consecutive frames of a window (1 uses every stored step).
    hop : int
        Steps between the starts of consecutive windows of one sample.
    static : str or sequence of str, optional
        Fields of time length 1 appended once to every input.
    indices : sequence of int, optional
        Samples to use, in this order (e.g. one side of :func:`split_indices`).
    stride, resolution : optional
        Spatial subsampling, as in :class:`OperatorDataset`.
    dtype : torch.dtype
        Dtype of the returned tensors.
    """

    def __init__(
        self,
        source: H5Dataset | str | os.PathLike[str],
        fields: str | Sequence[str],
        k_in: int,
        m_out: int = 1,
        stride_t: int = 1,
        *,
        hop: int = 1,
        static: str | Sequence[str] | None = None,
        indices: Sequence[int] | np.ndarray | None = None,
        stride: int | Sequence[int] | None = None,
        resolution: int | Sequence[int] | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        source = _open_source(source)
        self._fields = _names("fields", fields, source.fields)
        self._static = () if static is None else _names("static", static, source.fields)
        for name, value in (("k_in", k_in), ("m_out", m_out), ("stride_t", stride_t),
                            ("hop", hop)):
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        self._arrays = {n: source.field(n) for n in (*self._fields, *self._static)}
        _check_field_dtypes(self._arrays, _check_dtype(dtype))
        lengths = {n: self._arrays[n].shape[1] for n in self._fields}
        if len(set(lengths.values())) != 1 or min(lengths.values()) < 2:
            raise ValueError(
                f"fields: expected time-dependent fields with one common time length, got "
                f"time lengths {lengths}; pass static fields (length 1) as static="
            )
        for n in self._static:
            if self._arrays[n].shape[1] != 1:
                raise ValueError(
                    f"static: field {n!r} has {self._arrays[n].shape[1]} time steps; static "
                    f"fields must have time length 1"
                )
        n_time = next(iter(lengths.values()))
        span = (k_in + m_out - 1) * stride_t
        if span >= n_time:
            raise ValueError(
                f"k_in, m_out, stride_t: a window of {k_in} + {m_out} frames {stride_t} steps "
                f"apart spans {span + 1} steps, but the fields have {n_time}"
            )
        self._k, self._m, self._dt, self._hop = int(k_in), int(m_out), int(stride_t), int(hop)
        self._per_sample = (n_time - 1 - span) // hop + 1
        self._indices = _check_indices(indices, source.n_samples)
        self._init_space(source, stride, resolution, dtype)

    # -- description ----------------------------------------------------------------------
    @property
    def channels(self) -> int:
        """Channels ``C`` of one frame: the sum over :attr:`fields`."""
        return sum(self._arrays[n].shape[-1] for n in self._fields)

    @property
    def in_channels(self) -> int:
        """``k_in * C`` plus the channels of the static fields."""
        return self._k * self.channels + sum(self._arrays[n].shape[-1] for n in self._static)

    @property
    def out_channels(self) -> int:
        """``m_out * C``."""
        return self._m * self.channels

    @property
    def fields(self) -> tuple[str, ...]:
        """Time-dependent field names, in channel order."""
        return self._fields

    @property
    def static(self) -> tuple[str, ...]:
        """Static field names appended to the input."""
        return self._static

    @property
    def windows_per_sample(self) -> int:
        """Number of windows ``W`` cut from each sample."""
        return self._per_sample

    def window(self, i: int) -> tuple[int, int]:
        """``(sample, t0)``: the file sample and first time step of item ``i``."""
        if not _is_int(i):
            raise TypeError(f"WindowDataset index must be an integer, got {describe(i)}")
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for {n} windows")
        i = int(i) % n
        sample, w = divmod(i, self._per_sample)
        return int(self._indices[sample]), w * self._hop

    def __len__(self) -> int:
        return int(self._indices.size) * self._per_sample

    def __repr__(self) -> str:
        return (
            f"WindowDataset({os.path.basename(self._path)!r}, fields={list(self._fields)} "
            f"({self.channels} ch), k_in={self._k}, m_out={self._m}, stride_t={self._dt}, "
            f"static={list(self._static)}, n={len(self)} "
            f"({self._per_sample} per sample), space={self.spatial_shape})"
        )

    # -- reading --------------------------------------------------------------------------
    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(i, torch.Tensor):
            i = int(i)
        sample, t0 = self.window(i)
        stop = t0 + (self._k + self._m - 1) * self._dt + 1
        frames = []
        for name in self._fields:
            # one strided read per field: (k + m, *space, channel)
            block = self._arrays[name][(sample, slice(t0, stop, self._dt), *self._space)]
            frames.append(block)
        block = np.concatenate(frames, axis=-1) if len(frames) > 1 else frames[0]
        block = np.moveaxis(block, -1, 1)  # (k + m, C, *space): time-major channels
        x = block[: self._k].reshape(self._k * self.channels, *self.spatial_shape)
        y = block[self._k :].reshape(self._m * self.channels, *self.spatial_shape)
        if self._static:
            extra = [
                np.moveaxis(self._arrays[n][(sample, 0, *self._space)], -1, 0)
                for n in self._static
            ]
            x = np.concatenate([x, *extra], axis=0)
        return (
            torch.from_numpy(np.ascontiguousarray(x)).to(self._dtype),
            torch.from_numpy(np.ascontiguousarray(y)).to(self._dtype),
        )


def to_tensor_dataset(dataset: OperatorDataset | WindowDataset) -> TensorDataset:
    """An in-memory copy of ``dataset``: read once instead of once per epoch.

    An :class:`OperatorDataset` is read in contiguous slabs (:meth:`OperatorDataset.load`);
    a :class:`WindowDataset` window by window (one strided read each).
    """
    if isinstance(dataset, OperatorDataset):
        return TensorDataset(*dataset.load())
    if isinstance(dataset, WindowDataset):
        if len(dataset) == 0:
            raise ValueError("dataset: the WindowDataset has no windows")
        xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
        return TensorDataset(torch.stack(xs), torch.stack(ys))
    raise ValueError(
        f"dataset: expected an OperatorDataset or a WindowDataset, got {describe(dataset)}"
    )
