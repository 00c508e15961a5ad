"""Rollout pictures: error against step, truth | prediction | error frames, comparison GIFs.

The functions build bare Figures (Agg canvas), so no pyplot backend is involved."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from PIL import Image

from sciml.core.grid import Box, Grid
from sciml.plot.animate import animate_comparison
from sciml.plot.rollout import animate_rollout, plot_rollout, plot_rollout_error
from sciml.train.autoregressive import RolloutEvaluation


@pytest.fixture
def grid2d() -> Grid:
    return Grid.periodic(Box(x=(0, 1), y=(0, 1)), (16, 12))


def _rollout2d(grid: Grid, steps: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = grid.mesh()
    truth = np.stack([np.sin(2 * np.pi * (x - 0.1 * k)) * np.cos(2 * np.pi * y)
                      for k in range(1, steps + 1)])
    drift = 0.02 * np.arange(1, steps + 1)[:, None, None]  # error grows with the step
    return truth, truth + drift * np.cos(2 * np.pi * x)


def test_error_plot_has_log_axis_one_line_per_curve_and_labels(tmp_path):
    a = np.array([1e-3, 2e-3, 5e-3, 1e-2])
    evaluation = RolloutEvaluation(per_step=a * 2, per_sample=np.stack([a * 2]), final=0.02,
                                   total=0.01)
    fig = plot_rollout_error([a, evaluation, a[:2]], labels=["fno", "tfno", "short"],
                             path=tmp_path / "e.png")
    assert isinstance(fig, Figure) and (tmp_path / "e.png").stat().st_size > 0
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["fno", "tfno", "short"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(lines[1].get_ydata(), a * 2)
    assert len(lines[2].get_xdata()) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fno", "tfno", "short"]

    # a mapping gives labels, a 2-D array one curve per row; times replace step numbers
    fig = plot_rollout_error({"a": a, "b": torch.tensor(a)}, times=[0.5, 1.0, 1.5, 2.0])
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == ["a", "b"]
    assert fig.axes[0].get_xlabel() == "t"
    fig = plot_rollout_error(np.stack([a, a / 2]))
    assert len(fig.axes[0].get_lines()) == 2 and fig.axes[0].get_legend() is None

    with pytest.raises(ValueError, match="labels: expected 2 strings"):
        plot_rollout_error(np.stack([a, a]), labels=["one"])
    with pytest.raises(ValueError, match="errors must be non-negative"):
        plot_rollout_error(-a)


def test_plot_rollout_2d_rows_are_truth_prediction_error(grid2d, tmp_path):
    truth, pred = _rollout2d(grid2d, 6)
    fig = plot_rollout(truth, pred, steps=[1, 3, -1], grid=grid2d, title="ns",
                       path=tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 0
    panels = [ax for ax in fig.axes if any(isinstance(c, QuadMesh) for c in ax.collections)
              and ax.get_label() != "<colorbar>"]
    assert len(panels) == 9
    titles = [ax.get_title() for ax in panels if ax.get_title()]
    assert [t.split("\n")[0] for t in titles] == ["step 1", "step 3", "step 6"]
    # the title's error is the relative L2 error of that frame
    want = np.linalg.norm(pred[5] - truth[5]) / np.linalg.norm(truth[5])
    assert titles[2].endswith(f"error {want:.2e}")
    # the error row shows |pred - truth| of the step
    err_mesh = next(c for c in panels[-1].collections if isinstance(c, QuadMesh))
    np.testing.assert_allclose(np.asarray(err_mesh.get_array()).reshape(12, 16).T,
                               np.abs(pred[5] - truth[5]))
    with pytest.raises(ValueError, match="steps: got"):
        plot_rollout(truth, pred, steps=[0])
    with pytest.raises(ValueError, match="same shape"):
        plot_rollout(truth, pred[:5])


def test_plot_rollout_1d_from_a_channel_stack():
    # one sample of a rollout output: (steps * C, n), C = 2, time-major
    n, steps = 32, 5
    x = np.arange(n) / n
    frames = np.stack([np.stack([np.sin(2 * np.pi * (x - 0.1 * k)), np.full(n, float(k))])
                       for k in range(steps)])  # (steps, C, n)
    truth = torch.tensor(frames.reshape(steps * 2, n))[None]  # with a batch axis of 1
    pred = truth + 0.01
    fig = plot_rollout(truth, pred, channels=2, channel=1)
    top = fig.axes[0]
    np.testing.assert_allclose(top.get_lines()[0].get_ydata(), np.zeros(n))  # channel 1, step 1
    assert top.get_title().startswith("step 1")
    assert len(fig.axes) == 2 * 4  # default: 4 steps, two rows
    with pytest.raises(ValueError, match=r"expected frames stacked time-major"):
        plot_rollout(truth[0, :9], pred[0, :9], channels=2)
    with pytest.raises(ValueError, match=r"channel: expected an int in \[0, 2\)"):
        plot_rollout(truth, pred, channels=2, channel=2)


def test_rollout_gif_has_one_frame_per_step(grid2d, tmp_path):
    truth, pred = _rollout2d(grid2d, 4)
    fig = animate_rollout(truth, pred, tmp_path / "r.gif", grid2d, fps=4, title="u")
    assert fig._suptitle.get_text().startswith("u — step 4 — relative L2 error")
    with Image.open(tmp_path / "r.gif") as im:
        assert im.format == "GIF" and im.n_frames == 4
        assert im.info["duration"] == 250
    # 1-D comparison: curves and error
    x = np.linspace(0, 1, 20)
    series = np.stack([np.sin(2 * np.pi * (x - 0.1 * k)) for k in range(3)])
    fig = animate_comparison(series, series * 1.1, path=tmp_path / "c.gif", times=[0, 0.1, 0.2])
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(),
                               np.abs(0.1 * series[-1]))
    with Image.open(tmp_path / "c.gif") as im:
        assert im.n_frames == 3
    with pytest.raises(ValueError, match="path: required"):
        animate_comparison(series, series)
