r"""Time stepping for the spectral reference solvers: ETDRK4, output schedules, CFL steps.

The 1-D generators write semi-linear PDEs :math:`\hat u_t = L \hat u + N(\hat u, t)` in
Fourier space with a diagonal linear part :math:`L` (diffusion) and integrate them with the
fourth-order exponential time-differencing Runge–Kutta scheme of Cox & Matthews (2002),
whose :math:`\varphi` functions are evaluated by the contour integrals of Kassam & Trefethen
(2005): for each :math:`z = hL`,

.. math::

    \varphi_j(z) \approx \frac{1}{M} \sum_{m=1}^{M} \varphi_j(z + r e^{i\theta_m}),

the mean over :math:`M` points of a circle of radius :math:`r` around :math:`z`, on which the
closed forms :math:`\varphi_1(w) = (e^w - 1)/w`, :math:`\varphi_2(w) = (e^w - 1 - w)/w^2`,
:math:`\varphi_3(w) = (e^w - 1 - w - w^2/2)/w^3` suffer no cancellation. (The mean is
Cauchy's integral formula by the trapezoidal rule, exponentially accurate in :math:`M`.)

Everything is batched torch code in float64/complex128, so it runs on a GPU when asked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sciml.core.validation import check_positive, describe

__all__ = [
    "ETDRK4",
    "cfl_time_step",
    "dealias_mask",
    "integrate_etdrk4",
    "output_times",
    "phi_functions",
    "rfft_wavenumbers",
    "substeps",
]


def phi_functions(
    z: torch.Tensor, n_points: int = 64, radius: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r""":math:`\varphi_1, \varphi_2, \varphi_3` of ``z`` by contour integrals.

    Parameters
    ----------
    z : torch.Tensor, real or complex, any shape
    n_points : int
        Points on each circle (``M``); 32 already gives double precision for ``|z| <= 100``
        with ``radius=1``.
    radius : float
        Radius of the circles.

    Returns
    -------
    tuple of three tensors, shaped like ``z``; real when ``z`` is real, else complex.
    """
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 4:
        raise ValueError(f"n_points: expected an integer >= 4, got {describe(n_points)}")
    check_positive("radius", radius)
    real = not torch.is_complex(z)
    zc = z.to(torch.complex128)
    theta = torch.arange(1, n_points + 1, dtype=torch.float64, device=z.device)
    circle = radius * torch.exp(1j * math.pi * (theta - 0.5) / n_points * 2.0)
    w = zc.unsqueeze(-1) + circle.to(zc.device)
    ew = torch.exp(w)
    phi1 = ((ew - 1.0) / w).mean(-1)
    phi2 = ((ew - 1.0 - w) / w**2).mean(-1)
    phi3 = ((ew - 1.0 - w - w**2 / 2.0) / w**3).mean(-1)
    if real:
        return phi1.real, phi2.real, phi3.real
    return phi1, phi2, phi3


@dataclass(frozen=True)
class ETDRK4:
    r"""ETDRK4 coefficients for :math:`\hat u_t = L \hat u + N(\hat u, t)`, diagonal ``L``.

    Build with :meth:`from_linear`; :meth:`step` advances a batch by one step ``h``. The
    scheme (Cox & Matthews 2002, in the notation of Kassam & Trefethen 2005) is

    .. math::

        a &= E_2 u + Q N(u, t),\quad b = E_2 u + Q N(a, t + h/2),\quad
        c = E_2 a + Q (2 N(b, t + h/2) - N(u, t)), \\
        u_{+} &= E u + f_1 N(u, t) + 2 f_2 (N(a) + N(b)) + f_3 N(c, t + h),

    with :math:`E = e^{hL}`, :math:`E_2 = e^{hL/2}`, :math:`Q = \tfrac h2 \varphi_1(hL/2)`,
    :math:`f_1 = h(\varphi_1 - 3\varphi_2 + 4\varphi_3)`, :math:`f_2 = h(\varphi_2 -
    2\varphi_3)`, :math:`f_3 = h(4\varphi_3 - \varphi_2)` at :math:`hL`. It is fourth-order
    accurate, and exact for the linear part.
    """

    h: float
    E: torch.Tensor
    E2: torch.Tensor
    Q: torch.Tensor
    f1: torch.Tensor
    f2: torch.Tensor
    f3: torch.Tensor

    @classmethod
    def from_linear(cls, linear: torch.Tensor, h: float, n_points: int = 64) -> ETDRK4:
        """Coefficients for the diagonal linear operator ``linear`` (any shape) and step ``h``.

        ``linear`` is real (diffusion, damping) or complex (dispersion, advection).
        """
        check_positive("h", h)
        z = h * linear
        p1h, _, _ = phi_functions(z / 2.0, n_points)
        p1, p2, p3 = phi_functions(z, n_points)
        return cls(
            h=float(h),
            E=torch.exp(z),
            E2=torch.exp(z / 2.0),
            Q=h / 2.0 * p1h,
            f1=h * (p1 - 3.0 * p2 + 4.0 * p3),
            f2=h * (p2 - 2.0 * p3),
            f3=h * (4.0 * p3 - p2),
        )

    def step(
        self,
        u: torch.Tensor,
        nonlinear: Callable[[torch.Tensor, float], torch.Tensor],
        t: float = 0.0,
    ) -> torch.Tensor:
        """One step from time ``t``; ``nonlinear(u_hat, t)`` returns ``N`` shaped like ``u``."""
        h = self.h
        nu = nonlinear(u, t)
        a = self.E2 * u + self.Q * nu
        na = nonlinear(a, t + h / 2.0)
        b = self.E2 * u + self.Q * na
        nb = nonlinear(b, t + h / 2.0)
        c = self.E2 * a + self.Q * (2.0 * nb - nu)
        nc = nonlinear(c, t + h)
        return self.E * u + self.f1 * nu + 2.0 * self.f2 * (na + nb) + self.f3 * nc


def initial_batch(u0: Any, device: torch.device, min_points: int = 0) -> torch.Tensor:
    """``u0`` as a float64 ``(batch, n)`` tensor on ``device``, with ``n >= min_points``.

    The input conversion shared by the periodic 1-D solvers (advection, Burgers,
    diffusion-reaction); ``u0`` may be any array-like or a tensor on any device.
    """
    u = torch.as_tensor(np.asarray(u0) if not isinstance(u0, torch.Tensor) else u0)
    u = u.to(device=device, dtype=torch.float64)
    if u.ndim != 2 or u.shape[1] < min_points:
        need = f" with n >= {min_points}" if min_points else ""
        raise ValueError(f"u0: expected shape (batch, n){need}, got {tuple(u.shape)}")
    return u


def output_times(t_end: float, n_times: int, t_start: float = 0.0) -> np.ndarray:
    """``n_times`` equispaced output times from ``t_start`` to ``t_end``, both included.

    Returns
    -------
    numpy.ndarray, float64, shape ``(n_times,)``
    """
    if isinstance(n_times, bool) or not isinstance(n_times, (int, np.integer)) or n_times < 2:
        raise ValueError(f"n_times: expected an integer >= 2, got {describe(n_times)}")
    if not (math.isfinite(t_end) and t_end > t_start):
        raise ValueError(f"t_end: expected a finite time after {t_start}, got {t_end!r}")
    return np.linspace(float(t_start), float(t_end), int(n_times))


def substeps(interval: float, dt_max: float) -> tuple[int, float]:
    """Equal steps no longer than ``dt_max`` covering ``interval`` exactly: ``(count, h)``."""
    check_positive("interval", interval)
    check_positive("dt_max", dt_max)
    count = max(1, math.ceil(interval / dt_max * (1.0 - 1e-12)))
    return count, interval / count


def cfl_time_step(
    speed: torch.Tensor | float, dx: float, cfl: float, dt_max: float = math.inf
) -> torch.Tensor | float:
    """The step ``min(cfl * dx / speed, dt_max)`` (``dt_max`` where the speed is zero).

    ``speed`` may be a tensor of per-sample maximum speeds; the result then has its shape.
    """
    check_positive("dx", dx)
    check_positive("cfl", cfl)
    if not dt_max > 0:
        raise ValueError(f"dt_max: expected a positive number (or inf), got {dt_max!r}")
    if isinstance(speed, torch.Tensor):
        dt = cfl * dx / speed.clamp_min(1e-300)
        return dt.clamp_max(dt_max)
    return dt_max if speed <= 0 else min(cfl * dx / float(speed), dt_max)


def rfft_wavenumbers(
    n: int, length: float = 1.0, *, device: torch.device | str | None = None
) -> torch.Tensor:
    """Angular wavenumbers ``2 pi m / length`` of ``torch.fft.rfft`` on ``n`` points, float64.

    The Nyquist mode of an even ``n`` gets wavenumber zero in derivatives (its derivative is
    not a real field), which ``dealias_mask`` removes anyway.
    """
    m = torch.arange(n // 2 + 1, dtype=torch.float64, device=device)
    if n % 2 == 0:
        m[-1] = 0.0
    return 2.0 * math.pi / float(length) * m


def dealias_mask(n: int, *, device: torch.device | str | None = None) -> torch.Tensor:
    """The 2/3 rule on ``rfft`` modes: 1 where ``|m| < n / 3``, else 0 (float64, ``(n//2+1,)``).

    A quadratic product of fields holding only ``|m| < n/3`` has modes ``|m| < 2n/3``, which
    alias onto ``|m| > n/3`` at worst, so truncating inputs and product keeps it exact.
    """
    m = torch.arange(n // 2 + 1, dtype=torch.float64, device=device)
    return (3.0 * m < n).to(torch.float64)


def integrate_etdrk4(
    u_hat: torch.Tensor,
    linear: torch.Tensor,
    nonlinear: Callable[[torch.Tensor, float], torch.Tensor],
    times: np.ndarray,
    steps: int,
    *,
    n_points: int = 64,
    callback: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """March ``u_hat`` through ``times`` with ``steps`` equal ETDRK4 steps per interval.

    Parameters
    ----------
    u_hat : torch.Tensor, complex, ``(batch, *modes)``
        State at ``times[0]``.
    linear : torch.Tensor, ``(*modes)``
        Diagonal linear operator.
    nonlinear : callable ``(u_hat, t) -> N``
    times : numpy.ndarray ``(T,)``
        Equispaced output times.
    steps : int
        Steps per output interval.
    callback : callable, optional
        Called with the index of each output time once it is reached.

    Returns
    -------
    torch.Tensor, complex, ``(batch, T, *modes)``
    """
    times = np.asarray(times, dtype=np.float64)
    intervals = np.diff(times)
    if times.ndim != 1 or times.size < 2 or not np.allclose(intervals, intervals[0]):
        raise ValueError(f"times: expected equispaced increasing times, got {times!r}")
    h = float(intervals[0]) / int(steps)
    scheme = ETDRK4.from_linear(linear, h, n_points)
    out = [u_hat]
    t = float(times[0])
    for j in range(1, times.size):
        for s in range(steps):
            u_hat = scheme.step(u_hat, nonlinear, t + s * h)
        t = float(times[j])
        out.append(u_hat)
        if callback is not None:
            callback(j)
    return torch.stack(out, dim=1)
