"""Reader for the HDF5 files of The Well (Ohana et al., 2024), read as they are.

A Well file (layout ``the_well``) looks like this, for ``B`` trajectories of ``T`` steps on
a ``D``-dimensional grid::

    /                         attrs: dataset_name, grid_type, n_spatial_dims (D),
                                     n_trajectories (B), simulation_parameters and one
                                     attribute per listed parameter
    /dimensions               attrs: spatial_dims (axis names, e.g. ["x", "y"])
    /dimensions/time          (T,)      [(B, T) when sample_varying]
    /dimensions/<axis>        (n_axis,) [(B, n_axis) when sample_varying]
    /boundary_conditions/<g>  attrs: bc_type ("periodic", "wall", "open"),
                                     associated_dims, ...; datasets mask, values
    /scalars/<name>           attrs: sample_varying, time_varying
    /t0_fields/<name>         scalar fields   [B] [T] *space
    /t1_fields/<name>         vector fields   [B] [T] *space D
    /t2_fields/<name>         tensor fields   [B] [T] *space D D  (or D*D)

Every dataset in ``scalars`` and ``t*_fields`` carries ``sample_varying`` and
``time_varying`` flags, and fields a per-axis ``dim_varying`` list; a ``False`` flag means
the file leaves that axis out. The reader restores them: each field is a lazy
``(sample, time, *space, channel)`` array (an :class:`~sciml.data.hdf5.ExpandedArray`)
where a left-out sample axis or space axis is broadcast to its full length and a
left-out time axis has length 1 (a static field). Channels: 1 for ``t0``, ``D`` for
``t1`` (component ``i``), ``D*D`` for ``t2`` (component ``(i, j)`` at channel
``i * D + j``). Field names must be unique across the three groups.

Grid axes that a ``periodic`` boundary condition is associated with are periodic.
Sample-varying scalars become per-sample ``params``; the others go to
``attrs["scalars"]``. Boundary conditions are summarised in
``attrs["boundary_conditions"]`` (name to ``{"bc_type", "associated_dims"}``). Sample-
varying coordinates are accepted only when every trajectory has the same ones (the grid
is shared); otherwise opening fails with a clear error.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from sciml.data.hdf5 import (
    ExpandedArray,
    H5Dataset,
    LazyArray,
    _decode_attr,
    check_coordinates,
    grid_from_coordinates,
    read_real,
    register_layout,
)

__all__ = ["TheWellDataset"]

_FIELD_GROUPS = {"t0_fields": 0, "t1_fields": 1, "t2_fields": 2}


def _flag(obj: h5py.HLObject, name: str, default: bool = True) -> bool:
    value = _decode_attr(obj.attrs.get(name, default))
    return bool(value)


@register_layout("the_well")
class TheWellDataset(H5Dataset):
    """A file of The Well (see the module docstring)."""

    @classmethod
    def detect(cls, file: h5py.File) -> bool:
        return (
            "format" not in file.attrs
            and ("dimensions" in file or any(g in file for g in _FIELD_GROUPS))
            and ("n_spatial_dims" in file.attrs or "n_trajectories" in file.attrs)
        )

    def _load(self, f: h5py.File) -> None:
        attrs = {k: _decode_attr(v) for k, v in f.attrs.items()}
        for key in ("n_spatial_dims", "n_trajectories"):
            value = attrs.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise self._error(key, f"root attribute missing or not a positive int: {value!r}")
        self._n_samples = n = attrs["n_trajectories"]
        dims = self._group(f, "dimensions")
        names = _decode_attr(dims.attrs.get("spatial_dims"))
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(a, str) for a in names):
            raise self._error(
                "dimensions", f"attribute 'spatial_dims' missing or not a list of names: {names!r}"
            )
        if len(names) != attrs["n_spatial_dims"]:
            raise self._error(
                "dimensions",
                f"spatial_dims {names} has {len(names)} axes but n_spatial_dims "
                f"is {attrs['n_spatial_dims']}",
            )
        periodic, bcs = self._boundary_conditions(f, names)
        coords = {a: self._coordinate(dims, a, f"dimensions/{a}") for a in names}
        self._grid = grid_from_coordinates(coords, periodic)
        times = self._coordinate(dims, "time", "dimensions/time")
        times.setflags(write=False)
        self._times = times
        fields: dict[str, LazyArray] = {}
        for group, order in _FIELD_GROUPS.items():
            if group not in f:
                continue
            for name, dset in self._group(f, group).items():
                if name in fields:
                    raise self._error(f"{group}/{name}", "field name used in two groups")
                fields[name] = self._field(f"{group}/{name}", dset, order)
        if not fields:
            raise self._error("t0_fields", "missing group: the file has no t0/t1/t2 fields")
        self._fields = fields
        params, scalars = self._scalars(f, n)
        self._params = params
        attrs["scalars"] = scalars
        attrs["boundary_conditions"] = bcs
        attrs.setdefault("pde", str(attrs.get("dataset_name", "")))
        self._attrs = attrs

    # -- pieces ---------------------------------------------------------------------------
    def _group(self, f: h5py.File, key: str) -> h5py.Group:
        obj = f.get(key)
        if not isinstance(obj, h5py.Group):
            raise self._error(key, "missing group")
        return obj

    def _coordinate(self, dims: h5py.Group, name: str, key: str) -> np.ndarray:
        obj = dims.get(name)
        if not isinstance(obj, h5py.Dataset):
            raise self._error(key, "missing dataset")
        values = read_real(self._path, key, obj)
        if _flag(obj, "sample_varying", False):
            if values.ndim != 2 or values.shape[0] != self._n_samples:
                raise self._error(
                    key,
                    f"wrong rank: a sample-varying coordinate must be (n_trajectories="
                    f"{self._n_samples}, n), got shape {values.shape}",
                )
            if not np.array_equal(
                values, np.broadcast_to(values[:1], values.shape), equal_nan=True
            ):
                raise self._error(
                    key, "coordinates differ between trajectories; sciml needs one grid per file"
                )
            values = values[0]
        return check_coordinates(self._path, key, values)

    def _boundary_conditions(
        self, f: h5py.File, axes: list[str]
    ) -> tuple[dict[str, bool], dict[str, dict[str, Any]]]:
        periodic = dict.fromkeys(axes, False)
        summary: dict[str, dict[str, Any]] = {}
        if "boundary_conditions" not in f:
            return periodic, summary
        for name, g in self._group(f, "boundary_conditions").items():
            bc_type = str(_decode_attr(g.attrs.get("bc_type", ""))).lower()
            assoc = _decode_attr(g.attrs.get("associated_dims", []))
            # one name is stored as a scalar, several as an array: list them either way
            assoc = assoc if isinstance(assoc, list) else [assoc]
            summary[name] = {"bc_type": bc_type, "associated_dims": assoc}
            if bc_type == "periodic":
                for a in assoc:
                    if isinstance(a, str) and a in periodic:
                        periodic[a] = True
        return periodic, summary

    def _field(self, key: str, dset: Any, order: int) -> LazyArray:
        if not isinstance(dset, h5py.Dataset):
            raise self._error(key, "expected a dataset, found a group")
        grid, n = self.grid, self._n_samples
        t_len = self._times.size if self._times is not None else 1
        d = grid.ndim
        s_var = _flag(dset, "sample_varying")
        t_var = _flag(dset, "time_varying")
        dim_var = _decode_attr(dset.attrs.get("dim_varying", [True] * d))
        dim_var = [bool(v) for v in (dim_var if isinstance(dim_var, list) else [dim_var])]
        if len(dim_var) != d:
            raise self._error(
                key, f"dim_varying {dim_var} has {len(dim_var)} entries for a {d}-D grid"
            )
        lead = [n] * s_var + [t_len] * t_var + [m for m, v in zip(grid.shape, dim_var) if v]
        tails = {0: [()], 1: [(d,)], 2: [(d, d), (d * d,)]}[order]
        shape = tuple(dset.shape)
        match = [t for t in tails if len(shape) == len(lead) + len(t)]
        if not match:
            want = " or ".join(str(tuple(lead) + t) for t in tails)
            raise self._error(
                key,
                f"wrong rank: flags sample_varying={s_var}, time_varying={t_var}, "
                f"dim_varying={dim_var} call for shape {want}, got {shape}",
            )
        tail = match[0]
        if shape != tuple(lead) + tail:
            problem = (
                "truncated or inconsistent file"
                if (s_var and shape[0] < n)
                else "shape does not match the flags, dimensions and n_trajectories"
            )
            raise self._error(key, f"expected shape {tuple(lead) + tail}, got {shape} ({problem})")
        channels = d**order
        logical = (n, t_len if t_var else 1, *grid.shape, channels)
        stored = (s_var, t_var, *dim_var, order > 0)
        merge = 0 if order == 0 else len(tail)
        if merge == 1 and all(stored):
            return LazyArray(self._path, key, logical, dset.dtype)
        return ExpandedArray(self._path, key, logical, dset.dtype, stored, merge=merge)

    def _scalars(self, f: h5py.File, n: int) -> tuple[dict[str, LazyArray], dict[str, Any]]:
        params: dict[str, LazyArray] = {}
        fixed: dict[str, Any] = {}
        if "scalars" not in f:
            return params, fixed
        for name, dset in self._group(f, "scalars").items():
            key = f"scalars/{name}"
            if not isinstance(dset, h5py.Dataset):
                raise self._error(key, "expected a dataset, found a group")
            if _flag(dset, "sample_varying", False):
                if dset.ndim < 1 or dset.shape[0] != n:
                    raise self._error(
                        key,
                        f"sample-varying scalar must have a leading axis of {n} "
                        f"trajectories, got shape {dset.shape} (truncated or "
                        f"inconsistent file)",
                    )
                params[name] = LazyArray(self._path, key, dset.shape, dset.dtype)
            else:
                value = np.asarray(dset[()])
                fixed[name] = value.item() if value.size == 1 else value.tolist()
        return params, fixed
