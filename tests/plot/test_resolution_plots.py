"""Multi-resolution evaluation in one call, and the super-resolution pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sciml
from sciml.core.grid import Box, Grid
from sciml.data import write
from sciml.plot.resolution import errors_by_resolution, super_resolution


class _Smoother:
    """A 'solver' whose prediction is its input times two: any resolution works."""

    def predict(self, x):
        return 2 * torch.as_tensor(x)


@pytest.fixture()
def band_limited_file(tmp_path):
    # a(x, y) band-limited on a 32x32 periodic grid; the output is exactly 2a
    n = 32
    grid = Grid.periodic(Box(x=(0, 1), y=(0, 1)), n)
    rng = np.random.default_rng(0)
    x, y = np.meshgrid(np.arange(n) / n, np.arange(n) / n, indexing="ij")
    a = np.stack([
        c[0] * np.sin(2 * np.pi * x) + c[1] * np.cos(2 * np.pi * 2 * y)
        for c in rng.normal(size=(6, 2))
    ])
    path = tmp_path / "pairs.h5"
    write(path, {"a": a[:, None, ..., None], "u": 2 * a[:, None, ..., None]}, grid)
    return path


def test_from_file_builds_one_test_set_per_resolution(band_limited_file):
    problem = sciml.OperatorProblem.from_file(
        band_limited_file, inputs="a", outputs="u", n_train=4, n_test=2,
        resolution=8, test_resolutions=[8, 16, 32],
    )
    assert problem.train[0][0].shape == (1, 8, 8)
    assert list(problem.tests) == ["8", "16", "32"]
    assert [problem.tests[k][0][0].shape[-1] for k in problem.tests] == [8, 16, 32]
    assert problem.grid.shape == (8, 8)
    # the test sets are the last two samples, subsampled: compare with the full-resolution read
    full = sciml.data.open(band_limited_file).field("a")[4:6, 0, :, :, 0]
    np.testing.assert_allclose(problem.tests["16"][1][0][0].numpy(), full[1, ::2, ::2],
                               rtol=1e-6)
    report = problem.evaluate(_Smoother())
    assert set(report.metrics) == {"8", "16", "32"}
    assert all(row["rel_l2"] < 1e-6 for row in report.metrics.values())


def test_from_file_rejects_two_ways_of_subsampling(band_limited_file):
    with pytest.raises(ValueError, match="resolution, stride"):
        sciml.OperatorProblem.from_file(band_limited_file, "a", "u", 4, 2, stride=2,
                                        resolution=16)
    with pytest.raises(ValueError, match="test_resolutions, test_strides"):
        sciml.OperatorProblem.from_file(band_limited_file, "a", "u", 4, 2,
                                        test_strides={"a": 1}, test_resolutions=[16])
    with pytest.raises(ValueError, match="test_resolutions"):
        sciml.OperatorProblem.from_file(band_limited_file, "a", "u", 4, 2, test_resolutions=32)


def test_super_resolution_figure_has_a_row_per_resolution(band_limited_file, tmp_path):
    problem = sciml.OperatorProblem.from_file(
        band_limited_file, inputs="a", outputs="u", n_train=4, n_test=2,
        resolution=8, test_resolutions=[32, 8, 16],
    )
    path = tmp_path / "sr.png"
    fig = super_resolution(_Smoother(), problem, sample=1, path=path)
    assert path.stat().st_size > 0
    titles = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("input")]
    assert titles == ["input, 8", "input, 16", "input, 32"]
    with pytest.raises(ValueError, match="sample"):
        super_resolution(_Smoother(), problem, sample=5)


def test_errors_by_resolution_plots_report_rows(band_limited_file):
    fig = errors_by_resolution({"32": 1e-2, "16": 2e-2, "64": 3e-2}, train_resolution=32)
    xs = fig.axes[0].lines[0].get_xdata()
    assert list(xs) == [16, 32, 64]
    with pytest.raises(ValueError, match="resolution"):
        errors_by_resolution({"test": 0.1})
