"""The three kinds of problem sciml solves.

- :class:`PDEProblem`: one equation instance (domain, residual, conditions, maybe an exact
  solution). GP and physics-informed solvers fit it from the physics alone.
- :class:`OperatorProblem`: a map between function spaces known through data (pairs of
  input and output fields). Neural operators learn it.
- :class:`ParametricProblem`: a full-order model ``u(mu)``; reduced-basis methods compress it.

Every problem has ``evaluate(solver) -> Report`` with the field's standard metrics.
"""

from __future__ import annotations

import inspect
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from sciml.core.conditions import Condition
from sciml.core.grid import Box, Grid
from sciml.core.parameters import ParameterSpace
from sciml.core.report import Report
from sciml.core.residual import Coordinates
from sciml.core.validation import (
    check_axis_names,
    check_choice,
    check_pair_dataset,
    describe,
)

if TYPE_CHECKING:
    from sciml.core.solver import Solver

__all__ = ["OperatorProblem", "PDEProblem", "ParametricProblem", "Problem"]


class Problem(ABC):
    """Abstract base class: something a solver can fit and be evaluated on."""

    name: str

    @abstractmethod
    def evaluate(self, solver: Solver) -> Report:
        """Measure a fitted solver on this problem."""


def _solver_report(problem: Problem, solver: Solver) -> Report:
    report = Report(problem=problem.name, solver=type(solver).__name__)
    report.history = list(getattr(solver, "history_", []) or [])
    report.timings.update(getattr(solver, "timings_", {}) or {})
    return report


