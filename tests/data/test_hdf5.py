"""Native HDF5 layout: write/open round trip, lazy arrays, errors, atomic writes."""

from __future__ import annotations

import gc
import os
import pickle
import time

import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from sciml.core.grid import Box, Grid
from sciml.data.hdf5 import (
    FieldSpec,
    LazyArray,
    NativeDataset,
    Writer,
    detect_layout,
    open_dataset,
    write,
)

N, T = 6, 4


def make_grid() -> Grid:
    # mixed kinds so the round trip has to keep periodicity, kind and box per axis
    x = Grid.periodic(Box(x=(0, 2 * np.pi)), 8)
    y = Grid.chebyshev(Box(y=(-1, 1)), 5)
    return Grid(
        {"x": x["x"], "y": y["y"]},
        periodic={"x": True, "y": False},
        box=Box(x=(0, 2 * np.pi), y=(-1, 1)),
        kind={"x": "periodic", "y": "chebyshev"},
    )


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return {
        "a": rng.standard_normal((N, 1, 8, 5, 1)).astype(np.float32),
        "u": rng.standard_normal((N, T, 8, 5, 2)),
        "mask": rng.integers(0, 2, (N, 1, 8, 5, 1)).astype(np.int8),
    }


@pytest.fixture
def params():
    rng = np.random.default_rng(1)
    return {"seed": np.arange(N), "k": rng.random((N, 3))}


ATTRS = {
    "pde": "darcy",
    "params": {"nu": 0.01, "forcing": [1.0, 2.0], "bc": "dirichlet"},
    "resolution": 8,
    "note": "test file",
    "flags": [1, 2, 3],
    "exact": True,
}
TIMES = np.linspace(0.0, 1.5, T)


@pytest.fixture
def path(tmp_path, data, params):
    return write(tmp_path / "d.h5", data, make_grid(), ATTRS, params, times=TIMES)


# ---------------------------------------------------------------------------------------
# round trip
# ---------------------------------------------------------------------------------------
def test_round_trip(path, data, params):
    grid = make_grid()
    assert detect_layout(path) == "sciml"
    with open_dataset(path) as ds:
        assert isinstance(ds, NativeDataset)
        assert ds.n_samples == N and len(ds) == N
        assert ds.fields == ("a", "u", "mask")  # insertion order, not alphabetical
        for name, arr in data.items():
            lazy = ds.field(name)
            assert lazy.shape == arr.shape and lazy.dtype == arr.dtype
            np.testing.assert_array_equal(np.asarray(lazy), arr)
        assert ds.grid == grid
        assert ds.grid.kinds == grid.kinds and ds.grid.box == grid.box
        np.testing.assert_array_equal(ds.grid["y"], grid["y"])  # bitwise, not approx
        np.testing.assert_array_equal(ds.times, TIMES)
        assert set(ds.params) == {"seed", "k"}
        for name, arr in params.items():
            assert ds.params[name].dtype == arr.dtype
            np.testing.assert_array_equal(ds.params[name][:], arr)
        attrs = ds.attrs
        assert attrs["format"] == "sciml" and attrs["version"] == 1
        for key, value in ATTRS.items():
            assert attrs[key] == value, key
        assert "d.h5" in repr(ds) and "field u" in repr(ds)


def test_file_structure(path, data):
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "sciml"
        assert int(f.attrs["version"]) == 1
        assert f.attrs["pde"] == "darcy"
        assert isinstance(f.attrs["params"], str)
        for name, arr in data.items():
            d = f["fields"][name]
            assert d.chunks == (1, *arr.shape[1:]), "one sample per chunk"
            assert d.compression == "lzf"
        assert f["grid/t"].shape == (T,)
        assert list(f["grid"].attrs["axes"]) == ["x", "y"]
        assert bool(f["grid/x"].attrs["periodic"]) and f["grid/y"].attrs["kind"] == "chebyshev"


def test_gzip_and_no_times(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 7)
    u = np.random.default_rng(0).standard_normal((3, 1, 7, 1))
    p = write(tmp_path / "g.h5", {"u": u}, grid, compression="gzip", compression_level=6)
    with h5py.File(p, "r") as f:
        assert f["fields/u"].compression == "gzip" and f["fields/u"].compression_opts == 6
    with open_dataset(p) as ds:
        assert ds.times is None and ds.params == {} and ds.attrs["pde"] == ""
        assert ds.attrs["params"] == {}
        np.testing.assert_array_equal(ds["u"][:], u)


def test_write_accepts_torch_tensors(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 4)
    u = torch.arange(8.0).reshape(2, 1, 4, 1)
    p = write(tmp_path / "t.h5", {"u": u}, grid)
    with open_dataset(p) as ds:
        assert ds["u"].dtype == np.float32
        np.testing.assert_array_equal(ds["u"][:], u.numpy())


