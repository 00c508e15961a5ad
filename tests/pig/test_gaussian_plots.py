"""Ellipse geometry of the Gaussian plots against hand-computed values, and the figures."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.core.grid import Box
from sciml.pig import PIGSolver, Training
from sciml.plot.gaussians import _ellipses, gaussians, gaussians_before_after
from sciml.problems.helmholtz import helmholtz_2d


def test_ellipse_axes_by_hand():
    # diag(4, 1): width 2*2, height 2*1, angle 0; rotated by 45 degrees: angle 45.
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    R = np.array([[c, -s], [s, c]])
    cov = np.stack([np.diag([4.0, 1.0]), R @ np.diag([4.0, 1.0]) @ R.T])
    w, h, ang = _ellipses(cov, 1.0)
    np.testing.assert_allclose(w, [4.0, 4.0])
    np.testing.assert_allclose(h, [2.0, 2.0])
    np.testing.assert_allclose(np.mod(ang, 180), [0.0, 45.0], atol=1e-9)


def test_gaussians_figure(tmp_path):
    mu = np.random.default_rng(0).uniform(-1, 1, (20, 3))
    cov = np.tile(np.eye(3) * 0.01, (20, 1, 1))
    box = Box(x=(-1, 1), y=(-1, 1), t=(0, 1))
    fig = gaussians(mu, cov, box=box, axes=(0, 2), weights=np.arange(20), path=tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 0
    assert fig.axes[0].get_xlabel() == "x" and fig.axes[0].get_ylabel() == "t"
    with pytest.raises(ValueError, match="covariances"):
        gaussians(mu, cov[:, :2, :2])
    with pytest.raises(ValueError, match="axes"):
        gaussians(mu, cov, axes=(1, 1))


def test_before_after(tmp_path):
    problem = helmholtz_2d()
    solver = PIGSolver(n_gaussians=12, training=Training(adam_steps=2), progress=False)
    solver.fit(problem)
    fig = gaussians_before_after(solver, path=tmp_path / "ba.png")
    assert len(fig.axes) == 2
    assert (tmp_path / "ba.png").stat().st_size > 0
    with pytest.raises(ValueError, match="PIGSolver"):
        gaussians_before_after(object())
def test_space_time_planes_fill_the_panel_instead_of_a_strip():
    import numpy as np

    from sciml.core.grid import Box
    from sciml.plot.gaussians import gaussians

    mu = np.array([[0.0, 1.0], [0.5, 8.0]])
    cov = np.stack([np.diag([0.01, 0.5])] * 2)
    square = gaussians(mu, cov, box=Box(x=(-1, 1), y=(-1, 1)))
    strip = gaussians(mu, cov, box=Box(x=(-1, 1), t=(0, 10)))
    assert square.axes[0].get_aspect() == 1.0
    assert strip.axes[0].get_aspect() == "auto"