class PDEProblem(Problem):
    """One PDE instance on a box.

    Parameters
    ----------
    domain : Box
        The space (and time) domain, for example ``Box(x=(0, 1), t=(0, 1))``.
    residual : callable ``residual(u, x) -> (n,)``
        The equation written as ``residual = 0``. ``x.<axis>`` are coordinates; ``u.value``
        is the solution and ``u.d("xx")`` its derivatives (see :mod:`sciml.core.residual`).
    conditions : sequence of Condition
        Boundary and initial conditions (``Dirichlet``, ``Neumann``, ``Periodic``,
        ``Initial``).
    exact : callable ``exact(x) -> (n,)``, optional
        The exact solution, used by :meth:`evaluate`.
    time_axis : str or None
        Name of the time axis; defaults to ``"t"`` when the domain has one.
    name : str
        Name used in reports.
    params : mapping, optional
        Physical parameters, recorded in reports and data files.
    """

    def __init__(
        self,
        domain: Box,
        residual: Callable[[Any, Coordinates], Any],
        conditions: Sequence[Condition] = (),
        exact: Callable[[Coordinates], Any] | None = None,
        time_axis: str | None = "auto",
        name: str = "pde",
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(domain, Box):
            raise ValueError(f"domain: expected a Box, e.g. Box(x=(0, 1)), got {describe(domain)}")
        if not callable(residual):
            raise ValueError(
                f"residual: expected a function residual(u, x), got {describe(residual)}"
            )
        try:
            n_args = len(inspect.signature(residual).parameters)
        except (TypeError, ValueError):
            n_args = 2
        if n_args < 2:
            raise ValueError(
                f"residual: must take two arguments (u, x); {residual!r} takes {n_args}"
            )
        if time_axis == "auto":
            time_axis = "t" if "t" in domain.names else None
        if time_axis is not None:
            check_axis_names("time_axis", [time_axis], domain.names)
        conditions = tuple(conditions)
        for i, c in enumerate(conditions):
            if not isinstance(c, Condition):
                raise ValueError(
                    f"conditions[{i}]: expected a Condition (Dirichlet, Neumann, Periodic, "
                    f"Initial), got {describe(c)}"
                )
            c.validate(domain, time_axis)
        if exact is not None and not callable(exact):
            raise ValueError(f"exact: expected a function exact(x), got {describe(exact)}")
        self.domain = domain
        self.residual = residual
        self.conditions = conditions
        self.exact = exact
        self.time_axis = time_axis
        self.name = name
        self.params = dict(params or {})

    @property
    def spatial_axes(self) -> tuple[str, ...]:
        """Axis names other than the time axis."""
        return tuple(a for a in self.domain.names if a != self.time_axis)

    def exact_values(self, points: np.ndarray | torch.Tensor) -> np.ndarray:
        """The exact solution at ``points`` of shape ``(n, ndim)``; returns ``(n,)``."""
        if self.exact is None:
            raise ValueError(f"{self.name}: this problem has no exact solution to compare with")
        pts = torch.as_tensor(np.asarray(points, dtype=np.float64))
        values = self.exact(Coordinates.from_points(pts, self.domain.names))
        out = np.asarray(torch.as_tensor(values).detach().cpu(), dtype=np.float64)
        return np.broadcast_to(out, (pts.shape[0],)).copy()

    def default_grid(self) -> Grid:
        """Evaluation grid: 1001, 201x201 or 51^3 equispaced points by dimension."""
        n = {1: 1001, 2: 201}.get(self.domain.ndim, 51)
        return Grid.uniform(self.domain, n)

    def evaluate(self, solver: Solver, grid: Grid | None = None) -> Report:
        """Relative L2 and max error of ``solver.predict(points)`` against the exact solution.

        Parameters
        ----------
        solver : Solver
            A fitted solver whose ``predict`` takes points ``(n, ndim)`` and returns ``(n,)``.
        grid : Grid, optional
            Where to compare; default :meth:`default_grid`.
        """
        grid = grid or self.default_grid()
        points = grid.points()
        truth = self.exact_values(points)
        start = time.perf_counter()
        pred = solver.predict(points)
        elapsed = time.perf_counter() - start
        pred = np.asarray(torch.as_tensor(pred).detach().cpu(), dtype=np.float64).reshape(-1)
        if pred.shape != truth.shape:
            raise ValueError(
                f"{type(solver).__name__}.predict returned shape {pred.shape}; "
                f"expected {truth.shape}, one value per point"
            )
        report = _solver_report(self, solver)
        err = pred - truth
        report.add(
            "exact",
            rel_l2=float(np.linalg.norm(err) / max(np.linalg.norm(truth), 1e-300)),
            max_abs=float(np.max(np.abs(err))),
        )
        report.timings["predict"] = elapsed
        return report

    def __repr__(self) -> str:
        return f"PDEProblem({self.name!r}, domain={self.domain}, conditions={len(self.conditions)})"


def _resolution_name(resolution: int | Sequence[int]) -> str:
    if isinstance(resolution, Sequence) and not isinstance(resolution, str):
        sizes = [int(r) for r in resolution]
        return str(sizes[0]) if len(set(sizes)) == 1 else "x".join(map(str, sizes))
    return str(int(resolution))


class OperatorProblem(Problem):
    """Learn a map between fields from examples.

    Parameters
    ----------
    train : Dataset
        Items are ``(input, output)`` tensors shaped ``(channels, *space)``, in physical units.
    tests : Dataset or mapping of str to Dataset
        Test sets keyed by name (for example ``{"32": ds32, "64": ds64}`` for resolutions).
    name : str
        Name used in reports.
    grid : Grid, optional
        Grid of the training data (axis names for plots).
    """

    def __init__(
        self,
        train: Any,
        tests: Any | Mapping[str, Any],
        name: str = "operator",
        grid: Grid | None = None,
    ) -> None:
        check_pair_dataset("train", train)
        if not isinstance(tests, Mapping):
            tests = {"test": tests}
        if not tests:
            raise ValueError("tests: need at least one test set")
        tests = {str(k): v for k, v in tests.items()}
        for key, ds in tests.items():
            check_pair_dataset(f"tests[{key!r}]", ds)
        x, y = train[0]
        self.in_channels = int(x.shape[0])
        self.out_channels = int(y.shape[0])
        for key, ds in tests.items():
            tx, ty = ds[0]
            if tx.shape[0] != self.in_channels or ty.shape[0] != self.out_channels:
                raise ValueError(
                    f"tests[{key!r}]: has {tx.shape[0]} input and {ty.shape[0]} output channels; "
                    f"the training set has {self.in_channels} and {self.out_channels}"
                )
        self.train = train
        self.tests = dict(tests)
        self.name = name
        self.grid = grid if grid is not None else getattr(train, "grid", None)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        inputs: str | Sequence[str],
        outputs: str | Sequence[str],
        n_train: int,
        n_test: int,
        stride: int = 1,
        test_strides: Mapping[str, int] | None = None,
        in_memory: bool = True,
        name: str | None = None,
        resolution: int | Sequence[int] | None = None,
        test_resolutions: Sequence[int | Sequence[int]] | None = None,
    ) -> OperatorProblem:
        """Build a problem from an HDF5 file: the first ``n_train`` samples train, the last
        ``n_test`` test.

        Parameters
        ----------
        path : path to a file :func:`sciml.data.open` reads.
        inputs, outputs : field names in the file.
        n_train, n_test : split sizes.
        stride : spatial subsampling of the training set.
        test_strides : test sets by name and stride; default ``{"test": stride}``.
        in_memory : load the split into memory (fast for small sets) or read lazily.
        resolution : int or sequence of int, optional
            Points per axis of the training set, instead of ``stride`` (the file's grid is
            subsampled to it; see :func:`sciml.data.resolution_stride`).
        test_resolutions : sequence, optional
            Evaluate at several resolutions in one call: one test set per entry, named by the
            resolution (``"32"``, ``"64"``, or ``"64x32"`` for a per-axis tuple), instead of
            ``test_strides``. For example ``resolution=32, test_resolutions=[32, 64, 128]`` on
            a 128-point file trains at 32 and tests zero-shot at 64 and 128.
        """
        from sciml.data import OperatorDataset, split_indices, to_tensor_dataset
        from sciml.data import open as open_data

        if resolution is not None and stride != 1:
            raise ValueError(
                f"resolution, stride: give one way to subsample the training set, got "
                f"resolution={resolution!r} and stride={stride!r}"
            )
        if test_resolutions is not None and test_strides is not None:
            raise ValueError(
                "test_resolutions, test_strides: give one way to define the test sets, not both"
            )
        if test_resolutions is not None and (
            isinstance(test_resolutions, (str, int)) or not len(test_resolutions)
        ):
            raise ValueError(
                f"test_resolutions: expected a non-empty list such as [32, 64, 128], got "
                f"{test_resolutions!r}"
            )
        source = open_data(path)
        train_idx, test_idx = split_indices(source.n_samples, n_train, n_test)

        def make(indices: Sequence[int], sampling: dict[str, Any]) -> Any:
            ds = OperatorDataset(source, inputs, outputs, indices=indices, **sampling)
            return to_tensor_dataset(ds) if in_memory else ds, ds.grid

        train_sampling = {"stride": stride} if resolution is None else {"resolution": resolution}
        if test_resolutions is not None:
            test_sampling = {_resolution_name(r): {"resolution": r} for r in test_resolutions}
        else:
            strides = dict(test_strides) if test_strides is not None else None
            if strides is None:
                test_sampling = {"test": train_sampling}
            else:
                test_sampling = {k: {"stride": s} for k, s in strides.items()}
        train, grid = make(train_idx, train_sampling)
        tests = {k: make(test_idx, s)[0] for k, s in test_sampling.items()}
        pde = source.attrs.get("pde", "operator")
        return cls(train, tests, name=name or str(pde), grid=grid)

    def evaluate(self, solver: Solver, batch_size: int = 64) -> Report:
        """Mean relative L2 error of ``solver.predict`` on each test set."""
        report = _solver_report(self, solver)
        total = 0.0
        for key, ds in self.tests.items():
            loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=False)
            errors = []
            for x, y in loader:
                start = time.perf_counter()
                pred = torch.as_tensor(solver.predict(x)).detach().cpu().to(torch.float64)
                total += time.perf_counter() - start
                y = y.to(torch.float64)
                if pred.shape != y.shape:
                    raise ValueError(
                        f"{type(solver).__name__}.predict returned shape {tuple(pred.shape)} on "
                        f"test set {key!r}; expected {tuple(y.shape)}"
                    )
                diff = (pred - y).flatten(1).norm(dim=1)
                errors.append(diff / y.flatten(1).norm(dim=1).clamp_min(1e-300))
            rel = torch.cat(errors)
            report.add(key, rel_l2=float(rel.mean()), rel_l2_max=float(rel.max()), n=len(rel))
        report.timings["predict"] = total
        return report

    def __repr__(self) -> str:
        tests = {k: len(v) for k, v in self.tests.items()}
        return f"OperatorProblem({self.name!r}, train={len(self.train)}, tests={tests})"