def test_writer_streaming_out_of_order(tmp_path, data, params):
    grid = make_grid()
    specs = {
        "a": (1, 8, 5, 1),  # bare shape: float32
        "u": ((T, 8, 5, 2), np.float64),
        "mask": FieldSpec((1, 8, 5, 1), np.dtype(np.int8)),
    }
    target = tmp_path / "s.h5"
    with Writer(target, grid, specs, N, ATTRS, times=TIMES) as w:
        for i in reversed(range(N)):
            assert not target.exists(), "nothing under the final name before commit"
            w.write_sample(
                i,
                {k: v[i] for k, v in data.items()},
                params={"seed": params["seed"][i], "k": params["k"][i]},
            )
    assert target.exists() and w.missing.size == 0
    with open_dataset(target) as ds:
        for name, arr in data.items():
            np.testing.assert_array_equal(ds[name][:], arr)
        np.testing.assert_array_equal(ds.params["k"][:], params["k"])
        assert ds.params["seed"].shape == (N,)


def test_writer_param_specs_and_inconsistent_params(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 3)
    u = np.zeros((1, 3, 1), np.float32)
    with Writer(tmp_path / "p.h5", grid, {"u": u}, 2, params={"nu": ()}) as w:
        w.write_sample(0, {"u": u}, {"nu": 0.5})
        w.write_sample(1, {"u": u}, {"nu": 2})
    with open_dataset(tmp_path / "p.h5") as ds:
        np.testing.assert_array_equal(ds.params["nu"][:], [0.5, 2.0])
    with pytest.raises(ValueError, match=r"missing \['nu'\]"):
        with Writer(tmp_path / "q.h5", grid, {"u": u}, 2) as w:
            w.write_sample(0, {"u": u}, {"nu": 0.5})
            w.write_sample(1, {"u": u})
    assert not (tmp_path / "q.h5").exists()


# ---------------------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------------------
def _leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_exception_inside_writer_leaves_no_file(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 3)
    target = tmp_path / "x.h5"
    with pytest.raises(RuntimeError, match="boom"):
        with Writer(target, grid, {"u": (1, 3, 1)}, 2) as w:
            w.write_sample(0, {"u": np.ones((1, 3, 1))})
            raise RuntimeError("boom")
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_failed_write_keeps_previous_file(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 3)
    target = write(tmp_path / "x.h5", {"u": np.ones((2, 1, 3, 1))}, grid)
    before = target.read_bytes()
    bad = np.ones((2, 1, 3, 1))
    bad[1, 0, 2, 0] = np.nan
    with pytest.raises(ValueError):
        write(target, {"u": bad}, grid)
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_abandoned_writer_cleans_up(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 3)
    w = Writer(tmp_path / "w.h5", grid, {"u": (1, 3, 1)}, 1)
    assert len(_leftovers(tmp_path)) == 1
    del w
    gc.collect()
    assert _leftovers(tmp_path) == [] and not (tmp_path / "w.h5").exists()


def test_missing_samples_abort(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 3)
    target = tmp_path / "m.h5"
    with pytest.raises(ValueError, match=r"samples \[1, 2\] of 3 were never written"):
        with Writer(target, grid, {"u": (1, 3, 1)}, 3) as w:
            w.write_sample(0, {"u": np.ones((1, 3, 1))})
    assert not target.exists() and _leftovers(tmp_path) == []


def test_overwrite_false(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 3)
    target = write(tmp_path / "o.h5", {"u": np.ones((1, 1, 3, 1))}, grid)
    with pytest.raises(FileExistsError):
        write(target, {"u": np.ones((1, 1, 3, 1))}, grid, overwrite=False)


