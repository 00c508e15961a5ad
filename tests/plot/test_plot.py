"""Tests of sciml.plot.fields and sciml.plot.curves: saved PNGs, colour scales, orientation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from PIL import Image

from sciml.core.grid import Box, Grid
from sciml.core.report import Report
from sciml.plot.curves import history
from sciml.plot.fields import compare, field

DPI = 150


@pytest.fixture
def grid2d() -> Grid:
    return Grid.uniform(Box(x=(0, 1), y=(0, 2)), (16, 24))


@pytest.fixture
def grid1d() -> Grid:
    return Grid.uniform(Box(t=(-1, 1)), 50)


def _field2d(grid: Grid) -> np.ndarray:
    x, y = grid.mesh()
    return np.sin(2 * np.pi * x) * np.cos(np.pi * y) + 0.3 * y


def _png_size(path) -> tuple[int, int]:
    assert path.exists()
    assert path.stat().st_size > 10_000, f"{path} is suspiciously small"
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size  # (width, height)


def _roughly(size: tuple[int, int], inches: tuple[float, float]) -> None:
    expected = (inches[0] * DPI, inches[1] * DPI)
    for got, want in zip(size, expected):
        assert 0.7 * want <= got <= 1.3 * want, f"PNG size {size}, expected about {expected}"


def _panel(fig: Figure, title: str):
    """The main axes with this title (colour-bar axes have no title)."""
    matches = [ax for ax in fig.axes if ax.get_title() == title]
    assert len(matches) == 1, [ax.get_title() for ax in fig.axes]
    return matches[0]


def _mesh(ax) -> QuadMesh:
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    return meshes[0]


# -- field -----------------------------------------------------------------------------------
def test_field_1d_saves_png_with_axis_name(tmp_path, grid1d):
    values = np.tanh(3 * grid1d["t"])
    path = tmp_path / "f1.png"
    fig = field(values, grid1d, title="u", path=path)
    _roughly(_png_size(path), (6, 4))
    ax = _panel(fig, "u")
    assert ax.get_xlabel() == "t"
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), grid1d["t"])
    np.testing.assert_allclose(line.get_ydata(), values)


def test_field_2d_orientation_on_non_square_grid(tmp_path, grid2d):
    values = _field2d(grid2d)
    path = tmp_path / "f2.png"
    fig = field(values, grid2d, title="u", path=path)
    width, height = _png_size(path)
    assert 0.8 * 4.9 * DPI <= height <= 1.2 * 4.9 * DPI
    assert 0.5 * height < width < height  # a domain twice as tall as wide gives a tall picture
    ax = _panel(fig, "u")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    mesh = _mesh(ax)
    # 16 points along x must run horizontally (columns) and 24 along y vertically (rows).
    data = np.asarray(mesh.get_array()).reshape(24, 16)
    np.testing.assert_allclose(data, values.T)
    corners = mesh.get_coordinates()  # (rows + 1, cols + 1, 2) cell edges
    assert corners.shape == (25, 17, 2)
    hx, hy = 1 / 15, 2 / 23
    x_edges = np.r_[-hx / 2, grid2d["x"][:-1] + hx / 2, 1 + hx / 2]
    y_edges = np.r_[-hy / 2, grid2d["y"][:-1] + hy / 2, 2 + hy / 2]
    np.testing.assert_allclose(corners[0, :, 0], x_edges)
    np.testing.assert_allclose(corners[:, 0, 1], y_edges)
    assert ax.get_xlim()[1] < 1.5 and ax.get_ylim()[1] > 1.9
    assert ax.get_aspect() == 1.0
    assert len(fig.axes) == 2  # the field and its colour bar


def test_field_accepts_channel_first_tensor_and_no_grid():
    values = torch.arange(12, dtype=torch.float32).reshape(1, 1, 3, 4)
    fig = field(values, title="t", vmin=-1.0, vmax=20.0, colorbar=False)
    ax = _panel(fig, "t")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    mesh = _mesh(ax)
    assert mesh.get_clim() == (-1.0, 20.0)
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(4, 3), values[0, 0].numpy().T)
    corners = mesh.get_coordinates()
    assert corners[..., 0].min() == pytest.approx(-0.25)
    assert corners[..., 0].max() == pytest.approx(1.25)
    assert len(fig.axes) == 1


def test_field_3d_shows_mid_slice_and_says_so():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((5, 6, 7))
    fig = field(values, title="u")
    (ax,) = [ax for ax in fig.axes if ax.get_title().startswith("u")]
    assert "mid slice" in ax.get_title() and "z = 0.5" in ax.get_title()
    data = np.asarray(_mesh(ax).get_array()).reshape(6, 5)
    np.testing.assert_allclose(data, values[:, :, 3].T)


def test_field_draws_into_given_axes(grid2d):
    fig = Figure()
    ax = fig.add_subplot()
    assert field(_field2d(grid2d), grid2d, ax=ax) is fig
    assert len(ax.collections) == 1


@pytest.mark.parametrize(
    ("shape", "use_grid"),
    [((2, 16, 24), True), ((16, 23), True), ((2, 2, 3, 3), False), ((1,), False)],
)
def test_field_bad_shapes_raise(shape, use_grid, grid2d):
    with pytest.raises(ValueError, match=r"shape") as info:
        field(np.zeros(shape), grid2d if use_grid else None)
    assert str(shape) in str(info.value)


def test_field_nan_raises(grid2d):
    values = _field2d(grid2d)
    values[3, 4] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        field(values, grid2d)


# -- compare ---------------------------------------------------------------------------------
def test_compare_2d_shared_scale_and_error(tmp_path, grid2d):
    rng = np.random.default_rng(1)
    truth = _field2d(grid2d)
    pred = truth + 0.4 * rng.standard_normal(truth.shape)  # widens the range beyond truth's
    path = tmp_path / "c2.png"
    fig = compare(truth, torch.from_numpy(pred), grid2d, path=path, suptitle="demo")
    _roughly(_png_size(path), (13, 4))

    m_truth = _mesh(_panel(fig, "truth"))
    m_pred = _mesh(_panel(fig, "prediction"))
    m_err = _mesh(_panel(fig, "|error|"))
    lo, hi = min(truth.min(), pred.min()), max(truth.max(), pred.max())
    assert m_truth.get_clim() == pytest.approx((lo, hi))
    assert m_pred.get_clim() == m_truth.get_clim()
    # each panel has its own colour bar, and the truth/prediction bars show the same range
    for m in (m_truth, m_pred, m_err):
        assert m.colorbar is not None
    assert m_truth.colorbar.norm.vmin == m_pred.colorbar.norm.vmin
    assert m_truth.colorbar.norm.vmax == m_pred.colorbar.norm.vmax
    assert len(fig.axes) == 6

    err = np.asarray(m_err.get_array()).reshape(24, 16).T
    np.testing.assert_allclose(err, np.abs(pred - truth))
    assert m_err.get_clim() == pytest.approx((0.0, np.abs(pred - truth).max()))

    rel = np.sqrt(np.sum((pred - truth) ** 2) / np.sum(truth**2))
    text = fig.get_suptitle()
    assert text.startswith("demo") and f"{rel:.3e}" in text
    for ax in fig.axes[:3]:
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
        assert ax.title.get_fontsize() >= 10 and ax.xaxis.label.get_fontsize() >= 10


def test_compare_1d_overlays_and_error_panel(tmp_path, grid1d):
    t = grid1d["t"]
    truth, pred = np.sin(np.pi * t), np.sin(np.pi * t) + 0.1 * t**2
    path = tmp_path / "c1.png"
    fig = compare(truth, pred, grid1d, titles=("exact", "model", "err"), path=path)
    _roughly(_png_size(path), (11, 4))
    ax_f = _panel(fig, "exact and model")
    ax_e = _panel(fig, "err")
    lines = ax_f.get_lines()
    assert [ln.get_label() for ln in lines] == ["exact", "model"]
    np.testing.assert_allclose(lines[0].get_ydata(), truth)
    np.testing.assert_allclose(lines[1].get_ydata(), pred)
    np.testing.assert_allclose(ax_e.get_lines()[0].get_ydata(), 0.1 * t**2)
    assert ax_f.get_xlabel() == "t"
    rel = np.linalg.norm(0.1 * t**2) / np.linalg.norm(truth)
    assert f"{rel:.3e}" in fig.get_suptitle()


def test_compare_mismatched_shapes_name_both(grid2d):
    with pytest.raises(ValueError, match=r"\(16, 24\).*\(24, 16\)"):
        compare(np.zeros((16, 24)), np.zeros((24, 16)), grid2d)


def test_compare_nan_and_bad_titles_raise(grid2d):
    truth = _field2d(grid2d)
    pred = truth.copy()
    pred[0, 0] = np.nan
    with pytest.raises(ValueError, match="prediction"):
        compare(truth, pred, grid2d)
    with pytest.raises(ValueError, match="titles"):
        compare(truth, truth, grid2d, titles=("a", "b"))


# -- history ---------------------------------------------------------------------------------
def _records(n: int = 30) -> list[dict[str, float]]:
    recs = []
    for e in range(n):
        rec = {"epoch": e, "train_loss": float(np.exp(-e / 10)), "lr": 1e-3 * 0.5 ** (e // 10),
               "time": 0.1 * e}
        if e % 5 == 0:
            rec["test/rel_l2"] = 0.5 * float(np.exp(-e / 20))
            rec["test/loss"] = float(np.exp(-e / 12))
        recs.append(rec)
    return recs


def test_history_from_report(tmp_path):
    path = tmp_path / "h.png"
    report = Report(problem="p", solver="s", history=_records())
    fig = history(report, path=path)
    _roughly(_png_size(path), (8, 6.5))
    ax, ax_lr = fig.axes
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels == ["train_loss", "test/rel_l2", "test/loss"]
    assert ax.get_yscale() == "log" and ax_lr.get_yscale() == "log"
    assert ax_lr.get_ylabel() == "learning rate" and ax_lr.get_xlabel() == "epoch"
    assert ax.get_legend() is not None
    sparse = ax.get_lines()[1]
    np.testing.assert_allclose(sparse.get_xdata(), np.arange(0, 30, 5))  # missing skipped
    np.testing.assert_allclose(sparse.get_ydata(), 0.5 * np.exp(-np.arange(0, 30, 5) / 20))


def test_history_from_list_without_lr_and_with_nan(tmp_path):
    recs = [{"epoch": e, "train_loss": 1.0 / (e + 1)} for e in range(12)]
    recs[4]["train_loss"] = float("nan")
    path = tmp_path / "h2.png"
    fig = history(recs, path=path, logy=False)
    _roughly(_png_size(path), (8, 4.8))
    (ax,) = fig.axes
    assert ax.get_yscale() == "linear" and ax.get_xlabel() == "epoch"
    (line,) = ax.get_lines()
    assert 4 not in line.get_xdata() and len(line.get_xdata()) == 11


def test_history_keys_select_and_validate():
    fig = history(_records(), keys=["test/loss"])
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == ["test/loss"]
    with pytest.raises(ValueError, match="val_loss"):
        history(_records(), keys=["val_loss"])


def test_history_nonpositive_values_fall_back_to_linear():
    recs = [{"epoch": e, "train_loss": 1.0 - 0.2 * e} for e in range(8)]
    assert history(recs).axes[0].get_yscale() == "linear"


@pytest.mark.parametrize("source", [[], Report()])
def test_history_empty_raises(source):
    with pytest.raises(ValueError, match="empty"):
        history(source)


def test_history_bad_source_raises():
    with pytest.raises(ValueError, match="source"):
        history("not a history")
    with pytest.raises(ValueError, match="record 1"):
        history([{"epoch": 0, "train_loss": 1.0}, 3.0])
