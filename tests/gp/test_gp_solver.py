"""KroneckerGPSolver: contract, accuracy against exact solutions, CG against a dense oracle."""

import math

import numpy as np
import pytest
import torch

from sciml.core.conditions import Dirichlet, Initial, Neumann
from sciml.core.grid import Box, Grid
from sciml.core.problem import PDEProblem
from sciml.core.residual import Coordinates
from sciml.gp.discretization import Discretization
from sciml.gp.kernels import SpectralMixture
from sciml.gp.solver import KroneckerGPSolver, _Constraints, _Context
from sciml.linalg import KroneckerOperator
from sciml.testing import SolverConformance


def poisson_sin(k=3.0, length=math.pi):
    def exact(x):
        return torch.sin(k * x.x)

    def residual(u, x):
        return u.d("xx") + k * k * torch.sin(k * x.x)

    return PDEProblem(Box(x=(0.0, length)), residual, [Dirichlet(exact)], exact=exact,
                      name="poisson_sin")


def poisson_2d(k=2.0):
    def exact(x):
        return torch.sin(k * x.x) * torch.cos(k * x.y)

    def residual(u, x):
        return u.d("xx") + u.d("yy") + 2 * k * k * exact(x)

    return PDEProblem(Box(x=(0.0, math.pi), y=(0.0, math.pi)), residual, [Dirichlet(exact)],
                      exact=exact, name="poisson2d")


def rel_error(problem, solver, n=57):
    grid = Grid.uniform(problem.domain, n)
    return problem.evaluate(solver, grid).metrics["exact"]["rel_l2"]


class TestConformance(SolverConformance):
    def make_problem(self):
        return poisson_sin()

    def make_solver(self):
        return KroneckerGPSolver(n_points=40, n_components=8, outer_iterations=2, hyper_steps=2,
                                 progress=False, device="cpu")

    def predict_input(self, problem):
        return np.linspace(0.1, 3.0, 7)[:, None]


def test_1d_poisson_is_accurate():
    problem = poisson_sin(k=3.0)
    solver = KroneckerGPSolver(n_points=48, n_components=10, max_frequency=1.5,
                               outer_iterations=1, progress=False, device="cpu").fit(problem)
    assert rel_error(problem, solver) < 1e-4
    assert solver.history_[0]["newton_steps"] == 1  # linear: one exact solve


def test_2d_conjugate_gradients_match_dense_normal_equations():
    problem = poisson_2d()
    n = 14
    kernels = [SpectralMixture(6, 2.0) for _ in range(2)]
    coords = [torch.linspace(0, math.pi, n, dtype=torch.float64) for _ in range(2)]
    disc = Discretization(kernels, coords, 1e-10, rank_tol=1e-9)
    mesh = torch.meshgrid(*coords, indexing="ij")
    pts = torch.stack([m.reshape(-1) for m in mesh], -1)
    x = Coordinates.from_points(pts, ("x", "y"))
    cons = _Constraints(problem, coords, x)
    ctx = _Context(problem, ("x", "y"), x, cons, None)
    ctx.configure(1e8, 1e8)
    ctx.set_scales(disc)
    v = disc.zeros()
    r0, coeffs = ctx.linearize(disc, v)
    solver = KroneckerGPSolver(n_points=n, cg_tol=1e-12, cg_maxiter=5000, progress=False)
    delta, iterations = solver._solve_linearized(disc, ctx, v, r0, coeffs)
    assert 0 < iterations < 200
    # Dense oracle of the same whitened normal equations.
    dense = {s: KroneckerOperator([disc.axes[a].factor(s[a]) for a in range(2)]).to_dense()
             for s in coeffs}
    jac = sum(c.reshape(-1, 1) * dense[s] for s, c in coeffs.items())
    r = KroneckerOperator([disc.axes[a].factor(0) for a in range(2)]).to_dense()
    mr = cons.interior.reshape(-1, 1)
    mb = cons.boundary.reshape(-1, 1).double()
    a = (torch.eye(jac.shape[1], dtype=torch.float64) + ctx.beta_r * jac.T @ (mr * jac)
         + ctx.beta_b * r.T @ (mb * r))
    b = -(ctx.beta_r * jac.T @ (mr[:, 0] * r0.reshape(-1))
          - ctx.beta_b * r.T @ (mb[:, 0] * cons.g.reshape(-1)))
    expected = torch.linalg.solve(a, b)
    torch.testing.assert_close(delta.reshape(-1), expected, rtol=1e-7, atol=1e-9)


