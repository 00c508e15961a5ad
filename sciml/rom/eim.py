"""Empirical interpolation: EIM, DEIM, Q-DEIM, and nonintrusive EIM of matrix families.

An empirical interpolant of a vector ``g`` ``(n,)`` is ``I[g] = Q B^{-1} g[P]``: a basis ``Q``
``(n, M)``, ``M`` interpolation ("magic") indices ``P`` and the interpolation matrix
``B = Q[P]`` ``(M, M)``. Only the ``M`` entries ``g[P]`` are needed to evaluate it.

- :func:`eim`: a greedy over training snapshots (columns). Step ``k`` picks the snapshot
  worst interpolated in the max norm, the index ``p_k`` where its residual is largest, and
  adds ``q_k = residual / residual[p_k]``. ``B`` is then unit lower triangular.
- :func:`deim`: the DEIM point selection for a given basis (for example POD modes).
- :func:`qdeim`: points from a column-pivoted QR of ``U^T`` (Drmac and Gugercin).
- :class:`MatrixEIM`: nonintrusive EIM of a black-box family of sparse matrices (or vectors)
  ``A(mu)``, given only as a function returning assembled matrices (Casenave, Ern, Lelievre).
  It gives ``A(mu) ~ sum_m c_m(mu) Q_m`` with ``c(mu) = B^{-1} A(mu)[P]``: online only the
  ``M`` magic entries of ``A(mu)`` are evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from sciml.core.progress import progress_bar
from sciml.core.validation import check_positive, describe

__all__ = [
    "EmpiricalInterpolant",
    "InterpolationCoefficients",
    "MatrixEIM",
    "deim",
    "eim",
    "qdeim",
]


@dataclass
class EmpiricalInterpolant:
    """``I[g] = basis @ solve(B, g[points])`` with ``B = basis[points]``.

    Attributes
    ----------
    basis : ndarray ``(n, M)``
    points : ndarray of int ``(M,)``
        Interpolation indices.
    selected : ndarray of int ``(M,)``
        Training snapshots chosen by the greedy (:func:`eim` only; empty otherwise).
    errors : ndarray ``(M + 1,)``
        Largest max-norm interpolation error over the training set with ``0..M`` terms
        (:func:`eim` only).
    """

    basis: np.ndarray
    points: np.ndarray
    selected: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    errors: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_terms(self) -> int:
        """Number of terms ``M``."""
        return int(self.points.size)

    @property
    def interpolation_matrix(self) -> np.ndarray:
        """``B = basis[points]`` ``(M, M)``."""
        return self.basis[self.points]

    def coefficients(self, values: np.ndarray) -> np.ndarray:
        """Coefficients ``(..., M)`` from values at the points ``(..., M)``."""
        values = np.asarray(values, dtype=float)
        b = self.interpolation_matrix
        flat = values.reshape(-1, self.n_terms).T
        lower = np.allclose(np.triu(b, 1), 0.0)
        sol = sla.solve_triangular(b, flat, lower=True) if lower else np.linalg.solve(b, flat)
        return sol.T.reshape(values.shape)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """The interpolant ``(..., n)`` from values at the points ``(..., M)``."""
        return self.coefficients(values) @ self.basis.T

    def interpolate(self, vectors: np.ndarray) -> np.ndarray:
        """Interpolate full vectors ``(..., n)`` (reads only their entries at the points)."""
        vectors = np.asarray(vectors, dtype=float)
        return self(vectors[..., self.points])


def eim(
    snapshots: np.ndarray,
    max_terms: int | None = None,
    tol: float = 1e-12,
    progress: bool = False,
) -> EmpiricalInterpolant:
    """Greedy empirical interpolation of the columns of ``snapshots`` ``(n, m)``.

    Parameters
    ----------
    snapshots : ndarray ``(n, m)``
        The training family, one member per column (a function sampled at ``n`` points, or
        the nonzero values of a matrix).
    max_terms : int, optional
        At most this many terms (default: until ``tol`` or the numerical rank).
    tol : float
        Stop when the largest max-norm error over the training set is below ``tol`` times the
        largest max-norm of a snapshot.
    progress : bool
        Show a progress bar.

    Returns
    -------
    EmpiricalInterpolant
        With unit lower-triangular interpolation matrix.
    """
    s = np.asarray(snapshots, dtype=float)
    if s.ndim != 2 or min(s.shape) < 1:
        raise ValueError(f"snapshots: expected an array (n, m), got {describe(s)}")
    check_positive("tol", tol, allow_zero=True)
    n, m = s.shape
    limit = min(n, m) if max_terms is None else min(int(max_terms), n, m)
    scale = float(np.max(np.abs(s)))
    residual = s.copy()
    basis, points, selected, errors = [], [], [], []
    bar = progress_bar(total=limit, desc="EIM", unit="term", enabled=progress)
    for _ in range(limit + 1):
        col_err = np.max(np.abs(residual), axis=0)
        j = int(np.argmax(col_err))
        errors.append(float(col_err[j]))
        if len(points) == limit or col_err[j] <= tol * scale or col_err[j] == 0.0:
            break
        r = residual[:, j]
        p = int(np.argmax(np.abs(r)))
        q = r / r[p]
        # The new basis vector vanishes at the earlier points, so the interpolation residual
        # of every snapshot is updated by one rank-one step.
        residual -= np.outer(q, residual[p])
        basis.append(q)
        points.append(p)
        selected.append(j)
        bar.update(1)
    bar.close()
    q_mat = np.column_stack(basis) if basis else np.zeros((n, 0))
    return EmpiricalInterpolant(
        basis=q_mat,
        points=np.array(points, dtype=np.int64),
        selected=np.array(selected, dtype=np.int64),
        errors=np.array(errors),
    )


def deim(basis: np.ndarray) -> EmpiricalInterpolant:
    """DEIM interpolation points for the columns of ``basis`` ``(n, M)`` (in order).

    Point ``k`` is where the interpolation residual of basis vector ``k`` on the previous
    ``k - 1`` vectors and points is largest.
    """
    u = np.asarray(basis, dtype=float)
    if u.ndim != 2 or u.shape[1] < 1 or u.shape[1] > u.shape[0]:
        raise ValueError(f"basis: expected an array (n, M) with 1 <= M <= n, got {describe(u)}")
    points = [int(np.argmax(np.abs(u[:, 0])))]
    for k in range(1, u.shape[1]):
        p = np.array(points)
        c = np.linalg.solve(u[p][:, :k], u[p, k])
        r = u[:, k] - u[:, :k] @ c
        points.append(int(np.argmax(np.abs(r))))
    return EmpiricalInterpolant(basis=u, points=np.array(points, dtype=np.int64))


def qdeim(basis: np.ndarray) -> EmpiricalInterpolant:
    """Q-DEIM points: the first ``M`` pivots of a column-pivoted QR of ``basis.T``."""
    u = np.asarray(basis, dtype=float)
    if u.ndim != 2 or u.shape[1] < 1 or u.shape[1] > u.shape[0]:
        raise ValueError(f"basis: expected an array (n, M) with 1 <= M <= n, got {describe(u)}")
    _, _, piv = sla.qr(u.T, mode="economic", pivoting=True)
    return EmpiricalInterpolant(basis=u, points=np.asarray(piv[: u.shape[1]], dtype=np.int64))


EntriesFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class InterpolationCoefficients:
    """The online map ``mu -> c(mu) = B^{-1} A(mu)[P]`` of a :class:`MatrixEIM`.

    Holds only what the online stage needs: the interpolation matrix ``B`` ``(M, M)``, the
    magic entries ``(rows, cols)`` and a way to evaluate them (``entries``, else a full
    ``assemble`` and a read-out).
    """

    def __init__(
        self,
        matrix: np.ndarray,
        rows: np.ndarray,
        cols: np.ndarray,
        entries: EntriesFn | None = None,
        assemble: Callable[[np.ndarray], sp.spmatrix | np.ndarray] | None = None,
    ) -> None:
        if entries is None and assemble is None:
            raise ValueError("entries, assemble: need at least one way to evaluate A(mu)")
        self.matrix = np.asarray(matrix, dtype=float)
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.entries = entries
        self.assemble = assemble
        lower = bool(np.allclose(np.triu(self.matrix, 1), 0.0))
        eye = np.eye(self.matrix.shape[0])
        # Small and (for EIM) unit triangular: an explicit inverse makes each online call one
        # small matrix product instead of a LAPACK call with its fixed overhead.
        self._inverse = (
            sla.solve_triangular(self.matrix, eye, lower=True)
            if lower
            else np.linalg.solve(self.matrix, eye)
        )

    def values(self, mus: np.ndarray) -> np.ndarray:
        """The magic entries ``(B, M)`` for parameters ``(B, p)``."""
        mus = np.atleast_2d(np.asarray(mus, dtype=float))
        if self.entries is not None:
            return np.asarray(self.entries(mus, self.rows, self.cols), dtype=float)
        out = np.empty((mus.shape[0], self.rows.size))
        for i, mu in enumerate(mus):
            a = self.assemble(mu)
            if sp.issparse(a):
                out[i] = np.asarray(sp.csr_matrix(a)[self.rows, self.cols]).ravel()
            else:
                out[i] = np.asarray(a, dtype=float).reshape(-1)[self.rows]
        return out

    def __call__(self, mus: np.ndarray) -> np.ndarray:
        """Coefficients ``(B, M)``."""
        return self.values(mus) @ self._inverse.T


class MatrixEIM:
    """Nonintrusive empirical interpolation of a family of sparse matrices (or vectors).

    ``A(mu) ~ sum_m c_m(mu) Q_m``: the ``Q_m`` (the internal basis, kept for stability) are
    combinations of training matrices ``A(mu_1), ..., A(mu_M)``; ``c(mu) = B^{-1} a(mu)`` with
    ``a(mu)`` the ``M`` magic entries of ``A(mu)``. The same family written on the snapshots,
    ``A(mu) ~ sum_m beta_m(mu) A(mu_m)``, is ill-conditioned and given only by :meth:`beta`.

    Parameters
    ----------
    max_terms : int
        At most this many terms ``M``.
    tol : float
        Relative max-entry tolerance of the greedy (see :func:`eim`).
    progress : bool
        Show progress bars.
    """

    def __init__(self, max_terms: int = 50, tol: float = 1e-12, progress: bool = True) -> None:
        self.max_terms = max_terms
        self.tol = tol
        self.progress = progress

    def fit(
        self,
        assemble: Callable[[np.ndarray], sp.spmatrix | np.ndarray],
        training_set: np.ndarray,
        entries: EntriesFn | None = None,
    ) -> MatrixEIM:
        """Run the greedy on ``assemble(mu)`` for each row of ``training_set`` ``(m, p)``.

        Parameters
        ----------
        assemble : callable ``mu (p,) -> sparse (n, n) or ndarray (n,)``
            The black box: assembled matrices (any sparse format) or vectors.
        training_set : ndarray ``(m, p)``
        entries : callable ``(mus (B, p), rows (M,), cols (M,)) -> (B, M)``, optional
            Evaluates only the requested entries of ``A(mu)`` (a reduced assembly). Without it
            the online stage assembles the whole matrix and reads the magic entries.
        """
        if not callable(assemble):
            raise ValueError(
                f"assemble: expected a function mu -> matrix, got {describe(assemble)}"
            )
        mus = np.atleast_2d(np.asarray(training_set, dtype=float))
        members = [
            assemble(mu)
            for mu in progress_bar(mus, desc="assemble", unit="mu", enabled=self.progress)
        ]
        self.is_vector_ = not sp.issparse(members[0])
        if self.is_vector_:
            data = np.column_stack([np.asarray(v, dtype=float).reshape(-1) for v in members])
            n = data.shape[0]
            self.shape_ = (n,)
            rows, cols = np.arange(n), np.zeros(n, dtype=np.int64)
        else:
            self.shape_ = members[0].shape
            pattern = sp.csr_matrix(abs(members[0]))
            for a in members[1:]:
                pattern = pattern + sp.csr_matrix(abs(a))
            pattern = sp.csr_matrix(pattern)
            pattern.sort_indices()
            coo = pattern.tocoo()
            rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
            data = np.column_stack([np.asarray(sp.csr_matrix(a)[rows, cols]).ravel()
                                    for a in members])
        interp = eim(data, max_terms=self.max_terms, tol=self.tol, progress=self.progress)
        self.rows_, self.cols_ = rows, cols
        self.basis_ = interp.basis
        self.points_ = interp.points
        self.magic_rows_, self.magic_cols_ = rows[interp.points], cols[interp.points]
        self.errors_ = interp.errors
        self.selected_mus_ = mus[interp.selected]
        self._interp = interp
        # Change of basis to the snapshots: Q = S U (least squares; only for beta()).
        snaps = data[:, interp.selected]
        self._to_snapshots = np.linalg.lstsq(snaps, interp.basis, rcond=None)[0]
        self._assemble = assemble
        self._entries = entries
        return self

    @property
    def n_terms(self) -> int:
        """Number of terms ``M``."""
        return int(self.points_.size)

    def coefficient_function(self) -> InterpolationCoefficients:
        """The online map ``mu -> c(mu)`` as a light object (no basis, no training data)."""
        return InterpolationCoefficients(
            self._interp.interpolation_matrix, self.magic_rows_, self.magic_cols_,
            entries=self._entries, assemble=self._assemble,
        )

    def magic_values(self, mus: np.ndarray) -> np.ndarray:
        """The magic entries ``A(mu)[P]`` for parameters ``(B, p)``; returns ``(B, M)``."""
        return self.coefficient_function().values(mus)

    def coefficients(self, mus: np.ndarray) -> np.ndarray:
        """Coefficients ``c(mu)`` ``(B, M)`` in the internal basis."""
        return self.coefficient_function()(mus)

    def beta(self, mus: np.ndarray) -> np.ndarray:
        """Coefficients ``beta(mu)`` ``(B, M)`` with ``A(mu) ~ sum_m beta_m A(mu_m)``, ``mu_m``
        the rows of :attr:`selected_mus_`. Ill-conditioned for large ``M``; prefer
        :meth:`coefficients` with :meth:`terms`."""
        return self.coefficients(mus) @ self._to_snapshots.T

    def terms(self) -> list[sp.csr_matrix] | np.ndarray:
        """The internal basis: ``M`` sparse matrices, or an array ``(M, n)`` for vectors."""
        if self.is_vector_:
            return self.basis_.T.copy()
        return [
            sp.csr_matrix((self.basis_[:, m], (self.rows_, self.cols_)), shape=self.shape_)
            for m in range(self.n_terms)
        ]

    def approximate(self, mu: np.ndarray) -> sp.csr_matrix | np.ndarray:
        """The interpolant of ``A(mu)`` for one parameter (a full-size matrix or vector)."""
        c = self.coefficients(np.atleast_2d(mu))[0]
        values = self.basis_ @ c
        if self.is_vector_:
            return values
        return sp.csr_matrix((values, (self.rows_, self.cols_)), shape=self.shape_)

    def state(self) -> dict[str, np.ndarray]:
        """Everything a fitted interpolant holds, as arrays (for checkpoints).

        :meth:`from_state` rebuilds an equivalent object; only the black-box functions
        ``assemble``/``entries`` (code, not data) must be passed again.
        """
        return {
            "basis": self.basis_, "points": self.points_, "rows": self.rows_, "cols": self.cols_,
            "selected": self._interp.selected, "selected_mus": self.selected_mus_,
            "errors": self.errors_, "to_snapshots": self._to_snapshots,
            "shape": np.asarray(self.shape_, dtype=np.int64),
            "max_terms": np.asarray(self.max_terms, dtype=np.int64),
            "tol": np.asarray(self.tol, dtype=float),
        }

    @classmethod
    def from_state(
        cls,
        state: dict[str, np.ndarray],
        assemble: Callable[[np.ndarray], sp.spmatrix | np.ndarray],
        entries: EntriesFn | None = None,
        progress: bool = False,
    ) -> MatrixEIM:
        """Rebuild a fitted :class:`MatrixEIM` from :meth:`state` output.

        Parameters
        ----------
        state : dict of ndarray
            As returned by :meth:`state` (tensors are accepted and converted).
        assemble, entries : callable
            The black box of :meth:`fit` (used online when ``entries`` is None).
        progress : bool
            Progress bars of the rebuilt object.
        """
        s = {k: np.asarray(v) for k, v in state.items()}
        missing = sorted(set(cls._STATE_KEYS) - set(s))
        if missing:
            raise ValueError(f"state: missing entries {missing}; expected MatrixEIM.state()")
        obj = cls(int(s["max_terms"]), float(s["tol"]), progress)
        obj.shape_ = tuple(int(d) for d in s["shape"])
        obj.is_vector_ = len(obj.shape_) == 1
        obj.rows_ = s["rows"].astype(np.int64)
        obj.cols_ = s["cols"].astype(np.int64)
        obj.basis_ = s["basis"].astype(float)
        obj.points_ = s["points"].astype(np.int64)
        obj.magic_rows_, obj.magic_cols_ = obj.rows_[obj.points_], obj.cols_[obj.points_]
        obj.errors_ = s["errors"].astype(float)
        obj.selected_mus_ = s["selected_mus"].astype(float)
        obj._interp = EmpiricalInterpolant(
            obj.basis_, obj.points_, s["selected"].astype(np.int64), obj.errors_
        )
        obj._to_snapshots = s["to_snapshots"].astype(float)
        obj._assemble = assemble
        obj._entries = entries
        return obj

    _STATE_KEYS = (
        "basis", "points", "rows", "cols", "selected", "selected_mus", "errors",
        "to_snapshots", "shape", "max_terms", "tol",
    )
