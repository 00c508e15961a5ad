"""Parameters of parametric problems: boxes of named ranges, sampling, and parameter values.

A :class:`ParameterSpace` is a box ``[lower_1, upper_1] x ... x [lower_p, upper_p]`` with named
axes, some of which may be log-scaled (sampled uniformly in ``log(mu)``). A :class:`Mu` is one
point of it: a read-only mapping from names to floats that also converts to an array.
Arrays of parameters are ``(n, n_parameters)`` in the order of :attr:`ParameterSpace.names`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sciml.core.grid import Box
from sciml.core.validation import check_axis_names, check_finite, describe

__all__ = ["Mu", "ParameterSpace"]


class Mu(Mapping[str, float]):
    """One parameter value: a read-only mapping ``name -> float``.

    Parameters
    ----------
    values : mapping of str to float
        Parameter names and values, in the order of the parameter space.

    Examples
    --------
    >>> mu = Mu({"k1": 0.5, "k2": 2.0})
    >>> mu["k2"], mu.to_array().tolist()
    (2.0, [0.5, 2.0])
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, float]) -> None:
        vals = {str(k): float(v) for k, v in values.items()}
        check_finite("mu", np.array(list(vals.values()), dtype=float))
        self._values = vals

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def to_array(self) -> np.ndarray:
        """Values in insertion order, shape ``(n_parameters,)``."""
        return np.array(list(self._values.values()), dtype=float)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:.6g}" for k, v in self._values.items())
        return f"Mu({inner})"

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))


