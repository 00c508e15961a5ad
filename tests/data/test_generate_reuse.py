"""generate(..., reuse=True) keeps a file that already holds the requested data set."""

from __future__ import annotations

import os
import stat

import pytest

from sciml.data import WindowDataset, generate, to_tensor_dataset, write
from sciml.data import open as open_data


def _mtime(path):
    return os.stat(path).st_mtime_ns


def test_reuse_keeps_a_matching_file_and_regenerates_otherwise(tmp_path):
    path = tmp_path / "darcy.h5"
    generate("darcy", path, n=4, resolution=9, seed=3, progress=False)
    first = _mtime(path)
    generate("darcy", path, n=4, resolution=9, seed=3, progress=False, reuse=True)
    assert _mtime(path) == first
    for change in ({"n": 5}, {"resolution": 11}, {"seed": 4}):
        args = {"n": 4, "resolution": 9, "seed": 3} | change
        generate("darcy", path, progress=False, reuse=True, **args)
        with open_data(path) as data:
            assert data.n_samples == args["n"]
            assert data.grid.shape == (args["resolution"],) * 2
            assert data.attrs["params"]["seed"] == args["seed"]
        generate("darcy", path, n=4, resolution=9, seed=3, progress=False)


def test_reuse_regenerates_when_a_recorded_option_differs(tmp_path):
    path = tmp_path / "burgers.h5"
    generate("burgers", path, n=2, resolution=32, seed=0, progress=False, n_times=3, nu=0.1)
    first = _mtime(path)
    generate("burgers", path, n=2, resolution=32, seed=0, progress=False, n_times=3, nu=0.1,
             reuse=True)
    assert _mtime(path) == first
    generate("burgers", path, n=2, resolution=32, seed=0, progress=False, n_times=3, nu=0.05,
             reuse=True)
    with open_data(path) as data:
        assert data.attrs["params"]["nu"] == pytest.approx(0.05)


def test_reuse_replaces_a_file_of_another_generator_or_garbage(tmp_path):
    path = tmp_path / "x.h5"
    generate("grf", path, n=3, resolution=9, seed=0, progress=False)
    generate("darcy", path, n=3, resolution=9, seed=0, progress=False, reuse=True)
    with open_data(path) as data:
        assert data.attrs["pde"] == "darcy"
    path.write_bytes(b"not hdf5")
    generate("darcy", path, n=3, resolution=9, seed=0, progress=False, reuse=True)
    with open_data(path) as data:
        assert data.n_samples == 3


def test_written_files_have_the_users_default_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = generate("darcy", tmp_path / "p.h5", n=2, resolution=9, progress=False)
    finally:
        os.umask(mask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_to_tensor_dataset_reads_windows(tmp_path):
    import numpy as np

    from sciml.core.grid import Box, Grid

    grid = Grid.periodic(Box(x=(0, 1)), 8)
    u = np.arange(3 * 6 * 8, dtype=np.float32).reshape(3, 6, 8, 1)
    path = write(tmp_path / "w.h5", {"u": u}, grid)
    windows = WindowDataset(path, "u", k_in=2, m_out=1)
    memory = to_tensor_dataset(windows)
    assert len(memory) == len(windows) == 3 * 4
    for i in (0, 5, 11):
        for a, b in zip(memory[i], windows[i]):
            assert np.array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="OperatorDataset or a WindowDataset"):
        to_tensor_dataset([1, 2])
