"""OperatorDataset: shapes, channel order, time index, stride, bulk load, split."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from sciml.core.grid import Box, Grid
from sciml.data.dataset import OperatorDataset, split_indices, to_tensor_dataset
from sciml.data.hdf5 import open_dataset, write

N, T, NX, NY = 7, 3, 8, 6


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return {
        "a": rng.standard_normal((N, 1, NX, NY, 1)).astype(np.float32),  # static, 1 channel
        "b": rng.standard_normal((N, 1, NX, NY, 2)),  # static, 2 channels
        "u": rng.standard_normal((N, T, NX, NY, 3)),  # time series, 3 channels
    }


@pytest.fixture(scope="module")
def path(tmp_path_factory, data):
    grid = Grid.uniform(Box(x=(0, 1), y=(0, 2)), (NX, NY), periodic=(True, False))
    return write(tmp_path_factory.mktemp("ds") / "op.h5", data, grid, times=[0.0, 0.5, 1.0])


def channels_first(block):
    """(*space, channel) -> (channel, *space): the independent oracle of an item."""
    return np.moveaxis(block, -1, 0)


def test_item_shapes_and_channel_order(path, data):
    ds = OperatorDataset(path, inputs=["b", "a"], outputs="u", time_index=-1)
    assert len(ds) == N
    assert (ds.in_channels, ds.out_channels) == (3, 3)
    assert ds.spatial_shape == (NX, NY) and ds.grid.shape == (NX, NY)
    assert ds.inputs == ("b", "a") and ds.outputs == ("u",)
    x, y = ds[4]
    assert x.shape == (3, NX, NY) and y.shape == (3, NX, NY)
    assert x.dtype == torch.float32
    want_x = np.concatenate([channels_first(data["b"][4, 0]), channels_first(data["a"][4, 0])])
    np.testing.assert_allclose(x.numpy(), want_x, rtol=1e-6)
    np.testing.assert_allclose(y.numpy(), channels_first(data["u"][4, T - 1]), rtol=1e-6)
    assert "op.h5" in repr(ds)


def test_time_index_and_dtype(path, data):
    ds = OperatorDataset(path, "a", "u", time_index=1, dtype=torch.float64)
    x, y = ds[0]
    assert y.dtype == torch.float64
    np.testing.assert_array_equal(y.numpy(), channels_first(data["u"][0, 1]))
    np.testing.assert_array_equal(x.numpy(), channels_first(data["a"][0, 0]))
    with pytest.raises(ValueError, match=r"time_index: got 3 but field 'u' has 3 time steps"):
        OperatorDataset(path, "a", "u", time_index=3)


def test_stride_subsamples_fields_and_grid(path, data):
    with open_dataset(path) as src:
        ds = OperatorDataset(src, "a", "u", stride=(2, 3))
        assert ds.grid == src.grid.subsample((2, 3))
    assert ds.spatial_shape == (NX // 2, NY // 3) and ds.stride == (2, 3)
    x, y = ds[2]
    np.testing.assert_array_equal(x.numpy(), channels_first(data["a"][2, 0, ::2, ::3]))
    np.testing.assert_allclose(y.numpy(), channels_first(data["u"][2, 0, ::2, ::3]), rtol=1e-6)
    assert OperatorDataset(path, "a", "u", stride=2).spatial_shape == (4, 3)
    with pytest.raises(ValueError, match="stride"):
        OperatorDataset(path, "a", "u", stride=0)


def test_indices_select_and_order(path, data):
    ds = OperatorDataset(path, "a", "b", indices=[5, 1, 2])
    assert len(ds) == 3 and list(ds.indices) == [5, 1, 2]
    np.testing.assert_array_equal(ds[0][1].numpy(), channels_first(data["b"][5, 0]).astype("f4"))
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(ValueError, match=r"indices: values must lie in \[0, 7\)"):
        OperatorDataset(path, "a", "b", indices=[0, 7])


def test_load_equals_items(path):
    ds = OperatorDataset(path, ["a", "b"], "u", indices=[6, 0, 1, 2, 4], time_index=2, stride=2)
    x, y = ds.load()
    assert x.shape == (5, 3, 4, 3) and y.shape == (5, 3, 4, 3)
    for i in range(len(ds)):
        xi, yi = ds[i]
        torch.testing.assert_close(x[i], xi, rtol=0, atol=0)
        torch.testing.assert_close(y[i], yi, rtol=0, atol=0)
    batches = list(ds.iter_batches(batch_size=2))
    assert [len(b[0]) for b in batches] == [2, 2, 1]
    torch.testing.assert_close(torch.cat([b[1] for b in batches]), y, rtol=0, atol=0)
    tds = to_tensor_dataset(ds)
    torch.testing.assert_close(tds[3][0], x[3], rtol=0, atol=0)


def test_dataloader_with_workers(path):
    ds = OperatorDataset(path, "a", "u")
    x_all, y_all = ds.load()  # leaves handles open in this process: workers must not use them
    clone = pickle.loads(pickle.dumps(ds))  # what a spawn-started worker receives
    torch.testing.assert_close(clone[3][1], y_all[3], rtol=0, atol=0)
    loader = DataLoader(ds, batch_size=3, num_workers=2)
    xs, ys = zip(*loader)
    torch.testing.assert_close(torch.cat(xs), x_all, rtol=0, atol=0)
    torch.testing.assert_close(torch.cat(ys), y_all, rtol=0, atol=0)


def test_bad_arguments(path):
    with pytest.raises(ValueError, match=r"inputs: unknown field\(s\) \['c'\]"):
        OperatorDataset(path, ["a", "c"], "u")
    with pytest.raises(ValueError, match="outputs: expected at least one"):
        OperatorDataset(path, "a", [])
    with pytest.raises(ValueError, match="dtype"):
        OperatorDataset(path, "a", "u", dtype=torch.int64)
    with pytest.raises(ValueError, match="source"):
        OperatorDataset(42, "a", "u")


def test_split_indices():
    train, test = split_indices(10, 6, 3)
    assert train.tolist() == [0, 1, 2, 3, 4, 5]
    assert test.tolist() == [7, 8, 9]
    train, test = split_indices(5, 2, 0)
    assert train.tolist() == [0, 1] and test.size == 0
    with pytest.raises(ValueError, match="overlap"):
        split_indices(10, 6, 5)
    with pytest.raises(ValueError, match="n_test"):
        split_indices(10, 6, -1)
