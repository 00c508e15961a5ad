"""Per-sample error metrics for batch-first fields, including those of PDEBench and The Well.

Every metric takes ``pred`` and ``target`` of shape ``(batch, *rest)`` (usually
``(batch, channels, *space)``) and returns one value per sample, shape ``(batch,)``, so the
caller chooses how to reduce. Low-precision inputs (float16, bfloat16) are promoted to
float32 first: norms of a bf16 field lose too many digits to be worth reporting.

Relative metrics divide by the norm of the target. Where that norm is exactly zero the ratio
is undefined; the metric then returns the absolute error norm instead (the denominator is
replaced by 1), which keeps the value finite and zero only for an exact prediction.

Benchmark metrics (:func:`rmse`, :func:`nrmse`, :func:`crmse`, :func:`brmse`,
:func:`fourier_rmse`, :func:`max_error`, :func:`vrmse`) follow the papers' code: each is
computed per *slice* -- one channel at one time step, over the spatial axes only -- and then
averaged over the slices of a sample. Inputs are ``(batch, channels, *space)``, or
``(batch, time, channels, *space)`` with ``time_axis=True``. :func:`pdebench_metrics` reduces
over the batch exactly as PDEBench's ``metric_func`` does, to reproduce its tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from sciml.core.validation import describe

__all__ = [
    "FOURIER_BANDS",
    "METRICS",
    "brmse",
    "central_gradient",
    "crmse",
    "fourier_rmse",
    "frmse_high",
    "frmse_low",
    "frmse_mid",
    "h1_sq_norm",
    "max_abs_error",
    "max_error",
    "mse",
    "nrmse",
    "pdebench_metrics",
    "relative_h1",
    "relative_l2",
    "rmse",
    "vrmse",
]


def _check_pair(pred: torch.Tensor, target: torch.Tensor, min_ndim: int = 1) -> None:
    for name, value in (("pred", pred), ("target", target)):
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{name}: expected a torch.Tensor, got {describe(value)}")
        if value.ndim < min_ndim:
            raise ValueError(
                f"{name}: expected at least {min_ndim} dimension(s) (batch first), "
                f"got shape {tuple(value.shape)}"
            )
    if pred.shape != target.shape:
        raise ValueError(
            f"pred: shape {tuple(pred.shape)} does not match target shape "
            f"{tuple(target.shape)}; both must be (batch, *rest) with the same sizes"
        )


def _promote(x: torch.Tensor) -> torch.Tensor:
    if x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x


def _safe_ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    # A zero target norm falls back to the absolute error (see module docstring).
    return num / torch.where(den > 0, den, torch.ones_like(den))


def _sq_norm(x: torch.Tensor) -> torch.Tensor:
    return x.abs().square().reshape(x.shape[0], -1).sum(dim=1)


def relative_l2(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Relative L2 error per sample, ``||pred - target||_2 / ||target||_2``.

    Parameters
    ----------
    pred, target : torch.Tensor
        Shape ``(batch, *rest)``; the norm runs over all non-batch dimensions.

    Returns
    -------
    torch.Tensor
        Shape ``(batch,)``. Where ``||target||_2 == 0`` the absolute error norm is returned.
    """
    _check_pair(pred, target)
    pred, target = _promote(pred), _promote(target)
    num = _sq_norm(pred - target).sqrt()
    den = _sq_norm(target).sqrt()
    return _safe_ratio(num, den)


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per sample over all non-batch dimensions, shape ``(batch,)``."""
    _check_pair(pred, target)
    pred, target = _promote(pred), _promote(target)
    return (pred - target).abs().square().reshape(pred.shape[0], -1).mean(dim=1)


def max_abs_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Largest absolute pointwise error per sample, shape ``(batch,)``."""
    _check_pair(pred, target)
    pred, target = _promote(pred), _promote(target)
    return (pred - target).abs().reshape(pred.shape[0], -1).amax(dim=1)


