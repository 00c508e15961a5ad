"""Batched tensor primitives: mode products, symmetric eigendecompositions, conjugate gradients.

A *mode product* applies a matrix along one axis of a tensor: for ``x`` of shape
``(*batch, n_1, ..., n_d)`` and ``A`` of shape ``(m, n_k)``, ``mode_product(x, A, k)`` has
shape ``(*batch, n_1, ..., m, ..., n_d)``. Applying one matrix per axis is the matrix-vector
product with their Kronecker product (C order), which is how :mod:`sciml.linalg.kronecker`
never forms a dense Kronecker matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["CGResult", "conjugate_gradient", "mode_product", "symmetric_eigh"]


def mode_product(x: torch.Tensor, matrix: torch.Tensor, axis: int) -> torch.Tensor:
    """Multiply ``x`` by ``matrix`` along one of its trailing axes.

    Parameters
    ----------
    x : tensor, shape ``(*batch, n_1, ..., n_d)``
    matrix : tensor, shape ``(m, n_k)`` or ``(*batch, m, n_k)``
        A batched matrix must have exactly the batch shape of ``x``.
    axis : int
        Which axis of ``x`` to contract, counted from the end as in ``x.shape[axis]``
        (negative, e.g. ``-2``) or from the start (non-negative).

    Returns
    -------
    tensor, shape of ``x`` with ``n_k`` replaced by ``m``.
    """
    if matrix.ndim < 2:
        raise ValueError(f"matrix: expected at least 2 dimensions, got shape {tuple(matrix.shape)}")
    axis = axis % x.ndim
    if x.shape[axis] != matrix.shape[-1]:
        raise ValueError(
            f"matrix: has {matrix.shape[-1]} columns but axis {axis} of x has length "
            f"{x.shape[axis]} (x shape {tuple(x.shape)})"
        )
    moved = x.movedim(axis, -1)
    if matrix.ndim == 2:
        out = moved @ matrix.mT
    else:
        nb = matrix.ndim - 2
        if tuple(moved.shape[:nb]) != tuple(matrix.shape[:nb]):
            raise ValueError(
                f"matrix: batch shape {tuple(matrix.shape[:nb])} does not match the leading "
                f"shape {tuple(moved.shape[:nb])} of x"
            )
        flat = moved.reshape(*moved.shape[:nb], -1, moved.shape[-1])
        out = (flat @ matrix.mT).reshape(*moved.shape[:-1], matrix.shape[-2])
    return out.movedim(-1, axis)


def symmetric_eigh(matrix: torch.Tensor, jitter: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigendecomposition of symmetric (batched) matrices with a diagonal shift.

    Parameters
    ----------
    matrix : tensor, shape ``(*batch, n, n)``
        Symmetrised as ``(A + A^T) / 2`` first, so round-off asymmetry is harmless.
    jitter : float
        Added to the diagonal before the decomposition.

    Returns
    -------
    eigenvalues : tensor, shape ``(*batch, n)``, ascending
    eigenvectors : tensor, shape ``(*batch, n, n)``, orthonormal columns
    """
    sym = 0.5 * (matrix + matrix.mT)
    if jitter:
        sym = sym + jitter * torch.eye(sym.shape[-1], dtype=sym.dtype, device=sym.device)
    return torch.linalg.eigh(sym)


@dataclass
class CGResult:
    """Outcome of :func:`conjugate_gradient`.

    Attributes
    ----------
    x : tensor
        The solution estimate, same shape as the right-hand side.
    iterations : int
        Iterations run.
    residual : float
        Final relative residual ``||b - A x|| / ||b||``.
    converged : bool
        Whether ``residual <= tol``.
    """

    x: torch.Tensor
    iterations: int
    residual: float
    converged: bool


def conjugate_gradient(
    matvec: Callable[[torch.Tensor], torch.Tensor],
    b: torch.Tensor,
    preconditioner: Callable[[torch.Tensor], torch.Tensor] | None = None,
    x0: torch.Tensor | None = None,
    tol: float = 1e-10,
    maxiter: int = 1000,
) -> CGResult:
    """Preconditioned conjugate gradients for a symmetric positive definite operator.

    Vectors are tensors of any shape (a grid of unknowns stays a grid); inner products run
    over all their entries.

    Parameters
    ----------
    matvec : callable ``A(v)``
        The operator; maps a tensor shaped like ``b`` to one of the same shape.
    b : tensor
        Right-hand side.
    preconditioner : callable ``M(r)``, optional
        Applies an approximation of ``A^{-1}`` (symmetric positive definite).
    x0 : tensor, optional
        Starting point; default zeros.
    tol : float
        Stop when ``||b - A x|| <= tol ||b||``.
    maxiter : int
        Iteration limit.
    """
    if maxiter < 0:
        raise ValueError(f"maxiter: expected a non-negative integer, got {maxiter}")
    x = torch.zeros_like(b) if x0 is None else x0.clone()
    r = b - matvec(x) if x0 is not None else b.clone()
    b_norm = float(torch.linalg.vector_norm(b))
    if b_norm == 0.0:
        return CGResult(torch.zeros_like(b), 0, 0.0, True)
    apply_m = preconditioner or (lambda v: v)
    z = apply_m(r)
    p = z.clone()
    rz = torch.sum(r * z)
    rel = float(torch.linalg.vector_norm(r)) / b_norm
    it = 0
    while rel > tol and it < maxiter:
        ap = matvec(p)
        alpha = rz / torch.sum(p * ap)
        x = x + alpha * p
        r = r - alpha * ap
        it += 1
        rel = float(torch.linalg.vector_norm(r)) / b_norm
        if rel <= tol:
            break
        z = apply_m(r)
        rz_new = torch.sum(r * z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return CGResult(x, it, rel, rel <= tol)
