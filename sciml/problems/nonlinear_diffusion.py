r"""Nonlinear (porous-medium) diffusion in (2+1) dimensions.

.. math::

    u_t = \alpha \bigl(|\nabla u|^2 + u \Delta u\bigr) = \tfrac{\alpha}{2} \Delta (u^2)
    \quad \text{on } [-1, 1]^2 \times [0, 1], \qquad \alpha = 0.05,

    u(x, y, 0) = 0.25 e^{-((x - 0.3)^2 + (y - 0.2)^2) / 0.1}
    + 0.4 e^{-15 ((x + 0.5)^2 + (y + 0.1)^2)} + 0.3 e^{-20 (x^2 + (y + 0.5)^2)},

with ``u = 0`` on the four sides (the setting of SPINN, Cho et al. 2023, and PIG, Kang et
al. 2025). There is no closed form: the reference comes from
:func:`sciml.reference.finite_difference.solve_nonlinear_diffusion` on a
``(n_ref x n_ref)`` grid with snapshots every ``0.01``, interpolated linearly; with the
defaults (``n_ref = 201``) the points of the default 51^3 evaluation grid are reference nodes,
so the comparison there involves no interpolation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.interpolate import RegularGridInterpolator

from sciml.core.conditions import Dirichlet, Initial
from sciml.core.grid import Box
from sciml.core.problem import PDEProblem
from sciml.core.registry import PROBLEMS
from sciml.core.residual import Coordinates
from sciml.core.validation import describe
from sciml.reference.finite_difference import solve_nonlinear_diffusion

__all__ = ["diffusion_initial", "nonlinear_diffusion_3d"]


def diffusion_initial(x: Any, y: Any) -> Any:
    """The initial bumps ``u(x, y, 0)`` (numpy arrays or torch tensors)."""
    exp = torch.exp if isinstance(x, torch.Tensor) else np.exp
    return (
        0.25 * exp(-((x - 0.3) ** 2 + (y - 0.2) ** 2) / 0.1)
        + 0.4 * exp(-15 * ((x + 0.5) ** 2 + (y + 0.1) ** 2))
        + 0.3 * exp(-20 * (x**2 + (y + 0.5) ** 2))
    )


_CACHE: dict[tuple[float, int, int], RegularGridInterpolator] = {}


def _reference(alpha: float, n_ref: int, n_save: int) -> RegularGridInterpolator:
    key = (alpha, n_ref, n_save)
    if key not in _CACHE:
        axis = np.linspace(-1.0, 1.0, n_ref)
        xm, ym = np.meshgrid(axis, axis, indexing="ij")
        snaps = solve_nonlinear_diffusion(diffusion_initial(xm, ym), alpha, 1.0, n_save)
        times = np.linspace(0.0, 1.0, n_save)
        _CACHE[key] = RegularGridInterpolator((axis, axis, times), snaps.transpose(1, 2, 0))
    return _CACHE[key]


@PROBLEMS.register("nonlinear_diffusion_3d")
def nonlinear_diffusion_3d(alpha: float = 0.05, n_ref: int = 201, n_save: int = 101) -> PDEProblem:
    """The (2+1)-D nonlinear diffusion problem with a finite-difference reference.

    Parameters
    ----------
    alpha : float
        Diffusivity (positive).
    n_ref : int
        Reference grid points per space axis (computed lazily on first use, then cached).
    n_save : int
        Reference snapshots in time.

    Returns
    -------
    PDEProblem
        On ``Box(x=(-1, 1), y=(-1, 1), t=(0, 1))``; ``exact`` interpolates the reference.
    """
    if not isinstance(alpha, (int, float)) or not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha: expected a positive number, got {describe(alpha)}")
    for name, value in (("n_ref", n_ref), ("n_save", n_save)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 3:
            raise ValueError(f"{name}: expected an integer >= 3, got {describe(value)}")
    alpha = float(alpha)

    def residual(u: Any, x: Coordinates) -> Any:
        v = u.value
        grad2 = u.d("x") ** 2 + u.d("y") ** 2
        return u.d("t") - alpha * (grad2 + v * (u.d("xx") + u.d("yy")))

    def exact(x: Coordinates) -> Any:
        pts = torch.stack([torch.as_tensor(x.x), torch.as_tensor(x.y), torch.as_tensor(x.t)], -1)
        values = _reference(alpha, n_ref, n_save)(pts.detach().cpu().numpy())
        return torch.as_tensor(values, dtype=pts.dtype, device=pts.device)

    return PDEProblem(
        Box(x=(-1.0, 1.0), y=(-1.0, 1.0), t=(0.0, 1.0)),
        residual,
        conditions=[Dirichlet(0.0), Initial(lambda c: diffusion_initial(c.x, c.y))],
        exact=exact,
        name="nonlinear_diffusion_3d",
        params={"alpha": alpha},
    )
