r"""Flow mixing in (2+1) dimensions: a scalar advected by a rotating vortex.

.. math::

    u_t + a(x, y)\, u_x + b(x, y)\, u_y = 0 \quad \text{on } [-4, 4]^2 \times [0, 4],

    a = -\frac{v_t}{v_{\max}} \frac{y}{r}, \quad b = \frac{v_t}{v_{\max}} \frac{x}{r}, \quad
    v_t = \operatorname{sech}^2(r) \tanh(r), \quad r = \sqrt{x^2 + y^2}, \quad v_{\max} = 0.385,

with the exact solution, a rotation of the initial profile by the angle ``omega(r) t``,

.. math::

    u = -\tanh\Bigl(\frac{y}{2}\cos(\omega t) - \frac{x}{2}\sin(\omega t)\Bigr), \qquad
    \omega = \frac{v_t}{r\, v_{\max}},

so ``u(x, y, 0) = -tanh(y / 2)``; Dirichlet data come from the exact solution (the setting of
SPINN, Cho et al. 2023, and PIG, Kang et al. 2025). ``tanh(r) / r`` is evaluated with its
limit 1 at the origin.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from sciml.core.conditions import Dirichlet, Initial
from sciml.core.grid import Box
from sciml.core.problem import PDEProblem
from sciml.core.registry import PROBLEMS
from sciml.core.residual import Coordinates
from sciml.core.validation import describe

__all__ = ["flow_mixing_3d", "vortex_angular_speed"]


def vortex_angular_speed(x: Any, y: Any, v_max: float = 0.385) -> Any:
    """``omega(r) = sech^2(r) tanh(r) / (r v_max)``, with its limit ``1 / v_max`` at ``r = 0``."""
    r = torch.sqrt(x * x + y * y)
    safe = torch.where(r > 1e-6, r, torch.ones_like(r))
    tanh_over_r = torch.where(r > 1e-6, torch.tanh(safe) / safe, 1 - r * r / 3)
    return tanh_over_r / torch.cosh(r) ** 2 / v_max


@PROBLEMS.register("flow_mixing_3d")
def flow_mixing_3d(v_max: float = 0.385) -> PDEProblem:
    """The (2+1)-D flow-mixing problem ``u_t + a u_x + b u_y = 0``.

    Parameters
    ----------
    v_max : float
        Normalising maximum tangential speed (positive).

    Returns
    -------
    PDEProblem
        On ``Box(x=(-4, 4), y=(-4, 4), t=(0, 4))`` with the exact solution.
    """
    if not isinstance(v_max, (int, float)) or not (math.isfinite(v_max) and v_max > 0):
        raise ValueError(f"v_max: expected a positive number, got {describe(v_max)}")
    v_max = float(v_max)

    def exact(x: Coordinates) -> Any:
        omega = vortex_angular_speed(x.x, x.y, v_max)
        return -torch.tanh(x.y / 2 * torch.cos(omega * x.t) - x.x / 2 * torch.sin(omega * x.t))

    def residual(u: Any, x: Coordinates) -> Any:
        # a = -omega y, b = omega x: rigid rotation with a radius-dependent angular speed.
        omega = vortex_angular_speed(x.x, x.y, v_max)
        return u.d("t") - omega * x.y * u.d("x") + omega * x.x * u.d("y")

    return PDEProblem(
        Box(x=(-4.0, 4.0), y=(-4.0, 4.0), t=(0.0, 4.0)),
        residual,
        conditions=[Dirichlet(exact), Initial(lambda c: -torch.tanh(c.y / 2))],
        exact=exact,
        name="flow_mixing_3d",
        params={"v_max": v_max},
    )