def test_2d_poisson_is_accurate():
    problem = poisson_2d()
    solver = KroneckerGPSolver(n_points=32, n_components=8, max_frequency=1.0,
                               outer_iterations=1, progress=False, device="cpu").fit(problem)
    assert rel_error(problem, solver, n=41) < 1e-4


def test_nonlinear_uses_gauss_newton():
    k = 2.0

    def exact(x):
        return torch.sin(k * x.x)

    def residual(u, x):
        v = u.value
        e = exact(x)
        return u.d("xx") + v * (v * v - 1) - (-k * k * e + e * (e * e - 1))

    problem = PDEProblem(Box(x=(0.0, math.pi)), residual, [Dirichlet(exact)], exact=exact)
    solver = KroneckerGPSolver(n_points=40, n_components=8, max_frequency=1.5,
                               outer_iterations=1, progress=False, device="cpu").fit(problem)
    assert solver.history_[0]["newton_steps"] > 1
    assert rel_error(problem, solver) < 1e-4


def test_space_time_advection():
    c = 2.0

    def exact(x):
        return torch.sin(x.x - c * x.t)

    problem = PDEProblem(
        Box(x=(0.0, 1.0), t=(0.0, 1.0)),
        lambda u, x: u.d("t") + c * u.d("x"),
        [Initial(exact), Dirichlet(exact, on=("x-",))],
        exact=exact,
    )
    solver = KroneckerGPSolver(n_points={"x": 16, "t": 20}, n_components=6,
                               max_frequency={"x": 1.0, "t": 1.5}, outer_iterations=1,
                               progress=False, device="cpu").fit(problem)
    assert rel_error(problem, solver, n=21) < 1e-3


def test_posterior_std_vanishes_on_the_grid():
    problem = poisson_sin()
    solver = KroneckerGPSolver(n_points=20, n_components=6, outer_iterations=1, progress=False,
                               device="cpu").fit(problem)
    grid_x = solver.model_.coords()[0].numpy()
    mean, std = solver.predict(grid_x[:, None], return_std=True)
    assert np.all(std < 1e-3)
    _, std_mid = solver.predict(((grid_x[:-1] + grid_x[1:]) / 2)[:, None], return_std=True)
    assert np.all(std_mid > std.max())
    np.testing.assert_allclose(mean, solver.model_.values.numpy(), atol=1e-6)


def test_hyperparameter_steps_move_the_spectrum_and_adam_runs():
    problem = poisson_sin()
    solver = KroneckerGPSolver(n_points=30, n_components=6, outer_iterations=2, hyper_steps=3,
                               progress=False, device="cpu").fit(problem)
    freqs, weights = solver.spectrum()["x"]
    assert not np.allclose(weights, 1 / 6)
    assert np.all(np.isfinite(freqs))
    adam = KroneckerGPSolver(n_points=24, n_components=4, method="adam", adam_steps=30,
                             progress=False, device="cpu").fit(problem)
    losses = [h["loss"] for h in adam.history_]
    assert losses[-1] < losses[0]


def test_errors_name_the_argument():
    problem = PDEProblem(Box(x=(0.0, 1.0)), lambda u, x: u.d("xx"), [Neumann(0.0)])
    with pytest.raises(ValueError, match="Neumann is not supported"):
        KroneckerGPSolver(n_points=10, progress=False).fit(problem)
    with pytest.raises(ValueError, match="kernel"):
        KroneckerGPSolver(kernel="rbf")
    with pytest.raises(ValueError, match="n_points"):
        KroneckerGPSolver(n_points=2, progress=False).fit(poisson_sin())
    with pytest.raises(ValueError, match="points"):
        s = KroneckerGPSolver(n_points=10, n_components=3, outer_iterations=1, progress=False)
        s.fit(poisson_sin()).predict(np.zeros((3, 2)))
