"""The PIG benchmark problems: exact solutions satisfy their residuals and conditions; the
nonlinear-diffusion finite-difference reference converges at second order."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.core.conditions import Dirichlet, Initial
from sciml.core.residual import AutogradField, Coordinates
from sciml.problems.flow_mixing import flow_mixing_3d, vortex_angular_speed
from sciml.problems.helmholtz import helmholtz_2d
from sciml.problems.klein_gordon import klein_gordon_3d
from sciml.problems.nonlinear_diffusion import diffusion_initial, nonlinear_diffusion_3d
from sciml.reference.finite_difference import solve_nonlinear_diffusion


def _points(problem, n, seed=0):
    gen = torch.Generator().manual_seed(seed)
    box = problem.domain
    return torch.as_tensor(box.lower) + torch.rand(
        n, box.ndim, generator=gen, dtype=torch.float64
    ) * torch.as_tensor(box.lengths)


@pytest.mark.parametrize(
    "problem",
    [helmholtz_2d(), helmholtz_2d(a1=2.5, a2=3), klein_gordon_3d(), flow_mixing_3d()],
    ids=lambda p: p.name,
)
def test_exact_solution_satisfies_residual(problem):
    pts = _points(problem, 300)
    u = AutogradField.from_function(problem.exact, pts, problem.domain.names)
    res = problem.residual(u, u.coords).detach()
    assert res.abs().max() < 1e-11


def test_residual_is_not_trivially_zero():
    problem = helmholtz_2d()
    pts = _points(problem, 50)
    u = AutogradField.from_function(lambda c: 1.01 * problem.exact(c), pts, ("x", "y"))
    assert problem.residual(u, u.coords).detach().abs().max() > 1e-2


def test_helmholtz_source_by_hand():
    # f = (k^2 - 17 pi^2) u* for a1 = 4, a2 = 1; the residual of u = x^2 is 2 + x^2 - f.
    problem = helmholtz_2d()
    pts = torch.tensor([[0.5, 0.125]], dtype=torch.float64)
    u = AutogradField.from_function(lambda c: c.x**2, pts, ("x", "y"))
    f = (1 - 17 * math.pi**2) * math.sin(4 * math.pi * 0.125) * math.sin(math.pi * 0.5)
    expected = 2 + 0.25 - f
    assert float(problem.residual(u, u.coords).detach()) == pytest.approx(expected, rel=1e-12)
    assert problem.conditions[0].g == 0.0


def test_klein_gordon_initial_data():
    problem = klein_gordon_3d()
    pts = _points(problem, 20)
    pts[:, 2] = 0.0
    u = AutogradField.from_function(problem.exact, pts, problem.domain.names)
    inits = [c for c in problem.conditions if isinstance(c, Initial)]
    assert [c.derivative for c in inits] == [0, 1]
    torch.testing.assert_close(inits[0].value(u.coords), u.value.detach())
    torch.testing.assert_close(inits[1].value(u.coords), u.d("t").detach())
    assert problem.domain["t"] == (0.0, 10.0)


def test_flow_mixing_rotation_and_origin():
    problem = flow_mixing_3d()
    # Rigid rotation: u at time t is the initial profile rotated by omega(r) t.
    x, y, t = 1.3, -0.4, 2.0
    omega = float(
        vortex_angular_speed(
            torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        )
    )
    c, s = math.cos(omega * t), math.sin(omega * t)
    y0 = -x * s + y * c  # y-coordinate of the point rotated back by omega t
    value = problem.exact_values(np.array([[x, y, t]]))[0]
    assert value == pytest.approx(-math.tanh(y0 / 2), rel=1e-12)
    assert float(vortex_angular_speed(torch.tensor(0.0), torch.tensor(0.0))) == pytest.approx(
        1 / 0.385
    )
    (init,) = [c for c in problem.conditions if isinstance(c, Initial)]
    pts = torch.tensor([[0.3, 1.0, 0.0]], dtype=torch.float64)
    coords = Coordinates.from_points(pts, problem.domain.names)
    torch.testing.assert_close(init.value(coords), problem.exact(coords))


def test_nonlinear_diffusion_fd_converges_at_second_order():
    def run(n):
        axis = np.linspace(-1, 1, n)
        xm, ym = np.meshgrid(axis, axis, indexing="ij")
        return solve_nonlinear_diffusion(diffusion_initial(xm, ym), 0.05, 0.5, 3)[-1]

    coarse, mid, fine = run(21), run(41), run(81)
    e1 = np.abs(coarse - fine[::4, ::4]).max()
    e2 = np.abs(mid - fine[::2, ::2]).max()
    # Richardson: e1 / e2 = (4^p - 1) / (2^p - 1) * ... ~ 5 for p = 2 (3 for p = 1).
    assert e1 / e2 > 4.0


def test_nonlinear_diffusion_maximum_principle_and_boundary():
    axis = np.linspace(-1, 1, 41)
    xm, ym = np.meshgrid(axis, axis, indexing="ij")
    u = solve_nonlinear_diffusion(diffusion_initial(xm, ym), 0.05, 1.0, 5)
    assert u.shape == (5, 41, 41)
    assert np.all(u[:, 0, :] == 0) and np.all(u[:, :, -1] == 0)
    assert np.all(np.diff(u.max(axis=(1, 2))) < 0)
    assert u.min() > -1e-12


def test_nonlinear_diffusion_problem():
    problem = nonlinear_diffusion_3d(n_ref=41, n_save=11)
    assert isinstance(problem.conditions[0], Dirichlet) and problem.conditions[0].g == 0.0
    pts = np.array([[0.3, 0.2, 0.0], [-1.0, 0.5, 0.4]])
    values = problem.exact_values(pts)
    assert values[0] == pytest.approx(float(diffusion_initial(0.3, 0.2)), rel=1e-12)
    assert values[1] == 0.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="v_max"):
        flow_mixing_3d(v_max=-1)
    with pytest.raises(ValueError, match="t_end"):
        klein_gordon_3d(t_end=0)
    with pytest.raises(ValueError, match="alpha"):
        nonlinear_diffusion_3d(alpha=0)
    with pytest.raises(ValueError, match="cfl"):
        solve_nonlinear_diffusion(np.zeros((5, 5)), cfl=0.5)
