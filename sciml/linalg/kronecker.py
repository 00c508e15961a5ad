r"""Kronecker-structured operators that never form their dense matrix.

A :class:`KroneckerOperator` is :math:`A = A_1 \otimes A_2 \otimes \dots \otimes A_d` given by its
per-axis factors. It acts on tensors ``x`` of shape ``(*batch, n_1, ..., n_d)`` whose C-order
flattening is the vector: :math:`\operatorname{vec}(A x) = (A_1 \otimes \dots \otimes A_d)
\operatorname{vec}(x)`, computed by one mode product per axis in
:math:`O(N \sum_k n_k)` instead of :math:`O(N^2)`. Solves, log-determinants, Cholesky and
eigendecompositions all work factor by factor:

.. math::

    (\otimes_k A_k)^{-1} = \otimes_k A_k^{-1}, \qquad
    \log\det(\otimes_k A_k) = \sum_k \frac{N}{n_k} \log\det A_k, \qquad
    \otimes_k Q_k \Lambda_k Q_k^\top = (\otimes_k Q_k)(\otimes_k \Lambda_k)(\otimes_k Q_k)^\top.

A :class:`KroneckerSum` is :math:`\sum_k I \otimes \dots \otimes A_k \otimes \dots \otimes I`
(the discrete Laplacian of a tensor grid has this form); with symmetric factors it is solved
exactly through the per-factor eigendecompositions.

Factors may carry a leading batch shape ``(*batch, n_k, n_k)``, shared by all factors; the
tensors they act on then have the same batch shape. ``to_dense`` exists only as the oracle of
the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from sciml.core.validation import describe
from sciml.linalg.batched import mode_product, symmetric_eigh

__all__ = ["KroneckerOperator", "KroneckerSum", "kron_matvec"]


def _check_factors(factors: Sequence[torch.Tensor], square: bool) -> list[torch.Tensor]:
    factors = list(factors)
    if not factors:
        raise ValueError("factors: need at least one factor matrix, got none")
    batch = None
    for k, f in enumerate(factors):
        if not isinstance(f, torch.Tensor) or f.ndim < 2:
            raise ValueError(
                f"factors[{k}]: expected a matrix tensor (*batch, n, n), got {describe(f)}"
            )
        if square and f.shape[-1] != f.shape[-2]:
            raise ValueError(f"factors[{k}]: expected a square matrix, got shape {tuple(f.shape)}")
        if batch is None:
            batch = tuple(f.shape[:-2])
        elif tuple(f.shape[:-2]) != batch:
            raise ValueError(
                f"factors[{k}]: batch shape {tuple(f.shape[:-2])} differs from factors[0]'s {batch}"
            )
    return factors


def kron_matvec(factors: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Apply ``factors[0] ⊗ ... ⊗ factors[d-1]`` to ``x`` of shape ``(*batch, n_1, ..., n_d)``.

    Factors may be rectangular ``(m_k, n_k)``; the result has shape ``(*batch, m_1, ..., m_d)``.
    """
    d = len(factors)
    if x.ndim < d:
        raise ValueError(f"x: expected at least {d} dimensions (one per factor), got {x.ndim}")
    for k, f in enumerate(factors):
        x = mode_product(x, f, x.ndim - d + k)
    return x


