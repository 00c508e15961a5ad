"""Learned noise precisions of KroneckerGPSolver and the learned-spectrum plot."""

import math

import numpy as np
import pytest
import torch

from sciml.core.conditions import Dirichlet
from sciml.core.grid import Box, Grid
from sciml.core.problem import PDEProblem
from sciml.core.residual import Coordinates
from sciml.gp.discretization import Discretization
from sciml.gp.kernels import SpectralMixture
from sciml.gp.solver import KroneckerGPSolver, _Constraints, _Context, closed_form_precision
from sciml.plot.gp import convergence as plot_convergence
from sciml.plot.gp import spectrum as plot_spectrum

K = 3.0


def poisson():
    """-u'' = K^2 sin(K x) on [0, pi], u = sin(K x) on the boundary."""

    def exact(x):
        return torch.sin(K * x.x)

    def residual(u, x):
        return u.d("xx") + K * K * torch.sin(K * x.x)

    return PDEProblem(Box(x=(0.0, math.pi)), residual, [Dirichlet(exact)], exact=exact)


def residual_scale_sq(n):
    """Mean square of the residual at u = 0 over the interior grid points (by hand)."""
    x = np.linspace(0.0, math.pi, n)[1:-1]
    return float(np.mean((K * K * np.sin(K * x)) ** 2))


def fit(**options):
    opts = dict(n_points=40, n_components=8, max_frequency=1.5, outer_iterations=3,
                hyper_steps=2, learn_precision=True, progress=False, device="cpu")
    return KroneckerGPSolver(**{**opts, **options}).fit(poisson())


def test_closed_form_precision_by_hand():
    # n / sum_sq inside the bounds; clipped outside them.
    assert closed_form_precision(4.0, 10.0, 7.0, 0.1, 100.0) == pytest.approx(2.5)
    assert closed_form_precision(4.0, 10.0, 7.0, 3.0, 100.0) == 3.0
    assert closed_form_precision(4.0, 10.0, 7.0, 0.1, 2.0) == 2.0
    # A residual fitted exactly: the maximiser is unbounded, so the upper bound.
    assert closed_form_precision(0.0, 10.0, 7.0, 0.1, 2.0) == 2.0
    # A failed solve or no points: keep the current precision.
    assert closed_form_precision(math.nan, 10.0, 7.0, 0.1, 100.0) == 7.0
    assert closed_form_precision(math.inf, 10.0, 7.0, 0.1, 100.0) == 7.0
    assert closed_form_precision(4.0, 0.0, 7.0, 0.1, 100.0) == 7.0


def test_precision_update_equals_hand_formula_from_given_residuals():
    # A zeroth-order residual r = U - h makes the residuals known exactly by hand.
    n = 12
    xs = np.linspace(0.0, 1.0, n)
    h = np.cos(3 * xs)
    g = (0.5, -0.25)

    def residual(u, x):
        return u.value - torch.cos(3 * x.x)

    def boundary(x):
        return torch.where(x.x < 0.5, g[0], g[1]).to(torch.float64)

    problem = PDEProblem(Box(x=(0.0, 1.0)), residual, [Dirichlet(boundary)])
    coords = [torch.linspace(0.0, 1.0, n, dtype=torch.float64)]
    disc = Discretization([SpectralMixture(4, 2.0)], coords, 1e-10, rank_tol=0.0)
    x = Coordinates.from_points(coords[0][:, None], ("x",))
    ctx = _Context(problem, ("x",), x, _Constraints(problem, coords, x), None)
    ctx.configure(1.0, 1.0)
    ctx.set_scales(disc)
    u = torch.as_tensor(h + 0.01 * np.sin(7 * xs) + 0.003, dtype=torch.float64)
    v = disc.whiten(u)
    u_np = disc.values(v).numpy()  # the round trip through the whitening, ~u
    np.testing.assert_allclose(u_np, u.numpy(), atol=1e-8)
    ctx.learn_precisions(disc, v, 1e-30, 1e30)
    expected_r = (n - 2) / np.sum((u_np[1:-1] - h[1:-1]) ** 2)
    expected_b = 2 / ((u_np[0] - g[0]) ** 2 + (u_np[-1] - g[1]) ** 2)
    assert ctx.beta_r == pytest.approx(expected_r, rel=1e-10)
    assert ctx.beta_b == pytest.approx(expected_b, rel=1e-10)
    # Bounds are relative to the scales fixed at u = 0: rms(h) inside, rms(g) on the boundary.
    scale_r2 = np.mean(h[1:-1] ** 2)
    scale_b2 = (g[0] ** 2 + g[1] ** 2) / 2
    ctx.learn_precisions(disc, v, 1e-30, 1e-3)
    assert ctx.beta_r == pytest.approx(1e-3 / scale_r2, rel=1e-10)
    assert ctx.beta_b == pytest.approx(1e-3 / scale_b2, rel=1e-10)


