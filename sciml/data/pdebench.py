"""Readers for the HDF5 files of PDEBench, read as they are.

PDEBench (Takamoto et al., 2022) ships its data in four shapes of file; each is a layout
registered with :func:`sciml.data.hdf5.register_layout`, so :func:`sciml.data.open`
detects it. Every field comes out under the file's own name as a lazy array
``(sample, time, *space, channel)``; the axes a file leaves out are added (length 1) by
an :class:`~sciml.data.hdf5.ExpandedArray` view, which still reads only the requested
slice. Spatial axes are named ``x``, ``y``, ``z`` in that order (PDEBench's order:
``tensor[..., ix, iy]`` lies at ``(x[ix], y[iy])``).

``pdebench`` — single file (advection, Burgers, 1-D reaction–diffusion, ...)::

    tensor          (sample, time, *space) or (sample, time, *space, channel)
    x-coordinate    (nx,)   [y-coordinate (ny,), z-coordinate (nz,)]
    t-coordinate    (time,) or (time + 1,): only the first ``time`` entries are used

``pdebench-darcy`` — steady Darcy flow::

    nu              (sample, *space)       the coefficient; field "nu", time length 1
    tensor          (sample, 1, *space)    the solution; field "tensor"
    x-coordinate, y-coordinate             (t-coordinate, if present, is ignored)

``pdebench-cfd`` — compressible Navier–Stokes::

    density, pressure, Vx [, Vy [, Vz]]    each (sample, time, *space)
    x-coordinate [, y-, z-coordinate], t-coordinate
    root attributes (e.g. the solver parameters) become ``attrs``

``pdebench-groups`` — one group per sample (2-D reaction–diffusion, shallow water,
diffusion–sorption)::

    0000/data       (time, *space, channel)   [or (time, *space)]
    0000/grid/x, 0000/grid/y [, 0000/grid/z], 0000/grid/t
    0001/...

The field is called ``data``; groups are taken in increasing numeric order, every
``data`` must have the first group's shape, and the grid is read from the first group (the
others are not opened for their coordinates, which keeps opening a 10 000-group file
cheap). The time grid ``grid/t`` may again have one more entry than the data.

No PDEBench file says which axes are periodic, so every grid axis is non-periodic; the
domain bounds are inferred from the (cell-centred) coordinates by
:func:`~sciml.data.hdf5.axis_box`. The sample count is checked across all fields, and
coordinates for NaN, rank and monotonicity, when the file is opened; problems are
``ValueError`` naming the file, the key and the problem.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import h5py
import numpy as np

from sciml.data.hdf5 import (
    ExpandedArray,
    H5Dataset,
    LazyArray,
    StackedArray,
    _decode_attr,
    check_coordinates,
    grid_from_coordinates,
    register_layout,
)

__all__ = [
    "PDEBenchCFDDataset",
    "PDEBenchDarcyDataset",
    "PDEBenchDataset",
    "PDEBenchGroupsDataset",
]

_AXES = ("x", "y", "z")
_GROUP = re.compile(r"^\d+$")
_CFD_FIELDS = ("density", "pressure", "Vx", "Vy", "Vz")


def _root_attrs(f: h5py.File) -> dict[str, Any]:
    return {k: _decode_attr(v) for k, v in f.attrs.items()}


class _SingleFile(H5Dataset):
    """Shared reader of PDEBench's single-file layouts: root datasets plus coordinates."""

    #: datasets that must be present (beyond the coordinates)
    required: ClassVar[tuple[str, ...]] = ()

    def _dataset_at(self, f: h5py.File, key: str) -> h5py.Dataset:
        obj = f.get(key)
        if obj is None:
            raise self._error(key, "missing dataset")
        if not isinstance(obj, h5py.Dataset):
            raise self._error(key, "expected a dataset, found a group")
        return obj

    def _load_coordinates(self, f: h5py.File) -> dict[str, np.ndarray]:
        self._dataset_at(f, "x-coordinate")  # x is always required
        coords = {}
        for a in _AXES:
            key = f"{a}-coordinate"
            if key in f:
                coords[a] = check_coordinates(self._path, key, self._dataset_at(f, key))
        if "z" in coords and "y" not in coords:
            raise self._error("y-coordinate", "missing dataset (the file has z-coordinate)")
        return coords

    def _load_times(self, f: h5py.File, n_time: int) -> np.ndarray | None:
        if "t-coordinate" not in f:
            return None
        t = check_coordinates(self._path, "t-coordinate", self._dataset_at(f, "t-coordinate"))
        # PDEBench stores the time of every step plus the final time: nt + 1 entries
        if t.size not in (n_time, n_time + 1):
            raise self._error(
                "t-coordinate",
                f"has {t.size} entries; expected {n_time} or {n_time + 1} for the "
                f"{n_time} time steps of the data",
            )
        t = t[:n_time].copy()
        t.setflags(write=False)
        return t

    def _field(self, dset: h5py.Dataset, key: str, static: bool) -> LazyArray:
        """Lazy view of one root dataset; ``static`` marks a ``(sample, *space)`` array."""
        grid = self.grid
        d = grid.ndim
        shape = dset.shape
        if static:
            ranks = {d + 1: "(sample, *space)"}
        else:
            ranks = {d + 2: "(sample, time, *space)", d + 3: "(sample, time, *space, channel)"}
        if len(shape) not in ranks:
            allowed = " or ".join(f"{r} axes {what}" for r, what in ranks.items())
            raise self._error(
                key, f"wrong rank: expected {allowed} for a {d}-D grid, got shape {shape}"
            )
        lead = 1 if static else 2
        space = shape[lead : lead + d]
        if space != grid.shape:
            raise self._error(
                key,
                f"space shape {space} does not match the coordinates {grid.shape} "
                f"(axes {', '.join(grid.names)})",
            )
        if static:
            logical = (shape[0], 1, *space, 1)
            stored = (True, False, *([True] * d), False)
            return ExpandedArray(self._path, key, logical, dset.dtype, stored, merge=0)
        if len(shape) == d + 3:
            return LazyArray(self._path, key, shape, dset.dtype)
        logical = (*shape, 1)
        return ExpandedArray(self._path, key, logical, dset.dtype, (True,) * len(logical), merge=0)

    def _finish(self, f: h5py.File, fields: dict[str, LazyArray]) -> None:
        counts = {k: a.shape[0] for k, a in fields.items()}
        n = max(counts.values())
        short = {k: c for k, c in counts.items() if c != n}
        if short:
            raise self._error(
                next(iter(short)),
                f"has {min(short.values())} samples but other fields have {n} "
                f"(truncated or inconsistent file); sample counts: {counts}",
            )
        times = {a.shape[1] for a in fields.values()} - {1}
        if len(times) > 1:
            raise self._error(
                next(iter(fields)),
                f"fields have different time lengths: "
                f"{ {k: a.shape[1] for k, a in fields.items()} }",
            )
        self._fields = fields
        self._n_samples = n
        self._attrs = _root_attrs(f)
        self._attrs.setdefault("pde", "")


