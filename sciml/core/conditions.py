"""Boundary and initial conditions as objects.

A condition says *what* holds on *which* part of the boundary; each solver decides how to
impose it (penalty, hard constraint, periodic basis). Data ``g`` is a constant or a function
``g(x)`` of :class:`~sciml.core.residual.Coordinates` returning values of shape ``(n,)``.

Faces are named ``"<axis>-"`` (the lower end) and ``"<axis>+"`` (the upper end).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sciml.core.grid import Box
from sciml.core.residual import Coordinates
from sciml.core.validation import check_axis_names, describe

__all__ = ["Condition", "Dirichlet", "Initial", "Neumann", "Periodic", "faces_of"]

Data = float | Callable[[Coordinates], Any]


def _check_data(name: str, g: Any) -> None:
    if not (callable(g) or isinstance(g, (int, float))):
        raise ValueError(f"{name}: expected a number or a function g(x), got {describe(g)}")


def faces_of(box: Box, time_axis: str | None = None) -> tuple[str, ...]:
    """All faces of the spatial axes of ``box`` (the time axis has no boundary faces)."""
    return tuple(f"{a}{s}" for a in box.names if a != time_axis for s in "-+")


class Condition:
    """Base class of boundary and initial conditions."""

    def validate(self, box: Box, time_axis: str | None) -> None:
        """Check the condition against a domain; raise ``ValueError`` naming what is wrong."""

    def value(self, x: Coordinates) -> Any:
        """The prescribed data at coordinates ``x``, shape ``(n,)``."""
        g = getattr(self, "g", 0.0)
        if callable(g):
            return g(x)
        first = x[x.names[0]]
        return first * 0 + g


def _validate_faces(kind: str, on: Sequence[str] | None, box: Box, time_axis: str | None) -> None:
    if on is None:
        return
    allowed = faces_of(box, time_axis)
    bad = [f for f in on if f not in allowed]
    if bad:
        raise ValueError(f"{kind}.on: unknown face(s) {bad}; faces of this domain are {allowed}")


@dataclass(frozen=True)
class Dirichlet(Condition):
    """``u = g`` on the faces ``on`` (default: every face of every spatial axis)."""

    g: Data = 0.0
    on: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _check_data("Dirichlet.g", self.g)
        if self.on is not None:
            object.__setattr__(self, "on", tuple(self.on))

    def validate(self, box: Box, time_axis: str | None) -> None:
        _validate_faces("Dirichlet", self.on, box, time_axis)


@dataclass(frozen=True)
class Neumann(Condition):
    """Outward normal derivative ``du/dn = g`` on the faces ``on`` (default: all)."""

    g: Data = 0.0
    on: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _check_data("Neumann.g", self.g)
        if self.on is not None:
            object.__setattr__(self, "on", tuple(self.on))

    def validate(self, box: Box, time_axis: str | None) -> None:
        _validate_faces("Neumann", self.on, box, time_axis)


@dataclass(frozen=True)
class Periodic(Condition):
    """The solution is periodic along ``axes`` (default: every spatial axis)."""

    axes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.axes is not None:
            object.__setattr__(self, "axes", tuple(self.axes))

    def validate(self, box: Box, time_axis: str | None) -> None:
        if self.axes is not None:
            spatial = [a for a in box.names if a != time_axis]
            check_axis_names("Periodic.axes", self.axes, spatial)


@dataclass(frozen=True)
class Initial(Condition):
    """``d^k u / dt^k = g`` at the start of the time axis, ``k = derivative`` (0 or 1)."""

    g: Data = 0.0
    derivative: int = 0

    def __post_init__(self) -> None:
        _check_data("Initial.g", self.g)
        if self.derivative not in (0, 1):
            raise ValueError(f"Initial.derivative: got {self.derivative!r}; allowed 0 or 1")

    def validate(self, box: Box, time_axis: str | None) -> None:
        if time_axis is None:
            raise ValueError(
                f"Initial: the domain {box} has no time axis; name one with time_axis='t' "
                "or drop the initial condition"
            )
