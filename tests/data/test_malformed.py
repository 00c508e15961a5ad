"""Malformed files in every layout give our errors naming the file, the key and the problem.

Each case builds a good file with plain h5py (tests/data/conftest.py), breaks one thing,
and checks that opening it raises a ``ValueError`` (never a bare h5py ``KeyError`` or
``OSError``) whose message names the file and matches the key and the problem.
"""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from sciml.core.grid import Box, Grid
from sciml.data.hdf5 import open_dataset, write

N, T, NX, NY = 4, 5, 8, 6  # as in conftest.py


def _replace(f: h5py.File, key: str, data: np.ndarray) -> None:
    attrs = dict(f[key].attrs)
    del f[key]
    f[key] = data
    f[key].attrs.update(attrs)


def _nan_at(key: str):
    def act(f):
        c = f[key][()].astype(np.float64)
        c[2] = np.nan
        _replace(f, key, c)

    return act


CASES = {
    "pdebench": {
        "missing key": (lambda f: f.__delitem__("x-coordinate"), r"'x-coordinate': missing"),
        "wrong rank": (
            lambda f: _replace(f, "tensor", np.zeros((N, T), np.float32)),
            r"'tensor': wrong rank",
        ),
        "truncated": (
            lambda f: _replace(f, "t-coordinate", np.arange(3.0)),
            r"'t-coordinate': has 3 entries; expected 5 or 6",
        ),
        "nan coordinates": (_nan_at("y-coordinate"), r"'y-coordinate': coordinates contain NaN"),
    },
    "pdebench-darcy": {
        "missing key": (lambda f: f.__delitem__("tensor"), r"'tensor': missing dataset"),
        "wrong rank": (
            lambda f: _replace(f, "nu", np.zeros((N, 1, NX, NY), np.float32)),
            r"'nu': wrong rank",
        ),
        "truncated": (
            lambda f: _replace(f, "tensor", np.zeros((N - 1, 1, NX, NY), np.float32)),
            r"'tensor': has 3 samples but other fields have 4 \(truncated",
        ),
        "nan coordinates": (_nan_at("x-coordinate"), r"'x-coordinate': coordinates contain NaN"),
    },
    "pdebench-cfd": {
        "missing key": (lambda f: f.__delitem__("pressure"), r"'pressure': missing dataset"),
        "wrong rank": (
            lambda f: _replace(f, "Vy", np.zeros((N, NX, NY), np.float32)),
            r"'Vy': wrong rank",
        ),
        "truncated": (
            lambda f: _replace(f, "density", np.zeros((N, T, NX - 2, NY), np.float32)),
            r"'density': space shape \(6, 6\) does not match the coordinates \(8, 6\)",
        ),
        "nan coordinates": (_nan_at("t-coordinate"), r"'t-coordinate': coordinates contain NaN"),
    },
    "pdebench-groups": {
        "missing key": (lambda f: f.__delitem__("0002/data"), r"'0002/data': missing dataset"),
        "wrong rank": (
            lambda f: _replace(f, "0000/data", np.zeros((T, NX), np.float32)),
            r"'0000/data': wrong rank",
        ),
        "truncated": (
            lambda f: _replace(f, "0003/data", np.zeros((T - 2, NX, NY, 2), np.float32)),
            r"'0003/data': shape \(3, 8, 6, 2\) differs from 0000/data.*truncated",
        ),
        "nan coordinates": (_nan_at("0000/grid/y"), r"'0000/grid/y': coordinates contain NaN"),
    },
    "the_well": {
        "missing key": (
            lambda f: f.__delitem__("dimensions/y"),
            r"'dimensions/y': missing dataset",
        ),
        "wrong rank": (
            lambda f: _replace(f, "t1_fields/velocity", np.zeros((N, T, NX, NY), np.float32)),
            r"'t1_fields/velocity': wrong rank.*call for shape \(4, 5, 8, 6, 2\)",
        ),
        "truncated": (
            lambda f: _replace(f, "t0_fields/density", np.zeros((N - 1, T, NX, NY), np.float32)),
            r"'t0_fields/density': expected shape \(4, 5, 8, 6\), got \(3, 5, 8, 6\) "
            r"\(truncated",
        ),
        "nan coordinates": (_nan_at("dimensions/x"), r"'dimensions/x': coordinates contain NaN"),
    },
}


def _native(path):
    grid = Grid.uniform(Box(x=(0, 1), y=(0, 1)), (NX, NY))
    u = np.random.default_rng(0).standard_normal((N, T, NX, NY, 1)).astype(np.float32)
    write(path, {"u": u}, grid, times=np.linspace(0, 1, T))


NATIVE = {
    "missing key": (lambda f: f.__delitem__("fields"), r"'fields': missing group"),
    "wrong rank": (
        lambda f: f["fields"].create_dataset("w", data=np.zeros((N, NX, NY))),
        r"'fields/w': wrong rank",
    ),
    "truncated": (lambda f: f.attrs.__setitem__("n_samples", N + 1), r"'fields/u'.*truncated"),
    "nan coordinates": (_nan_at("grid/y"), r"'grid/y': coordinates contain NaN"),
}

PARAMS = [(layout, problem) for layout, cases in CASES.items() for problem in cases]
PARAMS += [("sciml", problem) for problem in NATIVE]


@pytest.mark.parametrize(("layout", "problem"), PARAMS)
def test_malformed_file_names_file_key_and_problem(layout_files, tmp_path, layout, problem):
    if layout == "sciml":
        path = tmp_path / "native.h5"
        _native(path)
        action, match = NATIVE[problem]
    else:
        path, _ = layout_files(layout)
        action, match = CASES[layout][problem]
    with h5py.File(path, "a") as f:
        action(f)
    with pytest.raises(ValueError, match=match) as info:
        open_dataset(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("layout", [*CASES, "sciml"])
def test_truncated_on_disk_and_not_hdf5(layout_files, tmp_path, layout):
    if layout == "sciml":
        path = tmp_path / "native.h5"
        _native(path)
    else:
        path, _ = layout_files(layout)
    cut = tmp_path / f"cut-{layout}.h5"
    cut.write_bytes(path.read_bytes()[: os.path.getsize(path) * 2 // 3])
    with pytest.raises(ValueError, match=r"cut-.*\.h5: cannot be read as an HDF5 file.*trunc"):
        open_dataset(cut)
    text = tmp_path / f"text-{layout}.h5"
    text.write_text("tensor,x-coordinate\n1,2\n")
    with pytest.raises(ValueError, match=r"text-.*\.h5: cannot be read as an HDF5 file"):
        open_dataset(text, layout=layout)
    with pytest.raises(ValueError, match=r"text-.*\.h5: cannot be read as an HDF5 file"):
        open_dataset(text)


@pytest.mark.parametrize("layout", [*CASES, "sciml"])
def test_failed_read_names_file_and_key(layout_files, tmp_path, monkeypatch, layout):
    """h5py's error on an unreadable chunk (damaged or cut data) is wrapped with context."""
    if layout == "sciml":
        path = tmp_path / "native.h5"
        _native(path)
    else:
        path, _ = layout_files(layout)
    arr = open_dataset(path).field(open_dataset(path).fields[-1])

    def fail(self, key):
        raise OSError("Can't synchronously read data (inflate() failed)")

    monkeypatch.setattr(h5py.Dataset, "__getitem__", fail)
    with pytest.raises(OSError, match=rf"{path}: '.+': read failed \(Can't synchr") as info:
        arr[0]
    assert "data" in str(info.value) or arr.key in str(info.value)
