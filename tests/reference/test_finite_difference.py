"""Five-point Darcy scheme: manufactured convergence, Laplacian oracle, loop assembly oracle."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sciml.reference.finite_difference import assemble_darcy, solve_darcy, solve_darcy_batch

PI = np.pi


def manufactured(n):
    """u = sin(pi x) sin(pi y), a = 1 + 0.5 sin(2 pi x) cos(pi y), f = -div(a grad u)."""
    x = np.linspace(0.0, 1.0, n)
    X, Y = np.meshgrid(x, x, indexing="ij")
    u = np.sin(PI * X) * np.sin(PI * Y)
    a = 1 + 0.5 * np.sin(2 * PI * X) * np.cos(PI * Y)
    a_x = PI * np.cos(2 * PI * X) * np.cos(PI * Y)
    a_y = -0.5 * PI * np.sin(2 * PI * X) * np.sin(PI * Y)
    u_x = PI * np.cos(PI * X) * np.sin(PI * Y)
    u_y = PI * np.sin(PI * X) * np.cos(PI * Y)
    f = -(a_x * u_x + a_y * u_y - 2 * PI**2 * a * u)
    return a, f, u


def loop_assembly(a, harmonic=False):
    """Dense operator built node by node from the stencil definition (test oracle only)."""
    n = a.shape[0]
    m = n - 2
    h2 = 1.0 / (n - 1) ** 2

    def face(p, q):
        return 2 * p * q / (p + q) if harmonic else (p + q) / 2

    dense = np.zeros((m * m, m * m))
    for i in range(1, n - 1):
        for j in range(1, n - 1):
            row = (i - 1) * m + (j - 1)
            for di, dj in [(1, 0), (-1, 0), (0, 1), (0, -1)]:
                w = face(a[i, j], a[i + di, j + dj]) / h2
                dense[row, row] += w
                ii, jj = i + di, j + dj
                if 1 <= ii <= n - 2 and 1 <= jj <= n - 2:
                    dense[row, (ii - 1) * m + (jj - 1)] -= w
    return dense


@pytest.mark.parametrize("averaging", ["arithmetic", "harmonic"])
def test_second_order_convergence_in_max_norm(averaging):
    sizes = [17, 33, 65, 129]
    errors = []
    for n in sizes:
        a, f, u = manufactured(n)
        errors.append(np.abs(solve_darcy(a, f, averaging=averaging) - u).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 1.8) & (orders < 2.2)), orders
    assert errors[-1] < 1e-4


@pytest.mark.parametrize("averaging", ["arithmetic", "harmonic"])
def test_assembly_matches_the_stencil_written_node_by_node(averaging):
    a = np.random.default_rng(0).uniform(0.5, 5.0, (7, 7))
    matrix = assemble_darcy(a, averaging=averaging)
    assert matrix.format == "csr"
    assert matrix.shape == (25, 25)
    np.testing.assert_allclose(
        matrix.toarray(), loop_assembly(a, averaging == "harmonic"), rtol=1e-14, atol=1e-12
    )
    assert np.linalg.eigvalsh(matrix.toarray()).min() > 0


def test_constant_coefficient_is_the_scaled_discrete_laplacian():
    n, c = 11, 2.5
    h = 1.0 / (n - 1)
    m = n - 2
    second = (2 * np.eye(m) - np.eye(m, k=1) - np.eye(m, k=-1)) / h**2
    laplacian = np.kron(second, np.eye(m)) + np.kron(np.eye(m), second)
    a = np.full((n, n), c)
    np.testing.assert_allclose(assemble_darcy(a).toarray(), c * laplacian, rtol=1e-14)
    np.testing.assert_allclose(
        assemble_darcy(a, averaging="harmonic").toarray(), c * laplacian, rtol=1e-14
    )
    f = np.random.default_rng(1).normal(size=(n, n))
    expected = np.zeros((n, n))
    expected[1:-1, 1:-1] = np.linalg.solve(laplacian, f[1:-1, 1:-1].ravel()).reshape(m, m) / c
    np.testing.assert_allclose(solve_darcy(a, f), expected, rtol=1e-11, atol=1e-14)


def test_single_interior_node_has_closed_form():
    a = np.array([[1.0, 2.0, 1.0], [4.0, 3.0, 6.0], [1.0, 5.0, 1.0]])
    faces = (3 + 4) / 2 + (3 + 6) / 2 + (3 + 2) / 2 + (3 + 5) / 2
    u = solve_darcy(a, 2.0)
    assert u[1, 1] == pytest.approx(2.0 * 0.25 / faces, rel=1e-14)
    assert np.count_nonzero(u) == 1


def test_solution_is_zero_on_the_boundary_and_ignores_boundary_forcing():
    a = np.random.default_rng(2).uniform(1, 3, (9, 9))
    f = np.ones((9, 9))
    g = f.copy()
    g[0, :] = g[:, -1] = 1e6
    u = solve_darcy(a, f)
    assert np.array_equal(u, solve_darcy(a, g))
    assert np.array_equal(u, solve_darcy(a))
    edges = np.concatenate([u[0], u[-1], u[:, 0], u[:, -1]])
    assert np.all(edges == 0)
    assert np.all(u[1:-1, 1:-1] > 0)  # maximum principle for f > 0


def test_batch_matches_single_solves():
    rng = np.random.default_rng(3)
    a = rng.uniform(1, 4, (4, 10, 10))
    f = rng.normal(size=(4, 10, 10))
    out = solve_darcy_batch(a, f)
    assert out.shape == (4, 10, 10)
    for s in range(4):
        np.testing.assert_allclose(out[s], solve_darcy(a[s], f[s]), rtol=1e-13, atol=1e-15)
    shared = solve_darcy_batch(a, f[0], averaging="harmonic")
    np.testing.assert_allclose(
        shared[2], solve_darcy(a[2], f[0], averaging="harmonic"), rtol=1e-13, atol=1e-15
    )


def test_batch_is_fast():
    a = np.random.default_rng(4).uniform(3, 12, (40, 64, 64))
    start = time.perf_counter()
    solve_darcy_batch(a)
    # ~6 ms per sample on one core; the bound leaves room for a loaded machine.
    assert time.perf_counter() - start < 4.0


@pytest.mark.slow
def test_thousand_samples_at_64_take_well_under_a_minute():
    a = np.where(np.random.default_rng(5).normal(size=(1000, 64, 64)) > 0, 12.0, 3.0)
    start = time.perf_counter()
    solve_darcy_batch(a)
    assert time.perf_counter() - start < 30.0


@pytest.mark.parametrize(
    ("coefficient", "match"),
    [
        (np.zeros((5, 5)), "non-positive"),
        (np.where(np.eye(5) > 0, -1.0, 1.0), "non-positive"),
        (np.where(np.eye(5) > 0, np.nan, 1.0), "non-finite"),
        (np.where(np.eye(5) > 0, np.inf, 1.0), "non-finite"),
        (np.ones((5, 6)), "square"),
        (np.ones(25), "square"),
        (np.ones((2, 2)), "at least 3"),
        ("abc", "coefficient"),
    ],
)
def test_bad_coefficients_raise(coefficient, match):
    with pytest.raises(ValueError, match=match):
        solve_darcy(coefficient)
    with pytest.raises(ValueError, match=match):
        assemble_darcy(coefficient)


def test_bad_forcing_and_options_raise():
    a = np.ones((5, 5))
    with pytest.raises(ValueError, match="forcing"):
        solve_darcy(a, np.ones((4, 4)))
    with pytest.raises(ValueError, match="forcing"):
        solve_darcy(a, np.full((5, 5), np.nan))
    with pytest.raises(ValueError, match="forcing"):
        solve_darcy(a, float("inf"))
    with pytest.raises(ValueError, match="averaging"):
        solve_darcy(a, averaging="geometric")
    with pytest.raises(ValueError, match="coefficients"):
        solve_darcy_batch(a)
    with pytest.raises(ValueError, match="forcing"):
        solve_darcy_batch(np.ones((2, 5, 5)), np.ones((3, 5, 5)))
    with pytest.raises(ValueError, match="coefficients"):
        solve_darcy_batch(np.stack([a, -a]))
