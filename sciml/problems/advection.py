r"""Fast linear advection on the unit square (space–time), the GP-HM transport case.

Equation
--------

.. math::

    u_t + c\, u_x = 0, \qquad (x, t) \in [0, 1]^2, \qquad c = 200,

with the exact solution :math:`u(x, t) = \sin(x - c t)`, the initial condition
:math:`u(x, 0) = \sin x` and the inflow condition :math:`u(0, t) = \sin(-c t)` (the wave
enters at ``x = 0`` since ``c > 0``). The axes are ordered ``(x, t)``. This is a
:class:`~sciml.core.problem.PDEProblem` for physics-based solvers (GP, PIG); the 1-D advection
*data generator* lives in :mod:`sciml.reference.advection`.
"""

from __future__ import annotations

from typing import Any

import torch

from sciml.core.conditions import Dirichlet, Initial
from sciml.core.grid import Box
from sciml.core.problem import PDEProblem
from sciml.core.residual import Coordinates
from sciml.core.validation import check_positive

__all__ = ["advection_problem"]


def advection_problem(speed: float = 200.0) -> PDEProblem:
    """``u_t + speed * u_x = 0`` on ``Box(x=(0, 1), t=(0, 1))``, ``u = sin(x - speed t)``.

    Parameters
    ----------
    speed : float
        Transport speed ``c > 0``.
    """
    check_positive("speed", speed)
    c = float(speed)

    def exact(x: Coordinates) -> Any:
        return torch.sin(x.x - c * x.t)

    def residual(u: Any, x: Coordinates) -> Any:
        return u.d("t") + c * u.d("x")

    return PDEProblem(
        Box(x=(0.0, 1.0), t=(0.0, 1.0)),
        residual,
        conditions=[Initial(exact), Dirichlet(exact, on=("x-",))],
        exact=exact,
        time_axis="t",
        name=f"advection_{c:g}",
        params={"speed": c, "solution": f"sin(x - {c:g} t)"},
    )
