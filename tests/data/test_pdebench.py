"""PDEBench files written with plain h5py open with the right shapes, values and grids."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest

from sciml.data.hdf5 import StackedArray, detect_layout, open_dataset

N, T, NX, NY = 4, 5, 8, 6  # as in conftest.py


def test_single_file_without_channel_axis(layout_files):
    path, ref = layout_files("pdebench")
    assert detect_layout(path) == "pdebench"
    with open_dataset(path) as ds:
        assert ds.fields == ("tensor",)
        u = ds.field("tensor")
        assert u.shape == (N, T, NX, NY, 1) and u.dtype == np.float32
        np.testing.assert_array_equal(u[()][..., 0], ref["tensor"])
        np.testing.assert_array_equal(u[2, 1:4, ::3, -1], ref["tensor"][2, 1:4, ::3, -1, None])
        np.testing.assert_array_equal(u[[3, 0, 3], 0, 1, 2, 0], ref["tensor"][[3, 0, 3], 0, 1, 2])
        # t-coordinate has T + 1 entries: the first T are the times of the data
        np.testing.assert_allclose(ds.times, ref["t"][:T])
        np.testing.assert_allclose(ds.grid["x"], ref["x"])
        np.testing.assert_allclose(ds.grid["y"], ref["y"])
        # cell-centred coordinates: the domain reaches half a cell beyond them
        assert ds.grid.box["x"] == pytest.approx((0.0, 1.0), abs=1e-6)
        assert ds.grid.box["y"] == pytest.approx((-1.0, 1.0), abs=1e-6)
        assert ds.grid.kinds == {"x": "uniform", "y": "uniform"}
        assert ds.n_samples == N and ds.params == {}


def test_single_file_with_channel_axis_and_exact_times(layout_files):
    path, ref = layout_files("pdebench", channel=True, extra_t=False)
    with open_dataset(path) as ds:
        u = ds.field("tensor")
        assert u.shape == (N, T, NX, NY, 2)
        np.testing.assert_array_equal(u[1], ref["tensor"][1])
        np.testing.assert_array_equal(u[:, -1, ..., 1], ref["tensor"][:, -1, ..., 1])
        np.testing.assert_allclose(ds.times, ref["t"])


def test_one_dimensional_file(layout_files):
    path, ref = layout_files("pdebench-1d")
    with open_dataset(path) as ds:
        assert ds.layout == "pdebench" and ds.grid.names == ("x",)
        assert ds.field("tensor").shape == (N, T, NX, 1)
        np.testing.assert_array_equal(ds.field("tensor")[:, 2, :, 0], ref["tensor"][:, 2])
        assert ds.times.size == T


def test_darcy(layout_files):
    path, ref = layout_files("pdebench-darcy")
    assert detect_layout(path) == "pdebench-darcy"
    with open_dataset(path) as ds:
        assert ds.fields == ("nu", "tensor")
        nu, u = ds.field("nu"), ds.field("tensor")
        assert nu.shape == (N, 1, NX, NY, 1) and u.shape == (N, 1, NX, NY, 1)
        np.testing.assert_array_equal(nu[()][:, 0, ..., 0], ref["nu"])
        np.testing.assert_array_equal(u[()][:, 0, ..., 0], ref["tensor"][:, 0])
        np.testing.assert_array_equal(nu[2, 0, 3], ref["nu"][2, 3][:, None])
        assert ds.times is None  # the steady solution has no time axis worth reporting


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_compressible_flow(layout_files, dims):
    path, ref = layout_files("pdebench-cfd", dims=dims)
    assert detect_layout(path) == "pdebench-cfd"
    names = ("density", "pressure", "Vx", "Vy", "Vz")[: 2 + dims]
    with open_dataset(path) as ds:
        assert ds.fields == names
        assert ds.grid.names == ("x", "y", "z")[:dims]
        for k in names:
            arr = ds.field(k)
            assert arr.shape == (*ref[k].shape, 1)
            np.testing.assert_array_equal(arr[1, 2][..., 0], ref[k][1, 2])
        assert ds.attrs["eta"] == 0.1 and ds.attrs["M"] == 1.0
        assert ds.grid.box["x"] == pytest.approx((-1.0, 1.0), abs=1e-6)
        assert ds.times.size == T


@pytest.mark.parametrize("channel", [True, False])
def test_per_sample_groups(layout_files, channel):
    path, ref = layout_files("pdebench-groups", channel=channel)
    assert detect_layout(path) == "pdebench-groups"
    data = ref["data"] if channel else ref["data"][..., None]
    with open_dataset(path) as ds:
        arr = ds.field("data")
        assert isinstance(arr, StackedArray)
        assert arr.shape == data.shape and ds.n_samples == N
        np.testing.assert_array_equal(arr[()], data)
        np.testing.assert_array_equal(arr[2], data[2])
        np.testing.assert_array_equal(arr[[3, 1, 3], 1, ::2], data[[3, 1, 3], 1, ::2])
        np.testing.assert_array_equal(arr[::-2, :, 4, 0], data[::-2, :, 4, 0])
        np.testing.assert_allclose(ds.times, ref["t"][:T])
        np.testing.assert_allclose(ds.grid["y"], ref["y"])
        # pickles as a description, reopens on read
        again = pickle.loads(pickle.dumps(arr))
        np.testing.assert_array_equal(again[1], data[1])


def test_groups_read_only_the_selected_groups(layout_files, monkeypatch):
    path, _ = layout_files("pdebench-groups")
    with open_dataset(path) as ds:
        arr = ds.field("data")
        seen = []
        real = StackedArray._lookup

        def spy(self, key):
            seen.append(key)
            return real(self, key)

        monkeypatch.setattr(StackedArray, "_lookup", spy)
        arr[2, 0]
        assert seen == ["0002/data"]


def test_views_read_only_the_requested_slice(layout_files, monkeypatch):
    path, ref = layout_files("pdebench-darcy")
    reads = []
    real = h5py.Dataset.__getitem__

    def spy(self, args, *rest, **kw):
        reads.append((self.name, args))
        return real(self, args, *rest, **kw)

    with open_dataset(path) as ds:
        nu = ds.field("nu")
        monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
        out = nu[3]
        part = nu[1, 0, 2:5, ::2]
    # one read each, of exactly the stored part asked for (the time and channel axes that
    # the file leaves out are added afterwards)
    assert reads == [("/nu", 3), ("/nu", (1, slice(2, 5, 1), slice(0, NY, 2)))]
    np.testing.assert_array_equal(out[0, ..., 0], ref["nu"][3])
    np.testing.assert_array_equal(part[..., 0], ref["nu"][1, 2:5, ::2])
