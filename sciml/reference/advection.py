r"""1-D linear advection on a periodic interval, solved exactly by a spectral shift.

.. math::

    u_t + \beta u_x = 0, \qquad x \in [0, L) \text{ periodic}, \qquad
    u(x, t) = u_0(x - \beta t).

On the grid the initial values are interpolated by their trigonometric polynomial and
shifted: :math:`\hat u_m(t) = \hat u_m(0)\, e^{-2\pi i m \beta t / L}`. This is exact for
band-limited initial data (any shift :math:`\beta t`, not only whole grid cells) and
spectrally accurate otherwise; there is no time stepping, so no CFL limit. On an even grid
the Nyquist mode is interpolated by :math:`\cos(\pi n x / L)` (the real interpolant), so its
coefficient is multiplied by the real part of the phase; whole-cell shifts stay exact rolls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from sciml.core.device import resolve_device
from sciml.core.validation import check_positive, describe
from sciml.reference.time_stepping import initial_batch

__all__ = ["solve_advection"]


def solve_advection(
    u0: np.ndarray | torch.Tensor,
    times: Sequence[float] | np.ndarray,
    beta: float | Sequence[float] | np.ndarray,
    *,
    length: float = 1.0,
    device: str | torch.device = "auto",
) -> torch.Tensor:
    """Exact solution ``u0(x - beta t)`` of periodic advection at ``times``.

    Parameters
    ----------
    u0 : array or tensor, ``(batch, n)``
        Initial values on the periodic grid ``x_i = i * length / n``.
    times : sequence of float, ``(T,)``
        Output times (any, not necessarily equispaced); ``t = 0`` is ``u0``.
    beta : float or array ``(batch,)``
        Velocity, one for all samples or one per sample.
    length : float
        Period ``L``.
    device : str or torch.device

    Returns
    -------
    torch.Tensor, float64, ``(batch, T, n)`` on ``device``.
    """
    check_positive("length", length)
    dev = resolve_device(device)
    u = initial_batch(u0, dev)
    t = torch.as_tensor(np.asarray(times, dtype=np.float64), device=dev)
    if t.ndim != 1 or not torch.isfinite(t).all():
        raise ValueError(f"times: expected a 1-D array of finite times, got {describe(times)}")
    b = torch.as_tensor(np.asarray(beta, dtype=np.float64), device=dev).reshape(-1)
    if b.numel() not in (1, u.shape[0]) or not torch.isfinite(b).all():
        raise ValueError(
            f"beta: expected a finite float or one per sample ({u.shape[0]}), got "
            f"{describe(beta)}"
        )
    n = u.shape[1]
    m = torch.arange(n // 2 + 1, dtype=torch.float64, device=dev)
    shift = b.reshape(-1, 1, 1) * t.reshape(1, -1, 1)  # (batch or 1, T, 1)
    phase = torch.exp(-2j * math.pi / length * m * shift)
    if n % 2 == 0:
        # the Nyquist mode is a cosine sampled at the grid; shifting it keeps only its
        # cosine part, the real part of the phase
        phase[..., -1] = phase[..., -1].real.clone()
    return torch.fft.irfft(torch.fft.rfft(u).unsqueeze(1) * phase, n=n)