def _per_axis(argument: str, value, ndim: int, kind: type) -> list:
    if isinstance(value, (bool, int, float)) and not (kind is float and isinstance(value, bool)):
        return [kind(value)] * ndim
    if isinstance(value, Sequence) and len(value) == ndim:
        return [kind(v) for v in value]
    raise ValueError(
        f"{argument}: expected one {kind.__name__} or a sequence of {ndim} (one per spatial "
        f"axis), got {describe(value)}"
    )


def central_gradient(
    u: torch.Tensor,
    spacing: float | Sequence[float] | None = None,
    periodic: bool | Sequence[bool] = False,
) -> list[torch.Tensor]:
    """Second-order finite-difference derivatives along every spatial axis.

    Central differences inside; at the ends of a non-periodic axis the one-sided
    second-order stencils ``(-3u_0 + 4u_1 - u_2) / 2h`` and its mirror are used, so the
    whole derivative is second-order accurate.

    Parameters
    ----------
    u : torch.Tensor
        Shape ``(batch, channels, *space)`` with 1 to 3 spatial axes.
    spacing : float or sequence of float, optional
        Grid step per spatial axis. Default ``1 / n`` for an axis of ``n`` points (the unit
        interval; exact for a periodic grid without its end point).
    periodic : bool or sequence of bool
        Whether each spatial axis wraps around.

    Returns
    -------
    list of torch.Tensor
        One tensor per spatial axis, each of the shape of ``u``.
    """
    if not isinstance(u, torch.Tensor) or not 3 <= u.ndim <= 5:
        raise ValueError(
            f"u: expected a tensor of shape (batch, channels, *space) with 1 to 3 spatial "
            f"axes, got {describe(u)}"
        )
    space = u.shape[2:]
    nd = len(space)
    periodic_axes = _per_axis("periodic", periodic, nd, bool)
    if spacing is None:
        steps = [1.0 / n for n in space]
    else:
        steps = _per_axis("spacing", spacing, nd, float)
        if not all(h > 0 for h in steps):
            raise ValueError(f"spacing: every step must be positive, got {steps}")
    grads = []
    for axis, (n, h, wrap) in enumerate(zip(space, steps, periodic_axes)):
        dim = axis + 2
        if wrap:
            if n < 2:
                raise ValueError(f"u: periodic axis {axis} needs at least 2 points, got {n}")
            d = (torch.roll(u, -1, dims=dim) - torch.roll(u, 1, dims=dim)) / (2 * h)
        else:
            if n < 3:
                raise ValueError(
                    f"u: non-periodic axis {axis} needs at least 3 points for the one-sided "
                    f"second-order stencil, got {n}"
                )

            first = (
                -3 * u.narrow(dim, 0, 1) + 4 * u.narrow(dim, 1, 1) - u.narrow(dim, 2, 1)
            ) / (2 * h)
            inner = (u.narrow(dim, 2, n - 2) - u.narrow(dim, 0, n - 2)) / (2 * h)
            last = (
                3 * u.narrow(dim, n - 1, 1) - 4 * u.narrow(dim, n - 2, 1) + u.narrow(dim, n - 3, 1)
            ) / (2 * h)
            d = torch.cat([first, inner, last], dim=dim)
        grads.append(d)
    return grads


def h1_sq_norm(
    u: torch.Tensor,
    spacing: float | Sequence[float] | None = None,
    periodic: bool | Sequence[bool] = False,
) -> torch.Tensor:
    """Discrete ``sum |u|^2 + sum_d |du/dx_d|^2`` per sample, shape ``(batch,)``.

    No quadrature weight is applied; see :func:`central_gradient` for the arguments.
    """
    total = _sq_norm(u)
    for g in central_gradient(u, spacing, periodic):
        total = total + _sq_norm(g)
    return total


