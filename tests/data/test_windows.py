"""WindowDataset and resolution=: items against numpy slices of the arrays written."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.core.grid import Box, Grid
from sciml.data.dataset import OperatorDataset, WindowDataset, resolution_stride
from sciml.data.hdf5 import open_dataset, write

N, T, NX, NY = 3, 9, 8, 6


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return {
        "u": rng.standard_normal((N, T, NX, NY, 2)),
        "p": rng.standard_normal((N, T, NX, NY, 1)),
        "a": rng.standard_normal((N, 1, NX, NY, 1)),
    }


@pytest.fixture(scope="module")
def path(tmp_path_factory, data):
    grid = Grid.uniform(Box(x=(0, 1), y=(0, 1)), (NX, NY), periodic=True)
    return write(tmp_path_factory.mktemp("win") / "w.h5", data, grid, times=np.linspace(0, 1, T))


def oracle(data, fields, static, sample, t0, k, m, dt, space=(slice(None), slice(None))):
    """Input and output of one window, stacked time-major, by plain numpy indexing."""
    frames = np.concatenate([data[f][sample] for f in fields], axis=-1)  # (T, X, Y, C)
    frames = frames[(slice(None), *space)]
    pick = [t0 + j * dt for j in range(k + m)]
    chans = []
    for t in pick:
        for c in range(frames.shape[-1]):
            chans.append(frames[t, ..., c])
    c_all = frames.shape[-1]
    x, y = chans[: k * c_all], chans[k * c_all :]
    for f in static:
        for c in range(data[f].shape[-1]):
            x.append(data[f][sample, 0][(*space, c)])
    return np.stack(x), np.stack(y)


@pytest.mark.parametrize(
    ("k", "m", "dt", "hop"), [(1, 1, 1, 1), (3, 2, 1, 1), (2, 1, 3, 1), (2, 2, 2, 3)]
)
def test_every_window_matches_the_oracle(path, data, k, m, dt, hop):
    ds = WindowDataset(path, ["u", "p"], k, m, dt, hop=hop, static="a")
    span = (k + m - 1) * dt
    starts = list(range(0, T - span, hop))
    assert ds.windows_per_sample == len(starts) and len(ds) == N * len(starts)
    assert ds.channels == 3 and ds.in_channels == 3 * k + 1 and ds.out_channels == 3 * m
    i = 0
    for sample in range(N):
        for t0 in starts:
            assert ds.window(i) == (sample, t0)
            x, y = ds[i]
            want_x, want_y = oracle(data, ["u", "p"], ["a"], sample, t0, k, m, dt)
            assert x.shape == (3 * k + 1, NX, NY) and y.shape == (3 * m, NX, NY)
            np.testing.assert_allclose(x.numpy(), want_x, rtol=1e-6)
            np.testing.assert_allclose(y.numpy(), want_y, rtol=1e-6)
            i += 1
    with pytest.raises(IndexError):
        ds[len(ds)]
    np.testing.assert_array_equal(ds[-1][1].numpy(), ds[len(ds) - 1][1].numpy())


def test_indices_resolution_and_dtype(path, data):
    ds = WindowDataset(path, "u", 2, 1, indices=[2, 0], resolution=(4, 3), dtype=torch.float64)
    assert ds.stride == (2, 2) and ds.spatial_shape == (4, 3)
    assert ds.window(ds.windows_per_sample) == (0, 0)
    x, y = ds[1]
    want_x, want_y = oracle(data, ["u"], [], 2, 1, 2, 1, 1, (slice(None, None, 2),) * 2)
    assert x.dtype == torch.float64
    np.testing.assert_array_equal(x.numpy(), want_x)
    np.testing.assert_array_equal(y.numpy(), want_y)


def test_window_errors(path):
    with pytest.raises(ValueError, match=r"k_in, m_out, stride_t: .* spans 11 steps.*have 9"):
        WindowDataset(path, "u", 5, 1, 2)
    with pytest.raises(ValueError, match=r"fields: .*time lengths \{'a': 1\}.*static="):
        WindowDataset(path, "a", 1)
    with pytest.raises(ValueError, match=r"static: field 'p' has 9 time steps"):
        WindowDataset(path, "u", 1, static="p")
    with pytest.raises(ValueError, match=r"k_in: expected a positive integer, got 0"):
        WindowDataset(path, "u", 0)
    with pytest.raises(ValueError, match=r"fields: unknown field\(s\) \['v'\]"):
        WindowDataset(path, "v", 1)
    with pytest.raises(ValueError, match=r"stride and resolution: got both"):
        WindowDataset(path, "u", 1, stride=2, resolution=4)


def test_resolution_stride_rules():
    cells = Grid.uniform(Box(x=(0, 1)), 1024, periodic=True)
    assert resolution_stride(cells, 256) == (4,)
    vertices = Grid.uniform(Box(x=(0, 1), y=(0, 1)), (65, 64))
    assert resolution_stride(vertices, (33, 16)) == (2, 4)
    with pytest.raises(ValueError, match=r"got 64 for axis 'x' with 65 points"):
        resolution_stride(vertices, 64)  # no stride takes 65 points to 64
    with pytest.raises(
        ValueError,
        match=r"resolution: got 30 for axis 'y' with 64 points.*"
        r"allowed resolutions are \[64, 32, 22, 16",
    ):
        resolution_stride(vertices, (33, 30))
    with pytest.raises(ValueError, match=r"resolution: expected a positive int or 2"):
        resolution_stride(vertices, (33,))


def test_operator_dataset_resolution(path, data):
    ds = OperatorDataset(path, "a", "u", time_index=-1, resolution=(4, 3))
    assert ds.stride == (2, 2) and ds.spatial_shape == (4, 3)
    _, y = ds[1]
    np.testing.assert_allclose(y.numpy(), np.moveaxis(data["u"][1, -1, ::2, ::2], -1, 0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"resolution: got 5 for axis 'x' with 8 points"):
        OperatorDataset(path, "a", "u", resolution=5)


def test_windows_over_a_pdebench_file(layout_files):
    path, ref = layout_files("pdebench-groups")
    with open_dataset(path) as src:
        ds = WindowDataset(src, "data", 2, 1)
        x, y = ds[ds.windows_per_sample + 1]  # sample 1, t0 = 1
    frames = ref["data"][1]  # (T, X, Y, C)
    np.testing.assert_array_equal(
        x.numpy(), np.moveaxis(frames[1:3], -1, 1).reshape(-1, *frames.shape[1:3])
    )
    np.testing.assert_array_equal(y.numpy(), np.moveaxis(frames[3], -1, 0))


def test_window_dataset_in_dataloader_workers_over_the_well(layout_files):
    """Pickled into two workers (each opens its own handle); batches match the items."""
    from torch.utils.data import DataLoader

    path, ref = layout_files("the_well")
    ds = WindowDataset(path, ["density", "velocity"], 2, 1, static="coefficient")
    assert ds.channels == 3 and ds.in_channels == 7
    batches = list(DataLoader(ds, batch_size=5, num_workers=2))
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    assert x.shape == (len(ds), 7, *ds.spatial_shape)
    sample, t0 = ds.window(6)
    frames = np.concatenate(
        [ref["density"][sample, t0 : t0 + 3, ..., None], ref["velocity"][sample, t0 : t0 + 3]],
        axis=-1,
    )  # (3, X, Y, 3)
    want_x = np.concatenate(
        [
            np.moveaxis(frames[:2], -1, 1).reshape(6, *frames.shape[1:3]),
            ref["coefficient"][sample][None],
        ]
    )
    np.testing.assert_array_equal(x[6].numpy(), want_x)
    np.testing.assert_array_equal(y[6].numpy(), np.moveaxis(frames[2], -1, 0))
