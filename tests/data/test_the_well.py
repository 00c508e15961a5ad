"""The Well files written with plain h5py: flags restored, grids, params, attributes."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from sciml.data.hdf5 import detect_layout, open_dataset

N, T, NX, NY = 4, 5, 8, 6  # as in conftest.py


@pytest.fixture
def well(layout_files):
    path, ref = layout_files("the_well")
    ds = open_dataset(path)
    yield ds, ref
    ds.close()


def test_detected_and_described(well):
    ds, ref = well
    assert detect_layout(ds.path) == "the_well" and ds.layout == "the_well"
    assert ds.fields == ("coefficient", "density", "forcing", "profile", "velocity", "stress")
    assert ds.n_samples == N
    np.testing.assert_allclose(ds.times, ref["time"])
    np.testing.assert_allclose(ds.grid["x"], ref["x"])
    np.testing.assert_allclose(ds.grid["y"], ref["y"])
    # x has a periodic boundary condition, y a wall
    assert ds.grid.periodic_axes == {"x": True, "y": False}
    assert ds.grid.box["x"] == pytest.approx((0.0, 1.0))  # one cell past the last point
    assert ds.grid.box["y"] == pytest.approx((0.0, 1.0), abs=1e-6)  # cell centres
    assert ds.attrs["dataset_name"] == "toy_flow" and ds.attrs["pde"] == "toy_flow"
    assert ds.attrs["Pr"] == pytest.approx(0.7)
    assert ds.attrs["scalars"]["Pr"] == pytest.approx(0.7)
    assert ds.attrs["boundary_conditions"]["x_periodic"] == {
        "bc_type": "periodic",
        "associated_dims": ["x"],
    }
    np.testing.assert_array_equal(ds.params["Re"][()], ref["Re"])


def test_fully_varying_scalar_field(well):
    ds, ref = well
    rho = ds.field("density")
    assert rho.shape == (N, T, NX, NY, 1)
    np.testing.assert_array_equal(rho[()][..., 0], ref["density"])
    np.testing.assert_array_equal(rho[[2, 0], 3, 1:5:2][..., 0], ref["density"][[2, 0], 3, 1:5:2])


def test_time_invariant_field_is_static(well):
    ds, ref = well
    a = ds.field("coefficient")
    assert a.shape == (N, 1, NX, NY, 1)
    np.testing.assert_array_equal(a[()][:, 0, ..., 0], ref["coefficient"])
    np.testing.assert_array_equal(a[3, 0, 2, :, 0], ref["coefficient"][3, 2])


def test_sample_invariant_field_is_broadcast_over_samples(well):
    ds, ref = well
    f = ds.field("forcing")
    assert f.shape == (N, T, NX, NY, 1)
    full = f[()]
    for i in range(N):
        np.testing.assert_array_equal(full[i, ..., 0], ref["forcing"])
    np.testing.assert_array_equal(f[[3, 1, 3], 2, 0, 1, 0], np.full(3, ref["forcing"][2, 0, 1]))


def test_dim_invariant_field_is_broadcast_along_the_missing_axis(well):
    ds, ref = well
    p = ds.field("profile")  # stored (N, T, NY): constant along x
    assert p.shape == (N, T, NX, NY, 1)
    expected = np.broadcast_to(ref["profile"][:, :, None, :, None], (N, T, NX, NY, 1))
    np.testing.assert_array_equal(p[()], expected)
    np.testing.assert_array_equal(p[1, 2, 5], expected[1, 2, 5])
    np.testing.assert_array_equal(p[1, ::-1, ::3, 2], expected[1, ::-1, ::3, 2])


def test_vector_and_tensor_fields(well):
    ds, ref = well
    v = ds.field("velocity")
    assert v.shape == (N, T, NX, NY, 2)
    np.testing.assert_array_equal(v[()], ref["velocity"])
    s = ds.field("stress")
    assert s.shape == (N, T, NX, NY, 4)
    # component (i, j) of the tensor is channel 2 i + j
    np.testing.assert_array_equal(s[()], ref["stress"].reshape(N, T, NX, NY, 4))
    for i in range(2):
        for j in range(2):
            np.testing.assert_array_equal(s[1, :, 3, :, 2 * i + j], ref["stress"][1, :, 3, :, i, j])
    np.testing.assert_array_equal(s[0, 0, 0, 0, 1:3], ref["stress"][0, 0, 0, 0].reshape(4)[1:3])


def test_tensor_field_stored_flat(tmp_path, layout_files):
    path, ref = layout_files("the_well")
    with h5py.File(path, "a") as f:
        flat = ref["stress"].reshape(N, T, NX, NY, 4)
        attrs = dict(f["t2_fields/stress"].attrs)
        del f["t2_fields/stress"]
        f["t2_fields/stress"] = flat
        f["t2_fields/stress"].attrs.update(attrs)
    with open_dataset(path) as ds:
        np.testing.assert_array_equal(ds.field("stress")[2], flat[2])


def test_sample_varying_coordinates(layout_files):
    path, ref = layout_files("the_well")
    with h5py.File(path, "a") as f:
        del f["dimensions/y"]
        f["dimensions/y"] = np.tile(ref["y"], (N, 1))
        f["dimensions/y"].attrs["sample_varying"] = True
    with open_dataset(path) as ds:
        np.testing.assert_allclose(ds.grid["y"], ref["y"])
    with h5py.File(path, "a") as f:
        f["dimensions/y"][1, 0] = -5.0
    with pytest.raises(ValueError, match=r"'dimensions/y': coordinates differ between traj"):
        open_dataset(path)
