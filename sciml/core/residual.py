"""The residual contract: how a PDE is written once and evaluated by every solver.

A residual is a function ``residual(u, x)``. ``x`` is a :class:`Coordinates` whose attributes
are the axis names (``x.x``, ``x.y``, ``x.t``); ``u`` is a :class:`FieldEvaluation` with
``u.value`` and derivatives ``u.d("xx")``. Each solver supplies its own ``u``: kernel
derivative matrices in the GP, automatic differentiation in PIG and PINN. This module holds the
interface, the autograd implementation shared by the network-based solvers, and
:class:`GridField`, a field given by a function of per-axis derivative counts (the GP's
derivative matrices; a recording zero field that tells which derivatives a residual uses).

Example
-------
>>> import torch
>>> from sciml.core.residual import AutogradField, Coordinates
>>> def residual(u, x):
...     return u.d("xx") + u.d("yy") + 2.0
>>> pts = torch.rand(5, 2, dtype=torch.float64)
>>> u = AutogradField.from_function(lambda x: x.x * (1 - x.x), pts, ("x", "y"))
>>> torch.allclose(residual(u, u.coords), torch.zeros(5, dtype=torch.float64))
True
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from sciml.core.validation import check_axis_names

__all__ = [
    "AutogradField",
    "Coordinates",
    "FieldEvaluation",
    "GridField",
    "derivative_counts",
    "parse_derivative",
]


class Coordinates:
    """Named coordinate arrays: ``x.x``, ``x.y``, ``x.t``; each of shape ``(n,)``.

    Parameters
    ----------
    values : mapping of str to tensor or array, each shape ``(n,)``
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        if not values:
            raise ValueError("Coordinates: need at least one axis, got none")
        lengths = {k: len(v) for k, v in values.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"Coordinates: all axes must have the same length, got {lengths}")
        object.__setattr__(self, "_values", dict(values))

    @classmethod
    def from_points(cls, points: torch.Tensor, names: Sequence[str]) -> Coordinates:
        """Split ``points`` of shape ``(n, len(names))`` into named columns."""
        if points.ndim != 2 or points.shape[1] != len(names):
            raise ValueError(
                f"points: expected shape (n, {len(names)}) for axes {list(names)}, "
                f"got {tuple(points.shape)}"
            )
        return cls({name: points[:, i] for i, name in enumerate(names)})

    @property
    def names(self) -> tuple[str, ...]:
        """Axis names in order."""
        return tuple(self._values)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(f"no coordinate {name!r}; the axes are {list(values)}")

    def __getitem__(self, name: str) -> Any:
        check_axis_names("coordinate", [name], self.names)
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Coordinates are read-only")

    def __len__(self) -> int:
        return len(next(iter(self._values.values())))

    def stack(self) -> Any:
        """Columns stacked into ``(n, ndim)``."""
        return torch.stack([torch.as_tensor(v) for v in self._values.values()], dim=-1)

    def __repr__(self) -> str:
        return f"Coordinates(axes={list(self._values)}, n={len(self)})"


def parse_derivative(spec: str | Sequence[str], names: Sequence[str]) -> tuple[str, ...]:
    """Turn ``"xxy"`` or ``("x", "x", "y")`` into a tuple of axis names, checking them.

    A string is split into single characters, so multi-letter axis names must be given as a
    sequence.
    """
    if isinstance(spec, str):
        if spec == "":
            return ()
        axes = tuple(spec) if spec not in names else (spec,)
    else:
        axes = tuple(spec)
    check_axis_names("derivative", axes, names)
    return axes


class FieldEvaluation(ABC):
    """A solution candidate evaluated at a set of points: its value and derivatives."""

    @property
    @abstractmethod
    def value(self) -> Any:
        """The field at the points, shape ``(n,)``."""

    @abstractmethod
    def d(self, spec: str | Sequence[str]) -> Any:
        """A partial derivative, for example ``d("xx")`` or ``d("xt")``; shape ``(n,)``."""


Counts = tuple[int, ...]


def derivative_counts(spec: str | Sequence[str], names: Sequence[str]) -> Counts:
    """How many times each axis appears in a derivative spec: ``"xxy"`` -> ``(2, 1)``."""
    axes = parse_derivative(spec, names)
    return tuple(axes.count(a) for a in names)