@register_layout("pdebench")
class PDEBenchDataset(_SingleFile):
    """PDEBench single file: ``tensor`` plus ``x/y/z/t-coordinate`` (see module docstring)."""

    @classmethod
    def detect(cls, file: h5py.File) -> bool:
        return "tensor" in file and "nu" not in file and "format" not in file.attrs

    def _load(self, f: h5py.File) -> None:
        self._grid = grid_from_coordinates(self._load_coordinates(f))
        tensor = self._field(self._dataset_at(f, "tensor"), "tensor", static=False)
        self._times = self._load_times(f, tensor.shape[1])
        self._finish(f, {"tensor": tensor})


@register_layout("pdebench-darcy")
class PDEBenchDarcyDataset(_SingleFile):
    """PDEBench Darcy file: coefficient ``nu`` and solution ``tensor`` (static maps)."""

    @classmethod
    def detect(cls, file: h5py.File) -> bool:
        return "nu" in file and "format" not in file.attrs

    def _load(self, f: h5py.File) -> None:
        self._grid = grid_from_coordinates(self._load_coordinates(f))
        nu = self._field(self._dataset_at(f, "nu"), "nu", static=True)
        tensor = self._field(self._dataset_at(f, "tensor"), "tensor", static=False)
        if tensor.shape[1] != 1:
            raise self._error(
                "tensor",
                f"expected time length 1 for a steady solution, got shape {tensor.shape[:-1]}",
            )
        self._times = None  # the solution is steady; PDEBench's t-coordinate means nothing
        self._finish(f, {"nu": nu, "tensor": tensor})