class KroneckerOperator:
    """The Kronecker product of per-axis factor matrices, kept factored.

    Parameters
    ----------
    factors : sequence of tensors, each ``(*batch, n_k, n_k)``
        One matrix per axis, in axis order (1, 2 or 3 axes are typical; any number works).
        All factors share the same batch shape.

    Examples
    --------
    >>> import torch
    >>> a, b = torch.eye(2, dtype=torch.float64), 2 * torch.eye(3, dtype=torch.float64)
    >>> op = KroneckerOperator([a, b])
    >>> op.shape, float(op.logdet())
    ((2, 3), 4.1588830833596715)
    """

    def __init__(self, factors: Sequence[torch.Tensor]) -> None:
        self.factors = _check_factors(factors, square=False)
        self._eigh: tuple[list[torch.Tensor], list[torch.Tensor]] | None = None

    # -- shape ----------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        """Number of axes (factors)."""
        return len(self.factors)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch shape shared by the factors."""
        return tuple(self.factors[0].shape[:-2])

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape ``(n_1, ..., n_d)`` the operator acts on (column sizes)."""
        return tuple(f.shape[-1] for f in self.factors)

    @property
    def size(self) -> int:
        """Total number of unknowns ``N = prod(n_k)``."""
        return math.prod(self.shape)

    def _check_x(self, x: torch.Tensor) -> None:
        d = self.ndim
        if x.ndim < d or tuple(x.shape[-d:]) != self.shape:
            raise ValueError(
                f"x: expected shape (*batch, {', '.join(map(str, self.shape))}), "
                f"got {tuple(x.shape)}"
            )

    # -- products -------------------------------------------------------------------------
    def matmul(self, x: torch.Tensor) -> torch.Tensor:
        """``A x`` for ``x`` of shape ``(*batch, n_1, ..., n_d)``."""
        self._check_x(x)
        return kron_matvec(self.factors, x)

    __matmul__ = matmul

    def transpose(self) -> KroneckerOperator:
        """``A^T = A_1^T ⊗ ... ⊗ A_d^T``."""
        return KroneckerOperator([f.mT for f in self.factors])

    @property
    def mT(self) -> KroneckerOperator:
        """Alias of :meth:`transpose`."""
        return self.transpose()

    def diagonal(self) -> torch.Tensor:
        """The diagonal as a tensor ``(*batch, n_1, ..., n_d)`` (an outer product)."""
        return self._outer([torch.diagonal(f, dim1=-2, dim2=-1) for f in self.factors])

    def _outer(self, vectors: Sequence[torch.Tensor]) -> torch.Tensor:
        d = len(vectors)
        out = vectors[0].reshape(*vectors[0].shape, *([1] * (d - 1)))
        for k in range(1, d):
            v = vectors[k]
            shape = [1] * d
            shape[k] = v.shape[-1]
            out = out * v.reshape(*v.shape[:-1], *shape)
        return out

    # -- factorisations -------------------------------------------------------------------
    def eigh(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per-factor symmetric eigendecompositions (cached).

        Returns
        -------
        eigenvalues : list of tensors ``(*batch, n_k)``
        eigenvectors : list of tensors ``(*batch, n_k, n_k)``
            ``A = (⊗ Q_k) diag(⊗ lambda_k) (⊗ Q_k)^T``.
        """
        if self._eigh is None:
            pairs = [symmetric_eigh(f) for f in self.factors]
            self._eigh = ([p[0] for p in pairs], [p[1] for p in pairs])
        return self._eigh

    def eigenvalues(self) -> torch.Tensor:
        """All eigenvalues as a tensor ``(*batch, n_1, ..., n_d)`` (outer product)."""
        return self._outer(self.eigh()[0])

    def cholesky(self) -> KroneckerOperator:
        """Lower Cholesky factor ``L = L_1 ⊗ ... ⊗ L_d`` (so ``A = L L^T``)."""
        return KroneckerOperator([torch.linalg.cholesky(f) for f in self.factors])

    # -- solves and determinants ----------------------------------------------------------
    def solve(self, x: torch.Tensor, shift: float = 0.0) -> torch.Tensor:
        """Solve ``(A + shift I) y = x``.

        With ``shift == 0`` each factor is solved on its own axis (LU, any invertible factors).
        A non-zero shift breaks the factorisation, so it goes through the per-factor
        eigendecompositions and needs symmetric factors.
        """
        self._check_x(x)
        if shift == 0.0:
            y = x
            d = self.ndim
            for k, f in enumerate(self.factors):
                axis = x.ndim - d + k
                moved = y.movedim(axis, -1)
                nb = f.ndim - 2
                flat = moved.reshape(*moved.shape[:nb], -1, f.shape[-1]).mT
                sol = torch.linalg.solve(f, flat).mT.reshape(moved.shape)
                y = sol.movedim(-1, axis)
            return y
        values, vectors = self.eigh()
        z = kron_matvec([q.mT for q in vectors], x)
        z = z / (self._outer(values) + shift)
        return kron_matvec(vectors, z)

    def logdet(self, shift: float = 0.0) -> torch.Tensor:
        """``log det(A + shift I)``, shape ``batch_shape``.

        Without a shift it is ``sum_k (N / n_k) log det A_k`` (the sign is dropped: meant for
        positive definite operators); with a shift it sums ``log(lambda + shift)`` over the
        Kronecker eigenvalues.
        """
        if shift == 0.0:
            n = self.size
            total = 0.0
            for f in self.factors:
                total = total + (n // f.shape[-1]) * torch.linalg.slogdet(f)[1]
            return torch.as_tensor(total, dtype=self.factors[0].dtype)
        lam = self.eigenvalues() + shift
        return torch.log(lam).flatten(-self.ndim).sum(-1)

    def inv_quad(self, x: torch.Tensor, shift: float = 0.0) -> torch.Tensor:
        """``x^T (A + shift I)^{-1} x`` per batch element, shape ``batch_shape``."""
        y = self.solve(x, shift)
        return (x * y).flatten(-self.ndim).sum(-1)

    def to_dense(self) -> torch.Tensor:
        """The dense ``(*batch, N, N)`` matrix. Test oracle only: memory grows as ``N^2``."""
        out = self.factors[0]
        for f in self.factors[1:]:
            prod = out[..., :, None, :, None] * f[..., None, :, None, :]
            *b, m1, m2, n1, n2 = prod.shape
            out = prod.reshape(*b, m1 * m2, n1 * n2)
        return out

    def __repr__(self) -> str:
        return f"KroneckerOperator(shape={self.shape}, batch_shape={self.batch_shape})"


class KroneckerSum:
    """``A_1 ⊕ ... ⊕ A_d = sum_k I ⊗ ... ⊗ A_k ⊗ ... ⊗ I``, kept factored.

    Parameters
    ----------
    factors : sequence of tensors, each ``(*batch, n_k, n_k)``
        Square matrices, one per axis. :meth:`solve` needs them symmetric.
    """

    def __init__(self, factors: Sequence[torch.Tensor]) -> None:
        self.factors = _check_factors(factors, square=True)
        self._eigh: tuple[list[torch.Tensor], list[torch.Tensor]] | None = None

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self.factors)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape ``(n_1, ..., n_d)``."""
        return tuple(f.shape[-1] for f in self.factors)

    def matmul(self, x: torch.Tensor) -> torch.Tensor:
        """``(⊕ A_k) x`` for ``x`` of shape ``(*batch, n_1, ..., n_d)``."""
        d = self.ndim
        out = torch.zeros_like(x)
        for k, f in enumerate(self.factors):
            out = out + mode_product(x, f, x.ndim - d + k)
        return out

    __matmul__ = matmul

    def eigh(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per-factor symmetric eigendecompositions (cached)."""
        if self._eigh is None:
            pairs = [symmetric_eigh(f) for f in self.factors]
            self._eigh = ([p[0] for p in pairs], [p[1] for p in pairs])
        return self._eigh

    def eigenvalues(self) -> torch.Tensor:
        """All eigenvalues ``lambda_{i_1} + ... + lambda_{i_d}``, ``(*batch, n_1, ..., n_d)``."""
        values = self.eigh()[0]
        d = len(values)
        out = 0
        for k, v in enumerate(values):
            shape = [1] * d
            shape[k] = v.shape[-1]
            out = out + v.reshape(*v.shape[:-1], *shape)
        return out

    def solve(self, x: torch.Tensor, shift: float = 0.0) -> torch.Tensor:
        """Solve ``(⊕ A_k + shift I) y = x`` by fast diagonalisation (symmetric factors)."""
        _values, vectors = self.eigh()
        z = kron_matvec([q.mT for q in vectors], x)
        z = z / (self.eigenvalues() + shift)
        return kron_matvec(vectors, z)

    def to_dense(self) -> torch.Tensor:
        """The dense ``(*batch, N, N)`` matrix. Test oracle only."""
        eyes = [
            torch.eye(f.shape[-1], dtype=f.dtype, device=f.device).expand_as(f)
            for f in self.factors
        ]
        total = 0
        for k in range(self.ndim):
            parts = list(eyes)
            parts[k] = self.factors[k]
            total = total + KroneckerOperator(parts).to_dense()
        return total

    def __repr__(self) -> str:
        return f"KroneckerSum(shape={self.shape})"