# ---------------------------------------------------------------------------------------
# write-side validation
# ---------------------------------------------------------------------------------------
def test_nan_names_field_and_sample(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 3)
    u = np.zeros((4, 1, 3, 1))
    u[2, 0, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"fields\['u'\].*sample 2 at index \(0, 1, 0\)"):
        write(tmp_path / "n.h5", {"u": u}, grid)
    with pytest.raises(ValueError, match=r"params\['k'\].*sample 3"):
        write(
            tmp_path / "n.h5",
            {"u": np.zeros((4, 1, 3, 1))},
            grid,
            params={"k": np.array([1.0, 2.0, 3.0, np.inf])},
        )


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"u": np.zeros((2, 1, 4, 1))}, r"fields\['u'\].*match the grid"),
        ({"u": np.zeros((2, 3, 1))}, r"fields\['u'\].*match the grid"),
        ({"u": np.zeros((2, 1, 3, 1)), "v": np.zeros((3, 1, 3, 1))}, r"fields\['v'\].*3 samples"),
        ({"u": np.zeros((2, 2, 3, 1)), "v": np.zeros((2, 3, 3, 1))}, "time lengths"),
        ({"a/b": np.zeros((2, 1, 3, 1))}, "fields: got 'a/b'"),
        ({"u": np.array(["a"] * 6).reshape(2, 1, 3, 1)}, "dtype must be numeric"),
        ({}, "at least one field"),
    ],
)
def test_write_rejects_bad_fields(tmp_path, fields, match):
    grid = Grid.uniform(Box(x=(0, 1)), 3)
    with pytest.raises(ValueError, match=match):
        write(tmp_path / "bad.h5", fields, grid)
    assert not (tmp_path / "bad.h5").exists()


def test_write_rejects_bad_metadata(tmp_path):
    grid = Grid.uniform(Box(x=(0, 1)), 3)
    u = {"u": np.zeros((2, 2, 3, 1))}
    target = tmp_path / "bad.h5"
    with pytest.raises(ValueError, match="times: got 3 time points"):
        write(target, u, grid, times=[0, 1, 2])
    with pytest.raises(ValueError, match="strictly increasing"):
        write(target, u, grid, times=[1, 0])
    with pytest.raises(ValueError, match=r"attrs: keys \['version'\]"):
        write(target, u, grid, attrs={"version": 3})
    with pytest.raises(ValueError, match=r"attrs\['params'\]"):
        write(target, u, grid, attrs={"params": {"f": lambda x: x}})
    with pytest.raises(ValueError, match=r"attrs\['nested'\]"):
        write(target, u, grid, attrs={"nested": {"a": 1}})
    with pytest.raises(ValueError, match="without losing"):
        with Writer(target, grid, {"u": ((2, 3, 1), np.int32)}, 1) as w:
            w.write_sample(0, {"u": np.full((2, 3, 1), 0.5)})
    with pytest.raises(ValueError, match="start: got 2"):
        with Writer(target, grid, {"u": (2, 3, 1)}, 2) as w:
            w.write_sample(2, {"u": np.zeros((2, 3, 1))})
    assert not target.exists() and _leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------
# read-side validation on hand-made files
# ---------------------------------------------------------------------------------------
def _tamper(path, action):
    with h5py.File(path, "a") as f:
        action(f)


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (lambda f: f.__delitem__("grid"), r"'grid': missing group"),
        (lambda f: f.__delitem__("grid/y"), r"'grid/y': missing coordinate dataset"),
        (lambda f: f.__delitem__("fields"), r"'fields': missing group"),
        (lambda f: f["grid/x"].__setitem__(3, np.nan), r"'grid/x': coordinates contain NaN"),
        (lambda f: f["grid/y"].attrs.__delitem__("kind"), r"'grid/y': missing attributes"),
        (lambda f: f.attrs.__setitem__("version", 99), r"'version': file has version 99"),
        (lambda f: f.attrs.__setitem__("params", "{not json"), r"'params'.*not valid JSON"),
        (lambda f: f.attrs.__setitem__("n_samples", N + 2), r"'fields/a'.*truncated"),
        (
            lambda f: f["fields"].create_dataset("w", data=np.zeros((N, 8, 5))),
            r"'fields/w': wrong rank",
        ),
        (
            lambda f: f["fields"].create_dataset("w", data=np.zeros((N, 1, 5, 8, 1))),
            r"'fields/w': space shape",
        ),
        (
            lambda f: f["params"].create_dataset("z", data=np.zeros(N - 1)),
            r"'params/z'.*truncated",
        ),
    ],
)
def test_open_reports_file_key_and_problem(path, action, match):
    _tamper(path, action)
    with pytest.raises(ValueError, match=match) as info:
        open_dataset(path)
    assert str(path) in str(info.value)