@register_layout("pdebench-cfd")
class PDEBenchCFDDataset(_SingleFile):
    """PDEBench compressible flow: ``density``, ``pressure``, ``Vx`` [``Vy``, ``Vz``]."""

    @classmethod
    def detect(cls, file: h5py.File) -> bool:
        return (
            "tensor" not in file
            and "format" not in file.attrs
            and sum(k in file for k in _CFD_FIELDS) >= 2
        )

    def _load(self, f: h5py.File) -> None:
        self._grid = grid_from_coordinates(self._load_coordinates(f))
        names = ("density", "pressure", *("V" + a for a in self._grid.names))
        fields = {k: self._field(self._dataset_at(f, k), k, static=False) for k in names}
        self._times = self._load_times(f, max(a.shape[1] for a in fields.values()))
        self._finish(f, fields)


@register_layout("pdebench-groups")
class PDEBenchGroupsDataset(H5Dataset):
    """PDEBench per-sample groups ``0000/data`` with ``0000/grid/{x,y,z,t}``."""

    @classmethod
    def detect(cls, file: h5py.File) -> bool:
        if "format" in file.attrs:
            return False
        for key in file:  # the first numeric group decides; a file has thousands
            if _GROUP.match(key):
                return isinstance(file[key], h5py.Group)
        return False

    def _load(self, f: h5py.File) -> None:
        names = sorted((k for k in f if _GROUP.match(k)), key=int)
        if not names:
            raise self._error("0000", "missing group: no per-sample groups in the file")
        first = names[0]
        coords, times = self._load_grid(f, first)
        self._grid = grid_from_coordinates(coords)
        d = self._grid.ndim
        shape0, dtype = self._data_shape(f, first, d)
        for g in names[1:]:
            shape, _ = self._data_shape(f, g, d)
            if shape != shape0:
                raise self._error(
                    f"{g}/data",
                    f"shape {shape} differs from {first}/data {shape0} "
                    f"(truncated or inconsistent file)",
                )
        if times is not None:
            if times.size not in (shape0[0], shape0[0] + 1):
                raise self._error(
                    f"{first}/grid/t",
                    f"has {times.size} entries; expected {shape0[0]} or {shape0[0] + 1} for "
                    f"the {shape0[0]} time steps of the data",
                )
            times = times[: shape0[0]].copy()
            times.setflags(write=False)
        self._times = times
        keys = [f"{g}/data" for g in names]
        if len(shape0) == d + 2:
            self._fields = {"data": StackedArray(self._path, keys, (len(keys), *shape0), dtype)}
        else:
            logical = (len(keys), *shape0, 1)
            self._fields = {
                "data": StackedArray(
                    self._path,
                    keys,
                    logical,
                    dtype,
                    stored=(True,) * len(shape0) + (False,),
                    merge=0,
                )
            }
        self._n_samples = len(keys)
        self._attrs = _root_attrs(f)
        self._attrs.setdefault("pde", "")
        self._attrs["groups"] = [names[0], names[-1]]

    def _load_grid(
        self, f: h5py.File, group: str
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        if not isinstance(f[group], h5py.Group):
            raise self._error(group, "expected a per-sample group, found a dataset")
        g = f[group].get("grid")
        if not isinstance(g, h5py.Group):
            raise self._error(f"{group}/grid", "missing group (the coordinates)")
        if "x" not in g:
            raise self._error(f"{group}/grid/x", "missing dataset")
        coords = {}
        for a in _AXES:
            if a in g:
                key = f"{group}/grid/{a}"
                coords[a] = check_coordinates(self._path, key, g[a])
        times = None
        if "t" in g:
            times = check_coordinates(self._path, f"{group}/grid/t", g["t"])
        return coords, times

    def _data_shape(self, f: h5py.File, group: str, d: int) -> tuple[tuple[int, ...], Any]:
        key = f"{group}/data"
        obj = f[group].get("data") if isinstance(f[group], h5py.Group) else None
        if not isinstance(obj, h5py.Dataset):
            raise self._error(key, "missing dataset")
        shape = obj.shape
        if len(shape) not in (d + 1, d + 2):
            raise self._error(
                key,
                f"wrong rank: expected (time, *space, channel) or (time, *space) for a "
                f"{d}-D grid, got shape {shape}",
            )
        if shape[1 : 1 + d] != self._grid.shape:
            raise self._error(
                key,
                f"space shape {shape[1 : 1 + d]} does not match the coordinates {self._grid.shape}",
            )
        return shape, obj.dtype
