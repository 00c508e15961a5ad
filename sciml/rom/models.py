"""Full-order linear models ``A(mu) u = f(mu)`` that reduced-basis methods compress.

- :class:`LinearModel`: a black box. ``A(mu)`` and ``f(mu)`` come from user functions that
  return assembled sparse matrices and vectors; optionally also functions that evaluate only
  a few entries (a reduced assembly), which the online stage of :class:`~sciml.rom.MatrixEIM`
  uses.
- :class:`AffineModel`: ``A(mu) = sum_q theta_q(mu) A_q`` and ``f(mu) = sum_i phi_i(mu) f_i``,
  with parameter functions evaluated on batches of parameters.

Both carry the inner-product matrix ``product`` (the X norm of error bounds) and a
coercivity lower bound ``alpha_LB(mu) <= inf_v v^T A(mu) v / v^T X v``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from sciml.core.parameters import ParameterSpace
from sciml.core.progress import progress_bar
from sciml.core.validation import describe

__all__ = ["AffineModel", "LinearModel"]

ParamFn = Callable[[np.ndarray], np.ndarray]
EntriesFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class LinearModel:
    """A black-box linear model ``A(mu) u = f(mu)`` with ``A(mu)`` symmetric positive definite.

    Parameters
    ----------
    space : ParameterSpace
    operator : callable ``mu (p,) -> sparse (n, n)``
        Assembles ``A(mu)``.
    rhs : callable ``mu (p,) -> ndarray (n,)``
        Assembles ``f(mu)``.
    product : sparse ``(n, n)``
        Symmetric positive definite inner product of the error norm.
    operator_entries : callable ``(mus (B, p), rows (M,), cols (M,)) -> (B, M)``, optional
        Evaluates only some entries of ``A(mu)``: online cost independent of ``n``.
    rhs_entries : callable ``(mus (B, p), rows (M,), cols (M,)) -> (B, M)``, optional
        The same for ``f(mu)`` (``cols`` are zeros).
    coercivity : callable ``mus (B, p) -> (B,)``, optional
        A lower bound of the coercivity constant, when one is known.
    """

    def __init__(
        self,
        space: ParameterSpace,
        operator: Callable[[np.ndarray], sp.spmatrix],
        rhs: Callable[[np.ndarray], np.ndarray],
        product: sp.spmatrix,
        operator_entries: EntriesFn | None = None,
        rhs_entries: EntriesFn | None = None,
        coercivity: ParamFn | None = None,
    ) -> None:
        if not isinstance(space, ParameterSpace):
            raise ValueError(f"space: expected a ParameterSpace, got {describe(space)}")
        for name, fn in (("operator", operator), ("rhs", rhs)):
            if not callable(fn):
                raise ValueError(f"{name}: expected a function of mu, got {describe(fn)}")
        self.space = space
        self._operator = operator
        self._rhs = rhs
        self.product = sp.csr_matrix(product)
        self.operator_entries = operator_entries
        self.rhs_entries = rhs_entries
        self.coercivity = coercivity

    @property
    def n_dofs(self) -> int:
        """Number of unknowns ``n``."""
        return int(self.product.shape[0])

    def operator(self, mu: Any) -> sp.csr_matrix:
        """``A(mu)`` ``(n, n)``."""
        return sp.csr_matrix(self._operator(self.space.as_array(mu)[0]))

    def rhs(self, mu: Any) -> np.ndarray:
        """``f(mu)`` ``(n,)``."""
        return np.asarray(self._rhs(self.space.as_array(mu)[0]), dtype=float).reshape(-1)

    def solve(self, mu: Any) -> np.ndarray:
        """The full-order solution ``(n,)`` (sparse direct solve)."""
        return np.asarray(spla.spsolve(sp.csc_matrix(self.operator(mu)), self.rhs(mu)))

    def solve_batch(self, mus: Any, progress: bool = False) -> np.ndarray:
        """Solutions ``(B, n)`` for parameters ``(B, p)``."""
        arr = self.space.as_array(mus)
        out = np.empty((arr.shape[0], self.n_dofs))
        for i, mu in enumerate(progress_bar(arr, desc="full-order", unit="mu", enabled=progress)):
            out[i] = self.solve(mu)
        return out

    def norm(self, u: np.ndarray) -> np.ndarray:
        """X norms of vectors ``(..., n)``."""
        u = np.atleast_2d(u)
        return np.sqrt(np.maximum(np.einsum("bi,bi->b", u, (self.product @ u.T).T), 0.0))


class AffineModel(LinearModel):
    """``A(mu) = sum_q theta_q(mu) A_q``, ``f(mu) = sum_i phi_i(mu) f_i``.

    Parameters
    ----------
    space : ParameterSpace
    operators : sequence of sparse ``(n, n)``
        The ``Q_a`` parameter-independent terms ``A_q`` (symmetric).
    theta : callable ``mus (B, p) -> (B, Q_a)``
        Coefficients of the operator terms.
    rhs_terms : ndarray ``(Q_f, n)``
        The right-hand-side terms ``f_i``.
    rhs_theta : callable ``mus (B, p) -> (B, Q_f)``, optional
        Their coefficients; default all ones.
    product : sparse ``(n, n)``
        Inner product of the error norm.
    coercivity : callable ``mus (B, p) -> (B,)``, optional
        Coercivity lower bound, e.g. :class:`~sciml.rom.MinThetaBound`.
    """

    def __init__(
        self,
        space: ParameterSpace,
        operators: Sequence[sp.spmatrix],
        theta: ParamFn,
        rhs_terms: np.ndarray,
        product: sp.spmatrix,
        rhs_theta: ParamFn | None = None,
        coercivity: ParamFn | None = None,
    ) -> None:
        ops = [sp.csr_matrix(a) for a in operators]
        if not ops:
            raise ValueError("operators: need at least one affine term, got none")
        f = np.atleast_2d(np.asarray(rhs_terms, dtype=float))
        n = ops[0].shape[0]
        if any(a.shape != (n, n) for a in ops) or f.shape[1] != n:
            raise ValueError(
                f"operators, rhs_terms: sizes differ; operators are "
                f"{[a.shape for a in ops]} and rhs_terms is {f.shape}"
            )
        if not callable(theta):
            raise ValueError(f"theta: expected a function mus -> (B, Q_a), got {describe(theta)}")
        self.operators = ops
        self.theta = theta
        self.rhs_terms = f
        self.rhs_theta = rhs_theta if rhs_theta is not None else _ones(f.shape[0])
        super().__init__(
            space, self._assemble_operator, self._assemble_rhs, product, coercivity=coercivity
        )

    @property
    def n_terms(self) -> tuple[int, int]:
        """``(Q_a, Q_f)``."""
        return len(self.operators), int(self.rhs_terms.shape[0])

    def _assemble_operator(self, mu: np.ndarray) -> sp.csr_matrix:
        coeff = np.asarray(self.theta(mu[None]), dtype=float)[0]
        out = coeff[0] * self.operators[0]
        for c, a in zip(coeff[1:], self.operators[1:]):
            out = out + c * a
        return sp.csr_matrix(out)

    def _assemble_rhs(self, mu: np.ndarray) -> np.ndarray:
        return np.asarray(self.rhs_theta(mu[None]), dtype=float)[0] @ self.rhs_terms


def _ones(q: int) -> ParamFn:
    def ones(mus: np.ndarray) -> np.ndarray:
        return np.ones((np.atleast_2d(mus).shape[0], q))

    return ones
