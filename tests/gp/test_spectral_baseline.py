"""Chebyshev Poisson baseline against exact solutions and hand-checked matrices."""

import math

import numpy as np
import pytest
import torch

from sciml.core.grid import Box
from sciml.reference.spectral import (
    barycentric_matrix,
    chebyshev_differentiation,
    solve_poisson_chebyshev,
)


def test_differentiation_matrix_is_exact_on_polynomials():
    x, d = chebyshev_differentiation(6, 0.0, 2.0)
    assert x[0] == 0.0 and x[-1] == 2.0 and np.all(np.diff(x) > 0)
    np.testing.assert_allclose(d @ x**5, 5 * x**4, atol=1e-10)
    # n = 2: the two-point slope.
    _, d2 = chebyshev_differentiation(2, -1.0, 1.0)
    np.testing.assert_allclose(d2, [[-0.5, 0.5], [-0.5, 0.5]])


def test_barycentric_interpolation_reproduces_polynomials():
    x, _ = chebyshev_differentiation(8)
    pts = np.array([-0.95, 0.1, x[3], 0.77])
    np.testing.assert_allclose(barycentric_matrix(x, pts) @ x**7, pts**7, atol=1e-12)


def test_1d_and_2d_poisson_converge_spectrally():
    box1 = Box(x=(0.0, math.pi))
    sol = solve_poisson_chebyshev(lambda c: -9 * torch.sin(3 * c.x),
                                  lambda c: torch.sin(3 * c.x), box1, 30)
    pts = np.linspace(0, math.pi, 50)[:, None]
    np.testing.assert_allclose(sol(pts), np.sin(3 * pts[:, 0]), atol=1e-10)
    box2 = Box(x=(0.0, 1.0), y=(0.0, 2.0))

    def exact(c):
        return torch.sin(2 * c.x) * torch.cos(c.y)

    sol2 = solve_poisson_chebyshev(lambda c: -5 * exact(c), exact, box2, (20, 24))
    g = np.random.default_rng(0)
    pts2 = g.random((30, 2)) * [1.0, 2.0]
    np.testing.assert_allclose(sol2(pts2), np.sin(2 * pts2[:, 0]) * np.cos(pts2[:, 1]),
                               atol=1e-10)


def test_errors():
    with pytest.raises(ValueError, match="n: expected"):
        chebyshev_differentiation(1)
    with pytest.raises(ValueError, match="box"):
        solve_poisson_chebyshev(0.0, 0.0, Box(x=(0, 1), y=(0, 1), z=(0, 1)), 4)