def test_learned_precisions_are_bounded_recorded_and_accurate():
    solver = fit()
    beta_r, beta_b = solver.precisions_["residual"], solver.precisions_["boundary"]
    assert math.isfinite(beta_r) and math.isfinite(beta_b)
    s2 = residual_scale_sq(40)
    # The residual precision moved away from its initial value, inside the bounds.
    assert beta_r != pytest.approx(1e18 / s2, rel=1e-3)
    assert 1.0 / s2 <= beta_r <= 1e26 / s2
    # The boundary data sin(0), sin(3 pi) vanish, so the boundary scale is 1.
    assert 1.0 <= beta_b <= 1e26
    assert len(solver.history_) == 3
    problem = poisson()
    grid = Grid.uniform(problem.domain, 57)
    assert problem.evaluate(solver, grid).metrics["exact"]["rel_l2"] < 1e-4


def test_bounds_bind_exactly():
    # The residual's maximiser (~1e15 relative here) lies below min_precision, and the
    # boundary, fitted to round-off, asks for more than max_precision.
    solver = fit(min_precision=1e16, max_precision=1e20, outer_iterations=2)
    s2 = residual_scale_sq(40)
    assert solver.precisions_["residual"] == pytest.approx(1e16 / s2, rel=1e-10)
    assert solver.precisions_["boundary"] == pytest.approx(1e20, rel=1e-10)


def test_fixed_precisions_are_the_initial_ones():
    solver = fit(learn_precision=False, outer_iterations=1)
    s2 = residual_scale_sq(40)
    assert solver.precisions_["residual"] == pytest.approx(1e18 / s2, rel=1e-10)
    assert solver.precisions_["boundary"] == pytest.approx(1e24, rel=1e-10)


def test_min_precision_above_max_is_rejected():
    with pytest.raises(ValueError, match="min_precision"):
        KroneckerGPSolver(min_precision=1e5, max_precision=1e4)


def test_save_load_keeps_learned_precisions_and_spectra(tmp_path):
    solver = fit()
    path = tmp_path / "gp.pt"
    solver.save(path)
    loaded = KroneckerGPSolver.load(path, device="cpu")
    assert loaded.precisions_ == solver.precisions_
    assert loaded.min_precision == solver.min_precision
    assert loaded.learn_precision
    for a, (f0, w0) in solver.initial_spectrum_.items():
        np.testing.assert_array_equal(loaded.initial_spectrum_[a][0], f0)
        np.testing.assert_array_equal(loaded.initial_spectrum_[a][1], w0)
    pts = np.linspace(0.1, 3.0, 9)[:, None]
    np.testing.assert_allclose(loaded.predict(pts), solver.predict(pts), rtol=0, atol=1e-12)


def test_spectrum_plot_shows_initial_and_learned_weights_on_log_scale(tmp_path):
    solver = fit(learn_precision=False, hyper_steps=5, hyper_lr=0.1)
    f0, w0 = solver.initial_spectrum_["x"]
    np.testing.assert_allclose(w0, 1 / 8)  # the uniform initial weights
    _, w1 = solver.spectrum()["x"]
    assert not np.allclose(w1, w0)  # the hyperparameter steps moved the weights
    fig = plot_spectrum(solver, path=tmp_path / "spectrum.png")
    assert (tmp_path / "spectrum.png").stat().st_size > 0
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    labels = ax.get_legend_handles_labels()[1]
    assert "initial" in labels and "learned" in labels
    low, high = ax.get_ylim()
    both = np.concatenate([w0, w1])
    assert 0 < low < both.min() and both.max() < high
    # The grey stems are at the initial frequencies, reaching the initial weights.
    stems = next(c for c in ax.collections if c.get_label() == "initial").get_segments()
    np.testing.assert_allclose([s[0, 0] for s in stems], f0)
    np.testing.assert_allclose([s[1, 1] for s in stems], w0)


def test_convergence_plot_uses_a_plain_log_time_axis(tmp_path):
    fast = [{"time": 0.3, "error": 1e-3}, {"time": 30.0, "error": 4e-6}]
    slow = [{"time": 2.0 * k, "error": 1.0 / k, "residual_rms": 10.0 / k} for k in range(1, 6)]
    fig = plot_convergence({"alternating": fast, "adam": slow}, path=tmp_path / "conv.png")
    assert (tmp_path / "conv.png").stat().st_size > 0
    assert len(fig.axes) == 2  # error and residual_rms
    for ax in fig.axes:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        low, high = ax.get_xlim()
        assert 0 < low and high >= 10.0
        # Every tick label on the time axis is a positive time (no symlog -10^k ticks).
        assert all(t > 0 for t in ax.get_xticks() if low <= t <= high)
    # A zero time cannot sit on a log axis: the panel falls back to a linear one.
    fig = plot_convergence([{"time": 0.0, "error": 1.0}, {"time": 1.0, "error": 0.5}])
    assert fig.axes[0].get_xscale() == "linear"
