"""Allen–Cahn problems: manufactured solutions satisfy their residuals; the ETDRK4 reference
agrees with an independent finer solve and with the equation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.core.conditions import Dirichlet, Initial, Periodic
from sciml.core.residual import AutogradField, Coordinates
from sciml.problems.allen_cahn import (
    CASES_1D,
    CASES_2D,
    allen_cahn,
    allen_cahn_1d,
    allen_cahn_2d,
    manufactured_1d,
    solve_allen_cahn,
)


def _points(problem, n, seed=0):
    gen = torch.Generator().manual_seed(seed)
    box = problem.domain
    lo = torch.as_tensor(box.lower)
    return lo + torch.rand(n, box.ndim, generator=gen, dtype=torch.float64) * torch.as_tensor(
        box.lengths
    )


@pytest.mark.parametrize(
    "factory,case", [(allen_cahn_1d, c) for c in CASES_1D] + [(allen_cahn_2d, c) for c in CASES_2D]
)
def test_exact_solution_satisfies_residual(factory, case):
    problem = factory(case)
    pts = _points(problem, 200)
    u = AutogradField.from_function(problem.exact, pts, problem.domain.names)
    res = problem.residual(u, u.coords).detach()
    # The source is O(k^2) (up to 2.5e5); autograd and the closed form agree to round-off.
    scale = 1.0 + u.d(problem.domain.names[0] * 2).detach().abs().max()
    assert res.abs().max() / scale < 1e-12
    (dirichlet,) = [c for c in problem.conditions if isinstance(c, Dirichlet)]
    x = Coordinates.from_points(pts, problem.domain.names)
    torch.testing.assert_close(dirichlet.value(x), problem.exact(x))


def test_residual_detects_wrong_field():
    problem = allen_cahn_1d("sin100")
    pts = _points(problem, 50)
    u = AutogradField.from_function(lambda c: torch.sin(100 * c.x) + 0.01, pts, ("x",))
    res = problem.residual(u, u.coords).detach()
    assert res.abs().min() > 1e-4


def test_laplacian_matches_finite_differences():
    # Independent check of the hand-written second derivatives.
    for case in CASES_1D:
        m = manufactured_1d(case)
        x = torch.linspace(0.1, 0.9, 7, dtype=torch.float64)
        h = 1e-4

        def f(s, m=m):
            return m.u(Coordinates({"x": s}))

        fd = (f(x + h) - 2 * f(x) + f(x - h)) / h**2
        exact = m.laplacian(Coordinates({"x": x}))
        assert torch.allclose(fd, exact, rtol=1e-4, atol=1e-3 * (1 + exact.abs().max()))


def test_unknown_case_names_allowed():
    with pytest.raises(ValueError, match="sin100"):
        allen_cahn_1d("sin101")
    with pytest.raises(ValueError, match="sin6cos20"):
        allen_cahn_2d("nope")


def test_cases_and_domains():
    assert CASES_1D == ("sin100", "xsin200", "sin6cos100", "multiscale", "sin500")
    assert CASES_2D == ("sin100", "sin6cos20")
    assert allen_cahn_1d("sin500").domain["x"] == (0.0, 1.0)
    assert allen_cahn_2d("sin100").domain["y"] == pytest.approx((0.0, 2 * math.pi))


@pytest.fixture(scope="module")
def coarse_reference():
    return solve_allen_cahn(n_x=256, dt=2e-4, n_save=201)


def test_reference_initial_condition_and_bounds(coarse_reference):
    x = np.linspace(-1, 1, 101)
    np.testing.assert_allclose(
        coarse_reference(x, np.zeros_like(x)), x**2 * np.cos(np.pi * x), atol=2e-3
    )  # the kink at x = +-1 is not periodic-smooth
    vals = coarse_reference.grid_values()
    assert np.abs(vals).max() < 1.01
    # The known late-time state (Raissi et al. 2019, fig. 4): -1 near the ends, plateaus
    # near +1 on 0.1 < |x| < 0.4 and a shallow dip at x = 0.
    late = coarse_reference(np.array([-0.8, -0.3, 0.0, 0.3, 0.8]), np.ones(5))
    assert late == pytest.approx([-1.0, 0.99, 0.03, 0.99, -1.0], abs=0.05)


def test_reference_converges(coarse_reference):
    fine = solve_allen_cahn(n_x=512, dt=5e-5, n_save=401)
    rng = np.random.default_rng(0)
    x, t = rng.uniform(-1, 1, 3000), rng.uniform(0, 1, 3000)
    a, b = coarse_reference(x, t), fine(x, t)
    assert np.linalg.norm(a - b) / np.linalg.norm(b) < 1e-3


def test_reference_satisfies_equation():
    # Finite differences of the interpolant against the PDE, away from t = 0.
    ref = solve_allen_cahn(n_x=256, dt=2e-4, n_save=201)
    x = np.linspace(-0.9, 0.9, 41)
    t = np.full_like(x, 0.6)
    h, k = 1e-3, 1e-3
    u = ref(x, t)
    ut = (ref(x, t + k) - ref(x, t - k)) / (2 * k)
    uxx = (ref(x + h, t) - 2 * u + ref(x - h, t)) / h**2
    res = ut - 1e-4 * uxx + 5 * u**3 - 5 * u
    assert np.abs(res).max() < 1e-3


def test_time_dependent_problem():
    problem = allen_cahn(reference_n_x=128, reference_dt=1e-3)
    assert problem.domain.names == ("x", "t")
    assert problem.time_axis == "t"
    assert any(isinstance(c, Periodic) for c in problem.conditions)
    (init,) = [c for c in problem.conditions if isinstance(c, Initial)]
    x = Coordinates({"x": torch.tensor([0.5, 1.0], dtype=torch.float64)})
    torch.testing.assert_close(
        init.value(x), torch.tensor([0.25 * math.cos(math.pi / 2), -1.0], dtype=torch.float64)
    )
    values = problem.exact_values(np.array([[0.0, 0.0], [1.0, 0.0]]))
    np.testing.assert_allclose(values, [0.0, -1.0], atol=0.02)
