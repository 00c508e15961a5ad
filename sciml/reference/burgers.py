r"""1-D viscous Burgers equation on a periodic interval, pseudo-spectral with ETDRK4.

.. math::

    u_t + u u_x = \nu u_{xx}, \qquad x \in [0, L) \text{ periodic}, \quad t > 0.

In Fourier space :math:`\hat u_t = -\nu k^2 \hat u - \tfrac{ik}{2}\widehat{u^2}`: the
diffusion is integrated exactly by the exponential integrator (ETDRK4 with contour-integral
:math:`\varphi` functions, :mod:`sciml.reference.time_stepping`), the flux
:math:`u^2/2` is evaluated on the grid with the 2/3 dealiasing rule. The step is set by the CFL
condition of the explicit flux, :math:`h \le c\,\Delta x / \max|u_0|`; by the maximum principle
:math:`\max|u(t)| \le \max|u_0|`, so the step chosen at :math:`t = 0` stays stable. Every
sample gets its own step (samples with the same step count are marched together), so a
sample's trajectory does not depend on the other samples of its batch.

:func:`cole_hopf_solution` gives exact solutions for the convergence tests.
"""

from __future__ import annotations

import math
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

__all__ = ["cole_hopf_solution", "solve_burgers"]


def solve_burgers(
    u0: np.ndarray | torch.Tensor,
    times: Sequence[float] | np.ndarray,
    nu: float,
    *,
    length: float = 1.0,
    cfl: float = 0.5,
    dt_max: float | None = None,
    device: str | torch.device = "auto",
    callback: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Solve Burgers' equation for a batch of initial conditions.

    Parameters
    ----------
    u0 : array or tensor, ``(batch, n)``
        Initial values on the periodic grid ``x_i = i * length / n``.
    times : sequence of float, ``(T,)``
        Equispaced output times; ``times[0]`` is the time of ``u0``.
    nu : float
        Viscosity, positive.
    length : float
        Period ``L``.
    cfl : float
        Courant number of the explicit flux, ``h <= cfl * dx / max|u0|``.
    dt_max : float, optional
        Upper bound on the step (default: one output interval).
    device : str or torch.device
        ``"auto"`` picks CUDA when available.
    callback : callable, optional
        ``callback(index, samples)`` as ``samples`` samples reach output ``index`` (for
        progress bars); samples sharing a step size are marched, and reported, together.

    Returns
    -------
    torch.Tensor, float64, ``(batch, T, n)`` on ``device``.
    """
    check_positive("nu", nu)
    check_positive("length", length)
    check_positive("cfl", cfl)
    dev = resolve_device(device)
    u = initial_batch(u0, dev, min_points=4)
    times = np.asarray(times, dtype=np.float64)
    n = u.shape[1]
    interval = float(times[1] - times[0]) if times.size > 1 else 0.0
    if times.ndim != 1 or times.size < 2 or interval <= 0:
        raise ValueError(f"times: expected at least 2 increasing times, got {describe(times)}")
    if dt_max is None:
        dt_max = interval
    check_positive("dt_max", dt_max)

    k = rfft_wavenumbers(n, length, device=dev)
    mask = dealias_mask(n, device=dev)
    linear = (-nu * k**2).to(torch.complex128)

    def flux(v: torch.Tensor, t: float) -> torch.Tensor:
        w = torch.fft.irfft(v * mask, n=n)
        return -0.5j * k * mask * torch.fft.rfft(w * w)

    dx = float(length) / n
    speed = u.abs().amax(dim=1).cpu().numpy()
    counts = np.array([
        substeps(interval, min(dt_max, cfl * dx / s if s > 0 else math.inf))[0] for s in speed
    ])
    out = torch.empty((u.shape[0], times.size, n), dtype=torch.float64, device=dev)
    for count in np.unique(counts):
        idx = torch.as_tensor(np.flatnonzero(counts == count), device=dev)
        size = int(idx.numel())
        traj = integrate_etdrk4(
            torch.fft.rfft(u[idx]), linear, flux, times, int(count),
            callback=None if callback is None else lambda j, size=size: callback(j, size),
        )
        out[idx] = torch.fft.irfft(traj, n=n)
    return out


def cole_hopf_solution(
    x: np.ndarray,
    t: float | np.ndarray,
    nu: float,
    amplitudes: Sequence[float],
    offset: float,
    length: float = 1.0,
) -> np.ndarray:
    r"""Exact periodic solution of Burgers' equation by the Cole–Hopf transform.

    With :math:`\phi(x, t) = a + \sum_m b_m e^{-\nu (2\pi m / L)^2 t} \cos(2\pi m x / L)`, a
    positive solution of the heat equation :math:`\phi_t = \nu \phi_{xx}` (it requires
    :math:`a > \sum_m |b_m|`), the field :math:`u = -2\nu \phi_x / \phi` solves
    :math:`u_t + u u_x = \nu u_{xx}` and is periodic.

    Parameters
    ----------
    x : numpy.ndarray
        Points.
    t : float or numpy.ndarray
        Time(s), broadcast against ``x``.
    nu : float
    amplitudes : sequence of float
        :math:`b_1, b_2, \dots`.
    offset : float
        :math:`a`, larger than ``sum(abs(amplitudes))``.
    length : float
        Period ``L``.
    """
    b = np.asarray(amplitudes, dtype=np.float64)
    if not offset > np.abs(b).sum():
        raise ValueError(
            f"offset: must exceed sum(|amplitudes|) = {np.abs(b).sum()} to keep phi positive, "
            f"got {offset!r}"
        )
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    phi = np.full(np.broadcast(x, t).shape, float(offset))
    dphi = np.zeros_like(phi)
    for m, bm in enumerate(b, start=1):
        km = 2.0 * math.pi * m / length
        decay = bm * np.exp(-nu * km**2 * t)
        phi = phi + decay * np.cos(km * x)
        dphi = dphi - decay * km * np.sin(km * x)
    return -2.0 * nu * dphi / phi
