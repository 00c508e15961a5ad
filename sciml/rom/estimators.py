"""Dual norm of the reduced-basis residual, offline/online, in a round-off-stable way.

For ``A(mu) = sum_q theta_q A_q``, ``f(mu) = sum_i phi_i f_i`` and a basis ``V`` ``(n, N)``,
the residual of a reduced solution ``u_N`` is

    r(mu) = sum_i phi_i f_i - sum_{q, n} theta_q u_n A_q v_n = R c(mu),

with ``R = [f_1 .. f_Qf, A_1 v_1 .. A_Qa v_1, A_1 v_2, ...]`` ``(n, K)`` and
``c(mu) = [phi, -(u_N outer theta)]`` ``(K,)``. Its dual norm is ``||X^{-1} r||_X``.

- :class:`GramResidualNorm` (the classical formula): ``||r||^2 = c^T G c`` with the Gram matrix
  ``G = R^T X^{-1} R``. The sum cancels: once ``||r|| / ||f|| < sqrt(eps) ~ 1e-8`` the
  computed value is round-off noise, so the estimator stalls there.
- :class:`OrthonormalResidualNorm`: the Riesz representatives ``X^{-1} R`` are
  X-orthonormalised as they arrive (Gram-Schmidt twice), giving ``X^{-1} R = W C`` with
  ``W^T X W = I``; online ``||r|| = ||C c(mu)||_2``, a Euclidean norm of a small vector: no
  squaring, relative accuracy ``~ eps``, so the estimator keeps decreasing to ``~1e-15``
  (Buhr, Engwerda, Haasdonk, Ohlberger, Schmidt 2014; the loss of accuracy of the Gram form
  is analysed by Casenave, Ern, Lelievre 2014).

Both are built incrementally (:meth:`extend`) and evaluated on batches with torch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp
import torch

from sciml.rom.pod import OrthonormalBasis

__all__ = ["GramResidualNorm", "OrthonormalResidualNorm", "ResidualNorm", "residual_coefficients"]


def residual_coefficients(
    phi: torch.Tensor, theta: torch.Tensor, u_n: torch.Tensor
) -> torch.Tensor:
    """``c(mu) = [phi, -(u_N outer theta)]`` ``(B, Q_f + N Q_a)`` (basis-vector-major)."""
    b = phi.shape[0]
    return torch.cat([phi, -(u_n[:, :, None] * theta[:, None, :]).reshape(b, -1)], dim=1)


class ResidualNorm(ABC):
    """Abstract base class: residual dual norms from the affine pieces.

    Parameters
    ----------
    solve_product : callable ``(n, k) -> (n, k)``
        Applies ``X^{-1}`` (Riesz map); factorised once by the caller.
    product : sparse ``(n, n)``
    """

    def __init__(self, solve_product, product: sp.spmatrix) -> None:
        self.solve_product = solve_product
        self.product = product
        self.n_columns = 0

    @abstractmethod
    def extend(self, vectors: np.ndarray) -> None:
        """Add residual pieces ``(n, k)`` (new columns of ``R``)."""

    @abstractmethod
    def norms(self, coefficients: torch.Tensor) -> torch.Tensor:
        """Dual norms ``(B,)`` for coefficients ``(B, K')`` (``K' <= K``: the first columns)."""

    @abstractmethod
    def state(self) -> dict[str, torch.Tensor]:
        """Tensors that define the online evaluation."""


class OrthonormalResidualNorm(ResidualNorm):
    """``||r|| = ||C c||_2`` with the Riesz representatives X-orthonormalised (stable)."""

    def __init__(self, solve_product, product: sp.spmatrix) -> None:
        super().__init__(solve_product, product)
        self.basis = OrthonormalBasis(product.shape[0], product)
        self.coeff = np.zeros((0, 0))

    def extend(self, vectors: np.ndarray) -> None:
        riesz = self.solve_product(np.asarray(vectors, dtype=float))
        k_old = self.basis.size
        r = self.basis.extend(riesz, rtol=1e-15)
        coeff = np.zeros((self.basis.size, self.n_columns + riesz.shape[1]))
        coeff[:k_old, : self.n_columns] = self.coeff
        coeff[:, self.n_columns :] = r
        self.coeff = coeff
        self.n_columns = coeff.shape[1]

    def norms(self, coefficients: torch.Tensor) -> torch.Tensor:
        c = torch.as_tensor(self.coeff, dtype=coefficients.dtype, device=coefficients.device)
        return torch.linalg.vector_norm(coefficients @ c[:, : coefficients.shape[1]].T, dim=1)

    def state(self) -> dict[str, torch.Tensor]:
        return {"coeff": torch.as_tensor(self.coeff)}


class GramResidualNorm(ResidualNorm):
    """``||r||^2 = c^T G c`` (classical; loses accuracy below ``sqrt(eps)`` relative)."""

    def __init__(self, solve_product, product: sp.spmatrix) -> None:
        super().__init__(solve_product, product)
        self.pieces = np.zeros((product.shape[0], 0))
        self.riesz = np.zeros((product.shape[0], 0))
        self.gram = np.zeros((0, 0))

    def extend(self, vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=float)
        riesz = self.solve_product(vectors)
        cross = self.pieces.T @ riesz
        new = vectors.T @ riesz
        k = self.gram.shape[0]
        gram = np.zeros((k + vectors.shape[1],) * 2)
        gram[:k, :k] = self.gram
        gram[:k, k:] = cross
        gram[k:, :k] = cross.T
        gram[k:, k:] = 0.5 * (new + new.T)
        self.gram = gram
        self.pieces = np.hstack([self.pieces, vectors])
        self.riesz = np.hstack([self.riesz, riesz])
        self.n_columns = gram.shape[0]

    def norms(self, coefficients: torch.Tensor) -> torch.Tensor:
        k = coefficients.shape[1]
        g = torch.as_tensor(self.gram[:k, :k], dtype=coefficients.dtype,
                            device=coefficients.device)
        sq = torch.einsum("bi,ij,bj->b", coefficients, g, coefficients)
        return torch.sqrt(torch.clamp(sq, min=0.0))

    def state(self) -> dict[str, torch.Tensor]:
        return {"gram": torch.as_tensor(self.gram)}
