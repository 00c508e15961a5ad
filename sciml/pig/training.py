r"""The physics-informed training engine shared by :class:`~sciml.pig.PIGSolver` and
:class:`~sciml.pig.PINNSolver`.

A network ``u_theta`` is fitted to a :class:`~sciml.core.problem.PDEProblem` by minimising

.. math::

    \mathcal{L}(\theta) = w_r \frac{1}{n_r}\sum_j r(u_\theta, x_j)^2
    + \sum_{c} w_c \frac{1}{n_c} \sum_j \bigl(B_c u_\theta(x^c_j) - g_c(x^c_j)\bigr)^2,

where ``r`` is the problem's residual (derivatives by autograd through
:class:`~sciml.core.residual.AutogradField`) and each condition ``c`` (Dirichlet, Neumann,
Initial, Periodic) contributes a penalty on points sampled on its part of the boundary.
Collocation points are redrawn every ``resample_every`` Adam steps; an Adam phase with
exponential learning-rate decay is followed by an L-BFGS phase (strong Wolfe line search) on a
fixed sample. Loss weights are fixed, or adapted by the learning-rate-annealing rule of Wang,
Teng & Perdikaris (2021): ``w_c <- (1 - a) w_c + a max|grad L_r| / mean|grad L_c|``.
Dirichlet data that is constant can instead be imposed exactly with the ansatz
``u = g + D(x) N(x)``, ``D`` the product of the distances to the constrained faces.
"""

from __future__ import annotations

import math
import os
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from sciml.core.conditions import Dirichlet, Initial, Neumann, Periodic, faces_of
from sciml.core.device import resolve_device
from sciml.core.grid import Box
from sciml.core.problem import PDEProblem
from sciml.core.progress import progress_bar
from sciml.core.residual import AutogradField, Coordinates
from sciml.core.solver import Solver
from sciml.core.validation import describe
from sciml.pig.jet import Jet, derivative_order, jet_field, supports_jet
from sciml.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

__all__ = ["TERMS", "HardDirichlet", "PhysicsInformedSolver", "Training"]

