r"""2-D incompressible Navier–Stokes in vorticity form on a periodic box, pseudo-spectral.

.. math::

    \omega_t + \mathbf u \cdot \nabla \omega = \nu \Delta \omega - \alpha\, \omega + f,
    \qquad \mathbf u = (\partial_y \psi, -\partial_x \psi), \qquad -\Delta \psi = \omega,

on :math:`[0, L)^2` with periodic boundaries; :math:`\alpha \ge 0` is a linear drag.

Two benchmark set-ups are provided:

* :func:`fno_forcing` — the Navier–Stokes benchmark of the FNO paper (Li et al., 2021): unit
  torus, :math:`f = 0.1(\sin 2\pi(x + y) + \cos 2\pi(x + y))`, no drag, viscosity
  :math:`10^{-3}, 10^{-4}` or :math:`10^{-5}`, initial vorticity from the Gaussian random field
  :math:`\mathcal N(0, \sigma^2(-\Delta + 49 I)^{-2.5})` with :math:`\sigma = 7^{3/2}` (the
  value the FNO data code uses; the paper writes the covariance with the prefactor
  :math:`7^{3/2}`).
* :func:`kolmogorov_forcing` — Kolmogorov flow on :math:`[0, 2\pi)^2`: body force
  :math:`(\sin(k_f y), 0)` in the momentum equation, i.e. :math:`f = -k_f \cos(k_f y)` for the
  vorticity, with :math:`k_f = 4` and drag :math:`\alpha = 0.1` (as in Kochkov et al., 2021).

Discretisation: Fourier collocation on an ``n x n`` grid (``x`` along axis 0, ``y`` along
axis 1), the advection term :math:`\mathbf u \cdot \nabla \omega` evaluated on the grid with
the 2/3 dealiasing rule (inputs and product truncated to :math:`|m_j| < n/3`). In time,
Crank–Nicolson on the linear terms :math:`(\nu\Delta - \alpha)\omega` and Heun's
predictor–corrector on advection and forcing:

.. math::

    \hat\omega^* &= \frac{(1 + \tfrac h2 \Lambda)\hat\omega^n + h N(\hat\omega^n)}
                        {1 - \tfrac h2 \Lambda}, \qquad
    \hat\omega^{n+1} = \frac{(1 + \tfrac h2 \Lambda)\hat\omega^n
                        + \tfrac h2 (N(\hat\omega^n) + N(\hat\omega^*))}
                        {1 - \tfrac h2 \Lambda},

second-order accurate, with :math:`\Lambda = -\nu|k|^2 - \alpha`. The step of each sample is
chosen by the CFL condition :math:`h\,\max(|u| + |v|) / \Delta x \le c` at every step (and
shortened to land on the output times), so a sample's trajectory does not depend on the
other samples in its batch. Without drag, the mean vorticity (mode :math:`k = 0`) is
conserved: the advection term has zero mean for a divergence-free velocity and the forcing has
zero mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from sciml.core.device import resolve_device
from sciml.core.validation import check_positive, describe
from sciml.reference.time_stepping import dealias_mask, rfft_wavenumbers

__all__ = [
    "fno_forcing",
    "kolmogorov_forcing",
    "solve_vorticity",
    "velocity_from_vorticity",
]


def fno_forcing(n: int, length: float = 1.0) -> np.ndarray:
    """``0.1 (sin 2 pi (x + y) + cos 2 pi (x + y))`` on the ``n x n`` periodic grid, ``(n, n)``."""
    x = np.arange(n) * length / n
    s = 2.0 * math.pi * (x[:, None] + x[None, :])
    return 0.1 * (np.sin(s) + np.cos(s))


def kolmogorov_forcing(n: int, wavenumber: int = 4, amplitude: float = 1.0,
                       length: float = 2.0 * math.pi) -> np.ndarray:
    """Vorticity forcing ``-A k cos(k y)`` of the body force ``(A sin(k y), 0)``, ``(n, n)``.

    ``y`` is axis 1 and ``k = 2 pi wavenumber / length`` (``= wavenumber`` on ``[0, 2 pi)``).
    """
    k = 2.0 * math.pi * wavenumber / length
    y = np.arange(n) * length / n
    return np.broadcast_to(-amplitude * k * np.cos(k * y)[None, :], (n, n)).copy()


@dataclass(frozen=True)
class _Operators:
    """Wavenumbers and masks of an ``n x n`` rfft2 grid, on one device."""

    n: int
    kx: torch.Tensor  # (n, 1)
    ky: torch.Tensor  # (1, n // 2 + 1)
    k2: torch.Tensor
    inv_k2: torch.Tensor  # 0 at k = 0: the stream function has zero mean
    mask: torch.Tensor

    @classmethod
    def build(cls, n: int, length: float, device: torch.device) -> _Operators:
        m = torch.fft.fftfreq(n, d=1.0 / n, dtype=torch.float64, device=device)
        if n % 2 == 0:
            m[n // 2] = 0.0  # Nyquist: no real derivative; removed by the mask anyway
        kx = (2.0 * math.pi / length * m).reshape(n, 1)
        ky = rfft_wavenumbers(n, length, device=device).reshape(1, -1)
        k2 = kx**2 + ky**2
        inv_k2 = torch.where(k2 > 0, 1.0 / torch.where(k2 > 0, k2, 1.0), 0.0)
        mfull = torch.fft.fftfreq(n, d=1.0 / n, dtype=torch.float64, device=device).abs()
        mask = (3.0 * mfull < n).to(torch.float64).reshape(n, 1) * dealias_mask(
            n, device=device
        ).reshape(1, -1)
        return cls(n, kx, ky, k2, inv_k2, mask)


def velocity_from_vorticity(
    omega: np.ndarray | torch.Tensor, length: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Velocity ``(u, v) = (psi_y, -psi_x)`` with ``-Laplacian psi = omega``, ``(..., n, n)``."""
    w = torch.as_tensor(omega, dtype=torch.float64)
    n = w.shape[-1]
    ops = _Operators.build(n, length, w.device)
    psi = torch.fft.rfft2(w) * ops.inv_k2
    u = torch.fft.irfft2(1j * ops.ky * psi, s=(n, n))
    v = torch.fft.irfft2(-1j * ops.kx * psi, s=(n, n))
    return u, v


