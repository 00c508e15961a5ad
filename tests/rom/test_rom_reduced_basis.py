import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

from sciml.core.parameters import ParameterSpace
from sciml.core.problem import ParametricProblem
from sciml.problems.nonaffine_diffusion import nonaffine_diffusion_1d
from sciml.problems.thermal_block import thermal_block
from sciml.rom.coercivity import MinThetaBound, SuccessiveConstraintBound
from sciml.rom.models import AffineModel
from sciml.rom.reduced_basis import (
    NonintrusiveReducedBasisSolver,
    ReducedBasisSolver,
    weak_greedy,
)
from sciml.testing import SolverConformance


@pytest.fixture(scope="module")
def block():
    return thermal_block(blocks=2, n=12)


@pytest.fixture(scope="module")
def fitted(block):
    return ReducedBasisSolver(tol=1e-7, max_basis=30, n_train=200, progress=False,
                              device="cpu").fit(block)


def _dual_norm(x, r):
    return np.sqrt(r @ np.linalg.solve(x.toarray(), r))


def test_reduced_solution_is_galerkin_projection(block, fitted):
    model = block.model
    v = fitted.basis_
    np.testing.assert_allclose(v.T @ (model.product @ v), np.eye(v.shape[1]), atol=1e-10)
    mu = np.array([0.3, 0.9, 0.15, 0.6])
    a = model.operator(mu).toarray()
    f = model.rhs(mu)
    oracle = v @ np.linalg.solve(v.T @ a @ v, v.T @ f)
    u, bound = fitted.predict(mu, return_bound=True)
    np.testing.assert_allclose(u, oracle, rtol=1e-9, atol=1e-14)
    # The bound is the dense residual dual norm over the min-theta coercivity bound.
    residual = f - a @ u
    expected = _dual_norm(model.product, residual) / mu.min()
    assert bound == pytest.approx(expected, rel=1e-6)


def test_bound_is_rigorous_and_greedy_converged(block, fitted):
    mus = block.sample(30, seed=11)
    u_rb, bounds = fitted.predict(mus, return_bound=True)
    x = block.model.product
    for mu, u, b in zip(mus, u_rb, bounds):
        e = block.solve(mu) - u
        err = np.sqrt(e @ (x @ e))
        assert b >= err * (1 - 1e-8)
        assert err / np.sqrt(u @ (x @ u)) < 1e-6
    assert fitted.max_bounds_[-1] <= 1e-7
    assert np.all(np.diff(fitted.max_bounds_[1:]) < 1.0)  # stays bounded as N grows


def test_min_theta_bound_below_exact_coercivity(block):
    model = block.model
    for mu in block.sample(5, seed=2):
        exact = sla.eigh(model.operator(mu).toarray(), model.product.toarray(),
                         eigvals_only=True)[0]
        lb = model.coercivity(mu[None])[0]
        assert lb <= exact * (1 + 1e-10)
        assert lb >= 0.99 * mu.min()


def test_batched_online_matches_one_by_one(fitted):
    mus = np.random.default_rng(0).uniform(0.1, 1.0, (64, 4))
    u_batch, b_batch = fitted.predict(mus, return_bound=True)
    for i in (0, 17, 63):
        u, b = fitted.predict(mus[i], return_bound=True)
        np.testing.assert_allclose(u_batch[i], u, rtol=1e-10, atol=1e-15)
        assert b_batch[i] == pytest.approx(b, rel=1e-8)
    coeffs, bounds = fitted.solve_reduced(mus, n_basis=3)
    assert coeffs.shape == (64, 3) and bounds.shape == (64,)


def test_stable_estimator_decreases_below_gram_floor():
    problem = thermal_block(blocks=2, n=10)
    train = problem.sample(100, seed=0)
    stable = weak_greedy(problem.model, train, tol=1e-14, max_basis=45, progress=False,
                         device="cpu")
    gram = weak_greedy(problem.model, train, tol=1e-14, max_basis=45, estimator="gram",
                       progress=False, device="cpu")
    assert min(stable.max_bounds) < 1e-11
    # The classical formula cannot resolve residuals below ~sqrt(eps) relative to ||f||.
    assert min(gram.max_bounds) > 1e-10


def test_fit_needs_affine_model():
    p = ParametricProblem(ParameterSpace({"a": (0, 1)}), solve=lambda mu: np.zeros(3))
    with pytest.raises(ValueError, match="AffineModel"):
        ReducedBasisSolver(progress=False).fit(p)
    with pytest.raises(ValueError, match="estimator"):
        ReducedBasisSolver(estimator="fast", progress=False).fit(thermal_block(2, 4))


