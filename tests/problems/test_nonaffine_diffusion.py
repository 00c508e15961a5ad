import numpy as np
import pytest

from sciml.problems.nonaffine_diffusion import (
    bump_coefficient,
    nonaffine_diffusion_1d,
    nonaffine_diffusion_2d,
)


def test_1d_against_exact_flux_solution():
    # -(k u')' = 1, u(0)=u(1)=0: k u' = c - x, so u(x) = int_0^x (c - s)/k(s) ds with c fixing
    # u(1) = 0. Quadrature of that formula is the oracle.
    p = nonaffine_diffusion_1d(n=400)
    mu = 0.3
    u = p.solve(np.array([mu]))
    s = np.linspace(0, 1, 200001)
    k = bump_coefficient(s[:, None], np.array([[mu]]))[0]
    i1, i2 = np.cumsum(1 / k) * (s[1] - s[0]), np.cumsum(s / k) * (s[1] - s[0])
    c = i2[-1] / i1[-1]
    exact = c * i1 - i2
    nodes = p.model.mesh.nodes[1:-1]
    np.testing.assert_allclose(u, np.interp(nodes, s, exact), atol=1e-4 * np.abs(exact).max())


def test_entries_match_assembled_matrix():
    for p in (nonaffine_diffusion_1d(n=30), nonaffine_diffusion_2d(n=6)):
        model = p.model
        mus = p.sample(3, seed=0)
        a = model.operator(mus[1]).tocoo()
        pick = np.arange(0, a.nnz, 7)
        vals = model.operator_entries(mus, a.row[pick], a.col[pick])
        np.testing.assert_allclose(vals[1], a.data[pick], rtol=1e-12)
        f = model.rhs_entries(mus, np.array([0, 2]), np.zeros(2, dtype=int))
        np.testing.assert_allclose(f[2], model.rhs(mus[2])[[0, 2]])


def test_coefficient_and_2d_solution():
    k = bump_coefficient(np.array([[0.5, 0.5], [0.0, 0.0]]), np.array([[0.5, 0.5]]))
    np.testing.assert_allclose(k[0], [11.0, 1 + 10 * np.exp(-0.5 / 0.02)])
    p = nonaffine_diffusion_2d(n=8)
    u = p.solve(np.array([0.5, 0.5]))
    assert u.shape == (49,) and np.all(u > 0)
    # The high conductivity bump flattens the solution: smaller max than with k = 1.
    assert u.max() < 0.0737
    assert p.model.n_dofs == 49
    with pytest.raises(ValueError):
        nonaffine_diffusion_1d(n=1)
