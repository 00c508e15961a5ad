"""Proper orthogonal decomposition with an optional weighted inner product.

Given snapshots ``S = [s_1, ..., s_m]`` ``(n, m)`` and a symmetric positive definite product
matrix ``X`` (mass or energy; identity when absent), POD finds X-orthonormal modes ``V`` that
minimise ``sum_j ||s_j - V V^T X s_j||_X^2``. The modes are the left singular vectors of
``X^{1/2} S`` and the error with ``r`` modes is ``sum_{i > r} sigma_i^2``.

Two methods:

- ``"svd"``: X-orthonormal QR of the snapshots (Gram-Schmidt with re-orthogonalisation), then
  the SVD of the small triangular factor. Accurate down to singular values near
  ``eps * sigma_1``.
- ``"snapshots"``: the eigenproblem of the correlation matrix ``S^T X S`` (Sirovich). Cheaper
  when ``m << n`` but singular values below ``sqrt(eps) * sigma_1`` are lost to round-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sciml.core.validation import check_choice, describe

__all__ = ["OrthonormalBasis", "PODResult", "gram_schmidt", "pod"]


@dataclass
class PODResult:
    """Result of :func:`pod`.

    Attributes
    ----------
    modes : ndarray ``(n, r)``
        X-orthonormal modes.
    singular_values : ndarray ``(min(n, m),)``
        All singular values, in decreasing order (not only the kept ones).
    energy : ndarray ``(r,)``
        Fraction of the total energy ``sum sigma_i^2`` captured by the first ``k`` modes.
    """

    modes: np.ndarray
    singular_values: np.ndarray
    energy: np.ndarray

    @property
    def n_modes(self) -> int:
        """Number of kept modes."""
        return int(self.modes.shape[1])


def _apply(product: sp.spmatrix | np.ndarray | None, v: np.ndarray) -> np.ndarray:
    return v if product is None else product @ v


class OrthonormalBasis:
    """A growing X-orthonormal basis that caches ``X @ basis`` (no re-multiplication).

    Parameters
    ----------
    n : int
        Vector length.
    product : sparse or dense ``(n, n)``, optional
        Inner product (Euclidean when absent).
    """

    def __init__(self, n: int, product: sp.spmatrix | np.ndarray | None = None) -> None:
        self.product = product
        self._q = np.empty((8, n))  # rows are basis vectors: contiguous dot products
        self._xq = np.empty((8, n))
        self.size = 0

    @property
    def vectors(self) -> np.ndarray:
        """The basis ``(n, m)`` (a view)."""
        return self._q[: self.size].T

    def _grow(self) -> None:
        if self.size == self._q.shape[0]:
            cap = 2 * self._q.shape[0]
            for name in ("_q", "_xq"):
                old = getattr(self, name)
                new = np.empty((cap, old.shape[1]))
                new[: self.size] = old[: self.size]
                setattr(self, name, new)

    def extend(self, vectors: np.ndarray, rtol: float = 1e-13) -> np.ndarray:
        """Orthonormalise the columns of ``vectors`` ``(n, k)`` against the basis and add them.

        Classical Gram-Schmidt applied twice ("twice is enough"): as accurate as modified
        Gram-Schmidt, and each step is two matrix-vector products. A column whose remaining
        norm is below ``rtol`` times its original norm is not added.

        Returns
        -------
        r : ndarray ``(m_new, k)``
            Coefficients with ``basis_new @ r = vectors`` (up to dropped parts).
        """
        vectors = np.asarray(vectors, dtype=float)
        if vectors.ndim == 1:
            vectors = vectors[:, None]
        k = vectors.shape[1]
        coeff = np.zeros((self.size + k, k))
        for j in range(k):
            v = vectors[:, j].copy()
            norm0 = np.sqrt(max(float(v @ _apply(self.product, v)), 0.0))
            if norm0 == 0.0:
                continue
            m = self.size
            for _ in range(2):
                a = self._xq[:m] @ v
                v -= a @ self._q[:m]
                coeff[:m, j] += a
            xv = _apply(self.product, v)
            norm = np.sqrt(max(float(v @ xv), 0.0))
            if norm <= rtol * norm0:
                continue
            self._grow()
            coeff[m, j] = norm
            self._q[m] = v / norm
            self._xq[m] = xv / norm
            self.size += 1
        return coeff[: self.size]


def gram_schmidt(
    vectors: np.ndarray,
    product: sp.spmatrix | np.ndarray | None = None,
    basis: np.ndarray | None = None,
    rtol: float = 1e-13,
) -> tuple[np.ndarray, np.ndarray]:
    """X-orthonormalise the columns of ``vectors`` against ``basis`` and each other.

    See :meth:`OrthonormalBasis.extend` (which avoids recomputing ``X @ basis`` when a basis
    grows step by step).

    Parameters
    ----------
    vectors : ndarray ``(n, k)``
    product : sparse or dense ``(n, n)``, optional
    basis : ndarray ``(n, j)``, optional
        Already X-orthonormal columns to orthogonalise against (not modified).

    Returns
    -------
    q : ndarray ``(n, k')``
        New X-orthonormal columns (``k' <= k``).
    r : ndarray ``(j + k', k)``
        Coefficients with ``[basis, q] @ r = vectors`` (up to the dropped parts).
    """
    vectors = np.asarray(vectors, dtype=float)
    if vectors.ndim == 1:
        vectors = vectors[:, None]
    ob = OrthonormalBasis(vectors.shape[0], product)
    if basis is not None and basis.shape[1]:
        basis = np.asarray(basis, dtype=float)
        ob._q = np.ascontiguousarray(basis.T).copy()
        ob._xq = np.ascontiguousarray(np.asarray(_apply(product, basis)).T)
        ob.size = basis.shape[1]
    n0 = ob.size
    r = ob.extend(vectors, rtol)
    return ob.vectors[:, n0:].copy(), r


def pod(
    snapshots: np.ndarray,
    product: sp.spmatrix | np.ndarray | None = None,
    n_modes: int | None = None,
    energy: float = 1.0 - 1e-10,
    method: str = "svd",
) -> PODResult:
    """POD modes of ``snapshots`` ``(n, m)`` in the inner product ``product``.

    Parameters
    ----------
    snapshots : ndarray ``(n, m)``
        One snapshot per column.
    product : sparse or dense ``(n, n)``, optional
        Symmetric positive definite weight (mass or energy matrix); Euclidean when absent.
    n_modes : int, optional
        Keep exactly this many modes (at most the numerical rank).
    energy : float
        Otherwise keep the fewest modes capturing this fraction of ``sum sigma_i^2``.
    method : {"svd", "snapshots"}

    Returns
    -------
    PODResult
    """
    check_choice("method", method, ("svd", "snapshots"))
    s = np.asarray(snapshots, dtype=float)
    if s.ndim != 2 or s.shape[1] < 1:
        raise ValueError(f"snapshots: expected an array (n, m) with m >= 1, got {describe(s)}")
    if not 0.0 < energy <= 1.0:
        raise ValueError(f"energy: expected a fraction in (0, 1], got {energy!r}")
    if method == "svd":
        q, r = gram_schmidt(s, product, rtol=1e-15)
        u, sigma, _ = np.linalg.svd(r, full_matrices=False)
        modes_all = q @ u
    else:
        corr = s.T @ _apply(product, s)
        corr = 0.5 * (corr + corr.T)
        lam, v = np.linalg.eigh(corr)
        order = np.argsort(lam)[::-1]
        lam, v = lam[order], v[:, order]
        sigma = np.sqrt(np.clip(lam, 0.0, None))
        floor = sigma[0] * 10 * np.sqrt(np.finfo(float).eps)
        positive = sigma > floor if sigma[0] > 0 else sigma > 0
        modes_all = s @ (v[:, positive] / sigma[positive])
        # Re-orthonormalise: the eigenvectors of the correlation matrix are only
        # sqrt(eps)-accurate in the small modes.
        modes_all, _ = gram_schmidt(modes_all, product, rtol=1e-10)
    rank = modes_all.shape[1]
    total = float(np.sum(sigma**2))
    cumulative = np.cumsum(sigma[:rank] ** 2) / total if total > 0 else np.ones(rank)
    if n_modes is not None:
        if isinstance(n_modes, bool) or not isinstance(n_modes, (int, np.integer)) or n_modes < 1:
            raise ValueError(f"n_modes: expected a positive integer, got {n_modes!r}")
        r_keep = min(int(n_modes), rank)
    else:
        r_keep = int(np.searchsorted(cumulative, energy - 1e-15) + 1) if rank else 0
        r_keep = min(r_keep, rank)
    return PODResult(
        modes=modes_all[:, :r_keep],
        singular_values=sigma,
        energy=cumulative[:r_keep],
    )