def test_unknown_layout_and_non_hdf5(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["values"] = np.zeros((2, 3))
        f.attrs["creator"] = "someone"
    with pytest.raises(ValueError, match=r"other\.h5: unknown HDF5 layout.*'values'.*creator"):
        open_dataset(other)
    pdebench_like = tmp_path / "pdebench_like.h5"
    with h5py.File(pdebench_like, "w") as f:
        f["tensor"] = np.zeros((2, 3))  # looks like PDEBench, but has no coordinates
    with pytest.raises(ValueError, match=r"pdebench_like\.h5: 'x-coordinate': missing dataset"):
        open_dataset(pdebench_like)
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(ValueError, match="cannot be read as an HDF5 file"):
        open_dataset(text)
    with pytest.raises(FileNotFoundError):
        open_dataset(tmp_path / "absent.h5")
    with pytest.raises(ValueError, match="unknown data layout 'nope'"):
        open_dataset(other, layout="nope")


def test_truncated_file_on_disk(path, tmp_path):
    cut = tmp_path / "cut.h5"
    cut.write_bytes(path.read_bytes()[: os.path.getsize(path) // 2])
    with pytest.raises(ValueError, match=r"cut\.h5: cannot be read.*truncated"):
        open_dataset(cut)


# ---------------------------------------------------------------------------------------
# lazy arrays
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        3,
        -1,
        (slice(2, 5), 0),
        [4, 1, 4, 0],
        np.array([5, 2]),
        [],
        np.array([True, False, True, False, False, True]),
        slice(None, None, -1),
        (slice(1, 6, 2), slice(None), slice(None, None, -2)),
        (Ellipsis, 1),
        (2, Ellipsis, slice(1, 4), 0),
        (np.int64(1), np.array(2)),
        slice(4, 2),
        (),
    ],
)
def test_lazy_slicing_matches_numpy(path, data, key):
    with open_dataset(path) as ds:
        got = ds["u"][key]
    want = data["u"][key]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_lazy_metadata_and_errors(path, data):
    with open_dataset(path) as ds:
        u = ds["u"]
        assert (u.shape, u.ndim, len(u), u.dtype) == (data["u"].shape, 5, N, np.float64)
        assert u.nbytes == data["u"].nbytes
        assert "fields/u" in repr(u)
        assert [x.shape for x in u] == [data["u"].shape[1:]] * N
        with pytest.raises(IndexError):
            u[N]
        with pytest.raises(IndexError):
            u[[0, N]]
        with pytest.raises(IndexError):
            u[0, [1, 2]]
        with pytest.raises(IndexError):
            u[0, 0, 0, 0, 0, 0]
        with pytest.raises(ValueError, match=r"field: got 'nope'.*\['a', 'u', 'mask'\]"):
            ds.field("nope")


def test_open_reads_no_data(tmp_path):
    """A file declaring 16 GB of unwritten field data opens and slices instantly."""
    grid = Grid.uniform(Box(x=(0, 1), y=(0, 1)), 64)
    small = write(tmp_path / "huge.h5", {"u": np.ones((1, 1, 64, 64, 1), np.float32)}, grid)
    n = 1_000_000
    with h5py.File(small, "a") as f:
        del f["fields/u"]
        f["fields"].create_dataset(
            "u", shape=(n, 1, 64, 64, 1), dtype="f4", chunks=(1, 1, 64, 64, 1)
        )
        f.attrs["n_samples"] = n
    assert os.path.getsize(small) < 10_000_000
    t0 = time.perf_counter()
    with open_dataset(small) as ds:
        sample = ds["u"][123_456]
    assert time.perf_counter() - t0 < 2.0
    assert sample.shape == (1, 64, 64, 1)


def test_slicing_one_sample_reads_one_chunk(path, monkeypatch):
    selections = []
    original = h5py.Dataset.__getitem__

    def spy(self, args, *rest, **kw):
        selections.append((self.name, args))
        return original(self, args, *rest, **kw)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    ds = open_dataset(path)
    ds["u"]  # taking the lazy array reads nothing
    assert not any(name.startswith("/fields") for name, _ in selections)
    selections.clear()
    ds["u"][4, 1]
    assert [name for name, _ in selections] == ["/fields/u"]
    assert selections[0][1][:2] == (4, 1)
    ds.close()


class _Items(Dataset):
    def __init__(self, arr: LazyArray) -> None:
        self.arr = arr

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, i):
        return torch.from_numpy(self.arr[i]), os.getpid()


def test_lazy_array_pickles_and_loads_in_workers(path, data):
    with open_dataset(path) as ds:
        u = ds["u"]
        u[0]  # open a handle in this process first: workers must not reuse it
        clone = pickle.loads(pickle.dumps(u))
        assert clone._file is None  # nothing but the path travels
        np.testing.assert_array_equal(clone[[2, 0]], data["u"][[2, 0]])
        loader = DataLoader(_Items(u), batch_size=2, num_workers=2)
        batches = list(loader)
    got = torch.cat([b[0] for b in batches]).numpy()
    np.testing.assert_array_equal(got, data["u"])
    pids = {int(p) for b in batches for p in b[1]}
    assert os.getpid() not in pids and len(pids) == 2
    clone = pickle.loads(pickle.dumps(open_dataset(path)))
    np.testing.assert_array_equal(clone["a"][1], data["a"][1])