#: Names of the loss terms, the keys of ``Training.weights``.
TERMS = ("residual", "boundary", "initial", "periodic")
#: Ways to draw collocation points, the values of ``Training.sampling``.
SAMPLINGS = ("uniform", "sobol")
_SAMPLE_SEED_OFFSET = 1_000_003
DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class Training:
    """Optimisation options of the physics-informed solvers.

    Parameters
    ----------
    adam_steps : int
        Adam iterations.
    lr : float
        Initial Adam learning rate.
    lr_decay : float
        Multiplicative decay of the learning rate per Adam step (``1`` keeps it constant).
    lbfgs_steps : int
        L-BFGS iterations after Adam (0 skips the phase).
    lbfgs_resample_every : int
        Redraw the points (and restart L-BFGS, whose curvature pairs belong to the old
        sample) every this many L-BFGS iterations; 0 keeps one sample for the whole phase.
        Redrawing keeps the fit from over-fitting a fixed set of collocation points.
    lbfgs_keep_history : bool
        Keep the L-BFGS curvature pairs across redraws instead of restarting (the pairs then
        mix samples, which still steers well when the samples are large).
    lbfgs_history : int
        Number of curvature pairs L-BFGS keeps.
    n_collocation : int
        Residual points per sample.
    n_boundary : int
        Points per boundary condition (spread over its faces) and per periodic axis.
    n_initial : int
        Points per initial condition.
    resample_every : int
        Redraw all points every this many Adam steps.
    sampling : {"uniform", "sobol"}
        How points are drawn: i.i.d. uniform, or a scrambled Sobol sequence, whose even
        coverage makes a fixed L-BFGS sample a much better stand-in for the whole domain
        (Helmholtz, 2048 points: 1.2e-4 against 6.9e-4 after 280 s).
    adaptive_sampling : bool
        Residual-based adaptive sampling (RAD, Wu et al. 2023): every redraw after the first
        one (Adam resamples, the L-BFGS sample) draws ``adaptive_pool * n_collocation``
        candidates, evaluates the residual there with the current model and keeps
        ``n_collocation`` of them, each with probability proportional to
        ``|r|^adaptive_k / mean(|r|^adaptive_k) + adaptive_c``. The points then crowd where the
        residual is large (fronts, vortex cores) while ``adaptive_c`` keeps a uniform share.
    adaptive_pool : int
        Candidates per kept point.
    adaptive_k, adaptive_c : float
        Exponent of the residual and uniform share of the density (``k = 1, c = 1``, the
        choice Wu et al. recommend; a larger ``k`` or smaller ``c`` concentrates more).
    weights : mapping of str to float
        Loss weights by term (``"residual"``, ``"boundary"``, ``"initial"``, ``"periodic"``);
        missing terms weigh 1.
    adaptive_weights : bool
        Adapt the non-residual weights by learning-rate annealing during Adam.
    adapt_every, adapt_alpha : int, float
        How often and how strongly the adaptive weights move.
    time_budget : float or None
        Wall-clock seconds for the whole fit; each phase stops when it is spent (L-BFGS gets
        what Adam leaves).
    log_every : int
        Record the losses in ``history_`` every this many steps.
    """

    adam_steps: int = 2000
    lr: float = 1e-2
    lr_decay: float = 0.9995
    lbfgs_steps: int = 0
    lbfgs_resample_every: int = 0
    lbfgs_keep_history: bool = False
    lbfgs_history: int = 50
    sampling: str = "sobol"
    n_collocation: int = 4096
    n_boundary: int = 1024
    n_initial: int = 1024
    resample_every: int = 1
    adaptive_sampling: bool = False
    adaptive_pool: int = 8
    adaptive_k: float = 1.0
    adaptive_c: float = 1.0
    weights: Mapping[str, float] = field(default_factory=dict)
    adaptive_weights: bool = False
    adapt_every: int = 100
    adapt_alpha: float = 0.1
    time_budget: float | None = None
    log_every: int = 10

    def __post_init__(self) -> None:
        for name in ("adam_steps", "lbfgs_steps", "lbfgs_resample_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: expected an integer >= 0, got {describe(value)}")
        for name in (
            "n_collocation",
            "lbfgs_history",
            "n_boundary",
            "n_initial",
            "resample_every",
            "adaptive_pool",
            "adapt_every",
            "log_every",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected an integer >= 1, got {describe(value)}")
        for name in ("lbfgs_keep_history", "adaptive_sampling"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(f"{name}: expected True or False, got {describe(value)}")
        for name in ("adaptive_k", "adaptive_c"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: expected a number >= 0, got {describe(value)}")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling: got {self.sampling!r}; allowed {SAMPLINGS}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr: expected a positive number, got {describe(self.lr)}")
        if not (isinstance(self.lr_decay, (int, float)) and 0 < self.lr_decay <= 1):
            raise ValueError(f"lr_decay: expected a number in (0, 1], got {self.lr_decay!r}")
        if not (0 < self.adapt_alpha <= 1):
            raise ValueError(f"adapt_alpha: expected a number in (0, 1], got {self.adapt_alpha!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget: expected seconds > 0 or None, got {self.time_budget!r}")
        weights = dict(self.weights)
        for key, value in weights.items():
            if key not in TERMS:
                raise ValueError(f"weights: unknown term {key!r}; terms are {TERMS}")
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"weights[{key!r}]: expected a number >= 0, got {value!r}")
        object.__setattr__(self, "weights", {k: float(v) for k, v in weights.items()})

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the constructor's keyword arguments)."""
        return asdict(self)


# -- hard constraints --------------------------------------------------------------------------
class HardDirichlet(nn.Module):
    """``u(x) = g + D(x) N(x)`` with ``D`` vanishing on the constrained faces.

    Parameters
    ----------
    net : nn.Module
        The free network ``N``: ``(n, dim) -> (n,)``.
    lower, upper : sequence of float
        The domain box.
    faces : sequence of (axis index, side)
        Constrained faces; side ``0`` is the lower end, ``1`` the upper end.
    value : float
        The constant Dirichlet value ``g``.
    """

    def __init__(
        self,
        net: nn.Module,
        lower: list[float],
        upper: list[float],
        faces: list[tuple[int, int]],
        value: float,
    ) -> None:
        super().__init__()
        self.net = net
        self.faces = [(int(a), int(s)) for a, s in faces]
        self.value = float(value)
        self.register_buffer("lower", torch.as_tensor(lower, dtype=torch.float64))
        self.register_buffer("upper", torch.as_tensor(upper, dtype=torch.float64))

    def _factors(self) -> list[tuple[int, torch.Tensor, torch.Tensor]]:
        """Per face ``(axis, slope, end)``: the linear factor ``slope (x_axis - end)`` that is
        ``2 gap / length`` on the lower face's side or its mirror on the upper one."""
        out = []
        for a, side in self.faces:
            slope = (1.0 if side == 0 else -1.0) * 2 / (self.upper[a] - self.lower[a])
            out.append((a, slope, self.lower[a] if side == 0 else self.upper[a]))
        return out

    def distance(self, x: torch.Tensor) -> torch.Tensor:
        """``D(x)``: product of the distances to the faces, each scaled by its axis length."""
        d = torch.ones_like(x[:, 0])
        for a, slope, end in self._factors():
            d = d * (slope * (x[:, a] - end))
        return d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value + self.distance(x) * self.net(x)

    def has_jet(self) -> bool:
        """A jet is available when the free network has one."""
        return supports_jet(self.net)

    def jet(self, x: torch.Tensor, order: int = 2) -> Jet:
        """Value, derivatives and pure second derivatives (see :mod:`sciml.pig.jet`)."""
        out = self.net.jet(x, order)
        for a, slope, end in self._factors():
            grad = x.new_zeros(x.shape[1], x.shape[0])
            grad[a] = slope
            hess = torch.zeros_like(grad) if order == 2 else None
            out = Jet(slope * (x[:, a] - end), grad, hess) * out
        return out + self.value


def _hard_dirichlet_spec(problem: PDEProblem) -> dict[str, Any]:
    """Faces and value of the problem's Dirichlet data, if it can be imposed exactly."""
    names = problem.domain.names
    faces, values = [], set()
    for c in problem.conditions:
        if not isinstance(c, Dirichlet):
            continue
        if callable(c.g):
            raise ValueError(
                "hard_dirichlet: needs constant Dirichlet data (for example Dirichlet(0.0)); "
                f"this problem has a function g = {c.g!r}. Use hard_dirichlet=False to impose "
                "it as a penalty"
            )
        values.add(float(c.g))
        for face in c.on or faces_of(problem.domain, problem.time_axis):
            faces.append((names.index(face[:-1]), 0 if face[-1] == "-" else 1))
    if not faces:
        raise ValueError("hard_dirichlet: the problem has no Dirichlet condition to impose")
    if len(values) > 1:
        raise ValueError(
            f"hard_dirichlet: all Dirichlet faces must share one value, got {sorted(values)}"
        )
    return {"faces": sorted(set(faces)), "value": values.pop()}


# -- loss terms --------------------------------------------------------------------------------
Sampler = Callable[[torch.Generator], Any]
LossFn = Callable[[nn.Module, Any], torch.Tensor]


@dataclass
class _Term:
    name: str
    sample: Sampler
    loss: LossFn
    # Draws a sample that depends on the current model (adaptive sampling); None: ``sample``.
    refine: Callable[[nn.Module, torch.Generator], Any] | None = None

    def draw(self, gen: torch.Generator, model: nn.Module | None = None) -> Any:
        """A new sample; adaptive when the term has a ``refine`` and a model is given."""
        if model is not None and self.refine is not None:
            return self.refine(model, gen)
        return self.sample(gen)


def _uniform(box: Box, n: int, gen: torch.Generator, sobol: bool = False) -> torch.Tensor:
    """``n`` points in ``box``: i.i.d. uniform, or a randomly scrambled Sobol sequence.

    A scrambled Sobol sample covers the box far more evenly than i.i.d. points, so a loss on a
    fixed sample (the L-BFGS phase) is a better estimate of the loss over the whole domain.
    """
    if sobol:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
        unit = torch.quasirandom.SobolEngine(box.ndim, scramble=True, seed=seed).draw(
            n, dtype=torch.float64
        )
    else:
        unit = torch.rand(n, box.ndim, generator=gen, dtype=torch.float64)
    return torch.as_tensor(box.lower) + unit * torch.as_tensor(box.lengths)


def _field(
    model: nn.Module, pts: torch.Tensor, names: tuple[str, ...], order: int = 2
) -> AutogradField:
    if supports_jet(model):
        return jet_field(model, pts, names, order)
    pts = pts.detach().requires_grad_(True)
    return AutogradField(model(pts), pts, names)


def _build_terms(
    problem: PDEProblem,
    options: Training,
    hard: bool,
    to: Callable[[torch.Tensor], torch.Tensor],
) -> list[_Term]:
    box, names, time_axis = problem.domain, problem.domain.names, problem.time_axis
    sobol = options.sampling == "sobol"
    terms: list[_Term] = []

    def sample_residual(gen: torch.Generator) -> torch.Tensor:
        return to(_uniform(box, options.n_collocation, gen, sobol))

    # Transport residuals need first derivatives only: a first-order jet costs ~2/3 as much.
    probe_points = torch.as_tensor(box.lower) + 0.5 * torch.as_tensor(box.lengths)
    order = derivative_order(problem.residual, probe_points[None, :], names)

    def residual_loss(model: nn.Module, pts: torch.Tensor) -> torch.Tensor:
        u = _field(model, pts, names, order)
        return torch.mean(problem.residual(u, u.coords) ** 2)

    def sample_adaptive(model: nn.Module, gen: torch.Generator) -> torch.Tensor:
        n = options.n_collocation
        pool = _uniform(box, n * options.adaptive_pool, gen, sobol)
        scores = []
        for chunk in to(pool).split(8192):
            u = _field(model, chunk, names, order)
            scores.append(problem.residual(u, u.coords).detach().abs().double().cpu())
        score = torch.cat(scores) ** options.adaptive_k
        density = score / score.mean().clamp_min(1e-300) + options.adaptive_c
        if not bool(torch.isfinite(density).all()) or not float(density.sum()) > 0:
            return to(pool[:n])  # a diverged model: no information, keep an even sample
        keep = torch.multinomial(density, n, replacement=False, generator=gen)
        return to(pool[keep])

    terms.append(
        _Term(
            "residual",
            sample_residual,
            residual_loss,
            sample_adaptive if options.adaptive_sampling else None,
        )
    )

    def face_sampler(faces: tuple[str, ...], n: int) -> Sampler:
        def sample(gen: torch.Generator) -> list[tuple[str, torch.Tensor]]:
            per = max(1, n // len(faces))
            out = []
            for face in faces:
                axis, side = names.index(face[:-1]), face[-1]
                pts = _uniform(box, per, gen, sobol)
                pts[:, axis] = box.lower[axis] if side == "-" else box.upper[axis]
                out.append((face, to(pts)))
            return out

        return sample

    for c in problem.conditions:
        if isinstance(c, Dirichlet) and not hard:
            faces = c.on or faces_of(box, time_axis)

            def dirichlet_loss(model: nn.Module, batch: Any, c: Dirichlet = c) -> torch.Tensor:
                pts = torch.cat([p for _, p in batch])
                target = torch.as_tensor(c.value(Coordinates.from_points(pts, names)))
                return torch.mean((model(pts) - target) ** 2)

            terms.append(_Term("boundary", face_sampler(faces, options.n_boundary), dirichlet_loss))
        elif isinstance(c, Neumann):
            faces = c.on or faces_of(box, time_axis)

            def neumann_loss(model: nn.Module, batch: Any, c: Neumann = c) -> torch.Tensor:
                total = 0.0
                for face, pts in batch:
                    u = _field(model, pts, names, order=1)
                    sign = 1.0 if face[-1] == "+" else -1.0
                    target = torch.as_tensor(c.value(u.coords))
                    total = total + torch.sum((sign * u.d((face[:-1],)) - target) ** 2)
                return total / sum(p.shape[0] for _, p in batch)

            terms.append(_Term("boundary", face_sampler(faces, options.n_boundary), neumann_loss))
        elif isinstance(c, Initial):
            t_index = names.index(time_axis)

            def sample_initial(gen: torch.Generator, t_index: int = t_index) -> torch.Tensor:
                pts = _uniform(box, options.n_initial, gen, sobol)
                pts[:, t_index] = box.lower[t_index]
                return to(pts)

            def initial_loss(model: nn.Module, pts: torch.Tensor, c: Initial = c) -> torch.Tensor:
                if c.derivative == 0:
                    target = torch.as_tensor(c.value(Coordinates.from_points(pts, names)))
                    return torch.mean((model(pts) - target) ** 2)
                u = _field(model, pts, names, order=1)
                target = torch.as_tensor(c.value(u.coords))
                return torch.mean((u.d((time_axis,)) - target) ** 2)

            terms.append(_Term("initial", sample_initial, initial_loss))
        elif isinstance(c, Periodic):
            spatial = [a for a in names if a != time_axis]
            for axis_name in c.axes or spatial:
                axis = names.index(axis_name)

                def sample_pair(gen: torch.Generator, axis: int = axis) -> torch.Tensor:
                    pts = _uniform(box, options.n_boundary, gen, sobol)
                    lo, hi = pts.clone(), pts.clone()
                    lo[:, axis] = box.lower[axis]
                    hi[:, axis] = box.upper[axis]
                    return to(torch.cat([lo, hi]))

                def periodic_loss(
                    model: nn.Module, pts: torch.Tensor, axis_name: str = axis_name
                ) -> torch.Tensor:
                    u = _field(model, pts, names, order=1)
                    n = pts.shape[0] // 2
                    v, dv = u.value, u.d((axis_name,))
                    return torch.mean((v[:n] - v[n:]) ** 2) + torch.mean((dv[:n] - dv[n:]) ** 2)

                terms.append(_Term("periodic", sample_pair, periodic_loss))
    return terms


# -- the solver base ---------------------------------------------------------------------------
class PhysicsInformedSolver(Solver):
    """Abstract base class: a network trained on a :class:`PDEProblem` residual.

    Subclasses build the network (:meth:`_build_network`) and say how to rebuild it from its
    config (:meth:`_network_from_config`); fitting, prediction and checkpoints live here.

    Parameters
    ----------
    training : Training, optional
        Optimisation options (default ``Training()``).
    hard_dirichlet : bool
        Impose constant Dirichlet data exactly instead of by a penalty.
    dtype : {"float64", "float32"}
        Precision of the network and the points.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda[:i]"``.
    seed : int
        Seed of the initialisation and of the collocation samples.
    progress : bool
        Show a progress bar.
    """

    problem_types: ClassVar[tuple[type, ...]] = (PDEProblem,)

    def __init__(
        self,
        training: Training | None = None,
        hard_dirichlet: bool = False,
        dtype: str = "float64",
        device: str = "auto",
        seed: int = 0,
        progress: bool = True,
    ) -> None:
        if training is not None and not isinstance(training, Training):
            raise ValueError(f"training: expected a Training(...), got {describe(training)}")
        if dtype not in DTYPES:
            raise ValueError(f"dtype: got {dtype!r}; allowed {tuple(DTYPES)}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed: expected an integer, got {describe(seed)}")
        self.training = training or Training()
        self.hard_dirichlet = bool(hard_dirichlet)
        self.dtype = dtype
        self.device = device
        self.seed = int(seed)
        self.progress = progress
        # Names of the subclass's own options, in order (filled by _store_options).
        self._option_names: tuple[str, ...] = ()

    # -- subclass hooks ------------------------------------------------------------------------
    @abstractmethod
    def _build_network(self, domain: Box) -> nn.Module:
        """A fresh network for ``domain`` with a ``config`` dict attribute."""

    @classmethod
    @abstractmethod
    def _network_from_config(cls, config: Mapping[str, Any]) -> nn.Module:
        """Rebuild the network from its ``config``."""

    def _options(self) -> dict[str, Any]:
        """Constructor keyword arguments other than the shared ones (JSON-serialisable)."""
        return {name: getattr(self, name) for name in self._option_names}

    def _store_options(self, **options: Any) -> None:
        """Store a subclass's own constructor options as attributes of the same names."""
        for name, value in options.items():
            setattr(self, name, value)
        self._option_names += tuple(options)

    def _on_fit_start(self, network: nn.Module) -> None:
        """Called before the first step (for example to record the initial state)."""

    def _shared_options(self) -> dict[str, Any]:
        return {
            "training": self.training.to_dict(),
            "hard_dirichlet": self.hard_dirichlet,
            "dtype": self.dtype,
            "seed": self.seed,
            "progress": self.progress,
        }

    # -- fitting -------------------------------------------------------------------------------
    def fit(
        self,
        problem: PDEProblem,
        monitor: Callable[[Callable[[Any], np.ndarray]], Mapping[str, float]] | None = None,
    ) -> PhysicsInformedSolver:
        """Train the network on ``problem``; returns ``self``.

        Parameters
        ----------
        problem : PDEProblem
        monitor : callable, optional
            ``monitor(u) -> {name: value}``, called at every history record with ``u`` the
            current solution (points ``(n, ndim)`` to values ``(n,)``); its values join the
            record, for example a test error curve. Its time is not counted in ``time``.
        """
        self._check_problem(problem)
        opts = self.training
        device = resolve_device(self.device)
        dtype = DTYPES[self.dtype]
        torch.manual_seed(self.seed)
        # Not self.seed itself: the Gaussian centres are drawn from that stream, and the first
        # collocation sample would sit exactly on them.
        gen = torch.Generator().manual_seed(self.seed + _SAMPLE_SEED_OFFSET)
        network = self._build_network(problem.domain).to(device=device, dtype=dtype)
        hard_spec = _hard_dirichlet_spec(problem) if self.hard_dirichlet else None
        model: nn.Module = network
        if hard_spec is not None:
            box = problem.domain
            model = HardDirichlet(network, box.lower.tolist(), box.upper.tolist(), **hard_spec).to(
                device=device, dtype=dtype
            )
        self._on_fit_start(network)

        def to(t: torch.Tensor) -> torch.Tensor:
            return t.to(device=device, dtype=dtype)

        terms = _build_terms(problem, opts, hard_spec is not None, to)
        weights = {name: float(opts.weights.get(name, 1.0)) for name in TERMS}
        params = [p for p in model.parameters() if p.requires_grad]
        history: list[dict[str, Any]] = []
        start = time.perf_counter()
        paused = [0.0]  # seconds spent in the monitor, excluded from budgets and times

        def over_budget() -> bool:
            elapsed = time.perf_counter() - start - paused[0]
            return opts.time_budget is not None and elapsed > opts.time_budget

        def losses(batches: list[Any]) -> dict[str, torch.Tensor]:
            out: dict[str, torch.Tensor] = {}
            for term, batch in zip(terms, batches):
                value = term.loss(model, batch)
                out[term.name] = out[term.name] + value if term.name in out else value
            return out

        def total(parts: Mapping[str, torch.Tensor]) -> torch.Tensor:
            return sum(weights[k] * v for k, v in parts.items())

        def record(step: int, phase: str, parts: Mapping[str, torch.Tensor]) -> None:
            entry: dict[str, Any] = {"step": step, "phase": phase, "time": 0.0}
            entry["loss"] = float(total(parts).detach())
            entry.update({k: float(v.detach()) for k, v in parts.items()})
            entry["time"] = time.perf_counter() - start - paused[0]
            if monitor is not None:
                mark = time.perf_counter()
                entry.update({k: float(v) for k, v in monitor(current).items()})
                paused[0] += time.perf_counter() - mark
            history.append(entry)

        def current(points: Any) -> np.ndarray:
            pts = torch.as_tensor(np.asarray(points, dtype=np.float64)).to(device, dtype)
            with torch.no_grad():
                return torch.cat([model(c) for c in pts.split(4096)]).cpu().double().numpy()

        optimizer = torch.optim.Adam(params, lr=opts.lr)
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=opts.lr_decay)
        batches = [t.sample(gen) for t in terms]
        bar = progress_bar(
            total=opts.adam_steps + opts.lbfgs_steps,
            desc=type(self).__name__,
            enabled=self.progress,
        )
        step = 0
        for step in range(opts.adam_steps):
            if step and step % opts.resample_every == 0:
                batches = [t.draw(gen, model) for t in terms]
            optimizer.zero_grad(set_to_none=True)
            parts = losses(batches)
            if opts.adaptive_weights and step % opts.adapt_every == 0:
                self._adapt(weights, parts, params, opts.adapt_alpha)
            loss = total(parts)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"{type(self).__name__}.fit: the loss became {float(loss)} at Adam step "
                    f"{step}; lower Training.lr or change the loss weights"
                )
            loss.backward()
            optimizer.step()
            scheduler.step()
            if step % opts.log_every == 0:
                record(step, "adam", parts)
            bar.update(1)
            if over_budget():
                break
        n_adam = step + 1 if opts.adam_steps else 0

        if opts.lbfgs_steps and not over_budget():
            self._lbfgs(model, params, terms, gen, losses, total, record, bar, n_adam, over_budget)
        bar.close()
        final = losses([t.sample(gen) for t in terms])
        record(len(history) and history[-1]["step"] + 1, "final", final)
        self.model_ = model
        self.network_ = network
        self.names_ = problem.domain.names
        self.domain_ = problem.domain
        self.hard_ = hard_spec
        self.weights_ = weights
        self.history_ = history
        self.timings_ = {"fit": time.perf_counter() - start - paused[0]}
        return self

    def _lbfgs(
        self,
        model: nn.Module,
        params: list[torch.Tensor],
        terms: list[_Term],
        gen: torch.Generator,
        losses: Callable[[list[Any]], dict[str, torch.Tensor]],
        total: Callable[[Mapping[str, torch.Tensor]], torch.Tensor],
        record: Callable[[int, str, Mapping[str, torch.Tensor]], None],
        bar: Any,
        offset: int,
        over_budget: Callable[[], bool],
    ) -> None:
        opts = self.training
        inner = 10
        period = opts.lbfgs_resample_every or opts.lbfgs_steps
        last: dict[str, torch.Tensor] = {}
        done = 0
        optimizer = None
        while done < opts.lbfgs_steps and not over_budget():
            batches = [t.draw(gen, model) for t in terms]
            if optimizer is None or not opts.lbfgs_keep_history:
                optimizer = torch.optim.LBFGS(
                    params,
                    lr=1.0,
                    max_iter=inner,
                    history_size=opts.lbfgs_history,
                    tolerance_grad=0.0,
                    tolerance_change=0.0,
                    line_search_fn="strong_wolfe",
                )

            def closure(batches: list[Any] = batches, optimizer: Any = optimizer) -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                parts = losses(batches)
                loss = total(parts)
                loss.backward()
                last.clear()
                last.update(parts)
                return loss

            stop = min(opts.lbfgs_steps, done + period)
            while done < stop and not over_budget():
                saved = [p.detach().clone() for p in params]
                n_iter = min(inner, stop - done)
                optimizer.param_groups[0]["max_iter"] = n_iter
                loss = optimizer.step(closure)
                if not torch.isfinite(loss) or not all(torch.isfinite(p).all() for p in params):
                    # A failed line search can blow up; keep the last good iterate and stop.
                    with torch.no_grad():
                        for p, s in zip(params, saved):
                            p.copy_(s)
                    return
                done += n_iter
                record(offset + done, "lbfgs", last)
                bar.update(n_iter)

    @staticmethod
    def _adapt(
        weights: dict[str, float],
        parts: Mapping[str, torch.Tensor],
        params: list[torch.Tensor],
        alpha: float,
    ) -> None:
        def grads(value: torch.Tensor) -> torch.Tensor:
            g = torch.autograd.grad(value, params, retain_graph=True, allow_unused=True)
            return torch.cat([x.reshape(-1) for x in g if x is not None]).abs()

        g_res = grads(parts["residual"]).max() * weights["residual"]
        for name, value in parts.items():
            if name == "residual":
                continue
            mean = grads(value).mean()
            if mean > 0:
                target = float(g_res / mean)
                weights[name] = (1 - alpha) * weights[name] + alpha * target

    # -- prediction ----------------------------------------------------------------------------
    def predict(self, points: Any, chunk: int = 4096) -> np.ndarray:
        """The solution at ``points`` of shape ``(n, ndim)`` (axes in the domain's order).

        Returns
        -------
        numpy array, shape ``(n,)``, float64
        """
        self._check_fitted("predict")
        param = next(self.model_.parameters())
        pts = torch.as_tensor(
            np.asarray(points, dtype=np.float64) if not isinstance(points, torch.Tensor) else points
        )
        if pts.ndim != 2 or pts.shape[1] != len(self.names_):
            raise ValueError(
                f"points: expected shape (n, {len(self.names_)}) for axes {list(self.names_)}, "
                f"got {tuple(pts.shape)}"
            )
        pts = pts.to(device=param.device, dtype=param.dtype)
        with torch.no_grad():
            out = [self.model_(c) for c in pts.split(chunk)] if len(pts) else [pts[:, 0]]
        return torch.cat(out).cpu().to(torch.float64).numpy()

    # -- checkpoints ---------------------------------------------------------------------------
    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        """Restore what :meth:`_extra_state` saved."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted solver to one checkpoint file (loads with ``weights_only=True``)."""
        self._check_fitted("save")
        config = {
            "solver": type(self).__name__,
            "options": {**self._shared_options(), **self._options()},
            "network": self.network_.config,
            "hard": None
            if self.hard_ is None
            else {"faces": [list(f) for f in self.hard_["faces"]], "value": self.hard_["value"]},
            "domain": self.domain_.to_dict(),
            "names": list(self.names_),
            "weights": self.weights_,
        }
        extra = {"history": self.history_, "timings": self.timings_, **self._extra_state()}
        save_checkpoint(path, model=self.model_, config=config, extra=extra, rng=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "auto") -> PhysicsInformedSolver:
        """Rebuild a fitted solver from :meth:`save` output."""
        ckpt = load_checkpoint(path, map_location="cpu")
        config = ckpt.config or {}
        if config.get("solver") != cls.__name__:
            raise CheckpointError(
                f"{path}: holds a {config.get('solver')!r} checkpoint, not a {cls.__name__}"
            )
        options = dict(config["options"])
        training = Training(**options.pop("training"))
        solver = cls(training=training, device=device, **options)
        dev = resolve_device(device)
        dtype = DTYPES[solver.dtype]
        network = cls._network_from_config(config["network"])
        domain = Box.from_dict(config["domain"])
        model: nn.Module = network
        hard = config.get("hard")
        if hard is not None:
            hard = {"faces": [tuple(f) for f in hard["faces"]], "value": hard["value"]}
            model = HardDirichlet(network, domain.lower.tolist(), domain.upper.tolist(), **hard)
        model = model.to(dtype=dtype)
        model.load_state_dict(ckpt.model_state)
        solver.model_ = model.to(device=dev)
        solver.network_ = network
        solver.names_ = tuple(config["names"])
        solver.domain_ = domain
        solver.hard_ = hard
        solver.weights_ = dict(config.get("weights", {}))
        solver.history_ = list(ckpt.extra.get("history", []))
        solver.timings_ = dict(ckpt.extra.get("timings", {}))
        solver._load_extra_state(ckpt.extra)
        return solver
