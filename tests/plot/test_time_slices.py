"""sciml.plot.slices: the slice points, and the exact | predictions | errors figure."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from sciml.core.grid import Box
from sciml.core.problem import PDEProblem
from sciml.plot.slices import slice_points, time_slices

TIMES = [0.0, 1.5, 3.0]


def problem(box: Box | None = None) -> PDEProblem:
    """u = x + 10 y + t on [0, 2] x [0, 1] x [0, 3]: range [0, 15]."""
    return PDEProblem(
        box or Box(x=(0.0, 2.0), y=(0.0, 1.0), t=(0.0, 3.0)),
        lambda u, x: u.d("t"),
        [],
        exact=lambda x: x.x + 10.0 * x.y + x.t,
        name="plane",
    )


def exact(points: np.ndarray) -> np.ndarray:
    return points[:, 0] + 10.0 * points[:, 1] + points[:, 2]


def meshes(fig: Figure) -> list[QuadMesh]:
    """The colour meshes of the panels, in row-major order (colour bars have no title)."""
    out = []
    for ax in fig.axes:
        if ax.get_title():
            out += [c for c in ax.collections if isinstance(c, QuadMesh)]
    return out


def test_slice_points_layout():
    plane, pts = slice_points(problem(), 5, TIMES)
    assert plane.names == ("x", "y") and plane.shape == (5, 5)
    assert pts.shape == (3 * 25, 3)
    blocks = pts.reshape(3, 5, 5, 3)
    for k, t in enumerate(TIMES):
        np.testing.assert_allclose(blocks[k, ..., 2], t)
        np.testing.assert_allclose(blocks[k, :, 0, 0], np.linspace(0, 2, 5))
        np.testing.assert_allclose(blocks[k, 0, :, 1], np.linspace(0, 1, 5))


def test_slice_points_put_time_where_the_domain_has_it():
    box = Box(t=(0.0, 1.0), x=(-1.0, 1.0), y=(0.0, 1.0))
    p = PDEProblem(box, lambda u, x: u.d("t"), [], exact=lambda x: x.t, name="first")
    _, pts = slice_points(p, 3, [0.25])
    np.testing.assert_allclose(pts[:, 0], 0.25)
    np.testing.assert_allclose(np.unique(pts[:, 1]), [-1.0, 0.0, 1.0])


def test_panels_values_and_shared_colour_limits(tmp_path):
    predictions = {
        "good": lambda p: exact(p) + 0.1,
        "zero": lambda p: np.zeros(len(p)),
    }
    path = tmp_path / "slices.png"
    fig = time_slices(problem(), predictions, TIMES, n=9, path=path, title="demo")
    assert path.stat().st_size > 10_000
    found = meshes(fig)
    # rows: exact, good, zero, |good - exact|, |zero - exact|; one column per time
    assert len(found) == 5 * 3
    titles = [m.axes.get_title() for m in found]
    assert titles[:3] == ["exact, t = 0", "exact, t = 1.5", "exact, t = 3"]
    assert titles[9] == "|good - exact|, t = 0"
    assert titles[-1] == "|zero - exact|, t = 3"
    # value rows on the exact range [0, 15], error rows on [0, max error] = [0, 15]
    for m in found[:9]:
        assert m.get_clim() == pytest.approx((0.0, 15.0))
        assert m.get_cmap().name == "viridis"
    for m in found[9:]:
        assert m.get_clim() == pytest.approx((0.0, 15.0))
        assert m.get_cmap().name == "magma"
    # the data: exact at t = 1.5 on the 9 x 9 plane, and the good model's error of 0.1
    x, y = np.meshgrid(np.linspace(0, 2, 9), np.linspace(0, 1, 9), indexing="ij")
    np.testing.assert_allclose(np.asarray(found[1].get_array()).reshape(9, 9),
                               (x + 10 * y + 1.5).T)
    np.testing.assert_allclose(np.asarray(found[9].get_array()), 0.1, atol=1e-12)
    assert fig._suptitle.get_text() == "demo"
    # one colour bar per row
    assert len(fig.axes) == 15 + 5


def test_error_rows_share_one_scale_and_values_can_be_hidden():
    predictions = {"a": lambda p: exact(p) + 0.5, "b": lambda p: exact(p) - 2.0}
    fig = time_slices(problem(), predictions, [1.0, 2.0], n=5, show_values=False,
                      exact_label="reference")
    found = meshes(fig)
    assert len(found) == 3 * 2
    assert found[2].axes.get_title() == "|a - reference|, t = 1"
    for m in found[2:]:
        assert m.get_clim() == pytest.approx((0.0, 2.0))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"predictions": {}}, "predictions: expected a non-empty mapping"),
     ({"predictions": {"a": 3}}, r"predictions\['a'\]: expected a callable"),
     ({"predictions": {"a": lambda p: np.zeros(3)}}, r"predictions\['a'\]: returned 3"),
     ({"predictions": {"a": lambda p: np.full(len(p), np.nan)}}, r"predictions\['a'\]"),
     ({"times": []}, "times: expected a non-empty"),
     ({"n": 1}, "n: expected an integer >= 2")],
)
def test_bad_arguments(kwargs, match):
    args = {"problem": problem(), "predictions": {"a": exact}, "times": TIMES, "n": 5, **kwargs}
    with pytest.raises(ValueError, match=match):
        time_slices(**args)


def test_needs_two_space_axes_and_time():
    flat = PDEProblem(Box(x=(0.0, 1.0), t=(0.0, 1.0)), lambda u, x: u.d("t"), [],
                      exact=lambda x: x.x, name="1d")
    with pytest.raises(ValueError, match="problem: expected a time axis and two space axes"):
        slice_points(flat, 5, [0.0])
