"""Lower bounds of the coercivity constant ``alpha(mu) = inf_v v^T A(mu) v / v^T X v``.

- :class:`MinThetaBound`: for ``A(mu) = sum_q theta_q(mu) A_q`` with every ``A_q`` positive
  semidefinite, ``theta_q > 0`` and ``X = sum_q theta_q(mu_bar) A_q``:
  ``alpha(mu) >= min_q theta_q(mu) / theta_q(mu_bar)``.
- :class:`SuccessiveConstraintBound`: the successive constraint method (Huynh, Rozza, Sen,
  Patera) for any affine symmetric operator. With ``y_q(v) = v^T A_q v / v^T X v``,
  ``alpha(mu) = min_v theta(mu) . y(v)``; relaxing ``y`` to a box of Rayleigh-quotient ranges
  cut by the constraints ``theta(mu_k) . y >= alpha(mu_k)`` at a few parameters gives a linear
  program whose value is a rigorous lower bound. Constraint parameters are added greedily
  where the gap to the upper bound ``min_k theta(mu) . y(v_k)`` is largest.

  Away from the constraint parameters the linear program can return a value ``<= 0`` (no
  bound: the error bound would be infinite). The SCM then falls back to the exact
  coercivity constant of ``A(mu)`` at those parameters (a full-order eigenvalue solve) and
  says so with a :class:`CoercivityWarning`. The minimum of the stored constraint values
  ``alpha(mu_k)`` is *not* used: it is not a lower bound of ``alpha(mu)`` in general.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import linprog

from sciml.core.progress import progress_bar

__all__ = [
    "CoercivityWarning",
    "MinThetaBound",
    "SuccessiveConstraintBound",
    "coercivity_constant",
]

#: Below this size the generalised eigenproblems are solved densely.
DENSE_LIMIT = 600


class CoercivityWarning(UserWarning):
    """A coercivity lower bound was not positive: an exact (full-order) fallback was used, or
    the error bound is infinite."""


class MinThetaBound:
    """``alpha_LB(mu) = alpha_bar * min_q theta_q(mu) / theta_q(mu_bar)``.

    Parameters
    ----------
    theta : callable ``mus (B, p) -> (B, Q)``
    mu_bar : ndarray ``(p,)``
        Parameter at which the product is ``X = A(mu_bar) / alpha_bar``.
    alpha_bar : float
        Coercivity constant at ``mu_bar`` (1 when ``X = A(mu_bar)``).
    """

    def __init__(
        self, theta: Callable[[np.ndarray], np.ndarray], mu_bar: np.ndarray, alpha_bar: float = 1.0
    ) -> None:
        self.theta = theta
        self.mu_bar = np.asarray(mu_bar, dtype=float).reshape(-1)
        self.alpha_bar = float(alpha_bar)
        self._ref = np.asarray(theta(self.mu_bar[None]), dtype=float)[0]
        if np.any(self._ref <= 0):
            raise ValueError(
                f"mu_bar: theta(mu_bar) = {self._ref.tolist()} must be positive for the "
                "min-theta bound"
            )

    def __call__(self, mus: np.ndarray) -> np.ndarray:
        """Lower bounds ``(B,)`` for parameters ``(B, p)``."""
        th = np.asarray(self.theta(np.atleast_2d(mus)), dtype=float)
        return self.alpha_bar * np.min(th / self._ref, axis=1)


def _extreme_eigs(a: sp.spmatrix, x: sp.spmatrix) -> tuple[float, float]:
    """Smallest and largest generalised eigenvalues of the pencil ``(A, X)``."""
    if a.shape[0] <= DENSE_LIMIT:
        w = sla.eigh(a.toarray(), x.toarray(), eigvals_only=True)
        return float(w[0]), float(w[-1])
    a, x = sp.csc_matrix(a), sp.csc_matrix(x)
    hi = spla.eigsh(a, k=1, M=x, which="LA", return_eigenvectors=False, tol=1e-10)[0]
    # Lanczos for the smallest algebraic eigenvalue ("SA") of a pencil whose spectrum is
    # clustered near its bottom (a subdomain piece A_q is semidefinite with a large null
    # space) stalls. Shift-invert below the whole spectrum instead: the eigenvalue closest to
    # a shift under -max|lambda| is the smallest one, and A - sigma X is then definite.
    big = spla.eigsh(a, k=1, M=x, which="LM", return_eigenvectors=False, tol=1e-8)[0]
    sigma = -1.01 * abs(float(big)) - 1e-12
    lo = spla.eigsh(a, k=1, M=x, sigma=sigma, which="LM", return_eigenvectors=False,
                    tol=1e-10)[0]
    return float(lo), float(hi)


def coercivity_constant(a: sp.spmatrix, x: sp.spmatrix) -> tuple[float, np.ndarray]:
    """``alpha = min_v v^T A v / v^T X v`` and a minimiser ``v`` ``(n,)`` (A symmetric).

    Dense for small problems, shift-invert Lanczos otherwise.
    """
    a, x = sp.csc_matrix(a), sp.csc_matrix(x)
    if a.shape[0] <= DENSE_LIMIT:
        w, v = sla.eigh(a.toarray(), x.toarray(), subset_by_index=[0, 0])
        return float(w[0]), v[:, 0]
    w, v = spla.eigsh(a, k=1, M=x, sigma=0.0, which="LM", tol=1e-12)
    return float(w[0]), v[:, 0]


class SuccessiveConstraintBound:
    """Successive constraint method lower bound for ``A(mu) = sum_q theta_q(mu) A_q``.

    Parameters
    ----------
    tol : float
        Stop adding constraints when ``(UB - LB) / UB <= tol`` on the training set.
    max_constraints : int
        At most this many constraint parameters (exact eigenvalue solves).
    progress : bool
        Show a progress bar.
    fallback : bool
        Where the linear program gives no positive bound, compute the exact coercivity
        constant of ``A(mu)`` (an eigenvalue solve of full-order size; sound, but its cost
        depends on ``n``). Needs the operators (kept by :meth:`fit`, or passed to
        :meth:`from_state`). Without it such parameters keep their bound ``<= 0``.
    """

    def __init__(
        self,
        tol: float = 0.5,
        max_constraints: int = 80,
        progress: bool = True,
        fallback: bool = True,
    ) -> None:
        self.tol = tol
        self.max_constraints = max_constraints
        self.progress = progress
        self.fallback = fallback
        self.theta: Callable[[np.ndarray], np.ndarray] | None = None
        self._operators: list[sp.csr_matrix] | None = None
        self._product: sp.csr_matrix | None = None
        self._train_theta: np.ndarray | None = None
        self._train_lower: np.ndarray | None = None

    def fit(
        self,
        operators: Sequence[sp.spmatrix],
        theta: Callable[[np.ndarray], np.ndarray],
        product: sp.spmatrix,
        training_set: np.ndarray,
    ) -> SuccessiveConstraintBound:
        """Build the bound on ``training_set`` ``(m, p)``."""
        self.theta = theta
        ops = [sp.csr_matrix(a) for a in operators]
        x = sp.csr_matrix(product)
        self._operators, self._product = ops, x
        box = np.array([_extreme_eigs(a, x) for a in ops])
        self.lower_box_, self.upper_box_ = box[:, 0], box[:, 1]
        train_theta = np.asarray(theta(np.atleast_2d(training_set)), dtype=float)
        self.constraint_theta_ = np.zeros((0, len(ops)))
        self.constraint_alpha_ = np.zeros(0)
        self.upper_y_ = np.zeros((0, len(ops)))
        n_train = train_theta.shape[0]
        # Lower bounds only grow as constraints are added, so stale values stay valid lower
        # bounds and overestimate the gap: only the candidate with the largest stale gap needs
        # a fresh linear program (lazy greedy), instead of all training points each step.
        stale = np.full(n_train, -np.inf)
        fresh = np.zeros(n_train, dtype=bool)
        self.gaps_: list[float] = []
        bar = progress_bar(total=self.max_constraints, desc="SCM", unit="constraint",
                           enabled=self.progress)
        j = 0
        while self.constraint_alpha_.size < self.max_constraints:
            th = train_theta[j]
            a = ops[0] * th[0]
            for c, op in zip(th[1:], ops[1:]):
                a = a + c * op
            alpha, v = coercivity_constant(a, x)
            xv = float(v @ (x @ v))
            y = np.array([float(v @ (op @ v)) / xv for op in ops])
            self.constraint_theta_ = np.vstack([self.constraint_theta_, th])
            self.constraint_alpha_ = np.append(self.constraint_alpha_, alpha)
            self.upper_y_ = np.vstack([self.upper_y_, y])
            bar.update(1)
            fresh[:] = False
            ub = np.min(train_theta @ self.upper_y_.T, axis=1)
            while True:
                gap = np.where(ub > 0, (ub - stale) / np.abs(ub), np.inf)
                j = int(np.argmax(gap))
                if fresh[j] or gap[j] <= self.tol:
                    break
                stale[j] = self.lower_bound_theta(train_theta[j])[0]
                fresh[j] = True
            self.gaps_.append(float(gap[j]))
            if gap[j] <= self.tol:
                break
        bar.close()
        unsure = ~fresh & (stale <= 0)
        if unsure.any():  # stopped by max_constraints: refresh what would give no bound
            stale[unsure] = self.lower_bound_theta(train_theta[unsure])
        self._train_theta = train_theta
        self._train_lower = stale
        return self

    def lower_bound_theta(self, thetas: np.ndarray) -> np.ndarray:
        """Lower bounds ``(B,)`` given ``theta(mu)`` ``(B, Q)`` (one linear program each)."""
        thetas = np.atleast_2d(thetas)
        bounds = list(zip(self.lower_box_, self.upper_box_))
        out = np.empty(thetas.shape[0])
        for i, th in enumerate(thetas):
            res = linprog(
                th, A_ub=-self.constraint_theta_, b_ub=-self.constraint_alpha_,
                bounds=bounds, method="highs",
            )
            out[i] = res.fun if res.status == 0 else -np.inf
        return out

    def __call__(self, mus: np.ndarray) -> np.ndarray:
        """Lower bounds ``(B,)`` for parameters ``(B, p)``."""
        if self.theta is None:
            raise ValueError("SuccessiveConstraintBound: call fit(...) before evaluating it")
        thetas = np.asarray(self.theta(np.atleast_2d(mus)), dtype=float)
        cached = self._train_theta
        if cached is not None and cached.shape == thetas.shape and np.array_equal(cached, thetas):
            # Valid lower bounds from the construction (stale values only underestimate).
            lower = self._train_lower.copy()
        else:
            lower = self.lower_bound_theta(thetas)
        bad = np.flatnonzero(~(lower > 0))
        if bad.size == 0:
            return lower
        if self.fallback and self._operators is not None:
            warnings.warn(
                f"SuccessiveConstraintBound: the linear program gives no positive coercivity "
                f"bound at {bad.size} of {lower.size} parameters (far from the "
                f"{self.constraint_alpha_.size} constraint parameters); using exact "
                "full-order eigenvalue solves there. Fit with more constraints or a training "
                "set covering these parameters to keep the online cost independent of n.",
                CoercivityWarning,
                stacklevel=2,
            )
            for i in bad:
                lower[i] = self.exact(thetas[i])
        else:
            warnings.warn(
                f"SuccessiveConstraintBound: no positive coercivity bound at {bad.size} of "
                f"{lower.size} parameters and no exact fallback (fallback={self.fallback}, "
                f"operators known: {self._operators is not None}); their error bounds are "
                "infinite.",
                CoercivityWarning,
                stacklevel=2,
            )
        return lower

    def exact(self, theta: np.ndarray) -> float:
        """The coercivity constant of ``sum_q theta_q A_q`` (full-order eigenvalue solve)."""
        if self._operators is None or self._product is None:
            raise ValueError(
                "SuccessiveConstraintBound: the operators are unknown (fit(...) keeps them; "
                "pass operators= and product= to from_state)"
            )
        th = np.asarray(theta, dtype=float).reshape(-1)
        a = self._operators[0] * th[0]
        for c, op in zip(th[1:], self._operators[1:]):
            a = a + c * op
        return coercivity_constant(a, self._product)[0]

    def state(self) -> dict[str, np.ndarray]:
        """Arrays that define the bound (for checkpoints); the operators are not included."""
        out = {
            "lower_box": self.lower_box_, "upper_box": self.upper_box_,
            "constraint_theta": self.constraint_theta_,
            "constraint_alpha": self.constraint_alpha_, "upper_y": self.upper_y_,
        }
        if self._train_theta is not None:
            # The construction's lower bounds on the training set: a restored bound returns
            # the same numbers there as the fitted one (the LP would give tighter ones).
            out["train_theta"] = self._train_theta
            out["train_lower"] = self._train_lower
        return out

    @classmethod
    def from_state(
        cls,
        state: dict[str, np.ndarray],
        theta: Callable[[np.ndarray], np.ndarray],
        operators: Sequence[sp.spmatrix] | None = None,
        product: sp.spmatrix | None = None,
        fallback: bool = True,
    ) -> SuccessiveConstraintBound:
        """Rebuild from :meth:`state` output and the parameter functions.

        ``operators`` ``A_q`` and ``product`` ``X`` (both or neither) enable the exact
        fallback where the linear program gives no positive bound.
        """
        if (operators is None) != (product is None):
            raise ValueError("operators, product: pass both (for the exact fallback) or neither")
        obj = cls(progress=False, fallback=fallback)
        obj.theta = theta
        obj.lower_box_ = np.asarray(state["lower_box"])
        obj.upper_box_ = np.asarray(state["upper_box"])
        obj.constraint_theta_ = np.asarray(state["constraint_theta"])
        obj.constraint_alpha_ = np.asarray(state["constraint_alpha"])
        obj.upper_y_ = np.asarray(state["upper_y"])
        if "train_theta" in state:
            obj._train_theta = np.asarray(state["train_theta"])
            obj._train_lower = np.asarray(state["train_lower"])
        if operators is not None:
            obj._operators = [sp.csr_matrix(a) for a in operators]
            obj._product = sp.csr_matrix(product)
        return obj