def _advection(w_hat: torch.Tensor, ops: _Operators) -> tuple[torch.Tensor, torch.Tensor]:
    """``-FFT(u . grad omega)`` dealiased, and the per-sample max of ``|u| + |v|``."""
    n = ops.n
    w_hat = w_hat * ops.mask
    psi = w_hat * ops.inv_k2
    # one batched inverse FFT for the four fields the product needs
    stacked = torch.stack(
        (1j * ops.ky * psi, -1j * ops.kx * psi, 1j * ops.kx * w_hat, 1j * ops.ky * w_hat),
        dim=1,
    )
    u, v, wx, wy = torch.fft.irfft2(stacked, s=(n, n)).unbind(dim=1)
    speed = (u.abs() + v.abs()).amax(dim=(-2, -1))
    return -ops.mask * torch.fft.rfft2(u * wx + v * wy), speed


def solve_vorticity(
    omega0: np.ndarray | torch.Tensor,
    times: Sequence[float] | np.ndarray,
    nu: float,
    *,
    forcing: np.ndarray | torch.Tensor | None = None,
    drag: float = 0.0,
    length: float = 1.0,
    cfl: float = 0.25,
    dt_max: float = 0.01,
    device: str | torch.device = "auto",
    callback: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Integrate the vorticity equation for a batch of initial vorticities.

    Parameters
    ----------
    omega0 : array or tensor, ``(batch, n, n)``
        Initial vorticity on the periodic grid ``(x_i, y_j) = (i, j) * length / n``.
    times : sequence of float, ``(T,)``
        Increasing output times; ``times[0]`` is the time of ``omega0``.
    nu : float
        Viscosity, positive.
    forcing : array ``(n, n)``, optional
        Time-independent vorticity forcing ``f`` on the grid (default none).
    drag : float
        Linear drag coefficient ``alpha >= 0``.
    length : float
        Side ``L`` of the periodic box.
    cfl : float
        Courant number: ``h * max(|u| + |v|) / dx <= cfl``.
    dt_max : float
        Largest step.
    device : str or torch.device
    callback : callable, optional
        ``callback(index, samples)`` when the whole batch reaches output ``index``.

    Returns
    -------
    torch.Tensor, float64, ``(batch, T, n, n)`` on ``device``.
    """
    check_positive("nu", nu)
    check_positive("drag", drag, allow_zero=True)
    check_positive("length", length)
    check_positive("cfl", cfl)
    check_positive("dt_max", dt_max)
    dev = resolve_device(device)
    w = torch.as_tensor(np.asarray(omega0) if not isinstance(omega0, torch.Tensor) else omega0)
    w = w.to(device=dev, dtype=torch.float64)
    if w.ndim != 3 or w.shape[1] != w.shape[2] or w.shape[1] < 4:
        raise ValueError(f"omega0: expected shape (batch, n, n) with n >= 4, got {tuple(w.shape)}")
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size < 1 or np.any(np.diff(times) <= 0):
        raise ValueError(f"times: expected increasing times, got {describe(times)}")
    n = w.shape[1]
    ops = _Operators.build(n, float(length), dev)
    f_hat = torch.zeros_like(ops.k2, dtype=torch.complex128)
    if forcing is not None:
        f = torch.as_tensor(np.asarray(forcing) if not isinstance(forcing, torch.Tensor)
                            else forcing).to(device=dev, dtype=torch.float64)
        if tuple(f.shape) != (n, n):
            raise ValueError(f"forcing: expected shape ({n}, {n}), got {tuple(f.shape)}")
        f_hat = torch.fft.rfft2(f) * ops.mask
    lam = -nu * ops.k2 - drag
    dx = float(length) / n

    def rhs(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        adv, speed = _advection(v, ops)
        return adv + f_hat, speed

    w_hat = torch.fft.rfft2(w)
    batch = w.shape[0]
    t = torch.full((batch,), float(times[0]), dtype=torch.float64, device=dev)
    out = torch.empty((batch, times.size, n, n), dtype=torch.float64, device=dev)
    out[:, 0] = w
    for j in range(1, times.size):
        t_next = float(times[j])
        # a sample is done when it is within rounding of the output time
        tol = 1e-12 * max(1.0, abs(t_next))
        while True:
            # step only the samples still short of the output time: with per-sample steps
            # the others would otherwise be recomputed with h = 0
            pending = t < t_next - tol
            count = int(pending.sum())
            if count == 0:
                break
            idx = None if count == batch else torch.nonzero(pending).squeeze(1)
            w_sub = w_hat if idx is None else w_hat[idx]
            t_sub = t if idx is None else t[idx]
            n0, speed = rhs(w_sub)
            remaining = t_next - t_sub
            h = (cfl * dx / speed.clamp_min(1e-300)).clamp_max(dt_max)
            last = h >= remaining
            h = torch.where(last, remaining, h)
            hb = h.reshape(-1, 1, 1)
            explicit = (1.0 + 0.5 * hb * lam) * w_sub
            implicit = 1.0 / (1.0 - 0.5 * hb * lam)
            predictor = implicit * (explicit + hb * n0)
            n1, _ = rhs(predictor)
            w_sub = implicit * (explicit + 0.5 * hb * (n0 + n1))
            t_sub = torch.where(last, torch.full_like(t_sub, t_next), t_sub + h)
            if idx is None:
                w_hat, t = w_sub, t_sub
            else:
                w_hat[idx] = w_sub
                t[idx] = t_sub
        out[:, j] = torch.fft.irfft2(w_hat, s=(n, n))
        if callback is not None:
            callback(j, batch)
    return out
