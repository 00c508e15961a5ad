"""Certified reduced bases: weak greedy, offline/online split, reduced models as Solvers.

For ``A(mu) u = f(mu)`` with ``A(mu) = sum_q theta_q(mu) A_q`` symmetric coercive and
``f(mu) = sum_i phi_i(mu) f_i``, the reduced solution ``u_N = V c`` solves the Galerkin system
``(sum_q theta_q V^T A_q V) c = sum_i phi_i V^T f_i`` and

    ||u(mu) - u_N(mu)||_X <= Delta(mu) = ||r(mu)||_{X'} / alpha_LB(mu)

with ``r`` the residual and ``alpha_LB`` a coercivity lower bound. Offline everything of size
``n`` is projected once; online a parameter costs ``O(Q_a N^3 + K (Q_f + N Q_a))``,
independent of ``n``, and batches of parameters are solved at once with torch (GPU when
available). The residual norm is evaluated in the stable orthonormalised form
(:mod:`sciml.rom.estimators`), so ``Delta`` keeps decreasing far below ``1e-8``.

:func:`weak_greedy` adds, at each step, the full-order solution at the training parameter of
largest (relative) bound. :class:`ReducedBasisSolver` wraps it for affine problems;
:class:`NonintrusiveReducedBasisSolver` first makes a non-affine black-box model affine with
:class:`~sciml.rom.MatrixEIM` (from assembled matrices only) and bounds its coercivity with
the successive constraint method.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
from torch import nn

from sciml.core.device import resolve_device
from sciml.core.problem import ParametricProblem
from sciml.core.progress import progress_bar
from sciml.core.registry import PROBLEMS, SOLVERS
from sciml.core.solver import Solver
from sciml.core.validation import check_choice, check_positive, describe
from sciml.rom.coercivity import SuccessiveConstraintBound
from sciml.rom.eim import InterpolationCoefficients, MatrixEIM
from sciml.rom.estimators import (
    GramResidualNorm,
    OrthonormalResidualNorm,
    ResidualNorm,
    residual_coefficients,
)
from sciml.rom.models import AffineModel, LinearModel
from sciml.rom.pod import OrthonormalBasis
from sciml.train.checkpoint import load_checkpoint, save_checkpoint

__all__ = [
    "GreedyResult",
    "NonintrusiveReducedBasisSolver",
    "ReducedBasisSolver",
    "ReducedModel",
    "weak_greedy",
]

ParamFn = Callable[[np.ndarray], np.ndarray]
_ESTIMATORS = {"orthonormal": OrthonormalResidualNorm, "gram": GramResidualNorm}


@dataclass
class ReducedModel:
    """The online part of a reduced-basis model: nothing here has the full-order size.

    Attributes
    ----------
    operators : Tensor ``(Q_a, N, N)``
        ``V^T A_q V``.
    rhs : Tensor ``(Q_f, N)``
        ``V^T f_i``.
    estimator : str
        ``"orthonormal"`` or ``"gram"``.
    residual : Tensor
        ``C`` ``(K, Q_f + N Q_a)`` (orthonormal) or ``G`` (Gram), see
        :mod:`sciml.rom.estimators`.
    theta, rhs_theta : callable ``mus (B, p) -> (B, Q)``
        Parameter functions.
    coercivity : callable ``mus (B, p) -> (B,)``
        Coercivity lower bound.
    """

    operators: torch.Tensor
    rhs: torch.Tensor
    estimator: str
    residual: torch.Tensor
    theta: ParamFn
    rhs_theta: ParamFn
    coercivity: ParamFn

    @property
    def n_basis(self) -> int:
        """Basis size ``N``."""
        return int(self.operators.shape[-1])

    def to(self, device: torch.device) -> ReducedModel:
        """A copy with tensors on ``device``."""
        return ReducedModel(
            self.operators.to(device), self.rhs.to(device), self.estimator,
            self.residual.to(device), self.theta, self.rhs_theta, self.coercivity,
        )

    def solve(
        self,
        mus: np.ndarray,
        n_basis: int | None = None,
        coercivity: np.ndarray | None = None,
        with_bound: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reduced coefficients ``(B, N)`` and error bounds ``(B,)`` for parameters ``(B, p)``.

        ``coercivity`` may pass precomputed lower bounds ``(B,)`` (the greedy reuses them).
        """
        mus = np.atleast_2d(np.asarray(mus, dtype=float))
        n = self.n_basis if n_basis is None else int(n_basis)
        dev, dt = self.operators.device, self.operators.dtype
        theta = torch.as_tensor(np.asarray(self.theta(mus), dtype=float), device=dev, dtype=dt)
        phi = torch.as_tensor(np.asarray(self.rhs_theta(mus), dtype=float), device=dev, dtype=dt)
        a = torch.einsum("bq,qij->bij", theta, self.operators[:, :n, :n])
        f = phi @ self.rhs[:, :n]
        u_n = torch.linalg.solve(a, f.unsqueeze(-1)).squeeze(-1) if n else f
        if not with_bound:
            return u_n, torch.full((mus.shape[0],), float("nan"), dtype=dt, device=dev)
        c = residual_coefficients(phi, theta, u_n)
        res = _dual_norms(self.estimator, self.residual, c)
        alpha = self.coercivity(mus) if coercivity is None else coercivity
        alpha = torch.as_tensor(np.asarray(alpha, dtype=float), device=dev, dtype=dt)
        bound = torch.where(alpha > 0, res / alpha.clamp_min(1e-300), torch.full_like(res, np.inf))
        return u_n, bound


