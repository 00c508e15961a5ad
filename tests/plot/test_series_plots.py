"""Tests of space-time images, frame grids, GIF animations and energy spectra."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from PIL import Image

import sciml.plot as splot
from sciml.core.grid import Box, Grid
from sciml.plot.spectra import energy_spectrum


@pytest.fixture
def grid1d() -> Grid:
    return Grid.periodic(Box(x=(0, 2)), 48)


@pytest.fixture
def grid2d() -> Grid:
    return Grid.periodic(Box(x=(0, 1), y=(0, 1)), (16, 12))


def _series2d(grid: Grid, nt: int) -> np.ndarray:
    x, y = grid.mesh()
    return np.stack([np.sin(2 * np.pi * (x - 0.1 * k)) * np.cos(2 * np.pi * y) + 0.1 * k
                     for k in range(nt)])


def test_spacetime_puts_space_across_and_time_up(grid1d, tmp_path):
    t = np.linspace(0.0, 3.0, 7)
    values = grid1d["x"][None, :] + 10 * t[:, None]  # grows along x and faster along t
    fig = splot.spacetime(torch.from_numpy(values[..., None]), grid1d, t, path=tmp_path / "st.png")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "t"
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    # rows of the mesh are time steps: the first row is t = 0, its first cell x = 0
    arr = np.asarray(mesh.get_array()).reshape(7, 48)
    np.testing.assert_allclose(arr, values)
    assert ax.get_ylim()[0] < 0 < 3 < ax.get_ylim()[1]
    with Image.open(tmp_path / "st.png") as im:
        assert im.format == "PNG" and im.size[0] > 600


def test_spacetime_without_times_counts_steps():
    fig = splot.spacetime(np.random.default_rng(0).standard_normal((5, 10)))
    assert fig.axes[0].get_ylabel() == "time step"


def test_frames_default_picks_first_and_last_on_one_scale(grid2d, tmp_path):
    values = _series2d(grid2d, 20)
    times = np.linspace(0, 1.9, 20)
    fig = splot.frames(values, grid2d, times, max_frames=5, path=tmp_path / "f.png")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0] == "t = 0" and titles[-1] == "t = 1.9" and len(titles) == 5
    meshes = [c for ax in fig.axes for c in ax.collections if isinstance(c, QuadMesh)]
    limits = {m.get_clim() for m in meshes}
    assert len(limits) == 1
    lo, hi = limits.pop()
    assert lo == pytest.approx(values[[0, 5, 10, 14, 19]].min())
    assert hi == pytest.approx(values[[0, 5, 10, 14, 19]].max())
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_frames_explicit_indices_and_hidden_spare_panels(grid2d):
    fig = splot.frames(_series2d(grid2d, 6), grid2d, indices=[0, -1, 2], ncols=2)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in visible] == ["step 0", "step 5", "step 2"]


def test_animate_writes_one_gif_frame_per_step(grid2d, tmp_path):
    values = _series2d(grid2d, 6)
    path = tmp_path / "a.gif"
    fig = splot.animate(values, grid2d, path=path, fps=5, times=np.arange(6) * 0.5, title="u")
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_title() == "u — t = 2.5"
    with Image.open(path) as im:
        assert im.format == "GIF"
        assert im.n_frames == 6
        assert im.info["duration"] == 200
        sizes = set()
        first = None
        for i in range(im.n_frames):
            im.seek(i)
            frame = np.asarray(im.convert("RGB"), dtype=np.int64)
            sizes.add(frame.shape)
            if first is None:
                first = frame
        assert len(sizes) == 1
        assert np.abs(frame - first).mean() > 1  # the picture changes over time


def test_animate_1d_series_and_fixed_vertical_range(grid1d, tmp_path):
    t = np.arange(4)
    values = np.sin(np.pi * grid1d["x"])[None, :] * (1 + t[:, None])
    fig = splot.animate(values, grid1d, tmp_path / "b.gif")
    assert fig.axes[0].get_ylim()[1] >= 4.0
    with Image.open(tmp_path / "b.gif") as im:
        assert im.n_frames == 4


def test_series_shape_errors(grid2d, tmp_path):
    with pytest.raises(ValueError, match=r"frames: shape \(3, 5, 5\) does not fit the grid"):
        splot.animate(np.zeros((3, 5, 5)), grid2d, tmp_path / "x.gif")
    with pytest.raises(ValueError, match="path: required"):
        splot.animate(np.zeros((3, 5, 5)))
    with pytest.raises(ValueError, match="fps"):
        splot.animate(np.zeros((3, 5, 5)), path=tmp_path / "x.gif", fps=0)
    with pytest.raises(ValueError, match=r"allowed is \(time, n\)"):
        splot.spacetime(np.zeros((3, 5, 5)))
    with pytest.raises(ValueError, match="times: expected 3 time coordinates"):
        splot.spacetime(np.zeros((3, 5)), times=[0, 1])
    with pytest.raises(ValueError, match="indices"):
        splot.frames(np.zeros((3, 5, 5)), indices=[3])
    with pytest.raises(ValueError, match="grid: has 2 axes"):
        splot.spacetime(np.zeros((3, 16)), grid2d)


# -- spectra -----------------------------------------------------------------------------
def test_energy_spectrum_of_single_modes():
    n = 32
    x = np.arange(n) / n
    k, e = energy_spectrum(np.sin(2 * np.pi * 3 * x))
    assert k.tolist() == list(range(n // 2 + 1))
    expected = np.zeros(n // 2 + 1)
    expected[3] = 0.25  # mean(sin^2) / 2
    np.testing.assert_allclose(e, expected, atol=1e-15)
    X, Y = np.meshgrid(x, x, indexing="ij")
    _, e2 = energy_spectrum(np.cos(2 * np.pi * (3 * X + 4 * Y)))  # |m| = 5
    assert e2[5] == pytest.approx(0.25) and e2.sum() == pytest.approx(0.25)


def test_energy_spectrum_parseval_and_batch_mean():
    rng = np.random.default_rng(5)
    n = 16
    coeffs = np.zeros((3, n, n), dtype=complex)
    coeffs[:, :4, :4] = rng.standard_normal((3, 4, 4))  # band-limited: all in resolved shells
    u = np.real(np.fft.ifft2(coeffs)) * n * n
    _, e = energy_spectrum(u, ndim=2)
    assert e.sum() == pytest.approx(np.mean(u**2) / 2, rel=1e-12)
    _, single = energy_spectrum(u[1], ndim=2)
    _, mean_of_each = zip(*(energy_spectrum(v) for v in u))
    np.testing.assert_allclose(e, np.mean(mean_of_each, axis=0), rtol=1e-12)
    assert not np.allclose(single, e)


def test_energy_spectrum_average_divides_by_modes_in_shell():
    n = 16
    x = np.arange(n) / n
    X, _ = np.meshgrid(x, x, indexing="ij")
    u = np.cos(2 * np.pi * X)  # modes (1, 0) and (-1, 0), shell 1 holds 8 modes
    _, summed = energy_spectrum(u)
    _, averaged = energy_spectrum(u, average=True)
    modes_in_shell_1 = sum(1 for a in range(-8, 8) for b in range(-8, 8)
                           if round(np.hypot(a, b)) == 1)
    assert averaged[1] == pytest.approx(summed[1] / modes_in_shell_1)


def test_spectrum_plot_loglog_with_labels(grid2d, tmp_path):
    rng = np.random.default_rng(0)
    u = rng.standard_normal((2, *grid2d.shape))
    fig = splot.spectrum({"truth": u, "prediction": 0.5 * u}, grid2d, path=tmp_path / "s.png")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["truth", "prediction"]
    # halving the field quarters its energy, shell by shell
    np.testing.assert_allclose(lines[1].get_ydata(), lines[0].get_ydata() / 4, rtol=1e-12)
    assert lines[0].get_xdata()[0] == 1
    with pytest.raises(ValueError, match="does not end in the grid shape"):
        splot.spectrum(np.zeros((4, 4)), grid2d)
    with pytest.raises(ValueError, match="ndim"):
        energy_spectrum(np.zeros(8), ndim=4)