class GridField(FieldEvaluation):
    """``u`` given by ``evaluate(counts)``, which returns the flattened derivative values.

    Each quantity is evaluated once and cached; :attr:`used` lists what the residual asked for.

    Parameters
    ----------
    evaluate : callable ``(counts) -> tensor (n,)``
        ``counts`` is a tuple of derivative orders per axis (all zeros for the value).
    names : sequence of str
        Axis names.
    """

    def __init__(self, evaluate: Callable[[Counts], torch.Tensor], names: Sequence[str]) -> None:
        self._evaluate = evaluate
        self._names = tuple(names)
        self._cache: dict[Counts, torch.Tensor] = {}

    def _get(self, counts: Counts) -> torch.Tensor:
        if counts not in self._cache:
            self._cache[counts] = self._evaluate(counts)
        return self._cache[counts]

    @property
    def value(self) -> torch.Tensor:
        return self._get((0,) * len(self._names))

    def d(self, spec: str | Sequence[str]) -> torch.Tensor:
        return self._get(derivative_counts(spec, self._names))

    @property
    def used(self) -> list[Counts]:
        """Derivative counts the residual asked for so far."""
        return list(self._cache)


class AutogradField(FieldEvaluation):
    """A field given by a differentiable function of the points, derivatives by autograd.

    Derivatives are cached, so ``u.d("x")`` is computed once when both ``d("x")`` and
    ``d("xx")`` are asked for.

    Parameters
    ----------
    values : tensor, shape ``(n,)``
        Field values computed from ``points`` inside the autograd graph.
    points : tensor, shape ``(n, ndim)``
        Leaf tensor with ``requires_grad=True``.
    names : sequence of str
        Axis names, one per column of ``points``.
    create_graph : bool
        Keep the graph of each derivative so a loss on the residual can be back-propagated
        (needed in training; set ``False`` for evaluation only).
    known : mapping of tuple of str to tensor, optional
        Derivatives already computed some other way (for example by a forward-mode jet),
        keyed by sorted axis tuples such as ``("x",)`` or ``("x", "x")``, each of shape
        ``(n,)`` and differentiable with respect to ``points``; other derivatives are taken by
        autograd from them.
    """

    def __init__(
        self,
        values: torch.Tensor,
        points: torch.Tensor,
        names: Sequence[str],
        create_graph: bool = True,
        known: Mapping[tuple[str, ...], torch.Tensor] | None = None,
    ) -> None:
        if not points.requires_grad:
            raise ValueError("points: must require grad so derivatives can be taken")
        if values.shape != points.shape[:1]:
            raise ValueError(
                f"values: expected shape ({points.shape[0]},) matching points, "
                f"got {tuple(values.shape)}"
            )
        self._points = points
        self._names = tuple(names)
        self._create_graph = create_graph
        self._cache: dict[tuple[str, ...], torch.Tensor] = {(): values}
        for key, value in (known or {}).items():
            axes = parse_derivative(key, self._names)
            if value.shape != values.shape:
                raise ValueError(
                    f"known[{key!r}]: expected shape {tuple(values.shape)}, "
                    f"got {tuple(value.shape)}"
                )
            self._cache[tuple(sorted(axes, key=self._names.index))] = value
        self.coords = Coordinates.from_points(points, self._names)

    @classmethod
    def from_function(
        cls,
        fn: Callable[[Coordinates], torch.Tensor],
        points: torch.Tensor,
        names: Sequence[str],
        create_graph: bool = True,
    ) -> AutogradField:
        """Evaluate ``fn(Coordinates)`` on a fresh differentiable copy of ``points``."""
        pts = points.detach().clone().requires_grad_(True)
        values = fn(Coordinates.from_points(pts, names))
        values = torch.as_tensor(values, dtype=pts.dtype, device=pts.device)
        if values.ndim == 0:
            values = values.expand(pts.shape[0])
        return cls(values.reshape(-1), pts, names, create_graph)

    @property
    def value(self) -> torch.Tensor:
        return self._cache[()]

    def d(self, spec: str | Sequence[str]) -> torch.Tensor:
        axes = parse_derivative(spec, self._names)
        # Mixed partials commute for smooth fields: sort so "xy" and "yx" share a cache entry.
        key = tuple(sorted(axes, key=self._names.index))
        for k in range(1, len(key) + 1):
            sub = key[:k]
            if sub in self._cache:
                continue
            prev = self._cache[key[: k - 1]]
            if not prev.requires_grad:
                # prev does not depend on the points (e.g. the slope of a linear field)
                self._cache[sub] = torch.zeros_like(prev)
                continue
            (grad,) = torch.autograd.grad(
                prev,
                self._points,
                grad_outputs=torch.ones_like(prev),
                create_graph=True,
                allow_unused=True,
            )
            col = self._names.index(sub[-1])
            self._cache[sub] = (
                torch.zeros_like(prev) if grad is None else grad[:, col]
            )
        out = self._cache[key]
        return out if self._create_graph else out.detach()
