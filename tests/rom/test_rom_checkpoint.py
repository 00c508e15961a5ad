"""Checkpoints of reduced-basis solvers: save -> load -> save -> load is exact."""

import warnings

import numpy as np
import pytest
import scipy.linalg as sla
import torch

from sciml.problems.nonaffine_diffusion import nonaffine_diffusion_1d
from sciml.problems.thermal_block import thermal_block
from sciml.rom import CoercivityWarning, MatrixEIM, SuccessiveConstraintBound
from sciml.rom.reduced_basis import NonintrusiveReducedBasisSolver, ReducedBasisSolver


def _round_trip(solver, tmp_path):
    cls = type(solver)
    solver.save(tmp_path / "a.pt")
    once = cls.load(tmp_path / "a.pt", device="cpu")
    once.save(tmp_path / "b.pt")
    twice = cls.load(tmp_path / "b.pt", device="cpu")
    return once, twice


def _assert_same_predictions(solvers, mus):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoercivityWarning)
        ref_u, ref_b = solvers[0].predict(mus, return_bound=True)
        for other in solvers[1:]:
            u, b = other.predict(mus, return_bound=True)
            np.testing.assert_array_equal(u, ref_u)
            np.testing.assert_array_equal(b, ref_b)


def _assert_same_files(a, b):
    sa = torch.load(a, weights_only=True)["model"]
    sb = torch.load(b, weights_only=True)["model"]
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


@pytest.fixture(scope="module")
def nonaffine():
    problem = nonaffine_diffusion_1d(n=41)
    solver = NonintrusiveReducedBasisSolver(
        tol=1e-4, max_basis=8, n_train=30, n_eim_train=30, eim_terms=12,
        scm_constraints=20, progress=False, device="cpu",
    ).fit(problem)
    return problem, solver


def test_nonintrusive_save_load_save_load_is_exact(nonaffine, tmp_path):
    problem, solver = nonaffine
    once, twice = _round_trip(solver, tmp_path)
    _assert_same_files(tmp_path / "a.pt", tmp_path / "b.pt")
    train = problem.sample(30, seed=0)  # the greedy/SCM training set (cached SCM path)
    off = np.linspace(0.0, 1.0, 41)[:, None]
    for mus in (train, off):
        _assert_same_predictions([solver, once, twice], mus)
    # The interpolants themselves are restored, not only their online maps.
    for key in ("operator", "rhs"):
        fitted, loaded = solver.eim_[key], twice.eim_[key]
        assert loaded.n_terms == fitted.n_terms and loaded.is_vector_ == fitted.is_vector_
        np.testing.assert_array_equal(loaded.beta(off), fitted.beta(off))
        a, b = fitted.approximate(off[3]), loaded.approximate(off[3])
        if fitted.is_vector_:
            np.testing.assert_array_equal(a, b)
        else:
            assert (a != b).nnz == 0
    np.testing.assert_array_equal(twice.scm_.constraint_alpha_, solver.scm_.constraint_alpha_)


def test_reduced_basis_save_load_save_load_is_exact(tmp_path):
    problem = thermal_block(blocks=2, n=8)
    solver = ReducedBasisSolver(tol=1e-6, max_basis=10, n_train=40, progress=False,
                                device="cpu").fit(problem)
    once, twice = _round_trip(solver, tmp_path)
    _assert_same_files(tmp_path / "a.pt", tmp_path / "b.pt")
    _assert_same_predictions([solver, once, twice], problem.sample(20, seed=3))


def test_matrix_eim_from_state_needs_full_state():
    with pytest.raises(ValueError, match="missing entries"):
        MatrixEIM.from_state({"basis": np.zeros((3, 1))}, assemble=lambda mu: np.zeros(3))


def test_scm_falls_back_to_exact_coercivity_outside_training(nonaffine, tmp_path):
    problem, solver = nonaffine
    _, loaded = _round_trip(solver, tmp_path)
    scm = loaded.scm_
    off = np.linspace(0.0, 1.0, 41)[:, None]
    lp = scm.lower_bound_theta(scm.theta(off))
    bad = lp <= 0
    assert bad.any(), "the case should have parameters where the LP gives no bound"
    with pytest.warns(CoercivityWarning, match="exact full-order eigenvalue"):
        lower = scm(off)
    x = problem.model.product.toarray()
    a_eim = loaded.eim_["operator"]
    for mu, low, was_bad, lp_value in zip(off, lower, bad, lp):
        # Oracle: dense generalised eigenvalue of the interpolated operator.
        exact = sla.eigh(a_eim.approximate(mu).toarray(), x, eigvals_only=True)[0]
        assert 0 < low <= exact * (1 + 1e-10)
        if was_bad:
            assert low == pytest.approx(exact, rel=1e-10)
        else:
            assert low == lp_value
    with pytest.warns(CoercivityWarning):
        _, bounds = loaded.predict(off, return_bound=True)
    assert np.all(np.isfinite(bounds))

    # Without the fallback the bound stays non-positive, with a clear warning.
    strict = SuccessiveConstraintBound.from_state(scm.state(), scm.theta, fallback=False)
    with pytest.warns(CoercivityWarning, match="infinite"):
        np.testing.assert_array_equal(strict(off), lp)
