"""Training losses for operator learning.

Losses map ``(pred, target)`` of shape ``(batch, channels, *space)`` to a scalar. The
relative losses divide each sample's error norm by its target norm, so samples of very
different amplitude weigh the same; see :mod:`sciml.train.metrics` for the zero-target rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from sciml.core.validation import check_choice, describe
from sciml.train.metrics import _check_pair, _promote, _safe_ratio, h1_sq_norm

__all__ = ["LOSSES", "H1Loss", "LpLoss", "get_loss"]

REDUCTIONS = ("mean", "sum")

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _reduce(values: torch.Tensor, reduction: str) -> torch.Tensor:
    return values.mean() if reduction == "mean" else values.sum()


def _quadrature_weight(shape: Sequence[int], spacing: float | Sequence[float] | None) -> float:
    space = list(shape[2:])
    if not space:
        return 1.0
    if spacing is None:
        return 1.0 / math.prod(space)
    steps = [float(spacing)] * len(space) if isinstance(spacing, (int, float)) else spacing
    if len(steps) != len(space):
        raise ValueError(
            f"spacing: expected one step or {len(space)} (one per spatial axis), got {spacing!r}"
        )
    return math.prod(float(h) for h in steps)


def _check_spacing(spacing: float | Sequence[float] | None) -> None:
    if spacing is None:
        return
    steps = [spacing] if isinstance(spacing, (int, float)) else spacing
    try:
        ok = all(math.isfinite(float(h)) and float(h) > 0 for h in steps)
    except (TypeError, ValueError):
        ok = False
    if isinstance(spacing, bool) or not ok:
        raise ValueError(
            f"spacing: expected None, a positive step or a sequence of positive steps, "
            f"got {describe(spacing)}"
        )


class LpLoss(nn.Module):
    """Lp error per sample, relative by default, reduced over the batch.

    Parameters
    ----------
    p : float
        Order of the norm, ``p >= 1``.
    relative : bool
        Divide each sample's error norm by the norm of its target.
    reduction : {"mean", "sum"}
        How the per-sample values are combined.
    spacing : float or sequence of float, optional
        Grid step per spatial axis, used only when ``relative=False`` to weight the sum so
        that it approximates the integral (default ``1 / n`` per axis: the unit cube).

    Notes
    -----
    Input shapes are ``(batch, channels, *space)``; the norm runs over channels and space.
    """

    def __init__(
        self,
        p: float = 2,
        relative: bool = True,
        reduction: str = "mean",
        spacing: float | Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not (1 <= p < math.inf):
            raise ValueError(f"p: expected a finite number >= 1, got {describe(p)}")
        check_choice("reduction", reduction, REDUCTIONS)
        _check_spacing(spacing)
        self.p = float(p)
        self.relative = bool(relative)
        self.reduction = reduction
        self.spacing = spacing

    def per_sample(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Unreduced values, shape ``(batch,)``."""
        _check_pair(pred, target)
        pred, target = _promote(pred), _promote(target)
        batch = pred.shape[0]
        num = (pred - target).abs().pow(self.p).reshape(batch, -1).sum(dim=1)
        if self.relative:
            den = target.abs().pow(self.p).reshape(batch, -1).sum(dim=1)
            return _safe_ratio(num.pow(1 / self.p), den.pow(1 / self.p))
        weight = _quadrature_weight(pred.shape, self.spacing)
        return (weight * num).pow(1 / self.p)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Scalar loss."""
        return _reduce(self.per_sample(pred, target), self.reduction)

    def extra_repr(self) -> str:
        return f"p={self.p:g}, relative={self.relative}, reduction={self.reduction!r}"


class H1Loss(nn.Module):
    """H1 (Sobolev) error per sample, relative by default, reduced over the batch.

    ``||u||_H1^2 = ||u||_2^2 + sum_d ||du/dx_d||_2^2`` with derivatives by second-order
    finite differences (:func:`sciml.train.metrics.central_gradient`): central inside,
    one-sided at the ends of non-periodic axes.

    Parameters
    ----------
    relative : bool
        Divide each sample's error norm by the H1 norm of its target.
    periodic : bool or sequence of bool
        Whether each spatial axis wraps around (one flag for all, or one per axis).
    spacing : float or sequence of float, optional
        Grid step per spatial axis; default ``1 / n`` for ``n`` points (the unit interval).
    reduction : {"mean", "sum"}
        How the per-sample values are combined.

    Notes
    -----
    Input shapes are ``(batch, channels, *space)`` with 1 to 3 spatial axes. Without
    ``relative`` the sum is weighted by the cell volume so it approximates the integral.
    """

    def __init__(
        self,
        relative: bool = True,
        periodic: bool | Sequence[bool] = False,
        spacing: float | Sequence[float] | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_choice("reduction", reduction, REDUCTIONS)
        _check_spacing(spacing)
        if not isinstance(periodic, bool) and not (
            isinstance(periodic, Sequence) and all(isinstance(b, bool) for b in periodic)
        ):
            raise ValueError(
                f"periodic: expected a bool or a sequence of bools (one per spatial axis), "
                f"got {describe(periodic)}"
            )
        self.relative = bool(relative)
        self.periodic = periodic if isinstance(periodic, bool) else tuple(periodic)
        self.spacing = spacing
        self.reduction = reduction

    def per_sample(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Unreduced values, shape ``(batch,)``."""
        _check_pair(pred, target, min_ndim=3)
        pred, target = _promote(pred), _promote(target)
        num = h1_sq_norm(pred - target, self.spacing, self.periodic)
        if self.relative:
            den = h1_sq_norm(target, self.spacing, self.periodic)
            return _safe_ratio(num.sqrt(), den.sqrt())
        return (_quadrature_weight(pred.shape, self.spacing) * num).sqrt()

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Scalar loss."""
        return _reduce(self.per_sample(pred, target), self.reduction)

    def extra_repr(self) -> str:
        return f"relative={self.relative}, periodic={self.periodic}, reduction={self.reduction!r}"


LOSSES: dict[str, Callable[[], nn.Module]] = {
    "l2": LpLoss,
    "h1": H1Loss,
    "mse": nn.MSELoss,
}
"""Loss name to a factory with default options."""


def get_loss(loss: str | nn.Module | LossFn) -> LossFn:
    """Resolve a loss given by name, module or callable.

    Parameters
    ----------
    loss : str or nn.Module or callable
        ``"l2"`` (relative L2, :class:`LpLoss`), ``"h1"`` (relative H1, :class:`H1Loss`),
        ``"mse"`` (mean squared error over all elements) or any ``(pred, target) -> scalar``.

    Returns
    -------
    callable
        A fresh module for a name; the object itself otherwise.

    Raises
    ------
    ValueError
        If the name is unknown or the object is not callable.
    """
    if isinstance(loss, str):
        check_choice("loss", loss, LOSSES)
        return LOSSES[loss]()
    if callable(loss):
        return loss
    raise ValueError(
        f"loss: got {describe(loss)}; allowed values are {list(LOSSES)}, an nn.Module or a "
        f"callable (pred, target) -> scalar tensor"
    )