def _dual_norms(kind: str, matrix: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    k = c.shape[1]
    if kind == "orthonormal":
        return torch.linalg.vector_norm(c @ matrix[:, :k].T, dim=1)
    sq = torch.einsum("bi,ij,bj->b", c, matrix[:k, :k], c)
    return torch.sqrt(torch.clamp(sq, min=0.0))


class _Offline:
    """Incremental projection of an affine model onto a growing X-orthonormal basis."""

    def __init__(self, model: AffineModel, estimator: str) -> None:
        self.model = model
        x = sp.csc_matrix(model.product)
        lu = spla.splu(x)
        self._basis = OrthonormalBasis(model.n_dofs, model.product)
        q_a, q_f = model.n_terms
        self.a_n = np.zeros((q_a, 0, 0))
        self.f_n = np.zeros((q_f, 0))
        self.residual: ResidualNorm = _ESTIMATORS[estimator](lu.solve, x)
        self.residual.extend(model.rhs_terms.T)
        self.estimator = estimator

    def extend(self, u: np.ndarray) -> bool:
        """Add a snapshot; False when it is already in the span (nothing added)."""
        n = self._basis.size
        self._basis.extend(u, rtol=1e-12)
        if self._basis.size == n:
            return False
        v = self._basis.vectors[:, n]
        basis = self._basis.vectors[:, :n]
        av = np.column_stack([a @ v for a in self.model.operators])
        atv = np.column_stack([a.T @ v for a in self.model.operators])
        a_n = np.zeros((self.a_n.shape[0], n + 1, n + 1))
        a_n[:, :n, :n] = self.a_n
        a_n[:, :n, n] = (basis.T @ av).T
        a_n[:, n, :n] = (basis.T @ atv).T
        a_n[:, n, n] = v @ av
        self.a_n = a_n
        self.f_n = np.hstack([self.f_n, (self.model.rhs_terms @ v)[:, None]])
        self.residual.extend(av)
        return True

    @property
    def basis(self) -> np.ndarray:
        """The X-orthonormal basis ``(n, N)``."""
        return self._basis.vectors.copy()

    def reduced(self, coercivity: ParamFn, device: torch.device) -> ReducedModel:
        residual = self.residual.state()
        return ReducedModel(
            operators=torch.as_tensor(self.a_n, device=device),
            rhs=torch.as_tensor(self.f_n, device=device),
            estimator=self.estimator,
            residual=next(iter(residual.values())).to(device),
            theta=self.model.theta,
            rhs_theta=self.model.rhs_theta,
            coercivity=coercivity,
        )


@dataclass
class GreedyResult:
    """Result of :func:`weak_greedy`.

    Attributes
    ----------
    basis : ndarray ``(n, N)``
        X-orthonormal reduced basis.
    reduced : ReducedModel
    selected : ndarray ``(N, p)``
        Parameters whose snapshots span the basis, in order.
    max_bounds : list of float
        Largest (relative) bound over the training set with ``0..N`` basis vectors (index 0:
        the absolute bound of the zero solution).
    history : list of dict
        Per step: basis size, largest bound, elapsed seconds.
    """

    basis: np.ndarray
    reduced: ReducedModel
    selected: np.ndarray
    max_bounds: list[float] = field(default_factory=list)
    history: list[dict[str, float]] = field(default_factory=list)


def weak_greedy(
    model: AffineModel,
    training_set: np.ndarray,
    tol: float = 1e-6,
    max_basis: int = 50,
    relative: bool = True,
    estimator: str = "orthonormal",
    device: str | torch.device = "auto",
    progress: bool = True,
    solve: Callable[[np.ndarray], np.ndarray] | None = None,
) -> GreedyResult:
    """Weak greedy reduced basis driven by the a posteriori bound.

    Parameters
    ----------
    model : AffineModel
        With a coercivity lower bound ``model.coercivity``.
    training_set : ndarray ``(m, p)``
    tol : float
        Stop when the largest bound over the training set is at most ``tol`` (relative to
        ``||u_N||_X`` when ``relative``).
    max_basis : int
        At most this many basis vectors.
    estimator : {"orthonormal", "gram"}
        Stable orthonormalised residual norm, or the classical Gram form (for comparison).
    device : str
        Where the batched reduced solves over the training set run.
    solve : callable ``mu (p,) -> (n,)``, optional
        Full-order solve for the snapshots (default ``model.solve``).

    Returns
    -------
    GreedyResult
    """
    check_choice("estimator", estimator, tuple(_ESTIMATORS))
    check_positive("tol", tol, allow_zero=True)
    if not isinstance(model, AffineModel):
        raise ValueError(f"model: expected an AffineModel, got {describe(model)}")
    if model.coercivity is None:
        raise ValueError("model: has no coercivity lower bound (model.coercivity is None)")
    dev = resolve_device(device)
    train = np.atleast_2d(np.asarray(training_set, dtype=float))
    solve = solve or model.solve
    start = time.perf_counter()
    alpha = np.asarray(model.coercivity(train), dtype=float)
    offline = _Offline(model, estimator)
    selected: list[np.ndarray] = []
    max_bounds: list[float] = []
    history: list[dict[str, float]] = []
    bar = progress_bar(total=max_basis, desc="RB greedy", unit="basis", enabled=progress)
    while True:
        reduced = offline.reduced(model.coercivity, dev)
        u_n, bounds = reduced.solve(train, coercivity=alpha)
        if relative and reduced.n_basis > 0:
            bounds = bounds / torch.linalg.vector_norm(u_n, dim=1).clamp_min(1e-300)
        bounds_np = bounds.cpu().numpy()
        j = int(np.argmax(bounds_np))
        max_bounds.append(float(bounds_np[j]))
        history.append({"epoch": float(reduced.n_basis), "max_bound": max_bounds[-1],
                        "time": time.perf_counter() - start})
        bar.set_postfix(bound=f"{max_bounds[-1]:.2e}")
        done = reduced.n_basis > 0 and max_bounds[-1] <= tol
        if done or reduced.n_basis >= max_basis:
            break
        if not offline.extend(solve(train[j])):
            break  # the worst snapshot is already in the span: round-off floor reached
        selected.append(train[j])
        bar.update(1)
    bar.close()
    return GreedyResult(
        basis=offline.basis,
        reduced=reduced,
        selected=np.array(selected).reshape(len(selected), train.shape[1]),
        max_bounds=max_bounds,
        history=history,
    )


def _import_problem_modules() -> None:
    """Import the modules that register the parametric problems of the library."""
    import sciml.problems.nonaffine_diffusion
    import sciml.problems.thermal_block  # noqa: F401


class _State(nn.Module):
    """Holds the arrays of a reduced model as buffers, so checkpoints store a state dict."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        super().__init__()
        for name, value in tensors.items():
            self.register_buffer(name, torch.as_tensor(value))


@SOLVERS.register("ReducedBasisSolver")
class ReducedBasisSolver(Solver):
    """Certified reduced basis for affine parametric problems (weak greedy).

    ``fit(problem)`` needs ``problem.model`` to be an :class:`~sciml.rom.AffineModel` with a
    coercivity lower bound. ``predict(mu)`` returns the full-order-size solution;
    ``predict(mu, return_bound=True)`` also the error bound ``||u - u_N||_X <= Delta``.

    Parameters
    ----------
    tol : float
        Greedy tolerance on the largest (relative) error bound over the training set.
    max_basis : int
        Largest basis size.
    n_train : int
        Size of the random training set (ignored when ``training_set`` is given).
    training_set : ndarray ``(m, p)``, optional
    seed : int
        Seed of the training set.
    relative : bool
        Drive the greedy by ``Delta / ||u_N||_X`` (True) or by ``Delta``.
    estimator : {"orthonormal", "gram"}
        Residual norm evaluation (see :mod:`sciml.rom.estimators`).
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``: where online solves run.
    progress : bool
        Show progress bars.
    """

    problem_types = (ParametricProblem,)

    def __init__(
        self,
        tol: float = 1e-6,
        max_basis: int = 50,
        n_train: int = 1000,
        training_set: np.ndarray | None = None,
        seed: int = 0,
        relative: bool = True,
        estimator: str = "orthonormal",
        device: str = "auto",
        progress: bool = True,
    ) -> None:
        self.tol = tol
        self.max_basis = max_basis
        self.n_train = n_train
        self.training_set = training_set
        self.seed = seed
        self.relative = relative
        self.estimator = estimator
        self.device = device
        self.progress = progress

    # -- offline -------------------------------------------------------------------------
    def _affine_model(
        self, problem: ParametricProblem, train: np.ndarray | None = None
    ) -> AffineModel:
        model = problem.model
        if not isinstance(model, AffineModel):
            raise ValueError(
                f"problem: {type(self).__name__} needs problem.model to be an AffineModel, got "
                f"{describe(model)}; for non-affine models use NonintrusiveReducedBasisSolver"
            )
        return model

    def fit(self, problem: ParametricProblem) -> ReducedBasisSolver:
        """Run the weak greedy on ``problem`` and keep the reduced model."""
        self._check_problem(problem)
        check_choice("estimator", self.estimator, tuple(_ESTIMATORS))
        start = time.perf_counter()
        train = (
            problem.sample(self.n_train, seed=self.seed)
            if self.training_set is None
            else problem.space.as_array(self.training_set)
        )
        model = self._affine_model(problem, train)
        result = weak_greedy(
            model, train, tol=self.tol, max_basis=self.max_basis, relative=self.relative,
            estimator=self.estimator, device=self.device, progress=self.progress,
        )
        self.device_ = resolve_device(self.device)
        self.basis_ = result.basis
        self.reduced_ = result.reduced
        self.selected_ = result.selected
        self.max_bounds_ = result.max_bounds
        self.history_ = result.history
        self.n_dofs_ = model.n_dofs
        self.names_ = list(problem.space.names)
        self.recipe_ = problem.recipe
        self.timings_ = {"fit": time.perf_counter() - start}
        return self

    # -- online --------------------------------------------------------------------------
    @property
    def n_basis(self) -> int:
        """Basis size ``N``."""
        self._check_fitted("n_basis")
        return self.reduced_.n_basis

    def _mus(self, mu: Any) -> tuple[np.ndarray, bool]:
        if isinstance(mu, Mapping):
            missing = [n for n in self.names_ if n not in mu]
            if missing:
                raise ValueError(f"mu: missing parameters {missing}; expected {self.names_}")
            return np.array([[float(mu[n]) for n in self.names_]]), True
        arr = np.asarray(mu, dtype=float)
        return np.atleast_2d(arr), arr.ndim <= 1

    def solve_reduced(
        self, mus: Any, n_basis: int | None = None, with_bound: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reduced coefficients ``(B, N)`` and bounds ``(B,)`` on the solver's device."""
        self._check_fitted("solve_reduced")
        arr, _ = self._mus(mus)
        return self.reduced_.solve(arr, n_basis=n_basis, with_bound=with_bound)

    def reconstruct(self, coefficients: torch.Tensor | np.ndarray) -> np.ndarray:
        """Full-order vectors ``(B, n)`` from reduced coefficients ``(B, N')``."""
        c = np.asarray(torch.as_tensor(coefficients).detach().cpu(), dtype=float)
        return c @ self.basis_[:, : c.shape[-1]].T

    def predict(
        self, mu: Any, return_bound: bool = False, n_basis: int | None = None
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Full-order-size solution(s) for one parameter (dict, :class:`Mu`, ``(p,)``) or a
        batch ``(B, p)``; returns ``(n,)`` or ``(B, n)``, plus the bound(s) when asked."""
        self._check_fitted("predict")
        arr, single = self._mus(mu)
        u_n, bound = self.reduced_.solve(arr, n_basis=n_basis, with_bound=return_bound)
        u = self.reconstruct(u_n)
        b = bound.cpu().numpy()
        if single:
            u, b = u[0], b[0]
        return (u, b) if return_bound else u

    def error_bound(self, mu: Any, n_basis: int | None = None) -> np.ndarray:
        """``Delta(mu) >= ||u(mu) - u_N(mu)||_X``, ``(B,)`` (or a 0-d array for one mu)."""
        self._check_fitted("error_bound")
        arr, single = self._mus(mu)
        _, bound = self.reduced_.solve(arr, n_basis=n_basis)
        b = bound.cpu().numpy()
        return b[0] if single else b

    # -- persistence ---------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {
            "tol": self.tol, "max_basis": self.max_basis, "n_train": self.n_train,
            "seed": self.seed, "relative": self.relative, "estimator": self.estimator,
            "progress": self.progress,
        }

    def _tensors(self) -> dict[str, torch.Tensor]:
        return {
            "basis": torch.as_tensor(self.basis_),
            "operators": self.reduced_.operators.cpu(),
            "rhs": self.reduced_.rhs.cpu(),
            "residual": self.reduced_.residual.cpu(),
            "selected": torch.as_tensor(self.selected_),
        }

    def _extra(self) -> dict[str, Any]:
        return {}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the reduced model and basis to one checkpoint file.

        The parameter functions are code, not data: the checkpoint stores the problem's
        ``recipe`` (registered name and arguments) and :meth:`load` rebuilds them from it.
        """
        self._check_fitted("save")
        recipe = None if self.recipe_ is None else [self.recipe_[0], dict(self.recipe_[1])]
        save_checkpoint(
            path,
            model=_State(self._tensors()),
            config=self._config(),
            extra={"recipe": recipe, "history": self.history_, "timings": self.timings_,
                   "max_bounds": self.max_bounds_, "n_dofs": self.n_dofs_, **self._extra()},
            rng=False,
        )

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        device: str = "auto",
        problem: ParametricProblem | None = None,
    ) -> ReducedBasisSolver:
        """Rebuild a fitted solver from :meth:`save` output.

        ``problem`` gives the parameter functions; by default it is rebuilt from the stored
        recipe through :data:`sciml.core.registry.PROBLEMS`.
        """
        ckpt = load_checkpoint(path, map_location="cpu")
        config = dict(ckpt.config or {})
        recipe = ckpt.extra.get("recipe")
        if problem is None:
            if recipe is None:
                raise ValueError(
                    f"{path}: the solver was fit on a problem without a recipe; pass the "
                    "problem: load(path, problem=problem)"
                )
            _import_problem_modules()
            problem = PROBLEMS.get(recipe[0])(**recipe[1])
        solver = cls(**config, device=device)
        dev = resolve_device(device)
        state = ckpt.model_state
        theta, rhs_theta, coercivity = solver._online_functions(problem, ckpt.extra, state)
        solver.device_ = dev
        solver.basis_ = state["basis"].numpy()
        solver.reduced_ = ReducedModel(
            operators=state["operators"].to(dev), rhs=state["rhs"].to(dev),
            estimator=config["estimator"], residual=state["residual"].to(dev),
            theta=theta, rhs_theta=rhs_theta, coercivity=coercivity,
        )
        solver.selected_ = state["selected"].numpy()
        solver.history_ = list(ckpt.extra.get("history", []))
        solver.max_bounds_ = list(ckpt.extra.get("max_bounds", []))
        solver.timings_ = dict(ckpt.extra.get("timings", {}))
        solver.n_dofs_ = int(ckpt.extra.get("n_dofs", solver.basis_.shape[0]))
        solver.names_ = list(problem.space.names)
        solver.recipe_ = None if recipe is None else (recipe[0], dict(recipe[1]))
        return solver

    def _online_functions(
        self, problem: ParametricProblem, extra: dict[str, Any], state: dict[str, torch.Tensor]
    ) -> tuple[ParamFn, ParamFn, ParamFn]:
        model = self._affine_model(problem)
        return model.theta, model.rhs_theta, model.coercivity


@SOLVERS.register("NonintrusiveReducedBasisSolver")
class NonintrusiveReducedBasisSolver(ReducedBasisSolver):
    """Certified reduced basis for non-affine problems, from assembled matrices only.

    ``fit`` interpolates the black-box ``A(mu)`` and ``f(mu)`` of ``problem.model`` (a
    :class:`~sciml.rom.LinearModel`) with :class:`~sciml.rom.MatrixEIM`, giving the affine
    model ``A_M(mu) = sum_m c_m(mu) Q_m``, bounds its coercivity with the successive
    constraint method, and runs the weak greedy on it. The bound certifies the error to the
    solution of the interpolated model; the interpolation error itself is controlled by
    ``eim_tol``.

    Parameters
    ----------
    eim_terms, eim_tol : int, float
        Largest number of terms and relative tolerance of the matrix (and vector) EIM.
    n_eim_train : int
        Random training parameters of the EIM.
    scm_tol, scm_constraints : float, int
        Successive-constraint tolerance on ``(UB - LB) / UB`` over the greedy training set
        and largest number of constraints (exact eigenvalue solves).

    Notes
    -----
    The other parameters are those of :class:`ReducedBasisSolver`.
    """

    def __init__(
        self,
        tol: float = 1e-6,
        max_basis: int = 50,
        n_train: int = 400,
        training_set: np.ndarray | None = None,
        seed: int = 0,
        relative: bool = True,
        estimator: str = "orthonormal",
        device: str = "auto",
        progress: bool = True,
        eim_terms: int = 30,
        eim_tol: float = 1e-12,
        n_eim_train: int = 400,
        scm_tol: float = 0.5,
        scm_constraints: int = 80,
    ) -> None:
        super().__init__(tol, max_basis, n_train, training_set, seed, relative, estimator,
                         device, progress)
        self.eim_terms = eim_terms
        self.eim_tol = eim_tol
        self.n_eim_train = n_eim_train
        self.scm_tol = scm_tol
        self.scm_constraints = scm_constraints

    def _affine_model(
        self, problem: ParametricProblem, train: np.ndarray | None = None
    ) -> AffineModel:
        model = problem.model
        if not isinstance(model, LinearModel):
            raise ValueError(
                f"problem: {type(self).__name__} needs problem.model to be a LinearModel, got "
                f"{describe(model)}"
            )
        eim_train = problem.sample(self.n_eim_train, seed=self.seed + 1)
        a_eim = MatrixEIM(self.eim_terms, self.eim_tol, self.progress).fit(
            model._operator, eim_train, entries=model.operator_entries
        )
        f_eim = MatrixEIM(self.eim_terms, self.eim_tol, self.progress).fit(
            model._rhs, eim_train, entries=model.rhs_entries
        )
        theta, rhs_theta = a_eim.coefficient_function(), f_eim.coefficient_function()
        terms = a_eim.terms()
        scm = SuccessiveConstraintBound(self.scm_tol, self.scm_constraints, self.progress).fit(
            terms, theta, model.product,
            problem.sample(self.n_train, seed=self.seed) if train is None else train,
        )
        self.eim_ = {"operator": a_eim, "rhs": f_eim}
        self.scm_ = scm
        return AffineModel(
            problem.space, terms, theta, f_eim.terms(), model.product, rhs_theta, scm
        )

    def _config(self) -> dict[str, Any]:
        return {
            **super()._config(), "eim_terms": self.eim_terms, "eim_tol": self.eim_tol,
            "n_eim_train": self.n_eim_train, "scm_tol": self.scm_tol,
            "scm_constraints": self.scm_constraints,
        }

    def _tensors(self) -> dict[str, torch.Tensor]:
        if getattr(self, "eim_", None) is None:
            raise ValueError(
                f"{type(self).__name__}: this solver was loaded from a checkpoint that predates "
                "the stored EIM state, so it cannot be saved again; refit it"
            )
        out = super()._tensors()
        # The whole interpolants and SCM, not only their online maps: a loaded solver then
        # holds the same eim_/scm_ as a fitted one and saves again identically.
        for key, e in self.eim_.items():
            for name, value in e.state().items():
                out[f"eim_{key}_{name}"] = torch.as_tensor(value)
        for key, value in self.scm_.state().items():
            out[f"scm_{key}"] = torch.as_tensor(value)
        return out

    def _online_functions(
        self, problem: ParametricProblem, extra: dict[str, Any], state: dict[str, torch.Tensor]
    ) -> tuple[ParamFn, ParamFn, ParamFn]:
        model = problem.model
        if not isinstance(model, LinearModel):
            raise ValueError(
                f"problem: {type(self).__name__} needs problem.model to be a LinearModel, got "
                f"{describe(model)}"
            )
        scm_state = {k[4:]: v.numpy() for k, v in state.items() if k.startswith("scm_")}
        sources = {
            "operator": (model._operator, model.operator_entries),
            "rhs": (model._rhs, model.rhs_entries),
        }
        if "eim_operator_basis" not in state:
            # Checkpoint of an earlier version: only the online maps were stored.
            fns = {
                key: InterpolationCoefficients(
                    state[f"eim_{key}_matrix"].numpy(), state[f"eim_{key}_rows"].numpy(),
                    state[f"eim_{key}_cols"].numpy(), entries=entries, assemble=assemble,
                )
                for key, (assemble, entries) in sources.items()
            }
            self.eim_ = None
            self.scm_ = SuccessiveConstraintBound.from_state(scm_state, fns["operator"])
            return fns["operator"], fns["rhs"], self.scm_
        self.eim_ = {}
        for key, (assemble, entries) in sources.items():
            prefix = f"eim_{key}_"
            sub = {k[len(prefix):]: v.numpy() for k, v in state.items() if k.startswith(prefix)}
            self.eim_[key] = MatrixEIM.from_state(sub, assemble, entries, progress=self.progress)
        theta = self.eim_["operator"].coefficient_function()
        rhs_theta = self.eim_["rhs"].coefficient_function()
        self.scm_ = SuccessiveConstraintBound.from_state(
            scm_state, theta, operators=self.eim_["operator"].terms(), product=model.product
        )
        return theta, rhs_theta, self.scm_
