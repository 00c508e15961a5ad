import numpy as np
import pytest
import scipy.sparse as sp

from sciml.rom.eim import MatrixEIM, deim, eim, qdeim
from sciml.rom.pod import pod


def _gaussians(n=200, m=80):
    x = np.linspace(0, 1, n)
    mus = np.linspace(0, 1, m)
    return x, mus, np.exp(-((x[:, None] - mus[None]) ** 2) / 0.05)


def test_eim_interpolates_at_points_and_converges():
    x, _, s = _gaussians()
    interp = eim(s, max_terms=25, tol=1e-10)
    b = interp.interpolation_matrix
    np.testing.assert_allclose(np.triu(b, 1), 0.0)
    np.testing.assert_allclose(np.diag(b), 1.0)
    # Exact at the magic points, for any vector.
    g = np.sin(7 * x)
    np.testing.assert_allclose(interp.interpolate(g)[interp.points], g[interp.points])
    # Dense oracle: the interpolant equals Q (Q[P])^{-1} g[P] from a generic solve.
    q, p = interp.basis, interp.points
    np.testing.assert_allclose(interp.interpolate(g), q @ np.linalg.solve(q[p], g[p]), atol=1e-8)
    test = np.exp(-((x[:, None] - np.array([0.123, 0.77])[None]) ** 2) / 0.05)
    err = np.abs(interp.interpolate(test.T) - test.T).max()
    assert err < 1e-6
    assert np.all(np.diff(interp.errors[:10]) <= 1e-12)  # greedy errors decrease
    assert len(set(interp.points.tolist())) == interp.n_terms


def test_deim_and_qdeim_against_oblique_projection():
    _, _, s = _gaussians()
    u = pod(s, n_modes=15).modes
    f = s[:, 17]
    for interp in (deim(u), qdeim(u)):
        p = interp.points
        assert len(set(p.tolist())) == 15
        oracle = u @ np.linalg.solve(u[p], f[p])
        np.testing.assert_allclose(interp.interpolate(f), oracle, atol=1e-10)
        # Error within the DEIM bound ||(P^T U)^{-1}|| * best-approximation error (2-norm).
        best = np.linalg.norm(f - u @ (u.T @ f))
        bound = np.linalg.norm(np.linalg.inv(u[p]), 2) * best
        assert np.linalg.norm(interp.interpolate(f) - f) <= bound * (1 + 1e-8)
    # DEIM's first point is the largest entry of the first mode.
    assert deim(u).points[0] == np.argmax(np.abs(u[:, 0]))


def test_deim_on_nonlinear_term():
    # f(u) = u^3 of snapshots u(mu) = mu sin(pi x) + (1 - mu) x^2.
    x = np.linspace(0, 1, 300)
    mus = np.linspace(0, 1, 30)
    snaps = (mus[None] * np.sin(np.pi * x)[:, None] + (1 - mus[None]) * (x**2)[:, None]) ** 3
    u = pod(snaps, n_modes=4).modes  # u^3 of a 2-term family spans 4 functions
    interp = deim(u)
    test = (0.37 * np.sin(np.pi * x) + 0.63 * x**2) ** 3
    np.testing.assert_allclose(interp.interpolate(test), test, atol=1e-10)


def _family(n=30):
    """A(mu) = K0 + exp(mu) K1 + sin(3 mu) K2 (three terms) as a black box."""
    rng = np.random.default_rng(0)
    base = [sp.random(n, n, density=0.2, random_state=rng) for _ in range(3)]
    mats = [b + b.T + sp.eye(n) * (i + 1) for i, b in enumerate(base)]

    def assemble(mu):
        return mats[0] + np.exp(mu[0]) * mats[1] + np.sin(3 * mu[0]) * mats[2]

    return assemble


def test_matrix_eim_recovers_exact_decomposition():
    assemble = _family()
    train = np.linspace(0, 1, 40)[:, None]
    e = MatrixEIM(max_terms=10, tol=1e-12, progress=False).fit(assemble, train)
    assert e.n_terms == 3
    for mu in (0.13, 0.71):
        exact = assemble(np.array([mu])).toarray()
        np.testing.assert_allclose(e.approximate(np.array([mu])).toarray(), exact, atol=1e-11)
        # beta reproduces A(mu) from the selected training matrices.
        beta = e.beta(np.array([[mu]]))[0]
        rebuilt = sum(b * assemble(m).toarray() for b, m in zip(beta, e.selected_mus_))
        np.testing.assert_allclose(rebuilt, exact, atol=1e-9)
    terms = e.terms()
    c = e.coefficients(np.array([[0.4]]))[0]
    np.testing.assert_allclose(sum(ci * t.toarray() for ci, t in zip(c, terms)),
                               assemble(np.array([0.4])).toarray(), atol=1e-11)


def test_matrix_eim_online_reads_only_magic_entries():
    assemble = _family()
    calls = []

    def entries(mus, rows, cols):
        calls.append(len(rows))
        return np.stack([np.asarray(assemble(m)[rows, cols]).ravel() for m in mus])

    train = np.linspace(0, 1, 40)[:, None]
    e = MatrixEIM(max_terms=10, progress=False).fit(assemble, train, entries=entries)
    mus = np.array([[0.2], [0.9]])
    with_entries = e.coefficients(mus)
    assert calls == [e.n_terms]
    no_entries = MatrixEIM(max_terms=10, progress=False).fit(assemble, train).coefficients(mus)
    np.testing.assert_allclose(with_entries, no_entries, atol=1e-12)


def test_vector_family():
    x = np.linspace(0, 1, 50)

    def rhs(mu):
        return np.exp(-((x - mu[0]) ** 2) / 0.1)

    e = MatrixEIM(max_terms=20, tol=1e-10, progress=False).fit(rhs, np.linspace(0, 1, 60)[:, None])
    approx = e.approximate(np.array([0.333]))
    np.testing.assert_allclose(approx, rhs(np.array([0.333])), atol=1e-8)
    assert e.terms().shape == (e.n_terms, 50)
    with pytest.raises(ValueError, match="assemble"):
        MatrixEIM().fit("nope", np.zeros((2, 1)))