def relative_h1(
    pred: torch.Tensor,
    target: torch.Tensor,
    spacing: float | Sequence[float] | None = None,
    periodic: bool | Sequence[bool] = False,
) -> torch.Tensor:
    """Relative H1 error per sample, ``||pred - target||_H1 / ||target||_H1``.

    The H1 norm squared is ``||u||_2^2 + sum_d ||du/dx_d||_2^2`` with derivatives from
    :func:`central_gradient`; the uniform quadrature weight cancels in the ratio.

    Parameters
    ----------
    pred, target : torch.Tensor
        Shape ``(batch, channels, *space)`` with 1 to 3 spatial axes.
    spacing, periodic
        See :func:`central_gradient`.

    Returns
    -------
    torch.Tensor
        Shape ``(batch,)``. Where the target's H1 norm is zero the absolute norm is returned.
    """
    _check_pair(pred, target, min_ndim=3)
    pred, target = _promote(pred), _promote(target)
    num = h1_sq_norm(pred - target, spacing, periodic).sqrt()
    den = h1_sq_norm(target, spacing, periodic).sqrt()
    return _safe_ratio(num, den)


# -- benchmark metrics: PDEBench and The Well ---------------------------------------------
#: Names of the Fourier bands of :func:`fourier_rmse`.
FOURIER_BANDS = ("low", "mid", "high")
#: PDEBench's band limits (``iLow``, ``iHigh`` in its ``metric_func``): shells ``k < 4`` are
#: low, ``4 <= k < 12`` middle and ``k >= 12`` high.
K_LOW = 4
K_HIGH = 12
#: The Well adds this to the variance in VRMSE (its ``eps`` default).
WELL_EPS = 1e-7