class ParametricProblem(Problem):
    """A full-order model ``u(mu)`` over a box of parameters.

    Parameters
    ----------
    parameters : ParameterSpace or Box
        Parameter names and ranges, for example ``Box(mu1=(0.1, 10), mu2=(0.1, 10))``.
    solve : callable ``solve(mu) -> (n_dofs,)``, optional
        The full-order solve; ``mu`` is a dict of parameter name to value. Defaults to
        ``model.solve`` when a model is given.
    name : str
        Name used in reports.
    model : object, optional
        The full-order discretisation (for example :class:`sciml.rom.AffineModel` or
        :class:`sciml.rom.LinearModel`), which reduced-basis solvers need: operators,
        right-hand sides and the inner-product matrix ``model.product``.
    recipe : (str, dict), optional
        Name in :data:`sciml.core.registry.PROBLEMS` and keyword arguments that rebuild this
        problem; solvers store it in checkpoints so that ``load`` can recreate what a reduced
        model needs online (for example the parameter functions of an affine decomposition).
    """

    def __init__(
        self,
        parameters: Box | ParameterSpace,
        solve: Callable[[dict[str, float]], np.ndarray] | None = None,
        name: str = "parametric",
        model: Any = None,
        recipe: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if isinstance(parameters, Box):
            parameters = ParameterSpace(parameters)
        if not isinstance(parameters, ParameterSpace):
            raise ValueError(
                f"parameters: expected a ParameterSpace or a Box of ranges, "
                f"got {describe(parameters)}"
            )
        if solve is None and model is not None:
            solve = model.solve
        if not callable(solve):
            raise ValueError(
                f"solve: expected a function solve(mu) (or a model with .solve), "
                f"got {describe(solve)}"
            )
        if recipe is not None:
            if (
                not isinstance(recipe, (tuple, list))
                or len(recipe) != 2
                or not isinstance(recipe[0], str)
                or not isinstance(recipe[1], Mapping)
            ):
                raise ValueError(
                    f"recipe: expected (registered problem name, dict of keyword arguments), "
                    f"got {describe(recipe)}"
                )
            recipe = (recipe[0], dict(recipe[1]))
        self.space = parameters
        self.solve = solve
        self.name = name
        self.model = model
        self.recipe = recipe

    @property
    def parameters(self) -> Box:
        """The parameter box (names and ranges)."""
        return self.space.box

    def sample(self, n: int, seed: int = 0, method: str = "random") -> np.ndarray:
        """``n`` parameter points, shape ``(n, n_parameters)``.

        ``method`` is ``"random"`` (uniform, log-uniform on log axes) or ``"lhs"``
        (Latin hypercube).
        """
        check_choice("method", method, ("random", "lhs"))
        if method == "lhs":
            return self.space.latin_hypercube(n, seed)
        return self.space.random(n, seed)

    def as_dict(self, mu: np.ndarray | Mapping[str, float]) -> dict[str, float]:
        """A parameter point as a name-to-value dict, checked against the names."""
        return dict(self.space.mu(mu))

    def evaluate(
        self, solver: Solver, parameters: np.ndarray | None = None, n_test: int = 10, seed: int = 1
    ) -> Report:
        """Relative errors of ``solver.predict(mu)`` against full-order solves.

        When the solver also certifies its error (``solver.error_bound(mu)``) and the model has
        an inner product ``model.product``, the report adds the smallest and largest
        effectivity ``bound / ||u - u_N||_X`` (a bound is rigorous when the smallest is >= 1).
        """
        mus = self.sample(n_test, seed) if parameters is None else np.atleast_2d(parameters)
        report = _solver_report(self, solver)
        errors, t_fom, t_rom = [], 0.0, 0.0
        effectivities = []
        product = getattr(self.model, "product", None)
        bound_of = getattr(solver, "error_bound", None)
        for mu in mus:
            mu_d = self.as_dict(mu)
            start = time.perf_counter()
            truth = np.asarray(self.solve(mu_d), dtype=float)
            t_fom += time.perf_counter() - start
            start = time.perf_counter()
            pred = np.asarray(solver.predict(mu_d), dtype=float)
            t_rom += time.perf_counter() - start
            errors.append(np.linalg.norm(pred - truth) / max(np.linalg.norm(truth), 1e-300))
            if callable(bound_of) and product is not None:
                diff = truth - pred
                err_x = float(np.sqrt(max(diff @ (product @ diff), 0.0)))
                bound = float(np.asarray(bound_of(mu_d)).reshape(-1)[0])
                if err_x > 1e-300:
                    effectivities.append(bound / err_x)
        report.add("test", rel_l2=float(np.mean(errors)), rel_l2_max=float(np.max(errors)))
        if effectivities:
            report.add(
                "bound",
                effectivity_min=float(np.min(effectivities)),
                effectivity_max=float(np.max(effectivities)),
            )
        report.timings.update(full_order=t_fom, predict=t_rom)
        return report

    def __repr__(self) -> str:
        return f"ParametricProblem({self.name!r}, parameters={self.space})"
