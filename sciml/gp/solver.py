r"""Kronecker Gaussian-process PDE solver (after Fang et al., GP-HM, ICLR 2024), made fast.

Model
-----
The unknowns are the solution values :math:`U` on a tensor grid :math:`M` over the box. A GP
prior with a product kernel :math:`k(x, y) = \prod_a k_a(x_a, y_a)` gives
:math:`U \sim \mathcal N(0, K)`, :math:`K = \otimes_a K_a`, and the solution and its
derivatives anywhere are the GP conditional mean,
:math:`\partial^s u(x) = \partial^s k(x, M) K^{-1} U`, computed axis by axis. The fit
maximises the log joint

.. math::

    -\log p = \tfrac12 U^\top K^{-1} U + \tfrac12 \log|K|
      + \tfrac{\beta_r}{2} \sum_{i \in \text{interior}} r_i(U)^2
      + \tfrac{\beta_b}{2} \sum_{j \in \text{boundary}} (U_j - g_j)^2
      + \sum_q \log w_q,

with residual :math:`r = \texttt{residual}(u, x)` at the grid points off the constrained faces,
boundary and initial data :math:`g` on them, noise precisions :math:`\beta_r, \beta_b`
and a Jeffreys prior on the mixture weights. The precisions are fixed, or learned: adding
their normalisers :math:`-\tfrac{n_r}{2}\log\beta_r - \tfrac{n_b}{2}\log\beta_b` to the
objective, each solve for :math:`U` is followed by the exact minimiser in them,
:math:`\beta = n / \|r\|^2`, clipped to bounds.

Algorithm (``method="alternating"``)
------------------------------------
With the hyperparameters fixed the objective is quadratic in :math:`U` for linear PDEs.
Whitening :math:`U = (\otimes_a R_a) V` turns the prior into :math:`\tfrac12\|V\|^2`; Gauss–Newton
then solves the linearised least-squares problem exactly (one step for linear PDEs, a few
for nonlinear ones): by a dense QR solve on 1-D grids and by conjugate gradients with
Kronecker matrix-vector products on n-D grids, preconditioned by a Kronecker-sum
approximation that is inverted exactly through per-axis eigendecompositions. Between solves,
a few Adam steps update the kernel hyperparameters on the same objective with :math:`U` fixed.
``method="adam"`` is the paper's plain Adam on :math:`U` and the hyperparameters jointly.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.core.conditions import Dirichlet, Initial, faces_of
from sciml.core.device import resolve_device
from sciml.core.problem import PDEProblem
from sciml.core.progress import progress_bar
from sciml.core.registry import SOLVERS
from sciml.core.residual import Coordinates
from sciml.core.solver import Solver
from sciml.core.validation import check_choice, check_positive
from sciml.gp.discretization import Discretization
from sciml.gp.field import GridField, ProbeField
from sciml.gp.kernels import KERNELS, ProductKernel, StationaryKernel, make_kernel
from sciml.linalg.batched import conjugate_gradient, mode_product
from sciml.linalg.kronecker import KroneckerSum
from sciml.train.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["KroneckerGPSolver"]

Counts = tuple[int, ...]
METHODS = ("alternating", "adam")


class _GPState(nn.Module):
    """Everything a fitted solver needs to predict: kernels, grid, values and weights."""

    def __init__(self, kernel: ProductKernel, coords: Sequence[torch.Tensor]) -> None:
        super().__init__()
        self.kernel = kernel
        for k, c in enumerate(coords):
            self.register_buffer(f"coords_{k}", c.clone())
            self.register_buffer(f"kinv_{k}", torch.zeros(c.numel(), c.numel(), dtype=c.dtype))
        shape = tuple(c.numel() for c in coords)
        dtype = coords[0].dtype
        self.register_buffer("values", torch.zeros(shape, dtype=dtype))
        self.register_buffer("alpha", torch.zeros(shape, dtype=dtype))

    @property
    def ndim(self) -> int:
        return len(self.kernel.names)

    def coords(self) -> list[torch.Tensor]:
        return [getattr(self, f"coords_{k}") for k in range(self.ndim)]

    def kinvs(self) -> list[torch.Tensor]:
        return [getattr(self, f"kinv_{k}") for k in range(self.ndim)]

    def kernels(self) -> list[StationaryKernel]:
        return [self.kernel[a] for a in self.kernel.names]


class _Constraints:
    """Boundary/initial data on the grid and which points carry the residual."""

    def __init__(
        self, problem: PDEProblem, coords: Sequence[torch.Tensor], x: Coordinates
    ) -> None:
        names = problem.domain.names
        shape = tuple(c.numel() for c in coords)
        keep = [torch.ones(n, dtype=torch.bool, device=coords[0].device) for n in shape]
        g = torch.zeros(shape, dtype=coords[0].dtype, device=coords[0].device)
        have = torch.zeros(shape, dtype=torch.bool, device=coords[0].device)
        for i, cond in enumerate(problem.conditions):
            if isinstance(cond, Dirichlet):
                faces = cond.on or faces_of(problem.domain, problem.time_axis)
            elif isinstance(cond, Initial):
                if cond.derivative != 0:
                    raise ValueError(
                        f"problem.conditions[{i}]: Initial(derivative={cond.derivative}) is not "
                        "supported by KroneckerGPSolver; only Initial(derivative=0)"
                    )
                faces = (f"{problem.time_axis}-",)
            else:
                raise ValueError(
                    f"problem.conditions[{i}]: {type(cond).__name__} is not supported by "
                    "KroneckerGPSolver; it imposes Dirichlet and Initial(derivative=0) data"
                )
            vals = torch.as_tensor(cond.value(x), dtype=g.dtype, device=g.device)
            vals = torch.broadcast_to(vals.reshape(-1) if vals.ndim else vals, (g.numel(),))
            vals = vals.reshape(shape)
            for face in faces:
                a = names.index(face[:-1])
                idx = 0 if face[-1] == "-" else shape[a] - 1
                keep[a][idx] = False
                sel = torch.zeros(shape, dtype=torch.bool, device=g.device)
                sel.select(a, idx).fill_(True)
                new = sel & ~have
                g[new] = vals[new]
                have |= sel
        self.keep = keep
        self.boundary = have
        self.g = g
        interior = keep[0].to(g.dtype)
        for k in range(1, len(keep)):
            interior = interior.unsqueeze(-1) * keep[k].to(g.dtype)
        self.interior = interior.reshape(shape)


@SOLVERS.register()
class KroneckerGPSolver(Solver):
    """Gaussian-process collocation with Kronecker structure for any ``PDEProblem``.

    Parameters
    ----------
    n_points : int, sequence of int or mapping of axis to int
        Grid points per axis (boundaries included).
    kernel : str
        Per-axis kernel: ``"spectral_mixture"`` (default), ``"student_t_mixture"``,
        ``"squared_exponential"`` or ``"matern52"``.
    n_components : int
        Mixture components per axis.
    max_frequency : float, sequence or mapping, optional
        Upper end of the initial frequency grid per axis (cycles per unit length); default
        half the grid's Nyquist frequency, ``(n - 1) / (4 L)``; the solution's frequencies must
        lie below it (choose ``n_points`` accordingly).
    lengthscale : float, optional
        Initial length scale of ``"squared_exponential"``/``"matern52"``; default three grid
        steps.
    method : str
        ``"alternating"`` (exact/Gauss–Newton solves for U alternating with hyperparameter
        steps) or ``"adam"`` (plain Adam on U and hyperparameters, as in the paper).
    outer_iterations : int
        Solves for U in the alternating method (hyperparameter phases between them).
    hyper_steps : int
        Adam steps on the hyperparameters per phase.
    hyper_lr : float
        Learning rate of those steps.
    learn_frequencies : bool
        Whether the mixture frequencies move (weights and bandwidths always do).
    residual_precision, boundary_precision : float
        Initial noise precisions, relative to the mean square of the residual at ``u = 0``
        and of the boundary data (so they do not depend on the units of the equation).
    learn_precision : bool
        After each solve of the alternating method, set both precisions to the maximiser of
        the log joint in them (the ``n/2 log beta`` normalisers included), ``beta = n / ||r||^2``
        over the ``n`` residual (or boundary) points, clipped to
        ``[min_precision, max_precision]``. The next solve uses them. ``method="adam"`` keeps
        the precisions fixed.
    min_precision, max_precision : float
        Bounds of learned precisions, relative like the initial ones. The upper bound stops
        the update from diverging when a residual vanishes up to round-off; the lower bound
        stops the collapse in which a weak residual term lets the prior flatten ``U``, which
        makes the residual larger and the next precision smaller still.
    jitter : float
        Relative nugget added to each axis Gram matrix.
    rank_tol : float
        Spectral cut-off on n-D grids: per-axis eigenpairs of the Gram matrix below
        ``rank_tol * max`` are dropped, and so are the Kronecker directions whose eigenvalue
        (the product of per-axis ones) is below ``rank_tol**2 * max`` (on 3-D grids the
        per-axis cut alone keeps products down to ``rank_tol**3``; the fit then loads those
        nearly grid-invisible directions and the prediction between grid points is wrong).
        ``0`` keeps all. 1-D grids keep all (dense QR solve).
    jeffreys : bool
        Add the Jeffreys prior ``sum_q log w_q`` on mixture weights.
    newton_steps : int
        Gauss–Newton steps per solve (a linear PDE stops after one).
    cg_tol, cg_maxiter : float, int
        Conjugate-gradient tolerance and iteration limit (n-D grids).
    dense_limit : int
        Largest 1-D grid solved by dense QR.
    adam_steps, adam_lr : int, float
        Steps and learning rate of ``method="adam"``.
    track_error : bool
        Record the error against ``problem.exact`` on the collocation grid in
        :attr:`history_` (for convergence plots; it never steers the fit).
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    seed : int
        Seeds the initial values of ``method="adam"``.
    progress : bool
        Show a progress bar.

    Attributes
    ----------
    model_ : nn.Module
        Kernels (with learned hyperparameters), grid, grid values ``U`` and weights ``K^-1 U``.
    history_ : list of dict
        One record per solve (or per logged Adam step): ``loss``, ``residual_rms``,
        ``boundary_rms``, ``cg_iterations``, ``time`` (and ``error`` with ``track_error``).
    precisions_ : dict
        Final ``{"residual": beta_r, "boundary": beta_b}`` (absolute; learned with
        ``learn_precision``, else the initial ones).
    initial_spectrum_ : dict
        The mixture spectrum ``{axis: (frequencies, weights)}`` before fitting (empty for
        non-mixture kernels), for comparison with :meth:`spectrum`.
    timings_ : dict
        ``{"fit": seconds}``.
    """

    problem_types = (PDEProblem,)

    def __init__(
        self,
        n_points: int | Sequence[int] | Mapping[str, int] = 128,
        kernel: str = "spectral_mixture",
        n_components: int = 30,
        max_frequency: float | Sequence[float] | Mapping[str, float] | None = None,
        lengthscale: float | None = None,
        method: str = "alternating",
        outer_iterations: int = 2,
        hyper_steps: int = 10,
        hyper_lr: float = 0.02,
        learn_frequencies: bool = True,
        residual_precision: float = 1e18,
        boundary_precision: float = 1e24,
        learn_precision: bool = False,
        min_precision: float = 1.0,
        max_precision: float = 1e26,
        jitter: float = 1e-10,
        rank_tol: float = 1e-9,
        jeffreys: bool = True,
        newton_steps: int = 12,
        cg_tol: float = 1e-9,
        cg_maxiter: int = 2000,
        dense_limit: int = 4096,
        adam_steps: int = 2000,
        adam_lr: float = 0.01,
        track_error: bool = False,
        device: str = "auto",
        seed: int = 0,
        progress: bool = True,
    ) -> None:
        check_choice("kernel", kernel, sorted(KERNELS))
        check_choice("method", method, METHODS)
        for name, value in (
            ("hyper_lr", hyper_lr), ("residual_precision", residual_precision),
            ("boundary_precision", boundary_precision), ("min_precision", min_precision),
            ("max_precision", max_precision),
            ("jitter", jitter), ("cg_tol", cg_tol), ("adam_lr", adam_lr),
        ):
            check_positive(name, value)
        for name, value, low in (
            ("n_components", n_components, 1), ("outer_iterations", outer_iterations, 1),
            ("hyper_steps", hyper_steps, 0), ("newton_steps", newton_steps, 1),
            ("cg_maxiter", cg_maxiter, 1), ("dense_limit", dense_limit, 0),
            ("adam_steps", adam_steps, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
        self.n_points = n_points
        self.kernel = kernel
        self.n_components = n_components
        self.max_frequency = max_frequency
        self.lengthscale = lengthscale
        self.method = method
        self.outer_iterations = outer_iterations
        self.hyper_steps = hyper_steps
        self.hyper_lr = hyper_lr
        self.learn_frequencies = bool(learn_frequencies)
        self.residual_precision = float(residual_precision)
        self.boundary_precision = float(boundary_precision)
        if min_precision > max_precision:
            raise ValueError(
                f"min_precision: expected at most max_precision={max_precision!r}, "
                f"got {min_precision!r}"
            )
        self.learn_precision = bool(learn_precision)
        self.min_precision = float(min_precision)
        self.max_precision = float(max_precision)
        self.jitter = float(jitter)
        check_positive("rank_tol", rank_tol, allow_zero=True)
        self.rank_tol = float(rank_tol)
        self.jeffreys = bool(jeffreys)
        self.newton_steps = newton_steps
        self.cg_tol = float(cg_tol)
        self.cg_maxiter = cg_maxiter
        self.dense_limit = dense_limit
        self.adam_steps = adam_steps
        self.adam_lr = float(adam_lr)
        self.track_error = bool(track_error)
        self.device = device
        self.seed = seed
        self.progress = bool(progress)

    # -- configuration --------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """Constructor options (JSON-serialisable)."""
        keys = (
            "n_points kernel n_components max_frequency lengthscale method outer_iterations "
            "hyper_steps hyper_lr learn_frequencies residual_precision boundary_precision "
            "learn_precision min_precision max_precision jitter rank_tol jeffreys newton_steps "
            "cg_tol cg_maxiter dense_limit adam_steps adam_lr track_error device seed progress"
        ).split()
        out = {}
        for k in keys:
            v = getattr(self, k)
            out[k] = dict(v) if isinstance(v, Mapping) else (list(v) if isinstance(v, tuple) else v)
        return out

    def _per_axis(self, name: str, value: Any, names: Sequence[str]) -> list[Any]:
        if isinstance(value, Mapping):
            missing = [a for a in names if a not in value]
            if missing:
                raise ValueError(f"{name}: no value for axes {missing}; axes are {list(names)}")
            return [value[a] for a in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError(
                    f"{name}: expected {len(names)} values (axes {list(names)}), got {list(value)}"
                )
            return list(value)
        return [value] * len(names)

    def _make_kernels(
        self, problem: PDEProblem
    ) -> tuple[list[str], list[int], list[StationaryKernel]]:
        names = list(problem.domain.names)
        counts = [int(n) for n in self._per_axis("n_points", self.n_points, names)]
        for a, n in zip(names, counts):
            if n < 4:
                raise ValueError(f"n_points[{a!r}]: need at least 4 points per axis, got {n}")
        fmax = self._per_axis("max_frequency", self.max_frequency, names)
        kernels: list[StationaryKernel] = []
        for a, n, f in zip(names, counts, fmax):
            lo, hi = problem.domain[a]
            length = hi - lo
            if self.kernel in ("spectral_mixture", "student_t_mixture"):
                f = float(f) if f is not None else 0.5 * (n - 1) / (2.0 * length)
                kernels.append(make_kernel(self.kernel, n_components=self.n_components,
                                           max_frequency=f))
            else:
                ell = self.lengthscale or 3.0 * length / (n - 1)
                kernels.append(make_kernel(self.kernel, lengthscale=ell))
        return names, counts, kernels

    # -- fitting --------------------------------------------------------------------------
    def fit(self, problem: PDEProblem) -> KroneckerGPSolver:
        """Fit the grid values and kernel hyperparameters to ``problem``; returns ``self``."""
        self._check_problem(problem)
        start = time.perf_counter()
        dev = resolve_device(self.device)
        names, counts, kernels = self._make_kernels(problem)
        kernels = [k.to(dev) for k in kernels]
        coords = [
            torch.linspace(*problem.domain[a], n, dtype=torch.float64, device=dev)
            for a, n in zip(names, counts)
        ]
        mesh = torch.meshgrid(*coords, indexing="ij")
        points = torch.stack([m.reshape(-1) for m in mesh], dim=-1)
        x = Coordinates.from_points(points, names)
        cons = _Constraints(problem, coords, x)
        state = _GPState(ProductKernel(dict(zip(names, kernels))), coords).to(dev)
        exact = None
        if self.track_error and problem.exact is not None:
            exact = torch.as_tensor(problem.exact_values(points.cpu().numpy()), device=dev)
            exact = exact.reshape(cons.g.shape)
        ctx = _Context(problem, names, x, cons, exact)
        ctx.configure(self.residual_precision, self.boundary_precision)
        self.initial_spectrum_ = _spectrum_of(state.kernel)
        self.history_: list[dict[str, Any]] = []
        if self.method == "alternating":
            disc, v = self._fit_alternating(state, ctx)
        else:
            disc, v = self._fit_adam(state, ctx)
        with torch.no_grad():
            state.values.copy_(disc.values(v))
            state.alpha.copy_(disc.alpha(v))
            for k, axis in enumerate(disc.axes):
                getattr(state, f"kinv_{k}").copy_(axis.kinv())
        self.model_ = state
        self.precisions_ = {"residual": ctx.beta_r, "boundary": ctx.beta_b}
        self.timings_ = {"fit": time.perf_counter() - start}
        return self

    def _fit_alternating(
        self, state: _GPState, ctx: _Context
    ) -> tuple[Discretization, torch.Tensor]:
        kernels = state.kernels()
        coords = state.coords()
        params = self._hyper_parameters(kernels)
        opt = torch.optim.Adam(params, lr=self.hyper_lr) if params else None
        u: torch.Tensor | None = None
        bar = progress_bar(total=self.outer_iterations, desc="KroneckerGP", unit="solve",
                           enabled=self.progress)
        t0 = time.perf_counter()
        disc = v = None
        for it in range(self.outer_iterations):
            disc = Discretization(kernels, coords, self.jitter, self._rank_tol(len(coords)))
            ctx.set_scales(disc)
            start_v = disc.whiten(u) if u is not None else disc.zeros()
            v, info = self._gauss_newton(disc, ctx, start_v)
            u = disc.values(v)
            if self.learn_precision:
                ctx.learn_precisions(disc, v, self.min_precision, self.max_precision)
            self._record(ctx, disc, v, it, t0, info)
            bar.update(1)
            if it < self.outer_iterations - 1 and opt is not None and self.hyper_steps > 0:
                for _ in range(self.hyper_steps):
                    self._hyper_step(opt, state, ctx, u)
        bar.close()
        return disc, v

    def _fit_adam(self, state: _GPState, ctx: _Context) -> tuple[Discretization, torch.Tensor]:
        kernels = state.kernels()
        coords = state.coords()
        gen = torch.Generator(device=ctx.cons.g.device).manual_seed(int(self.seed))
        u = nn.Parameter(1e-3 * torch.randn(ctx.cons.g.shape, generator=gen,
                                            dtype=ctx.cons.g.dtype, device=ctx.cons.g.device))
        ctx.set_scales(Discretization(kernels, coords, self.jitter, self._rank_tol(len(coords))))
        opt = torch.optim.Adam([*self._hyper_parameters(kernels), u], lr=self.adam_lr)
        t0 = time.perf_counter()
        log_every = max(1, self.adam_steps // 20)
        for step in progress_bar(range(self.adam_steps), desc="KroneckerGP adam", unit="step",
                                 enabled=self.progress):
            self._hyper_step(opt, state, ctx, u)
            if (step + 1) % log_every == 0 or step + 1 == self.adam_steps:
                disc = Discretization(kernels, coords, self.jitter, self._rank_tol(len(coords)))
                self._record(ctx, disc, disc.whiten(u.detach()), step + 1, t0, {})
        disc = Discretization(kernels, coords, self.jitter, self._rank_tol(len(coords)))
        return disc, disc.whiten(u.detach())

    def _rank_tol(self, ndim: int) -> float:
        # 1-D grids are solved by dense QR, which copes with every eigenpair.
        return 0.0 if ndim == 1 else self.rank_tol

    def _hyper_parameters(self, kernels: Sequence[StationaryKernel]) -> list[nn.Parameter]:
        params = []
        for k in kernels:
            for name, p in k.named_parameters():
                if name == "frequencies" and not self.learn_frequencies:
                    continue
                params.append(p)
        return params

    # -- the negative log joint as a function of the hyperparameters (U given) -------------
    def _joint_loss(self, state: _GPState, ctx: _Context, u: torch.Tensor) -> torch.Tensor | None:
        kernels = state.kernels()
        coords = state.coords()
        n_total = u.numel()
        chols, grams = [], []
        for k, c in zip(kernels, coords):
            eps = self.jitter * float(k.variance().detach())
            gram = k(c, c) + eps * torch.eye(c.numel(), dtype=c.dtype, device=c.device)
            chol, info = torch.linalg.cholesky_ex(gram)
            if int(info) != 0:
                return None
            chols.append(chol)
            grams.append(gram)
        alpha = u
        for a, chol in enumerate(chols):
            moved = alpha.movedim(a, 0)
            flat = torch.cholesky_solve(moved.reshape(moved.shape[0], -1), chol)
            alpha = flat.reshape(moved.shape).movedim(0, a)
        quad = (u * alpha).sum()
        logdet = sum(
            (n_total // chol.shape[0]) * 2 * torch.log(torch.diagonal(chol)).sum() for chol in chols
        )

        def evaluate(counts: Counts) -> torch.Tensor:
            if not any(counts):
                return u.reshape(-1)
            out = alpha
            for a, (k, c, o) in enumerate(zip(kernels, coords, counts)):
                mat = grams[a] if o == 0 else k(c, c, dx=o)
                out = mode_product(out, mat, a)
            return out.reshape(-1)

        r = ctx.residual(GridField(evaluate, ctx.names)).reshape(u.shape)
        loss = 0.5 * quad + 0.5 * logdet
        loss = loss + 0.5 * ctx.beta_r * (ctx.cons.interior * r * r).sum()
        loss = loss + 0.5 * ctx.beta_b * (ctx.cons.boundary * (u - ctx.cons.g) ** 2).sum()
        if self.jeffreys:
            loss = loss + sum(k.neg_log_prior() for k in kernels)
        return loss

    def _hyper_step(
        self, opt: torch.optim.Optimizer, state: _GPState, ctx: _Context, u: torch.Tensor
    ) -> None:
        opt.zero_grad(set_to_none=True)
        loss = self._joint_loss(state, ctx, u)
        if loss is None or not torch.isfinite(loss):
            # A non-positive-definite Gram matrix: skip this step rather than corrupt the state.
            return
        loss.backward()
        opt.step()

    # -- the solve for U --------------------------------------------------------------------
    def _gauss_newton(
        self, disc: Discretization, ctx: _Context, v: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        total_cg = 0
        steps = 0
        for _ in range(self.newton_steps):
            steps += 1
            r0, coeffs = ctx.linearize(disc, v)
            delta, n_cg = self._solve_linearized(disc, ctx, v, r0, coeffs)
            total_cg += n_cg
            jd = ctx.jacobian(disc, coeffs, delta)
            r_new = ctx.residual_at(disc, v + delta)
            scale = float(torch.linalg.vector_norm(r0)) + float(torch.linalg.vector_norm(r_new))
            gap = float(torch.linalg.vector_norm(r_new - r0 - jd))
            if gap <= 1e-9 * max(scale, 1e-300):
                v = v + delta  # linear residual: the step was the exact minimiser
                break
            phi0 = ctx.objective(disc, v)
            step = 1.0
            while step > 1e-3:
                if ctx.objective(disc, v + step * delta) <= phi0:
                    break
                step *= 0.5
            v = v + step * delta
            if float(torch.linalg.vector_norm(step * delta)) <= 1e-12 * max(
                float(torch.linalg.vector_norm(v)), 1e-300
            ):
                break
        return v, {"cg_iterations": total_cg, "newton_steps": steps}

    def _solve_linearized(
        self,
        disc: Discretization,
        ctx: _Context,
        v: torch.Tensor,
        r0: torch.Tensor,
        coeffs: dict[Counts, torch.Tensor],
    ) -> tuple[torch.Tensor, int]:
        cons = ctx.cons
        br, bb = ctx.beta_r, ctx.beta_b
        mr, mb = cons.interior, cons.boundary.to(v.dtype)
        zero = (0,) * len(ctx.names)
        boundary_gap = disc.values(v) - cons.g
        if len(ctx.names) == 1 and v.numel() <= self.dense_limit:
            n = v.numel()
            jac = sum(c.reshape(-1, 1) * disc.dense(s) for s, c in coeffs.items())
            eye = torch.eye(n, dtype=v.dtype, device=v.device)
            m_r = mr.reshape(-1, 1)
            a = torch.cat([
                math.sqrt(br) * m_r * jac,
                math.sqrt(bb) * mb.reshape(-1, 1) * disc.dense(zero),
                eye,
            ])
            b = torch.cat([
                -math.sqrt(br) * (mr * r0).reshape(-1),
                -math.sqrt(bb) * (mb * boundary_gap).reshape(-1),
                -v.reshape(-1),
            ])
            delta = torch.linalg.lstsq(a, b.unsqueeze(-1)).solution.squeeze(-1)
            return delta.reshape(v.shape), 0

        def normal(d: torch.Tensor) -> torch.Tensor:
            w = br * mr * ctx.jacobian(disc, coeffs, d)
            out = d + ctx.jacobian_t(disc, coeffs, w)
            return out + bb * disc.apply_t(zero, mb * disc.values(d))

        rhs = -(v + ctx.jacobian_t(disc, coeffs, br * mr * r0)
                + bb * disc.apply_t(zero, mb * boundary_gap))
        precond = _preconditioner(disc, ctx, coeffs)
        result = conjugate_gradient(normal, rhs, precond, tol=self.cg_tol, maxiter=self.cg_maxiter)
        return result.x, result.iterations

    def _record(
        self, ctx: _Context, disc: Discretization, v: torch.Tensor, step: int, t0: float,
        info: Mapping[str, Any],
    ) -> None:
        with torch.no_grad():
            r = ctx.residual_at(disc, v)
            u = disc.values(v)
            n_r = max(float(ctx.cons.interior.sum()), 1.0)
            n_b = max(float(ctx.cons.boundary.sum()), 1.0)
            record: dict[str, Any] = {
                "step": int(step),
                "loss": float(ctx.objective(disc, v)),
                "residual_rms": math.sqrt(float((ctx.cons.interior * r * r).sum()) / n_r),
                "boundary_rms": math.sqrt(
                    float((ctx.cons.boundary * (u - ctx.cons.g) ** 2).sum()) / n_b
                ),
                "time": time.perf_counter() - t0,
                **{k: int(val) for k, val in info.items()},
            }
            if ctx.exact is not None:
                err = torch.linalg.vector_norm(u - ctx.exact)
                record["error"] = float(err / torch.linalg.vector_norm(ctx.exact).clamp_min(1e-300))
        self.history_.append(record)

    # -- prediction -----------------------------------------------------------------------
    def predict(
        self, points: np.ndarray | torch.Tensor, return_std: bool = False, chunk: int = 8192
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The GP conditional mean at arbitrary points.

        Parameters
        ----------
        points : array, shape ``(n, ndim)``
            Coordinates in the axis order of the problem's domain.
        return_std : bool
            Also return the conditional standard deviation of ``u(x)`` given the fitted grid
            values (zero at grid points, growing between them).
        chunk : int
            Points per batch (bounds memory).

        Returns
        -------
        mean : array, shape ``(n,)``; and ``std`` of the same shape with ``return_std``.
        """
        self._check_fitted("predict")
        state = self.model_
        coords = state.coords()
        dev = coords[0].device
        pts = torch.as_tensor(np.asarray(points, dtype=np.float64) if not isinstance(
            points, torch.Tensor) else points, dtype=torch.float64).to(dev)
        if pts.ndim != 2 or pts.shape[1] != state.ndim:
            raise ValueError(
                f"points: expected shape (n, {state.ndim}) for axes {state.kernel.names}, "
                f"got {tuple(pts.shape)}"
            )
        kernels = state.kernels()
        # Query points on a tensor grid repeat each coordinate many times: evaluate the
        # per-axis kernel rows once per distinct coordinate and gather them.
        rows = []
        with torch.no_grad():
            for a, (k, c) in enumerate(zip(kernels, coords)):
                uniq, inverse = torch.unique(pts[:, a], return_inverse=True)
                rows.append((k(uniq, c), inverse))
        means, stds = [], []
        with torch.no_grad():
            for start in range(0, pts.shape[0], chunk):
                stop = min(start + chunk, pts.shape[0])
                mats = [table[inv[start:stop]] for table, inv in rows]
                t = mats[0] @ state.alpha.reshape(coords[0].numel(), -1)
                for a in range(1, state.ndim):
                    t = t.reshape(stop - start, coords[a].numel(), -1)
                    t = (mats[a].unsqueeze(1) @ t).squeeze(1)
                means.append(t.reshape(-1))
                if return_std:
                    prior = 1.0
                    explained = 1.0
                    for k, m, kinv in zip(kernels, mats, state.kinvs()):
                        prior = prior * k.variance()
                        explained = explained * ((m @ kinv) * m).sum(-1)
                    stds.append((prior - explained).clamp_min(0.0).sqrt())
        mean = torch.cat(means).cpu().numpy()
        if return_std:
            return mean, torch.cat(stds).cpu().numpy()
        return mean

    def spectrum(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Learned mixture spectrum per axis: ``{axis: (frequencies, weights)}``."""
        self._check_fitted("spectrum")
        return _spectrum_of(self.model_.kernel)

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write kernels, grid, values and history to one checkpoint (``weights_only``-safe)."""
        self._check_fitted("save")
        state = self.model_
        config = {
            "solver": type(self).__name__,
            "options": self.config,
            "axes": list(state.kernel.names),
            "kernels": [state.kernel[a].config for a in state.kernel.names],
            "shape": list(state.values.shape),
        }
        save_checkpoint(
            path, model=state, config=config, rng=False,
            extra={"history": self.history_, "timings": self.timings_,
                   "precisions": self.precisions_,
                   "initial_spectrum": {a: [np.asarray(f).tolist(), np.asarray(w).tolist()]
                                        for a, (f, w) in self.initial_spectrum_.items()}},
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "auto") -> KroneckerGPSolver:
        """Rebuild a fitted solver from :meth:`save` output (read with ``weights_only=True``)."""
        ckpt = load_checkpoint(path, map_location="cpu")
        config = ckpt.config or {}
        for key in ("options", "axes", "kernels", "shape"):
            if key not in config:
                raise ValueError(f"{path}: checkpoint config has no {key!r}; it was not written "
                                 "by KroneckerGPSolver.save")
        kernels = {}
        for a, kc in zip(config["axes"], config["kernels"]):
            kc = dict(kc)
            kernels[a] = make_kernel(kc.pop("kind"), **kc)
        coords = [torch.zeros(n, dtype=torch.float64) for n in config["shape"]]
        state = _GPState(ProductKernel(kernels), coords)
        state.load_state_dict(ckpt.model_state)
        dev = resolve_device(device)
        solver = cls(**{**config["options"], "device": str(dev)})
        solver.model_ = state.to(dev)
        solver.history_ = list(ckpt.extra.get("history", []))
        solver.timings_ = dict(ckpt.extra.get("timings", {}))
        solver.precisions_ = dict(ckpt.extra.get("precisions", {}))
        solver.initial_spectrum_ = {
            a: (np.asarray(f, dtype=np.float64), np.asarray(w, dtype=np.float64))
            for a, (f, w) in ckpt.extra.get("initial_spectrum", {}).items()
        }
        return solver

    def __repr__(self) -> str:
        return (f"KroneckerGPSolver(n_points={self.n_points!r}, kernel={self.kernel!r}, "
                f"method={self.method!r})")


class _Context:
    """The problem on the grid: residual evaluation, linearisation and the objective."""

    def __init__(
        self, problem: PDEProblem, names: Sequence[str], x: Coordinates, cons: _Constraints,
        exact: torch.Tensor | None,
    ) -> None:
        self.problem = problem
        self.names = tuple(names)
        self.x = x
        self.cons = cons
        self.exact = exact
        self.scale_r: float | None = None
        self.scale_b = 1.0
        self.beta_r = 1.0
        self.beta_b = 1.0
        self._rel_r = 1.0
        self._rel_b = 1.0

    def residual(self, field: GridField) -> torch.Tensor:
        r = torch.as_tensor(self.problem.residual(field, self.x))
        n = self.cons.g.numel()
        if r.ndim == 0 or r.shape[0] != n:
            r = torch.broadcast_to(r, (n,))
        return r.reshape(self.cons.g.shape)

    def residual_at(self, disc: Discretization, v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.residual(GridField(lambda c: disc.apply(c, v).reshape(-1), self.names))

    def linearize(
        self, disc: Discretization, v: torch.Tensor
    ) -> tuple[torch.Tensor, dict[Counts, torch.Tensor]]:
        probe = ProbeField(lambda c: disc.apply(c, v).reshape(-1), self.names)
        with torch.enable_grad():
            r = self.residual(probe)
            coeffs = probe.coefficients(r)
        shape = self.cons.g.shape
        return r.detach(), {k: c.reshape(shape) for k, c in coeffs.items()}

    def jacobian(self, disc: Discretization, coeffs: Mapping[Counts, torch.Tensor],
                 d: torch.Tensor) -> torch.Tensor:
        return sum(c * disc.apply(s, d) for s, c in coeffs.items())

    def jacobian_t(self, disc: Discretization, coeffs: Mapping[Counts, torch.Tensor],
                   w: torch.Tensor) -> torch.Tensor:
        return sum(disc.apply_t(s, c * w) for s, c in coeffs.items())

    def objective(self, disc: Discretization, v: torch.Tensor) -> torch.Tensor:
        r = self.residual_at(disc, v)
        u = disc.values(v)
        return (0.5 * (v * v).sum() + 0.5 * self.beta_r * (self.cons.interior * r * r).sum()
                + 0.5 * self.beta_b * (self.cons.boundary * (u - self.cons.g) ** 2).sum())

    def set_scales(self, disc: Discretization) -> None:
        """Fix the residual and boundary scales once (at ``u = 0``) and the precisions."""
        if self.scale_r is not None:
            return
        r = self.residual_at(disc, disc.zeros())
        n_r = max(float(self.cons.interior.sum()), 1.0)
        rms = math.sqrt(float((self.cons.interior * r * r).sum()) / n_r)
        self.scale_r = rms if rms > 0 else 1.0
        n_b = float(self.cons.boundary.sum())
        if n_b > 0:
            rms_b = math.sqrt(float((self.cons.boundary * self.cons.g**2).sum()) / n_b)
            # Data that vanish up to round-off (sin(100 x) at 0 and 2 pi) carry no scale.
            self.scale_b = rms_b if rms_b > 1e-6 else 1.0
        self.beta_r = self._rel_r / self.scale_r**2
        self.beta_b = self._rel_b / self.scale_b**2

    def configure(self, residual_precision: float, boundary_precision: float) -> None:
        self._rel_r = residual_precision
        self._rel_b = boundary_precision

    def learn_precisions(
        self, disc: Discretization, v: torch.Tensor, low: float, high: float
    ) -> None:
        """Set both precisions to their closed-form maximisers at ``v`` (bounds relative)."""
        r = self.residual_at(disc, v)
        u = disc.values(v)
        n_r = float(self.cons.interior.sum())
        ss_r = float((self.cons.interior * r * r).sum())
        self.beta_r = closed_form_precision(ss_r, n_r, self.beta_r, low / self.scale_r**2,
                                            high / self.scale_r**2)
        n_b = float(self.cons.boundary.sum())
        ss_b = float((self.cons.boundary * (u - self.cons.g) ** 2).sum())
        self.beta_b = closed_form_precision(ss_b, n_b, self.beta_b, low / self.scale_b**2,
                                            high / self.scale_b**2)


def closed_form_precision(
    sum_sq: float, n: float, current: float, low: float, high: float
) -> float:
    """Maximiser of ``n/2 log beta - beta/2 sum_sq`` over ``beta`` in ``[low, high]``.

    The unconstrained maximiser is ``n / sum_sq``; the objective is concave in ``beta``, so the
    bounded one is its clip. A zero ``sum_sq`` (a term fitted to round-off) gives ``high``;
    no points, or a non-finite ``sum_sq`` (a failed solve), keep ``current``.
    """
    if n <= 0 or not math.isfinite(sum_sq):
        return current
    if sum_sq <= 0:
        return high
    return min(max(n / sum_sq, low), high)


def _spectrum_of(kernel: ProductKernel) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{axis: (frequencies, weights)}`` of the mixture kernels among the axes."""
    out = {}
    for a in kernel.names:
        k = kernel[a]
        if hasattr(k, "frequencies"):
            out[a] = (k.frequencies.detach().cpu().numpy().copy(),
                      k.weights.detach().cpu().numpy().copy())
    return out


def _preconditioner(
    disc: Discretization, ctx: _Context, coeffs: Mapping[Counts, torch.Tensor]
) -> Any:
    """Kronecker-sum approximation of the whitened normal matrix, inverted exactly.

    Per axis ``a`` it keeps the derivative terms along ``a`` alone (coefficients averaged),
    the residual rows off the constrained ends of ``a`` and the boundary rows at them, and
    approximates the other axes by their Gram eigenvalues; in the scaled variables
    ``Z = (⊗ Lambda^{1/2}) V`` this is a Kronecker sum, solved by per-axis eigendecompositions.
    """
    d = len(disc.axes)
    interior = ctx.cons.interior
    n_r = max(float(interior.sum()), 1.0)
    means = {s: float((c * interior).sum()) / n_r for s, c in coeffs.items()}
    lam_max = [float(a.eigenvalues.max()) for a in disc.axes]
    mats, scales, diags = [], [], []
    lam = [a.eigenvalues for a in disc.axes]
    for a, axis in enumerate(disc.axes):
        h = torch.zeros_like(axis.sqrt)
        for s, cbar in means.items():
            nonzero = [k for k, o in enumerate(s) if o]
            if not nonzero:
                h = h + (cbar / d) * axis.sqrt
            elif nonzero == [a]:
                h = h + cbar * axis.factor(s[a])
        keep = ctx.cons.keep[a].to(h.dtype)
        ends = 1.0 - keep
        normal = ctx.beta_r * h.mT @ (keep[:, None] * h)
        normal = normal + ctx.beta_b * axis.sqrt.mT @ (ends[:, None] * axis.sqrt)
        sl = axis.eigenvalues.sqrt()
        diags.append(torch.diagonal(normal))
        m = normal / sl[:, None] / sl[None, :]
        others = math.prod(lam_max[:a] + lam_max[a + 1:])
        m = m + torch.diag(1.0 / axis.eigenvalues) / (d * others)
        mats.append(m)
        scales.append(sl)
    ksum = KroneckerSum(mats)
    scale = scales[0]
    data = diags[0]
    for k in range(1, d):
        scale = scale.unsqueeze(-1) * scales[k]
    # Diagonal of the data terms in whitened coordinates: where it is below the prior's 1,
    # the prior dominates and the Kronecker-sum approximation of the prior (poor when all
    # eigenvalues of a mode are tiny) is replaced by the exact identity.
    for k in range(1, d):
        data = _outer_add(data, diags[k], lam[:k], lam[k])
    prior_only = data < 1.0
    if disc.mask is not None:
        # Directions removed by the joint spectral cut-off stay exactly zero.
        prior_only = prior_only | ~disc.mask

    def apply(r: torch.Tensor) -> torch.Tensor:
        z = ksum.solve(torch.where(prior_only, 0.0, r) / scale) / scale
        return torch.where(prior_only, r, z)

    return apply


def _outer_add(
    acc: torch.Tensor, diag: torch.Tensor, lam_before: Sequence[torch.Tensor], lam_k: torch.Tensor
) -> torch.Tensor:
    """Extend ``sum_a diag_a ⊗ lambda_(others)`` by one more axis ``k``."""
    prod_before = lam_before[0]
    for extra in lam_before[1:]:
        prod_before = prod_before.unsqueeze(-1) * extra
    # Existing terms gain a factor lambda_k; the new term is (prod of earlier lambdas) ⊗ diag_k.
    return acc.unsqueeze(-1) * lam_k + prod_before.unsqueeze(-1) * diag
