r"""2-D Helmholtz equation with a manufactured solution (the PINN / PIG benchmark).

.. math::

    \Delta u + k^2 u = f \quad \text{on } [-1, 1]^2, \qquad u = 0 \text{ on the boundary},

    u(x, y) = \sin(a_1 \pi y) \sin(a_2 \pi x), \qquad
    f = \bigl(k^2 - (a_1^2 + a_2^2) \pi^2\bigr) u,

with :math:`k = 1`, :math:`a_1 = 4`, :math:`a_2 = 1` by default (Wang, Teng & Perdikaris
2021; Kang et al. 2025). The residual is ``u_xx + u_yy + k^2 u - f``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from sciml.core.conditions import Dirichlet
from sciml.core.grid import Box
from sciml.core.problem import PDEProblem
from sciml.core.registry import PROBLEMS
from sciml.core.residual import Coordinates
from sciml.core.validation import describe

__all__ = ["helmholtz_2d"]


@PROBLEMS.register("helmholtz_2d")
def helmholtz_2d(a1: float = 4.0, a2: float = 1.0, k: float = 1.0) -> PDEProblem:
    """The 2-D Helmholtz problem ``Laplacian(u) + k^2 u = f`` on ``[-1, 1]^2``.

    Parameters
    ----------
    a1, a2 : float
        Frequencies of the exact solution ``sin(a1 pi y) sin(a2 pi x)``. Integers keep the
        boundary data zero (``Dirichlet(0.0)``); otherwise the exact solution is imposed.
    k : float
        Wave number.

    Returns
    -------
    PDEProblem
        On ``Box(x=(-1, 1), y=(-1, 1))`` with an exact solution.
    """
    for name, value in (("a1", a1), ("a2", a2), ("k", k)):
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name}: expected a finite number, got {describe(value)}")
    a1, a2, k = float(a1), float(a2), float(k)
    lam = k * k - (a1 * a1 + a2 * a2) * math.pi**2

    def exact(x: Coordinates) -> Any:
        return torch.sin(a1 * math.pi * x.y) * torch.sin(a2 * math.pi * x.x)

    def residual(u: Any, x: Coordinates) -> Any:
        return u.d("xx") + u.d("yy") + k * k * u.value - lam * exact(x)

    zero_boundary = a1.is_integer() and a2.is_integer()
    return PDEProblem(
        Box(x=(-1.0, 1.0), y=(-1.0, 1.0)),
        residual,
        conditions=[Dirichlet(0.0 if zero_boundary else exact)],
        exact=exact,
        name="helmholtz_2d",
        params={"a1": a1, "a2": a2, "k": k},
    )
