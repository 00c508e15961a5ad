r"""Chebyshev spectral collocation for the Poisson problem: the classical baseline.

Solves

.. math::

    \Delta u = f \ \text{in a box } \Omega \subset \mathbb R^d\ (d = 1, 2), \qquad
    u = g \ \text{on } \partial\Omega,

by collocation at Chebyshev–Gauss–Lobatto points with the differentiation matrices of
Trefethen, *Spectral Methods in MATLAB* (2000), ch. 6–7 (formula rewritten here). In 2-D the
interior system :math:`D_x U + U D_y^\top = F` is solved by fast diagonalisation (the
eigendecomposition of each 1-D second-derivative matrix), :math:`O(n^3)` for an
:math:`n \times n` grid. The solution is evaluated anywhere by barycentric interpolation, axis
by axis. For smooth solutions the error decays exponentially once the grid resolves the
highest frequency.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from sciml.core.grid import Box
from sciml.core.residual import Coordinates
from sciml.core.validation import describe

__all__ = [
    "ChebyshevSolution",
    "barycentric_matrix",
    "chebyshev_differentiation",
    "solve_poisson_chebyshev",
]


def chebyshev_differentiation(n: int, lower: float = -1.0, upper: float = 1.0) -> tuple[
    np.ndarray, np.ndarray
]:
    """Chebyshev–Lobatto points (ascending) on ``[lower, upper]`` and the first-derivative
    matrix there.

    Parameters
    ----------
    n : int
        Number of points (at least 2).

    Returns
    -------
    x : array, shape ``(n,)``
    d : array, shape ``(n, n)``, with ``d @ u(x) ≈ u'(x)``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected an integer >= 2, got {n!r}")
    m = n - 1
    k = np.arange(n)
    t = -np.cos(np.pi * k / m)  # ascending on [-1, 1]
    c = np.where((k == 0) | (k == m), 2.0, 1.0) * (-1.0) ** k
    diff = t[:, None] - t[None, :] + np.eye(n)
    d = np.outer(c, 1.0 / c) / diff
    # Negative-sum trick: rows of a differentiation matrix sum to zero (exact for constants).
    d = d - np.diag(d.sum(axis=1))
    scale = 2.0 / (upper - lower)
    x = lower + (t + 1.0) * (upper - lower) / 2.0
    x[0], x[-1] = lower, upper
    return x, d * scale


def barycentric_matrix(nodes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Interpolation matrix from values at Chebyshev–Lobatto ``nodes`` to ``points``.

    Returns
    -------
    array, shape ``(len(points), len(nodes))``
    """
    n = nodes.size
    w = (-1.0) ** np.arange(n)
    w[0] *= 0.5
    w[-1] *= 0.5
    diff = points[:, None] - nodes[None, :]
    exact = diff == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = w / diff
        mat = terms / terms.sum(axis=1, keepdims=True)
    rows = exact.any(axis=1)
    mat[rows] = exact[rows].astype(float)
    return mat


class ChebyshevSolution:
    """A solution on a Chebyshev–Lobatto tensor grid, callable at arbitrary points.

    Attributes
    ----------
    coords : list of arrays
        Nodes per axis.
    values : array, shape ``(n_1, ..., n_d)``
    """

    def __init__(self, coords: Sequence[np.ndarray], values: np.ndarray) -> None:
        self.coords = list(coords)
        self.values = values

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Values at ``points`` of shape ``(n, d)``; returns ``(n,)``."""
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != len(self.coords):
            raise ValueError(f"points: expected shape (n, {len(self.coords)}), got {points.shape}")
        # Interpolate on the distinct coordinates of each axis, then gather.
        out = None
        for a, c in enumerate(self.coords):
            uniq, inv = np.unique(points[:, a], return_inverse=True)
            mat = barycentric_matrix(c, uniq)[inv]
            if a == 0:
                out = mat @ self.values.reshape(c.size, -1)
            else:
                out = np.einsum("pi,pir->pr", mat, out.reshape(points.shape[0], c.size, -1))
        return out.reshape(-1)

    predict = __call__


def _evaluate(fn: Callable[[Coordinates], Any] | float, pts: np.ndarray, names: Sequence[str]
              ) -> np.ndarray:
    if not callable(fn):
        return np.full(pts.shape[0], float(fn))
    x = Coordinates.from_points(torch.as_tensor(pts), names)
    out = torch.as_tensor(fn(x)).detach().cpu().numpy().astype(float)
    return np.broadcast_to(out, (pts.shape[0],)).copy()


def solve_poisson_chebyshev(
    source: Callable[[Coordinates], Any] | float,
    boundary: Callable[[Coordinates], Any] | float,
    box: Box,
    n: int | Sequence[int],
) -> ChebyshevSolution:
    """Solve ``Laplacian(u) = source`` with ``u = boundary`` on a 1-D or 2-D box.

    Parameters
    ----------
    source, boundary : callable ``f(x: Coordinates) -> (n,)`` or float
    box : Box
        One or two axes.
    n : int or sequence of int
        Chebyshev points per axis.
    """
    if not isinstance(box, Box) or box.ndim not in (1, 2):
        raise ValueError(f"box: expected a 1-D or 2-D Box, got {describe(box)}")
    counts = [int(n)] * box.ndim if np.isscalar(n) else [int(v) for v in n]
    if len(counts) != box.ndim:
        raise ValueError(f"n: expected {box.ndim} values, got {counts}")
    coords, d2 = [], []
    for (lo, hi), m in zip((box[a] for a in box.names), counts):
        x, d = chebyshev_differentiation(m, lo, hi)
        coords.append(x)
        d2.append(d @ d)
    mesh = np.meshgrid(*coords, indexing="ij")
    pts = np.stack([g.reshape(-1) for g in mesh], axis=-1)
    shape = tuple(counts)
    f = _evaluate(source, pts, box.names).reshape(shape)
    g = _evaluate(boundary, pts, box.names).reshape(shape)
    u = np.zeros(shape)
    if box.ndim == 1:
        u[0], u[-1] = g[0], g[-1]
        inner = slice(1, -1)
        rhs = f[inner] - d2[0][inner][:, [0, -1]] @ u[[0, -1]]
        u[inner] = np.linalg.solve(d2[0][inner, inner], rhs)
        return ChebyshevSolution(coords, u)
    edge = np.zeros(shape, dtype=bool)
    edge[[0, -1], :] = True
    edge[:, [0, -1]] = True
    u[edge] = g[edge]
    # Move the known boundary values to the right-hand side.
    lap_b = d2[0] @ u + u @ d2[1].T
    rhs = (f - lap_b)[1:-1, 1:-1]
    ax, ay = d2[0][1:-1, 1:-1], d2[1][1:-1, 1:-1]
    lx, vx = np.linalg.eig(ax)
    ly, vy = np.linalg.eig(ay)
    # The Chebyshev second-derivative matrices have real negative eigenvalues.
    lx, vx, ly, vy = lx.real, vx.real, ly.real, vy.real
    t = np.linalg.solve(vx, rhs) @ np.linalg.inv(vy).T
    t = t / (lx[:, None] + ly[None, :])
    u[1:-1, 1:-1] = vx @ t @ vy.T
    return ChebyshevSolution(coords, u)