class ParameterSpace:
    """A box of named parameter ranges, with uniform, random and Latin-hypercube sampling.

    Parameters
    ----------
    ranges : mapping of str to (low, high), or Box
        Names and closed ranges, for example ``{"k1": (0.1, 1), "k2": (0.1, 1)}``.
    log : iterable of str
        Names of axes sampled uniformly in ``log(mu)`` (their ranges must be positive).

    Examples
    --------
    >>> space = ParameterSpace({"k": (0.1, 10.0)}, log=["k"])
    >>> space.uniform(3)[:, 0].round(6).tolist()
    [0.1, 1.0, 10.0]
    """

    def __init__(
        self, ranges: Mapping[str, tuple[float, float]] | Box, log: Iterable[str] = ()
    ) -> None:
        if isinstance(ranges, Box):
            ranges = dict(ranges.items())
        if not isinstance(ranges, Mapping) or not ranges:
            raise ValueError(
                f"ranges: expected a non-empty mapping name -> (low, high) or a Box, "
                f"got {describe(ranges)}"
            )
        self.box = Box(**{str(k): tuple(v) for k, v in ranges.items()})
        log = tuple(log)
        check_axis_names("log", log, self.box.names)
        for name in log:
            low, _ = self.box[name]
            if low <= 0:
                raise ValueError(
                    f"log: axis {name!r} has range {self.box[name]}; a log-scaled axis needs a "
                    "positive lower bound"
                )
        self.log = frozenset(log)

    # -- description -------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names, in array order."""
        return self.box.names

    @property
    def ndim(self) -> int:
        """Number of parameters."""
        return self.box.ndim

    @property
    def lower(self) -> np.ndarray:
        """Lower bounds ``(n_parameters,)``."""
        return self.box.lower

    @property
    def upper(self) -> np.ndarray:
        """Upper bounds ``(n_parameters,)``."""
        return self.box.upper

    def _is_log(self) -> np.ndarray:
        return np.array([n in self.log for n in self.names])

    def _from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Map points of ``[0, 1]^p`` to the box (log axes geometrically)."""
        lo, hi = self.lower, self.upper
        lin = lo + unit * (hi - lo)
        is_log = self._is_log()
        if is_log.any():
            with np.errstate(divide="ignore"):
                llo, lhi = np.log(np.where(is_log, lo, 1.0)), np.log(np.where(is_log, hi, 1.0))
            geo = np.exp(llo + unit * (lhi - llo))
            lin = np.where(is_log, geo, lin)
        return np.clip(lin, lo, hi)

    # -- sampling ----------------------------------------------------------------------
    def uniform(self, n: int | Sequence[int]) -> np.ndarray:
        """A tensor grid with ``n`` points per axis (endpoints included).

        Returns
        -------
        ndarray ``(prod(n), n_parameters)``, last axis varying fastest.
        """
        counts = [n] * self.ndim if np.isscalar(n) else list(n)
        if len(counts) != self.ndim or any(int(c) < 1 for c in counts):
            raise ValueError(
                f"n: expected a positive int or {self.ndim} positive ints, got {n!r}"
            )
        axes = [np.linspace(0.0, 1.0, int(c)) if int(c) > 1 else np.array([0.5]) for c in counts]
        unit = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, self.ndim)
        return self._from_unit(unit)

    def random(self, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
        """``n`` independent uniform draws (log-uniform on log axes), ``(n, n_parameters)``."""
        rng = np.random.default_rng(seed)
        return self._from_unit(rng.random((_count("n", n), self.ndim)))

    def latin_hypercube(self, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
        """``n`` Latin-hypercube points: each axis has one point in each of ``n`` strata."""
        rng = np.random.default_rng(seed)
        n = _count("n", n)
        strata = np.stack([rng.permutation(n) for _ in range(self.ndim)], axis=1)
        unit = (strata + rng.random((n, self.ndim))) / n
        return self._from_unit(unit)

    # -- conversion --------------------------------------------------------------------
    def contains(self, mus: np.ndarray, tol: float = 1e-12) -> np.ndarray:
        """Whether each row of ``mus`` ``(n, n_parameters)`` lies in the box, ``(n,)``."""
        return self.box.contains(np.atleast_2d(np.asarray(mus, dtype=float)), tol)

    def mu(self, value: Any = None, **kwargs: float) -> Mu:
        """A checked :class:`Mu` from a mapping, an array ``(n_parameters,)`` or keywords."""
        if value is None:
            value = kwargs
        if isinstance(value, Mapping):
            check_axis_names("mu", value.keys(), self.names)
            missing = [n for n in self.names if n not in value]
            if missing:
                raise ValueError(f"mu: missing parameters {missing}; expected {list(self.names)}")
            return Mu({n: float(value[n]) for n in self.names})
        arr = np.asarray(value, dtype=float).reshape(-1)
        if arr.size != self.ndim:
            raise ValueError(
                f"mu: expected {self.ndim} values for {list(self.names)}, got {arr.size}"
            )
        return Mu(dict(zip(self.names, arr.tolist())))

    def as_array(self, mus: Any) -> np.ndarray:
        """Parameters as an array ``(n, n_parameters)``.

        Accepts one value (mapping, :class:`Mu`, array ``(n_parameters,)``), a sequence of
        mappings, or an array ``(n, n_parameters)``.
        """
        if isinstance(mus, Mapping):
            return self.mu(mus).to_array()[None]
        if isinstance(mus, (list, tuple)) and mus and isinstance(mus[0], Mapping):
            return np.stack([self.mu(m).to_array() for m in mus])
        arr = np.asarray(mus, dtype=float)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != self.ndim:
            raise ValueError(
                f"mus: expected shape (n, {self.ndim}) for parameters {list(self.names)}, "
                f"got {arr.shape}"
            )
        check_finite("mus", arr)
        return arr

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description."""
        return {"ranges": self.box.to_dict(), "log": sorted(self.log)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParameterSpace:
        """Inverse of :meth:`to_dict`."""
        return cls({k: tuple(v) for k, v in data["ranges"].items()}, log=data.get("log", ()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParameterSpace) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.box, self.log))

    def __repr__(self) -> str:
        parts = [
            f"{n}=({lo:g}, {hi:g}){' log' if n in self.log else ''}"
            for n, (lo, hi) in self.box.items()
        ]
        return f"ParameterSpace({', '.join(parts)})"


def _count(argument: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{argument}: expected a positive integer, got {n!r}")
    return int(n)