def test_load_rebuilds_from_recipe_and_from_problem(block, fitted, tmp_path):
    path = tmp_path / "rb.pt"
    fitted.save(path)
    mu = {"k0": 0.2, "k1": 0.5, "k2": 0.8, "k3": 0.35}
    for loaded in (ReducedBasisSolver.load(path, device="cpu"),
                   ReducedBasisSolver.load(path, device="cpu", problem=block)):
        u1, b1 = fitted.predict(mu, return_bound=True)
        u2, b2 = loaded.predict(mu, return_bound=True)
        np.testing.assert_array_equal(u1, u2)
        assert b1 == b2


def test_scm_bound_below_exact_coercivity():
    rng = np.random.default_rng(0)
    n = 20
    x = sp.diags([-np.ones(n - 1), 2.5 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).tocsr()
    b = rng.standard_normal((n, n))
    ops = [x, sp.csr_matrix(0.3 * (b + b.T) / np.sqrt(n)), sp.csr_matrix(np.diag(rng.random(n)))]

    def theta(mus):
        mus = np.atleast_2d(mus)
        return np.column_stack([np.ones(len(mus)), np.sin(3 * mus[:, 0]), mus[:, 0] ** 2])

    train = np.linspace(0, 1, 50)[:, None]
    scm = SuccessiveConstraintBound(tol=0.2, max_constraints=20, progress=False).fit(
        ops, theta, x, train)
    test = np.linspace(0.01, 0.99, 15)[:, None]
    lb = scm(test)
    for mu, low in zip(test, lb):
        a = sum(t * op.toarray() for t, op in zip(theta(mu)[0], ops))
        exact = sla.eigh(a, x.toarray(), eigvals_only=True)[0]
        assert low <= exact + 1e-10
    assert np.all(scm(train) <= scm(train) + 0)  # cached path returns valid numbers
    assert np.all(scm(train) > 0)


def test_affine_model_checks():
    space = ParameterSpace({"a": (0.1, 1)})
    with pytest.raises(ValueError, match="operators"):
        AffineModel(space, [], lambda m: m, np.ones((1, 3)), sp.eye(3))
    with pytest.raises(ValueError, match="theta"):
        MinThetaBound(lambda m: -np.ones((len(np.atleast_2d(m)), 1)), np.array([0.5]))


class TestReducedBasisConformance(SolverConformance):
    def make_problem(self):
        return thermal_block(blocks=2, n=8)

    def make_solver(self):
        return ReducedBasisSolver(tol=1e-6, max_basis=10, n_train=40, progress=False,
                                  device="cpu")

    def predict_input(self, problem):
        return {"k0": 0.5, "k1": 0.2, "k2": 0.9, "k3": 0.4}


@pytest.fixture(scope="module")
def nonaffine():
    problem = nonaffine_diffusion_1d(n=61)
    solver = NonintrusiveReducedBasisSolver(
        tol=1e-6, max_basis=15, n_train=60, n_eim_train=60, eim_terms=20, eim_tol=1e-10,
        scm_constraints=40, progress=False, device="cpu",
    ).fit(problem)
    return problem, solver


def test_nonintrusive_bound_certifies_eim_model(nonaffine):
    problem, solver = nonaffine
    a_eim = solver.eim_["operator"]
    x = problem.model.product
    for mu in problem.sample(10, seed=4):
        # The truth of the bound: the solution of the interpolated (affine) model.
        u_eim = np.linalg.solve(a_eim.approximate(mu).toarray(), problem.model.rhs(mu))
        u, b = solver.predict(mu, return_bound=True)
        e = u_eim - u
        assert b >= np.sqrt(e @ (x @ e)) * (1 - 1e-8)
        # And the interpolated model is close to the true one.
        u_true = problem.solve(mu)
        assert np.linalg.norm(u_eim - u_true) / np.linalg.norm(u_true) < 1e-6


class TestNonintrusiveConformance(SolverConformance):
    def make_problem(self):
        return nonaffine_diffusion_1d(n=41)

    def make_solver(self):
        return NonintrusiveReducedBasisSolver(
            tol=1e-4, max_basis=8, n_train=30, n_eim_train=30, eim_terms=12,
            scm_constraints=20, progress=False, device="cpu",
        )

    def predict_input(self, problem):
        return {"mu": 0.37}
