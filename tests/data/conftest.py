"""Files in every external layout, written with plain h5py (never with sciml's writer).

Each builder writes a small file the way the benchmark's own code lays it out and returns
the arrays it wrote, so tests compare what sciml reads against independent data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

N, T, NX, NY = 4, 5, 8, 6


def _centres(n: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    h = (hi - lo) / n
    return (lo + h / 2 + h * np.arange(n)).astype(np.float32)


def pdebench_single(path: Path, channel: bool = False, extra_t: bool = True) -> dict[str, Any]:
    """PDEBench single file, 2-D: tensor (N, T, X, Y[, C]) with cell-centred coordinates."""
    rng = np.random.default_rng(1)
    shape = (N, T, NX, NY, 2) if channel else (N, T, NX, NY)
    tensor = rng.standard_normal(shape).astype(np.float32)
    x, y = _centres(NX), _centres(NY, -1.0, 1.0)
    t = np.linspace(0, 2, T + 1 if extra_t else T).astype(np.float32)
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=tensor, chunks=(1, *shape[1:]))
        f["x-coordinate"], f["y-coordinate"], f["t-coordinate"] = x, y, t
    return {"tensor": tensor, "x": x, "y": y, "t": t}


def pdebench_1d(path: Path) -> dict[str, Any]:
    """PDEBench 1-D file (advection/Burgers): tensor (N, T, X), t-coordinate T + 1."""
    rng = np.random.default_rng(2)
    tensor = rng.standard_normal((N, T, NX)).astype(np.float32)
    x, t = _centres(NX), np.linspace(0, 2, T + 1).astype(np.float32)
    with h5py.File(path, "w") as f:
        f["tensor"], f["x-coordinate"], f["t-coordinate"] = tensor, x, t
    return {"tensor": tensor, "x": x, "t": t}


def pdebench_darcy(path: Path) -> dict[str, Any]:
    """PDEBench Darcy: nu (N, X, Y), tensor (N, 1, X, Y) and a meaningless t-coordinate."""
    rng = np.random.default_rng(3)
    nu = rng.uniform(0.1, 1, (N, NX, NY)).astype(np.float32)
    tensor = rng.standard_normal((N, 1, NX, NY)).astype(np.float32)
    with h5py.File(path, "w") as f:
        f["nu"], f["tensor"] = nu, tensor
        f["x-coordinate"], f["y-coordinate"] = _centres(NX), _centres(NY)
        f["t-coordinate"] = np.linspace(0, 1, 10).astype(np.float32)
    return {"nu": nu, "tensor": tensor, "x": _centres(NX), "y": _centres(NY)}


def pdebench_cfd(path: Path, dims: int = 2) -> dict[str, Any]:
    """PDEBench compressible flow: density, pressure, Vx[, Vy, Vz] and solver attributes."""
    rng = np.random.default_rng(4)
    space = (NX, NY, 3)[:dims]
    names = ("density", "pressure", "Vx", "Vy", "Vz")[: 2 + dims]
    arrays = {k: rng.standard_normal((N, T, *space)).astype(np.float32) for k in names}
    coords = {a: _centres(n, -1.0, 1.0) for a, n in zip("xyz", space)}
    with h5py.File(path, "w") as f:
        for k, v in arrays.items():
            f[k] = v
        for a, c in coords.items():
            f[f"{a}-coordinate"] = c
        f["t-coordinate"] = np.linspace(0, 1, T + 1).astype(np.float32)
        f.attrs["eta"], f.attrs["zeta"], f.attrs["M"] = 0.1, 0.1, 1.0
    return {**arrays, **coords}


def pdebench_groups(path: Path, channel: bool = True) -> dict[str, Any]:
    """PDEBench per-sample groups 0000..: data (T, X, Y, C), grid/x, grid/y, grid/t."""
    rng = np.random.default_rng(5)
    shape = (T, NX, NY, 2) if channel else (T, NX, NY)
    data = rng.standard_normal((N, *shape)).astype(np.float32)
    x, y = _centres(NX, -1, 1), _centres(NY, -1, 1)
    t = np.linspace(0, 5, T + 1).astype(np.float32)
    with h5py.File(path, "w") as f:
        for i in range(N):
            g = f.create_group(f"{i:04d}")
            g["data"] = data[i]
            g["grid/x"], g["grid/y"], g["grid/t"] = x, y, t
    return {"data": data, "x": x, "y": y, "t": t}


def the_well(path: Path) -> dict[str, Any]:
    """A 2-D Well file exercising every flag: see tests/data/test_the_well.py."""
    rng = np.random.default_rng(6)
    x = (np.arange(NX) / NX).astype(np.float32)  # periodic, no repeated endpoint
    y = _centres(NY)
    time = np.linspace(0, 0.4, T).astype(np.float32)
    arrays = {
        "density": rng.standard_normal((N, T, NX, NY)).astype(np.float32),
        "coefficient": rng.standard_normal((N, NX, NY)).astype(np.float32),  # static
        "forcing": rng.standard_normal((T, NX, NY)).astype(np.float32),  # same per sample
        "profile": rng.standard_normal((N, T, NY)).astype(np.float32),  # constant along x
        "velocity": rng.standard_normal((N, T, NX, NY, 2)).astype(np.float32),
        "stress": rng.standard_normal((N, T, NX, NY, 2, 2)).astype(np.float32),
        "Re": rng.uniform(100, 1000, N),
    }
    flags = {
        "density": (True, True, [True, True]),
        "coefficient": (True, False, [True, True]),
        "forcing": (False, True, [True, True]),
        "profile": (True, True, [False, True]),
        "velocity": (True, True, [True, True]),
        "stress": (True, True, [True, True]),
    }
    groups = {
        "density": "t0",
        "coefficient": "t0",
        "forcing": "t0",
        "profile": "t0",
        "velocity": "t1",
        "stress": "t2",
    }
    with h5py.File(path, "w") as f:
        f.attrs["dataset_name"] = "toy_flow"
        f.attrs["grid_type"] = "cartesian"
        f.attrs["n_spatial_dims"] = 2
        f.attrs["n_trajectories"] = N
        f.attrs["simulation_parameters"] = ["Pr"]
        f.attrs["Pr"] = 0.7
        d = f.create_group("dimensions")
        d.attrs["spatial_dims"] = ["x", "y"]
        d["time"] = time
        d["time"].attrs["sample_varying"] = False
        for a, c in (("x", x), ("y", y)):
            d[a] = c
            d[a].attrs["sample_varying"] = False
            d[a].attrs["time_varying"] = False
        for name, kind, dims in (("x_periodic", "PERIODIC", ["x"]), ("y_wall", "WALL", ["y"])):
            g = f.create_group(f"boundary_conditions/{name}")
            g.attrs["bc_type"] = kind
            g.attrs["associated_dims"] = dims
            g.attrs["associated_fields"] = []
            g.attrs["sample_varying"] = False
            g.attrs["time_varying"] = False
            g["mask"] = np.ones(NX if dims == ["x"] else NY, dtype=bool)
            g["values"] = np.zeros(0, dtype=np.float32)
        s = f.create_group("scalars")
        s.attrs["field_names"] = ["Pr", "Re"]
        s["Pr"] = np.array([0.7], dtype=np.float32)
        s["Pr"].attrs["sample_varying"] = False
        s["Pr"].attrs["time_varying"] = False
        s["Re"] = arrays["Re"]
        s["Re"].attrs["sample_varying"] = True
        s["Re"].attrs["time_varying"] = False
        for k in ("t0", "t1", "t2"):
            g = f.create_group(f"{k}_fields")
            g.attrs["field_names"] = [n for n, grp in groups.items() if grp == k]
        for name, grp in groups.items():
            sv, tv, dv = flags[name]
            dset = f[f"{grp}_fields"].create_dataset(name, data=arrays[name])
            dset.attrs["sample_varying"] = sv
            dset.attrs["time_varying"] = tv
            dset.attrs["dim_varying"] = np.array(dv)
            if grp == "t2":
                dset.attrs["symmetric"] = False
                dset.attrs["antisymmetric"] = False
    return {**arrays, "x": x, "y": y, "time": time}


BUILDERS = {
    "pdebench": pdebench_single,
    "pdebench-1d": pdebench_1d,
    "pdebench-darcy": pdebench_darcy,
    "pdebench-cfd": pdebench_cfd,
    "pdebench-groups": pdebench_groups,
    "the_well": the_well,
}


@pytest.fixture
def layout_files(tmp_path):
    """``build(kind, name=None, **options) -> (path, arrays)`` writing into tmp_path.

    ``kind`` is a layout name, or ``"pdebench-1d"`` for a 1-D single PDEBench file.
    """

    def build(kind: str, name: str | None = None, **kw: Any) -> tuple[Path, dict[str, Any]]:
        path = tmp_path / (name or f"{kind}.h5")
        return path, BUILDERS[kind](path, **kw)

    return build
