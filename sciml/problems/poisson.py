r"""Poisson problems with high-frequency and multi-scale manufactured solutions (GP-HM table).

Equation
--------

.. math::

    \Delta u = f \quad \text{in } \Omega, \qquad u = u^\ast \text{ on } \partial\Omega,

with :math:`f = \Delta u^\ast` in closed form. The residual is ``Laplacian(u) - f``. The cases
(five 1-D, two 2-D) are those of the Allen–Cahn stationary family: the table of their exact
solutions and domains is in :mod:`sciml.problems.allen_cahn`, which owns them.

:data:`CASES` lists every case as ``"1d/<name>"`` or ``"2d/<name>"``; :func:`poisson` builds
one from that name.
"""

from __future__ import annotations

from typing import Any

from sciml.core.problem import PDEProblem
from sciml.core.registry import PROBLEMS
from sciml.core.residual import Coordinates
from sciml.problems.allen_cahn import (
    CASES_1D,
    CASES_2D,
    Manufactured,
    manufactured_1d,
    manufactured_2d,
    manufactured_problem,
)

__all__ = ["CASES", "CASES_1D", "CASES_2D", "poisson", "poisson_1d", "poisson_2d"]

#: Every Poisson case, as ``"1d/<case>"`` and ``"2d/<case>"``.
CASES: tuple[str, ...] = tuple(f"1d/{c}" for c in CASES_1D) + tuple(f"2d/{c}" for c in CASES_2D)


def _poisson(m: Manufactured, dim: str) -> PDEProblem:
    axes = m.domain.names

    def residual(u: Any, x: Coordinates) -> Any:
        return sum(u.d(a + a) for a in axes) - m.laplacian(x)

    return manufactured_problem(m, residual, "poisson", dim)


@PROBLEMS.register("poisson_1d")
def poisson_1d(case: str) -> PDEProblem:
    """1-D Poisson ``u_xx = f`` with Dirichlet data from the exact solution.

    Parameters
    ----------
    case : str
        One of :data:`CASES_1D`: ``"sin100"``, ``"xsin200"``, ``"sin6cos100"``,
        ``"multiscale"``, ``"sin500"``.
    """
    return _poisson(manufactured_1d(case), "1d")


@PROBLEMS.register("poisson_2d")
def poisson_2d(case: str) -> PDEProblem:
    """2-D Poisson ``u_xx + u_yy = f`` on ``[0, 2 pi]^2`` with Dirichlet data.

    Parameters
    ----------
    case : str
        One of :data:`CASES_2D`: ``"sin100"``, ``"sin6cos20"``.
    """
    return _poisson(manufactured_2d(case), "2d")


def poisson(name: str) -> PDEProblem:
    """A case from :data:`CASES` by its full name, e.g. ``"1d/sin100"`` or ``"2d/sin6cos20"``."""
    if name not in CASES:
        raise ValueError(f"name: got {name!r}; allowed Poisson cases are {list(CASES)}")
    dim, case = name.split("/")
    return poisson_1d(case) if dim == "1d" else poisson_2d(case)
