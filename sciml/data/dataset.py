"""Torch datasets over HDF5 data files.

:class:`OperatorDataset` turns fields of a file, laid out ``(sample, time, *space,
channel)``, into ``(input, output)`` pairs laid out ``(channels, *space)`` for a neural
operator, reading one sample per item. :meth:`OperatorDataset.load` reads a whole (small)
dataset into two tensors with contiguous slab reads, which is much faster than item by
item. :func:`split_indices` fixes which samples train and which test.
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

__all__ = ["OperatorDataset", "split_indices", "to_tensor_dataset"]

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


def _runs(indices: np.ndarray) -> list[tuple[int, int]]:
    """Split indices into maximal runs of consecutive values, as ``(start, stop)`` ranges."""
    if indices.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    bounds = np.concatenate([[0], breaks, [indices.size]])
    return [(int(indices[a]), int(indices[b - 1]) + 1) for a, b in itertools.pairwise(bounds)]


class OperatorDataset(Dataset):
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
    ) -> None:
        if isinstance(source, (str, os.PathLike)):
            source = open_dataset(source)
        if not isinstance(source, H5Dataset):
            raise ValueError(
                f"source: expected an H5Dataset or a file path, got {describe(source)}"
            )
        self._inputs = _names("inputs", inputs, source.fields)
        self._outputs = _names("outputs", outputs, source.fields)
        self._arrays: dict[str, LazyArray] = {
            n: source.field(n) for n in (*self._inputs, *self._outputs)
        }
        n = source.n_samples
        if indices is None:
            idx = np.arange(n, dtype=np.int64)
        else:
            idx = np.asarray(indices)
            if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
                raise ValueError(
                    f"indices: expected a 1-D sequence of ints, got {describe(indices)}"
                )
            idx = idx.astype(np.int64)
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise ValueError(
                    f"indices: values must lie in [0, {n}) for {n} samples, got min "
                    f"{idx.min()} and max {idx.max()}"
                )
        self._indices = idx
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
        src_grid = source.grid
        if stride is None:
            stride = 1
        self._grid = src_grid.subsample(stride)  # validates stride (per axis, positive)
        steps = (stride,) * src_grid.ndim if _is_int(stride) else tuple(stride)
        self._space = tuple(slice(None, None, int(s)) for s in steps)
        self._stride = tuple(int(s) for s in steps)
        if not isinstance(dtype, torch.dtype) or not (dtype.is_floating_point or dtype.is_complex):
            raise ValueError(f"dtype: expected a floating torch dtype, got {dtype!r}")
        self._dtype = dtype
        self._path = source.path

    # -- description ----------------------------------------------------------------------
    @property
    def grid(self) -> Grid:
        """The (subsampled) grid of the returned fields."""
        return self._grid

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """Shape of the space axes of every item."""
        return self._grid.shape

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
    def indices(self) -> np.ndarray:
        """Sample indices in the file, in item order."""
        return self._indices.copy()

    @property
    def stride(self) -> tuple[int, ...]:
        """Subsampling step per space axis."""
        return self._stride

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


def to_tensor_dataset(dataset: OperatorDataset) -> TensorDataset:
    """An in-memory copy of ``dataset`` (see :meth:`OperatorDataset.load`)."""
    if not isinstance(dataset, OperatorDataset):
        raise ValueError(f"dataset: expected an OperatorDataset, got {describe(dataset)}")
    return TensorDataset(*dataset.load())
