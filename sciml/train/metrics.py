"""Per-sample error metrics for batch-first fields.

Every metric takes ``pred`` and ``target`` of shape ``(batch, *rest)`` (usually
``(batch, channels, *space)``) and returns one value per sample, shape ``(batch,)``, so the
caller chooses how to reduce. Low-precision inputs (float16, bfloat16) are promoted to
float32 first: norms of a bf16 field lose too many digits to be worth reporting.

Relative metrics divide by the norm of the target. Where that norm is exactly zero the ratio
is undefined; the metric then returns the absolute error norm instead (the denominator is
replaced by 1), which keeps the value finite and zero only for an exact prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from sciml.core.validation import describe

__all__ = [
    "METRICS",
    "central_gradient",
    "h1_sq_norm",
    "max_abs_error",
    "mse",
    "relative_h1",
    "relative_l2",
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


METRICS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "rel_l2": relative_l2,
    "rel_h1": relative_h1,
    "mse": mse,
    "max_abs_error": max_abs_error,
}
"""Metric name to function ``(pred, target) -> (batch,)``."""
