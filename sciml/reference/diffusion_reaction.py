r"""1-D diffusion–reaction (Fisher–KPP) on a periodic interval, pseudo-spectral with ETDRK4.

.. math::

    u_t = \nu u_{xx} + \rho\, u (1 - u), \qquad x \in [0, L) \text{ periodic}, \quad t > 0,

the 1-D reaction–diffusion benchmark of PDEBench (``ReacDiff``, :math:`L = 1`,
:math:`t \in [0, 1]`, :math:`\nu \in \{0.5, 1, 2, 5\}`, :math:`\rho \in \{1, 2, 5, 10\}`).
Diffusion is integrated exactly by the exponential integrator; the logistic reaction, a
quadratic, is evaluated on the grid with the 2/3 dealiasing rule. The reaction is not stiff
for moderate :math:`\rho` (its Jacobian is bounded by :math:`\rho` on :math:`[0, 1]`), so a
step :math:`h \le 0.5 / \rho` suffices; it is the same for every sample.

Known solutions used by the tests: with :math:`\rho = 0` it is the heat equation, each
Fourier mode decaying as :math:`e^{-\nu k^2 t}`; a constant state follows the logistic law
:math:`u(t) = u_0 e^{\rho t} / (1 - u_0 + u_0 e^{\rho t})`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from sciml.core.device import resolve_device
from sciml.core.validation import check_positive, describe
from sciml.reference.time_stepping import (
    dealias_mask,
    initial_batch,
    integrate_etdrk4,
    rfft_wavenumbers,
    substeps,
)

__all__ = ["logistic_solution", "solve_diffusion_reaction"]


def solve_diffusion_reaction(
    u0: np.ndarray | torch.Tensor,
    times: Sequence[float] | np.ndarray,
    nu: float,
    rho: float,
    *,
    length: float = 1.0,
    dt_max: float | None = None,
    device: str | torch.device = "auto",
    callback: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Solve :math:`u_t = \\nu u_{xx} + \\rho u(1-u)` for a batch of initial conditions.

    Parameters
    ----------
    u0 : array or tensor, ``(batch, n)``
        Initial values on the periodic grid ``x_i = i * length / n``.
    times : sequence of float, ``(T,)``
        Equispaced output times; ``times[0]`` is the time of ``u0``.
    nu : float
        Diffusivity, positive.
    rho : float
        Reaction rate, non-negative.
    length : float
        Period ``L``.
    dt_max : float, optional
        Upper bound on the step; default ``min(0.5 / rho, 0.01)``.
    device : str or torch.device
    callback : callable, optional
        ``callback(index, samples)`` as the batch reaches output ``index``.

    Returns
    -------
    torch.Tensor, float64, ``(batch, T, n)`` on ``device``.
    """
    check_positive("nu", nu)
    check_positive("rho", rho, allow_zero=True)
    check_positive("length", length)
    dev = resolve_device(device)
    u = initial_batch(u0, dev, min_points=4)
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size < 2 or not times[1] > times[0]:
        raise ValueError(f"times: expected at least 2 increasing times, got {describe(times)}")
    if dt_max is None:
        dt_max = min(0.5 / rho, 0.01) if rho > 0 else 0.01
    check_positive("dt_max", dt_max)
    n = u.shape[1]
    k = rfft_wavenumbers(n, length, device=dev)
    mask = dealias_mask(n, device=dev)
    linear = (-nu * k**2).to(torch.complex128)

    def reaction(v: torch.Tensor, t: float) -> torch.Tensor:
        w = torch.fft.irfft(v * mask, n=n)
        return rho * mask * torch.fft.rfft(w - w * w)

    steps, _ = substeps(float(times[1] - times[0]), dt_max)
    batch = u.shape[0]
    traj = integrate_etdrk4(
        torch.fft.rfft(u), linear, reaction, times, steps,
        callback=None if callback is None else lambda j: callback(j, batch),
    )
    return torch.fft.irfft(traj, n=n)


def logistic_solution(u0: float | np.ndarray, t: float | np.ndarray, rho: float) -> np.ndarray:
    """Exact spatially constant solution ``u0 e^{rho t} / (1 - u0 + u0 e^{rho t})``."""
    growth = np.exp(rho * np.asarray(t, dtype=np.float64))
    u0 = np.asarray(u0, dtype=np.float64)
    return u0 * growth / (1.0 - u0 + u0 * growth)
