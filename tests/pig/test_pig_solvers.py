"""PIGSolver and PINNSolver: the Solver contract, the loss terms of every condition kind
against exact solutions, hard constraints, options, and that training really converges."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from sciml.core.conditions import Dirichlet, Initial, Neumann, Periodic
from sciml.core.grid import Box, Grid
from sciml.core.problem import PDEProblem
from sciml.core.residual import Coordinates
from sciml.pig import PIGSolver, PINNSolver, Training
from sciml.pig.training import _build_terms
from sciml.problems.helmholtz import helmholtz_2d
from sciml.problems.klein_gordon import klein_gordon_3d
from sciml.testing import SolverConformance

TINY = Training(adam_steps=3, lbfgs_steps=2, n_collocation=64, n_boundary=32, n_initial=32)


def poisson_1d() -> PDEProblem:
    """u'' = -pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0; exact u = sin(pi x)."""

    def residual(u, x):
        return u.d("xx") + math.pi**2 * torch.sin(math.pi * x.x)

    return PDEProblem(
        Box(x=(0.0, 1.0)),
        residual,
        [Dirichlet(0.0)],
        exact=lambda x: torch.sin(math.pi * x.x),
        name="poisson_1d",
    )


class _PointsInput:
    def predict_input(self, problem):
        return Grid.uniform(problem.domain, 7).points()


class TestPIGConformance(_PointsInput, SolverConformance):
    def make_problem(self):
        return helmholtz_2d()

    def make_solver(self):
        return PIGSolver(n_gaussians=16, training=TINY, progress=False, device="cpu")


class TestPINNConformance(_PointsInput, SolverConformance):
    def make_problem(self):
        return klein_gordon_3d()

    def make_solver(self):
        return PINNSolver(width=8, depth=2, fourier_features=4, training=TINY, progress=False)


class Exact(nn.Module):
    """A 'network' that is the given function, so every loss term must vanish."""

    def __init__(self, fn, names):
        super().__init__()
        self.fn, self.names = fn, names
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return self.fn(Coordinates.from_points(x, self.names)) + self.dummy


def _term_losses(problem, fn):
    terms = _build_terms(problem, TINY, False, lambda t: t)
    model = Exact(fn, problem.domain.names).double()
    gen = torch.Generator().manual_seed(0)
    return {t.name: float(t.loss(model, t.sample(gen)).detach()) for t in terms}


def test_all_terms_vanish_at_the_exact_solution():
    losses = _term_losses(klein_gordon_3d(), klein_gordon_3d().exact)
    assert set(losses) == {"residual", "boundary", "initial"}
    assert max(losses.values()) < 1e-20

    # Periodic in x (value and slope) and Neumann on y: u = sin(pi x) cos(pi y) e^{-t}.
    def u(c):
        return torch.sin(math.pi * c.x) * torch.cos(math.pi * c.y) * torch.exp(-c.t)

    def residual(v, c):
        return v.d("t") - (v.d("xx") + v.d("yy")) / (2 * math.pi**2)

    problem = PDEProblem(
        Box(x=(-1, 1), y=(0, 1), t=(0, 1)),
        residual,
        [Periodic(("x",)), Neumann(0.0, on=("y-", "y+")), Initial(lambda c: u(c))],
    )
    losses = _term_losses(problem, u)
    assert set(losses) == {"residual", "periodic", "boundary", "initial"}
    assert max(losses.values()) < 1e-20


def test_terms_detect_wrong_fields():
    problem = klein_gordon_3d()
    losses = _term_losses(problem, lambda c: problem.exact(c) + 0.1 * c.t)
    # u + 0.1 t: boundary off by 0.1 t, u_t(0) off by 0.1, value at t = 0 exact.
    assert losses["boundary"] == pytest.approx(0.01 * 100 / 3, rel=0.2)
    assert 0.01 * 0.9 < losses["initial"] < 0.01 * 1.1

    def neumann_problem(g):
        return PDEProblem(Box(x=(0, 1)), lambda v, c: v.d("xx"), [Neumann(g, on=("x+",))])

    # u = x^2 + x has outward derivative 3 on x+; with g = 1 the loss is (3 - 1)^2 = 4.
    losses = _term_losses(neumann_problem(1.0), lambda c: c.x**2 + c.x)
    assert losses["boundary"] == pytest.approx(4)


def test_pig_converges_on_poisson_with_hard_constraint():
    problem = poisson_1d()
    solver = PIGSolver(
        n_gaussians=24,
        sigma_init=0.2,
        hard_dirichlet=True,
        training=Training(adam_steps=300, lr=2e-2, lbfgs_steps=200, n_collocation=128),
        progress=False,
        seed=1,
    ).fit(problem)
    err = problem.evaluate(solver).metrics["exact"]["rel_l2"]
    assert err < 2e-3
    assert solver.predict(np.array([[0.0], [1.0]])) == pytest.approx([0.0, 0.0], abs=1e-15)
    phases = {h["phase"] for h in solver.history_}
    assert phases == {"adam", "lbfgs", "final"}
    losses = [h["loss"] for h in solver.history_]
    assert losses[-1] < 1e-3 * losses[0]


def test_pinn_converges_on_poisson_with_penalty():
    problem = poisson_1d()
    solver = PINNSolver(
        width=16,
        depth=2,
        training=Training(adam_steps=300, lr=1e-2, lbfgs_steps=200, n_collocation=128),
        progress=False,
    ).fit(problem)
    assert problem.evaluate(solver).metrics["exact"]["rel_l2"] < 1e-2


def test_gaussians_move_and_round_trip(tmp_path):
    problem = helmholtz_2d()
    solver = PIGSolver(n_gaussians=10, training=TINY, progress=False).fit(problem)
    mu0, cov0 = solver.initial_gaussians_
    mu, cov = solver.gaussians()
    assert mu.shape == (10, 2) and cov.shape == (10, 2, 2)
    assert not np.allclose(mu, mu0)
    # Physical units: sigma_init 0.1 of the half-width 1 gives variance 0.01.
    np.testing.assert_allclose(cov0[:, 0, 0], 0.01, rtol=1e-6)
    solver.save(tmp_path / "pig.pt")
    loaded = PIGSolver.load(tmp_path / "pig.pt", device="cpu")
    np.testing.assert_array_equal(loaded.initial_gaussians_[0], mu0)
    np.testing.assert_array_equal(loaded.gaussians()[0], mu)
    assert loaded.history_ == solver.history_
    with pytest.raises(ValueError, match="PIGSolver"):
        PINNSolver.load(tmp_path / "pig.pt")


def test_hard_constraint_survives_save_load(tmp_path):
    problem = helmholtz_2d()
    solver = PIGSolver(n_gaussians=8, hard_dirichlet=True, training=TINY, progress=False)
    solver.fit(problem)
    edge = np.array([[-1.0, 0.3], [0.2, 1.0]])
    assert np.all(solver.predict(edge) == 0.0)
    solver.save(tmp_path / "hard.pt")
    loaded = PIGSolver.load(tmp_path / "hard.pt", device="cpu")
    pts = np.random.default_rng(0).uniform(-1, 1, (20, 2))
    np.testing.assert_array_equal(loaded.predict(pts), solver.predict(pts))


def test_hard_constraint_needs_constant_data():
    with pytest.raises(ValueError, match="constant Dirichlet"):
        PIGSolver(n_gaussians=4, hard_dirichlet=True, training=TINY, progress=False).fit(
            klein_gordon_3d()
        )


def test_adaptive_weights_and_time_budget():
    problem = poisson_1d()
    opts = Training(adam_steps=10_000, adaptive_weights=True, adapt_every=5, time_budget=1.0)
    solver = PINNSolver(width=8, depth=1, training=opts, progress=False).fit(problem)
    assert solver.weights_["boundary"] != 1.0
    assert solver.weights_["residual"] == 1.0
    assert solver.history_[-2]["step"] < 9_999
    assert solver.timings_["fit"] < 10.0


def test_float32_and_predict_shapes():
    problem = poisson_1d()
    solver = PIGSolver(n_gaussians=4, dtype="float32", training=TINY, progress=False)
    solver.fit(problem)
    out = solver.predict(np.linspace(0, 1, 5)[:, None])
    assert out.shape == (5,) and out.dtype == np.float64
    with pytest.raises(ValueError, match=r"points: expected shape \(n, 1\)"):
        solver.predict(np.zeros((3, 2)))


def test_bad_options():
    with pytest.raises(ValueError, match="weights"):
        Training(weights={"pde": 1.0})
    with pytest.raises(ValueError, match="lr_decay"):
        Training(lr_decay=1.5)
    with pytest.raises(ValueError, match="dtype"):
        PIGSolver(dtype="float16")
    with pytest.raises(ValueError, match="covariance"):
        PIGSolver(covariance="round")
    with pytest.raises(ValueError, match="training"):
        PINNSolver(training={"adam_steps": 3})
    with pytest.raises(ValueError, match="problem"):
        PIGSolver(training=TINY).fit("helmholtz")


def test_monitor_records_test_error():
    problem = poisson_1d()
    pts = np.linspace(0, 1, 11)[:, None]
    truth = np.sin(np.pi * pts[:, 0])
    solver = PIGSolver(n_gaussians=8, training=Training(adam_steps=20, log_every=5), progress=False)
    solver.fit(problem, monitor=lambda u: {"err": float(np.abs(u(pts) - truth).max())})
    errs = [h["err"] for h in solver.history_]
    assert len(errs) == 5  # steps 0, 5, 10, 15 and the final record
    assert errs[-1] == pytest.approx(np.abs(solver.predict(pts) - truth).max())


def test_lbfgs_resampling_restarts_on_fresh_points():
    problem = poisson_1d()
    opts = Training(adam_steps=5, lbfgs_steps=40, lbfgs_resample_every=20, n_collocation=32)
    solver = PINNSolver(width=8, depth=1, training=opts, progress=False).fit(problem)
    steps = [h["step"] for h in solver.history_ if h["phase"] == "lbfgs"]
    assert steps == [15, 25, 35, 45]
    with pytest.raises(ValueError, match="lbfgs_resample_every"):
        Training(lbfgs_resample_every=-1)


def test_sobol_sampling_stays_in_the_box_and_covers_it_evenly():
    from sciml.pig.training import _uniform

    box = Box(x=(-1.0, 3.0), t=(0.0, 2.0))
    gen = torch.Generator().manual_seed(0)
    pts = _uniform(box, 1024, gen, sobol=True)
    assert pts.shape == (1024, 2)
    assert bool((pts[:, 0] >= -1).all() and (pts[:, 0] <= 3).all())
    assert bool((pts[:, 1] >= 0).all() and (pts[:, 1] <= 2).all())
    # Even coverage: every cell of a 16 x 16 grid holds 4 points (i.i.d. points: 0 to ~10).
    cells = ((pts - torch.tensor([-1.0, 0.0])) / torch.tensor([4.0, 2.0]) * 16).long()
    counts = torch.bincount(cells[:, 0] * 16 + cells[:, 1], minlength=256)
    assert int(counts.min()) == 4 and int(counts.max()) == 4
    # Each draw is a fresh scramble.
    assert not torch.equal(pts, _uniform(box, 1024, gen, sobol=True))
    with pytest.raises(ValueError, match=r"sampling: got 'grid'; allowed \('uniform', 'sobol'\)"):
        Training(sampling="grid")


def test_lbfgs_can_keep_its_history_across_redraws():
    problem = poisson_1d()
    opts = Training(
        adam_steps=5,
        lbfgs_steps=40,
        lbfgs_resample_every=10,
        lbfgs_keep_history=True,
        lbfgs_history=5,
        n_collocation=32,
        sampling="sobol",
    )
    solver = PINNSolver(width=8, depth=1, training=opts, progress=False).fit(problem)
    assert [h["step"] for h in solver.history_ if h["phase"] == "lbfgs"] == [15, 25, 35, 45]
    assert solver.history_[-1]["loss"] < solver.history_[0]["loss"]
    with pytest.raises(ValueError, match="lbfgs_keep_history"):
        Training(lbfgs_keep_history=1)
    with pytest.raises(ValueError, match="lbfgs_history"):
        Training(lbfgs_history=0)


def test_adaptive_sampling_crowds_points_where_the_residual_is_large():
    # The zero model's residual is the source alone: 1 on x > 0.8, 0.01 elsewhere.
    def residual(u, x):
        return u.d("x") - torch.where(x.x > 0.8, 1.0, 0.01)

    problem = PDEProblem(Box(x=(0.0, 1.0)), residual, [Dirichlet(0.0)], name="step")
    zero = nn.Sequential(nn.Linear(1, 1, bias=False), nn.Flatten(0)).double()
    nn.init.zeros_(zero[0].weight)
    gen = torch.Generator().manual_seed(0)

    def share(**options) -> float:
        opts = Training(n_collocation=2000, **options)
        terms = _build_terms(problem, opts, False, lambda t: t)
        (term,) = [t for t in terms if t.name == "residual"]
        pts = term.draw(gen, zero)
        assert pts.shape == (2000, 1)
        assert bool((pts >= 0).all() and (pts <= 1).all())
        return float((pts > 0.8).double().mean())

    assert share() == pytest.approx(0.2, abs=0.01)  # off: an even Sobol sample
    # On: density |r| / mean|r| + c; mean |r| ~ 0.208, so x > 0.8 carries ~0.6 of it (c = 1,
    # pool 8, without replacement: every candidate there is taken, 0.2 * 8 * 2000 > 2000 * 0.6).
    adaptive = share(adaptive_sampling=True)
    assert 0.5 < adaptive < 0.7
    assert share(adaptive_sampling=True, adaptive_c=0.0) > 0.95
    with pytest.raises(ValueError, match="adaptive_sampling"):
        Training(adaptive_sampling=1)
    with pytest.raises(ValueError, match="adaptive_pool"):
        Training(adaptive_pool=0)
    with pytest.raises(ValueError, match="adaptive_k"):
        Training(adaptive_k=-1.0)


def test_adaptive_sampling_in_a_fit():
    problem = poisson_1d()
    opts = Training(
        adam_steps=20, resample_every=5, lbfgs_steps=20, n_collocation=64, adaptive_sampling=True
    )
    solver = PIGSolver(n_gaussians=16, sigma_init=0.3, training=opts, progress=False)
    solver.fit(problem)
    assert solver.history_[-1]["loss"] < solver.history_[0]["loss"]
