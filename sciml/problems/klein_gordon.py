r"""Klein–Gordon equation in (2+1) dimensions with a manufactured solution.

.. math::

    u_{tt} - \Delta u + u^2 = f \quad \text{on } [-1, 1]^2 \times [0, 10],

    u(x, y, t) = (x + y) \cos(k t) + x y \sin(k t), \qquad k = 2,

with initial data ``u(x, y, 0) = x + y``, ``u_t(x, y, 0) = k x y`` and Dirichlet data from the
exact solution on the four sides (the setting of SPINN, Cho et al. 2023, and PIG, Kang et al.
2025). Because ``x + y`` and ``x y`` are harmonic, ``f = -k^2 u + u^2``; the source is written
from the closed form of ``u_tt`` and ``Laplacian(u)`` all the same.
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

__all__ = ["klein_gordon_3d"]


@PROBLEMS.register("klein_gordon_3d")
def klein_gordon_3d(k: float = 2.0, t_end: float = 10.0) -> PDEProblem:
    """The (2+1)-D Klein–Gordon problem ``u_tt - Laplacian(u) + u^2 = f``.

    Parameters
    ----------
    k : float
        Time frequency of the exact solution.
    t_end : float
        Final time (positive).

    Returns
    -------
    PDEProblem
        On ``Box(x=(-1, 1), y=(-1, 1), t=(0, t_end))``.
    """
    if not isinstance(k, (int, float)) or not math.isfinite(k):
        raise ValueError(f"k: expected a finite number, got {describe(k)}")
    if not isinstance(t_end, (int, float)) or not t_end > 0:
        raise ValueError(f"t_end: expected a positive number, got {describe(t_end)}")
    k = float(k)

    def exact(x: Coordinates) -> Any:
        return (x.x + x.y) * torch.cos(k * x.t) + x.x * x.y * torch.sin(k * x.t)

    def source(x: Coordinates) -> Any:
        u = exact(x)
        u_tt = -k * k * u
        laplacian = 0.0 * u  # x + y and x y are harmonic
        return u_tt - laplacian + u * u

    def residual(u: Any, x: Coordinates) -> Any:
        return u.d("tt") - u.d("xx") - u.d("yy") + u.value**2 - source(x)

    return PDEProblem(
        Box(x=(-1.0, 1.0), y=(-1.0, 1.0), t=(0.0, float(t_end))),
        residual,
        conditions=[
            Dirichlet(exact),
            Initial(lambda c: c.x + c.y),
            Initial(lambda c: k * c.x * c.y, derivative=1),
        ],
        exact=exact,
        name="klein_gordon_3d",
        params={"k": k, "t_end": float(t_end)},
    )