def _slices(
    pred: torch.Tensor, target: torch.Tensor, time_axis: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Views ``(batch, slices, *space)`` with one slice per channel (and time step)."""
    if not isinstance(time_axis, bool):
        raise ValueError(f"time_axis: expected True or False, got {describe(time_axis)}")
    lead = 3 if time_axis else 2
    layout = "(batch, time, channels, *space)" if time_axis else "(batch, channels, *space)"
    for name, value in (("pred", pred), ("target", target)):
        if isinstance(value, torch.Tensor) and value.ndim < lead + 1:
            raise ValueError(
                f"{name}: expected {layout} with at least one spatial axis, got shape "
                f"{tuple(value.shape)}" + ("" if time_axis else "; pass time_axis=True for "
                                           "(batch, time, channels, *space)")
            )
    _check_pair(pred, target, min_ndim=lead + 1)
    pred, target = _promote(pred), _promote(target)
    b, space = pred.shape[0], pred.shape[lead:]
    return pred.reshape(b, -1, *space), target.reshape(b, -1, *space)


def _space_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over the spatial axes of ``(batch, slices, *space)``, shape ``(batch, slices)``."""
    return x.reshape(x.shape[0], x.shape[1], -1).mean(dim=-1)


def _rmse_slices(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return _space_mean((p - t).abs().square()).sqrt()


def _nrmse_slices(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return _safe_ratio(_rmse_slices(p, t), _space_mean(t.abs().square()).sqrt())


def _conserved_slices(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    # Signed: PDEBench squares it before averaging over the batch.
    return _space_mean(p) - _space_mean(t)


def _max_slices(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return (p - t).abs().reshape(p.shape[0], p.shape[1], -1).amax(dim=-1)


def _boundary_slices(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    e2 = (p - t).abs().square()
    space = e2.shape[2:]
    total = torch.zeros(e2.shape[:2], dtype=e2.dtype, device=e2.device)
    count = 0
    for axis, n in enumerate(space):
        dim = axis + 2
        # Both faces of every axis, so edge and corner points count once per face they lie
        # on -- PDEBench's denominators 2, 2(nx + ny) and 2(nx ny + ny nz + nz nx) do the same.
        face = e2.select(dim, 0) + e2.select(dim, n - 1)
        total = total + face.reshape(*e2.shape[:2], -1).sum(dim=-1)
        count += 2 * math.prod(space) // n
    return (total / count).sqrt()


def _per_axis_lengths(lengths: float | Sequence[float], ndim: int) -> list[float]:
    values = _per_axis("lengths", lengths, ndim, float)
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"lengths: every domain length must be positive and finite, got {values}")
    return values


def _shell_index(space: Sequence[int], all_modes: bool) -> tuple[torch.Tensor, int, tuple]:
    """Shell number of each retained FFT mode, the number of shells and the mode slice.

    PDEBench keeps, in 1-D, the ``nx // 2 + 1`` modes of the real FFT; in 2-D and 3-D, the
    modes ``0 <= k_d < n_d // 2`` of the non-negative quadrant (octant) with shell
    ``floor(|k|) < min(n_d // 2)``. ``all_modes`` keeps every signed mode instead.
    """
    if len(space) == 1 and not all_modes:
        n_shells = space[0] // 2 + 1
        return torch.arange(n_shells), n_shells, (slice(0, n_shells),)
    if all_modes:
        freqs = [np.fft.fftfreq(n, d=1.0 / n) for n in space]
        window = tuple(slice(None) for _ in space)
        n_shells = space[0] // 2 + 1 if len(space) == 1 else min(n // 2 for n in space)
    else:
        freqs = [np.arange(n // 2, dtype=np.float64) for n in space]
        window = tuple(slice(0, n // 2) for n in space)
        n_shells = min(n // 2 for n in space)
    mesh = np.meshgrid(*freqs, indexing="ij")
    radius = np.sqrt(sum(k * k for k in mesh))
    # sqrt of a sum of integer squares is exact for perfect squares, so floor is safe here
    shell = np.floor(radius).astype(np.int64)
    shell[shell >= n_shells] = -1
    return torch.from_numpy(shell.reshape(-1)), n_shells, window


def _fourier_shells_sq(
    p: torch.Tensor, t: torch.Tensor, lengths: float | Sequence[float], all_modes: bool
) -> torch.Tensor:
    """Squared, scaled Fourier error per shell, ``(batch, slices, shells)``.

    Entry ``k`` is ``(prod L_d / prod N_d)^2 sum_{modes in shell k} |FFT(pred - target)|^2``.
    """
    e = p - t
    space = tuple(e.shape[2:])
    if len(space) > 3:
        raise ValueError(
            f"pred: Fourier errors are defined for 1 to 3 spatial axes, got {len(space)} "
            f"(shape {tuple(p.shape)})"
        )
    scale = math.prod(_per_axis_lengths(lengths, len(space))) / math.prod(space)
    dims = tuple(range(2, e.ndim))
    if len(space) == 1 and not all_modes:
        power = torch.fft.rfft(e, dim=-1).abs().square()
        return power * scale**2
    power = torch.fft.fftn(e, dim=dims).abs().square()
    shell, n_shells, window = _shell_index(space, all_modes)
    power = power[(slice(None), slice(None), *window)].reshape(*e.shape[:2], -1)
    keep = shell >= 0
    shell = shell[keep].to(power.device)
    out = torch.zeros(*e.shape[:2], n_shells, dtype=power.dtype, device=power.device)
    out.index_add_(2, shell, power[..., keep.to(power.device)])
    return out * scale**2


def _band_range(band: str, n_shells: int, k_low: int, k_high: int) -> tuple[int, int]:
    if band not in FOURIER_BANDS:
        raise ValueError(f"band: got {band!r}; allowed are {list(FOURIER_BANDS)}")
    for name, value in (("k_low", k_low), ("k_high", k_high)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a positive int, got {describe(value)}")
    if k_high <= k_low:
        raise ValueError(f"k_high: must exceed k_low={k_low}, got {k_high}")
    lo, hi = {"low": (0, k_low), "mid": (k_low, k_high), "high": (k_high, n_shells)}[band]
    hi = min(hi, n_shells)
    if lo >= hi:
        raise ValueError(
            f"band: the {band!r} band holds shells [{lo}, {hi}) but the grid only resolves "
            f"{n_shells} shells (k = 0..{n_shells - 1}); use a finer grid or smaller "
            f"k_low/k_high (now {k_low}, {k_high})"
        )
    return lo, hi


def rmse(pred: torch.Tensor, target: torch.Tensor, *, time_axis: bool = False) -> torch.Tensor:
    """Root-mean-square error (PDEBench's RMSE), per sample.

    ``RMSE = mean_s sqrt( mean_x |pred_s(x) - target_s(x)|^2 )`` where ``s`` runs over the
    slices of a sample (channels, and time steps with ``time_axis``) and ``x`` over the
    ``N`` grid points of a slice.

    Parameters
    ----------
    pred, target : torch.Tensor
        Shape ``(batch, channels, *space)``, or ``(batch, time, channels, *space)`` with
        ``time_axis=True``; at least one spatial axis.
    time_axis : bool
        Whether axis 1 is time.

    Returns
    -------
    torch.Tensor
        Shape ``(batch,)``. PDEBench reports the mean over the batch.
    """
    p, t = _slices(pred, target, time_axis)
    return _rmse_slices(p, t).mean(dim=1)


def nrmse(pred: torch.Tensor, target: torch.Tensor, *, time_axis: bool = False) -> torch.Tensor:
    """Normalised RMSE (PDEBench's nRMSE), per sample.

    ``nRMSE = mean_s sqrt(mean_x |pred_s - target_s|^2) / sqrt(mean_x |target_s|^2)``,
    i.e. the relative L2 error of each slice, averaged over slices. A slice whose target is
    identically zero contributes its RMSE (see the module docstring). Arguments and shapes as
    in :func:`rmse`.
    """
    p, t = _slices(pred, target, time_axis)
    return _nrmse_slices(p, t).mean(dim=1)


def crmse(pred: torch.Tensor, target: torch.Tensor, *, time_axis: bool = False) -> torch.Tensor:
    """Error of the conserved quantity (PDEBench's cRMSE, "CSV"), per sample.

    ``cRMSE = mean_s | mean_x pred_s(x) - mean_x target_s(x) |``: the error of each slice's
    spatial mean (its integral over the domain divided by the volume). Over a batch,
    PDEBench takes the root mean square, ``mean_s sqrt(mean_b (...)^2)``, not the mean of
    this value: use :func:`pdebench_metrics` for its table entry. Arguments as in
    :func:`rmse`; returns shape ``(batch,)``.
    """
    p, t = _slices(pred, target, time_axis)
    return _conserved_slices(p, t).abs().mean(dim=1)


def brmse(pred: torch.Tensor, target: torch.Tensor, *, time_axis: bool = False) -> torch.Tensor:
    """RMSE on the domain boundary (PDEBench's bRMSE), per sample.

    ``bRMSE = mean_s sqrt( sum_d sum_{x on the faces x_d = first, x_d = last} e_s(x)^2
    / sum_d 2 prod_{d' != d} N_d' )`` with ``e = pred - target``: the boundary points of the
    array (the first and last index of every spatial axis); edge and corner points are
    counted once per face they lie on, as in PDEBench. 1-D: ``sqrt((e_0^2 + e_{N-1}^2) / 2)``.
    Arguments as in :func:`rmse`; returns shape ``(batch,)``.
    """
    p, t = _slices(pred, target, time_axis)
    return _boundary_slices(p, t).mean(dim=1)


def max_error(pred: torch.Tensor, target: torch.Tensor, *, time_axis: bool = False) -> torch.Tensor:
    """Maximum error as PDEBench reports it, per sample.

    ``max = mean_s max_x |pred_s(x) - target_s(x)|``: the largest pointwise error of each
    slice, averaged over slices (PDEBench takes the maximum over the batch before that mean;
    see :func:`pdebench_metrics`). With one channel and no time axis this equals
    :func:`max_abs_error`, which takes the maximum over everything. Arguments as in
    :func:`rmse`; returns shape ``(batch,)``.
    """
    p, t = _slices(pred, target, time_axis)
    return _max_slices(p, t).mean(dim=1)


def fourier_rmse(
    pred: torch.Tensor,
    target: torch.Tensor,
    band: str = "low",
    *,
    lengths: float | Sequence[float] = 1.0,
    k_low: int = K_LOW,
    k_high: int = K_HIGH,
    all_modes: bool = False,
    time_axis: bool = False,
) -> torch.Tensor:
    """RMSE in a band of Fourier wavenumbers (PDEBench's fRMSE), per sample.

    With ``E = FFT(pred - target)`` over the ``N = prod N_d`` spatial points (unnormalised,
    as ``torch.fft``) the error in shell ``k`` is

    ``F_k = (prod_d L_d / N) sqrt( sum_{modes m with floor(|m|) = k} |E_m|^2 )``

    and ``fRMSE_band = mean_s mean_{k in band} F_k``. The bands are half-open shell ranges:
    low ``[0, k_low)``, mid ``[k_low, k_high)``, high ``[k_high, K)``, with PDEBench's limits
    ``k_low = 4``, ``k_high = 12``. The retained modes follow PDEBench: in 1-D the
    ``K = N//2 + 1`` modes of the real FFT (one mode per shell); in 2-D and 3-D only the
    modes ``0 <= m_d < N_d // 2`` (the non-negative quadrant or octant) in shells
    ``k < K = min_d N_d // 2``. ``all_modes=True`` uses every signed mode instead (a true
    radial shell; not comparable with PDEBench's numbers).

    Parameters
    ----------
    pred, target : torch.Tensor
        Shape ``(batch, channels, *space)`` (or with a time axis, see :func:`rmse`), 1 to 3
        spatial axes, periodic samples (no repeated end point).
    band : {"low", "mid", "high"}
    lengths : float or sequence of float
        Domain length ``L_d`` per spatial axis (PDEBench's ``Lx, Ly, Lz``; default 1).
    k_low, k_high : int
        Band limits.
    all_modes : bool
        Use all Fourier modes rather than PDEBench's quadrant.
    time_axis : bool
        Whether axis 1 is time.

    Returns
    -------
    torch.Tensor
        Shape ``(batch,)``. Over a batch PDEBench averages ``|E_m|^2`` before the square
        root; :func:`pdebench_metrics` does that.

    Raises
    ------
    ValueError
        For an unknown band, or one that holds no shell on this grid (e.g. ``"high"`` with
        fewer than 24 points per axis).
    """
    if not isinstance(all_modes, bool):
        raise ValueError(f"all_modes: expected True or False, got {describe(all_modes)}")
    p, t = _slices(pred, target, time_axis)
    shells = _fourier_shells_sq(p, t, lengths, all_modes)
    lo, hi = _band_range(band, shells.shape[-1], k_low, k_high)
    return shells[..., lo:hi].sqrt().mean(dim=-1).mean(dim=1)


def frmse_low(pred: torch.Tensor, target: torch.Tensor, **options: Any) -> torch.Tensor:
    """:func:`fourier_rmse` in the low band, shells ``k < 4``; shape ``(batch,)``."""
    return fourier_rmse(pred, target, "low", **options)


def frmse_mid(pred: torch.Tensor, target: torch.Tensor, **options: Any) -> torch.Tensor:
    """:func:`fourier_rmse` in the middle band, shells ``4 <= k < 12``; shape ``(batch,)``."""
    return fourier_rmse(pred, target, "mid", **options)


def frmse_high(pred: torch.Tensor, target: torch.Tensor, **options: Any) -> torch.Tensor:
    """:func:`fourier_rmse` in the high band, shells ``k >= 12``; shape ``(batch,)``."""
    return fourier_rmse(pred, target, "high", **options)


def vrmse(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    eps: float = WELL_EPS,
    correction: int = 1,
    time_axis: bool = False,
) -> torch.Tensor:
    """Variance-scaled RMSE (The Well's VRMSE), per sample.

    ``VRMSE = mean_s sqrt( mean_x |pred_s - target_s|^2 / (var_x(target_s) + eps) )`` with
    ``var_x(u) = sum_x |u - mean_x u|^2 / (N - correction)``. The Well's code takes
    ``torch.std`` (``correction=1``, Bessel's correction) and ``eps = 1e-7``; the paper
    writes the population variance (``correction=0``). A value of 1 is what predicting the
    target's spatial mean scores; lower is better.

    Parameters
    ----------
    pred, target : torch.Tensor
        As in :func:`rmse`.
    eps : float
        Added to the variance; keeps constant targets finite.
    correction : int
        0 (population variance) or 1 (sample variance, The Well's code).
    time_axis : bool
        Whether axis 1 is time.

    Returns
    -------
    torch.Tensor
        Shape ``(batch,)``; The Well reports the mean over samples (and time steps).
    """
    if correction not in (0, 1) or isinstance(correction, bool):
        raise ValueError(f"correction: expected 0 or 1, got {describe(correction)}")
    if not (isinstance(eps, (int, float)) and not isinstance(eps, bool) and eps >= 0):
        raise ValueError(f"eps: expected a number >= 0, got {describe(eps)}")
    p, t = _slices(pred, target, time_axis)
    n = math.prod(t.shape[2:])
    if n <= correction:
        raise ValueError(
            f"target: the variance with correction={correction} needs more than {correction} "
            f"spatial point(s) per slice, got {n}"
        )
    flat = t.reshape(*t.shape[:2], -1)
    var = (flat - flat.mean(dim=-1, keepdim=True)).abs().square().sum(dim=-1) / (n - correction)
    mse_s = _space_mean((p - t).abs().square())
    return (mse_s / (var + eps)).sqrt().mean(dim=1)


def pdebench_metrics(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    lengths: float | Sequence[float] = 1.0,
    k_low: int = K_LOW,
    k_high: int = K_HIGH,
    time_axis: bool = False,
) -> dict[str, float]:
    """PDEBench's metric table for one batch, reduced over the batch as PDEBench does.

    Per slice ``s`` (channel and time step), with ``b`` over the batch:

    - ``rmse``, ``nrmse``, ``brmse``: ``mean_b`` of the per-sample slice value;
    - ``crmse``: ``sqrt(mean_b (mean_x pred - mean_x target)^2)``;
    - ``max_error``: ``max_b max_x |pred - target|``;
    - ``frmse_low``/``mid``/``high``: ``mean_{k in band} (prod L / N) sqrt(mean_b sum_{shell k}
      |E_m|^2)``;

    then the mean over slices, as ``metric_func(..., if_mean=True)``. A band with no shell on
    this grid is reported as NaN (PDEBench's mean of an empty range). PDEBench's own 3-D
    boundary error sums over channels before its division; here every channel is its own
    slice, which agrees for one channel.

    Parameters
    ----------
    pred, target : torch.Tensor
        As in :func:`rmse`.
    lengths, k_low, k_high
        As in :func:`fourier_rmse`.
    time_axis : bool
        Whether axis 1 is time.

    Returns
    -------
    dict of str to float
    """
    p, t = _slices(pred, target, time_axis)
    out = {
        "rmse": _rmse_slices(p, t).mean(dim=0).mean().item(),
        "nrmse": _nrmse_slices(p, t).mean(dim=0).mean().item(),
        "crmse": _conserved_slices(p, t).square().mean(dim=0).sqrt().mean().item(),
        "max_error": _max_slices(p, t).amax(dim=0).mean().item(),
        "brmse": _boundary_slices(p, t).mean(dim=0).mean().item(),
    }
    shells = _fourier_shells_sq(p, t, lengths, all_modes=False).mean(dim=0).sqrt()
    for band in FOURIER_BANDS:
        try:
            lo, hi = _band_range(band, shells.shape[-1], k_low, k_high)
        except ValueError:
            if band == "low":
                raise
            out[f"frmse_{band}"] = float("nan")
            continue
        out[f"frmse_{band}"] = shells[..., lo:hi].mean(dim=-1).mean().item()
    return out

METRICS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "rel_l2": relative_l2,
    "rel_h1": relative_h1,
    "mse": mse,
    "max_abs_error": max_abs_error,
    "rmse": rmse,
    "nrmse": nrmse,
    "crmse": crmse,
    "brmse": brmse,
    "frmse_low": frmse_low,
    "frmse_mid": frmse_mid,
    "frmse_high": frmse_high,
    "max_error": max_error,
    "vrmse": vrmse,
}
"""Metric name to function ``(pred, target) -> (batch,)``."""
