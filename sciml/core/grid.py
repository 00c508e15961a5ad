"""Domains and tensor-product grids.

A :class:`Box` names the axes of a domain and their bounds; a :class:`Grid` holds one
coordinate vector per axis (uniform, periodic or Chebyshev) and knows which axes are
periodic. Every solver, data file and plot in sciml takes its axis names from here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sciml.core.validation import check_axis_names, describe

__all__ = ["Box", "Grid"]

GRID_KINDS = ("uniform", "periodic", "chebyshev", "custom")


class Box:
    """An axis-aligned box whose axes have names.

    Parameters
    ----------
    **axes
        One ``name=(lower, upper)`` pair per axis, in order, for example
        ``Box(x=(0, 1), y=(0, 1))`` or ``Box(x=(-1, 1), t=(0, 2))``.

    Raises
    ------
    ValueError
        If there is no axis, a bound is not finite, or ``lower >= upper``.
    """

    __slots__ = ("_bounds",)

    def __init__(self, **axes: tuple[float, float]) -> None:
        if not axes:
            raise ValueError("Box needs at least one axis, e.g. Box(x=(0, 1)); got none")
        bounds: dict[str, tuple[float, float]] = {}
        for name, value in axes.items():
            try:
                lo, hi = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Box axis {name!r}: expected a pair (lower, upper) of numbers, "
                    f"got {describe(value)}"
                ) from None
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError(f"Box axis {name!r}: bounds must be finite, got ({lo}, {hi})")
            if lo >= hi:
                raise ValueError(
                    f"Box axis {name!r}: lower bound must be below upper bound, got ({lo}, {hi})"
                )
            bounds[name] = (lo, hi)
        self._bounds = bounds

    @property
    def names(self) -> tuple[str, ...]:
        """Axis names in order."""
        return tuple(self._bounds)

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self._bounds)

    @property
    def lower(self) -> np.ndarray:
        """Lower bounds, shape ``(ndim,)``."""
        return np.array([b[0] for b in self._bounds.values()])

    @property
    def upper(self) -> np.ndarray:
        """Upper bounds, shape ``(ndim,)``."""
        return np.array([b[1] for b in self._bounds.values()])

    @property
    def lengths(self) -> np.ndarray:
        """Side lengths, shape ``(ndim,)``."""
        return self.upper - self.lower

    def __getitem__(self, name: str) -> tuple[float, float]:
        check_axis_names("axis", [name], self.names)
        return self._bounds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._bounds)

    def items(self) -> Iterator[tuple[str, tuple[float, float]]]:
        """Iterate over ``(name, (lower, upper))`` pairs."""
        return iter(self._bounds.items())

    def contains(self, points: np.ndarray, tol: float = 1e-12) -> np.ndarray:
        """Whether each point lies in the closed box.

        Parameters
        ----------
        points : array, shape ``(n, ndim)``

        Returns
        -------
        array of bool, shape ``(n,)``
        """
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != self.ndim:
            raise ValueError(
                f"points: expected shape (n, {self.ndim}) for axes {self.names}, "
                f"got {points.shape}"
            )
        return np.all((points >= self.lower - tol) & (points <= self.upper + tol), axis=1)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Box) and self._bounds == other._bounds

    def __hash__(self) -> int:
        return hash(tuple(self._bounds.items()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}=({lo:g}, {hi:g})" for k, (lo, hi) in self._bounds.items())
        return f"Box({inner})"

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-serialisable form; inverse of :meth:`from_dict`."""
        return {k: [lo, hi] for k, (lo, hi) in self._bounds.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[float]]) -> Box:
        """Rebuild a box from :meth:`to_dict` output."""
        return cls(**{k: (v[0], v[1]) for k, v in data.items()})


def _per_axis(name: str, value: Any, axes: Sequence[str], cast: type) -> dict[str, Any]:
    """Spread a scalar, sequence or mapping over the named axes."""
    if isinstance(value, Mapping):
        check_axis_names(name, value.keys(), axes)
        missing = [a for a in axes if a not in value]
        if missing:
            raise ValueError(f"{name}: no value for axes {missing}; axes are {list(axes)}")
        return {a: cast(value[a]) for a in axes}
    if isinstance(value, (str, bytes)):
        if cast is str:
            return {a: value for a in axes}
        raise ValueError(f"{name}: expected a number, a sequence or a mapping, got {value!r}")
    if isinstance(value, Sequence) or isinstance(value, np.ndarray):
        if len(value) != len(axes):
            raise ValueError(
                f"{name}: expected {len(axes)} values (one per axis {list(axes)}), "
                f"got {len(value)}: {list(value)}"
            )
        return {a: cast(v) for a, v in zip(axes, value)}
    return {a: cast(value) for a in axes}


class Grid:
    """A tensor-product grid: one sorted coordinate vector per named axis.

    Build grids with :meth:`uniform`, :meth:`periodic` or :meth:`chebyshev`; the constructor
    takes explicit coordinates.

    Parameters
    ----------
    coords : mapping of str to array, each shape ``(n_axis,)``
        Strictly increasing, finite coordinates per axis, in axis order.
    periodic : bool, sequence of bool or mapping of str to bool
        Which axes are periodic. A periodic axis stores ``n`` points without the repeated
        endpoint; its period is given by ``box``.
    box : Box, optional
        The domain. Defaults to the coordinate extents (which is wrong for periodic axes,
        so periodic grids should pass it).
    kind : str or mapping of str to str
        ``"uniform"``, ``"periodic"``, ``"chebyshev"`` or ``"custom"`` per axis.
    """

    def __init__(
        self,
        coords: Mapping[str, Any],
        periodic: bool | Sequence[bool] | Mapping[str, bool] = False,
        box: Box | None = None,
        kind: str | Mapping[str, str] = "custom",
    ) -> None:
        if not isinstance(coords, Mapping) or not coords:
            raise ValueError(
                f"coords: expected a non-empty mapping of axis name to 1-D array, "
                f"got {describe(coords)}"
            )
        names = tuple(coords)
        parsed: dict[str, np.ndarray] = {}
        for name, c in coords.items():
            arr = np.asarray(c, dtype=np.float64)
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(
                    f"coords[{name!r}]: expected a non-empty 1-D array, got shape {arr.shape}"
                )
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"coords[{name!r}]: contains non-finite values (NaN or Inf)")
            if arr.size > 1 and not np.all(np.diff(arr) > 0):
                raise ValueError(f"coords[{name!r}]: coordinates must be strictly increasing")
            arr = arr.copy()
            arr.setflags(write=False)
            parsed[name] = arr
        self._coords = parsed
        self._periodic = _per_axis("periodic", periodic, names, bool)
        kinds = _per_axis("kind", kind, names, str)
        for a, k in kinds.items():
            if k not in GRID_KINDS:
                raise ValueError(f"kind[{a!r}]: got {k!r}; allowed kinds are {GRID_KINDS}")
        self._kinds = kinds
        if box is None:
            box = Box(
                **{
                    a: (c[0], c[-1]) if c.size > 1 else (c[0] - 0.5, c[0] + 0.5)
                    for a, c in parsed.items()
                }
            )
        elif box.names != names:
            raise ValueError(f"box: axes {box.names} do not match the coordinate axes {names}")
        self._box = box

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def uniform(
        cls,
        box: Box,
        n: int | Sequence[int] | Mapping[str, int],
        periodic: bool | Sequence[bool] | Mapping[str, bool] = False,
    ) -> Grid:
        """Equispaced grid on ``box``.

        A non-periodic axis has ``n`` points including both ends; a periodic axis has ``n``
        points ``lower + k L / n`` (the upper end is the same point as the lower).
        """
        if not isinstance(box, Box):
            raise ValueError(f"box: expected a Box, got {describe(box)}")
        counts = _per_axis("n", n, box.names, int)
        per = _per_axis("periodic", periodic, box.names, bool)
        coords = {}
        for a, (lo, hi) in box.items():
            m = counts[a]
            if m < (1 if per[a] else 2):
                raise ValueError(f"n[{a!r}]: need at least 2 points on a bounded axis, got {m}")
            if per[a]:
                coords[a] = lo + (hi - lo) * np.arange(m) / m
            else:
                coords[a] = np.linspace(lo, hi, m)
        kinds = {a: "periodic" if per[a] else "uniform" for a in box.names}
        return cls(coords, periodic=per, box=box, kind=kinds)

    @classmethod
    def periodic(cls, box: Box, n: int | Sequence[int] | Mapping[str, int]) -> Grid:
        """Equispaced grid, periodic along every axis (the natural grid of the FFT)."""
        return cls.uniform(box, n, periodic=True)

    @classmethod
    def chebyshev(cls, box: Box, n: int | Sequence[int] | Mapping[str, int]) -> Grid:
        """Chebyshev–Gauss–Lobatto points ``cos(pi k / (n-1))`` mapped onto ``box``, ascending."""
        if not isinstance(box, Box):
            raise ValueError(f"box: expected a Box, got {describe(box)}")
        counts = _per_axis("n", n, box.names, int)
        coords = {}
        for a, (lo, hi) in box.items():
            m = counts[a]
            if m < 2:
                raise ValueError(f"n[{a!r}]: a Chebyshev axis needs at least 2 points, got {m}")
            ref = -np.cos(np.pi * np.arange(m) / (m - 1))
            c = lo + (hi - lo) * (ref + 1) / 2
            c[0], c[-1] = lo, hi
            coords[a] = c
        return cls(coords, periodic=False, box=box, kind="chebyshev")

    # -- properties ---------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Axis names in order."""
        return tuple(self._coords)

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self._coords)

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of points per axis."""
        return tuple(c.size for c in self._coords.values())

    @property
    def size(self) -> int:
        """Total number of grid points."""
        return int(np.prod(self.shape))

    @property
    def box(self) -> Box:
        """The domain."""
        return self._box

    @property
    def coords(self) -> dict[str, np.ndarray]:
        """Read-only coordinate vector of each axis."""
        return dict(self._coords)

    @property
    def periodic_axes(self) -> dict[str, bool]:
        """Whether each axis is periodic."""
        return dict(self._periodic)

    @property
    def kinds(self) -> dict[str, str]:
        """Spacing kind of each axis."""
        return dict(self._kinds)

    def __getitem__(self, name: str) -> np.ndarray:
        check_axis_names("axis", [name], self.names)
        return self._coords[name]

    def spacing(self, name: str) -> float:
        """Step of an equispaced axis.

        Raises
        ------
        ValueError
            If the axis is not equispaced.
        """
        c = self[name]
        if self._kinds[name] in ("uniform", "periodic") or (
            c.size > 1 and np.allclose(np.diff(c), c[1] - c[0])
        ):
            if self._periodic[name]:
                lo, hi = self._box[name]
                return (hi - lo) / c.size
            return float(c[1] - c[0]) if c.size > 1 else float("nan")
        raise ValueError(f"axis {name!r} is {self._kinds[name]}, not equispaced: no single step")

    def mesh(self) -> tuple[np.ndarray, ...]:
        """Coordinate arrays of shape :attr:`shape`, one per axis (``indexing='ij'``)."""
        return tuple(np.meshgrid(*self._coords.values(), indexing="ij"))

    def points(self) -> np.ndarray:
        """All grid points in C order, shape ``(size, ndim)``."""
        return np.stack([m.reshape(-1) for m in self.mesh()], axis=-1)

    def subsample(self, stride: int | Sequence[int] | Mapping[str, int]) -> Grid:
        """Every ``stride``-th point along each axis (the first point is kept)."""
        steps = _per_axis("stride", stride, self.names, int)
        for a, s in steps.items():
            if s < 1:
                raise ValueError(f"stride[{a!r}]: must be a positive integer, got {s}")
        coords = {a: c[:: steps[a]] for a, c in self._coords.items()}
        return Grid(coords, periodic=self._periodic, box=self._box, kind=self._kinds)

    # -- (de)serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (coordinates as lists)."""
        return {
            "names": list(self.names),
            "coords": {a: c.tolist() for a, c in self._coords.items()},
            "periodic": dict(self._periodic),
            "kind": dict(self._kinds),
            "box": self._box.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grid:
        """Inverse of :meth:`to_dict`."""
        for key in ("coords", "periodic", "kind", "box"):
            if key not in data:
                raise ValueError(f"grid description: missing key {key!r}")
        names = data.get("names", list(data["coords"]))
        coords = {a: data["coords"][a] for a in names}
        return cls(
            coords,
            periodic=data["periodic"],
            box=Box.from_dict({a: data["box"][a] for a in names}),
            kind=data["kind"],
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Grid)
            and self.names == other.names
            and self._periodic == other._periodic
            and self._box == other._box
            and all(np.array_equal(self._coords[a], other._coords[a]) for a in self.names)
        )

    def __hash__(self) -> int:
        return hash((self.names, self.shape, self._box))

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{a}: {c.size} {self._kinds[a]} on [{self._box[a][0]:g}, {self._box[a][1]:g}]"
            for a, c in self._coords.items()
        )
        return f"Grid({parts})"
