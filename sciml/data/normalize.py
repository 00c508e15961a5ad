"""Normalisation of fields for training: zero mean and unit variance per channel.

Statistics are accumulated in float64 with the pairwise update of Chan, Golub and LeVeque
(merging the count, mean and sum of squared deviations of each batch), so fitting in
batches gives the same result as fitting at once and does not lose precision on data with
a large offset, as the textbook ``E[x^2] - E[x]^2`` does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from sciml.core.validation import describe

__all__ = ["UnitGaussianNormalizer", "fit_normalizers"]


def _as_batch(data: Any) -> torch.Tensor:
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(data)
    if not isinstance(data, torch.Tensor):
        raise ValueError(
            f"data: expected a tensor (batch, channels, *space) or an iterable of them, got "
            f"{describe(data)}; for a loader of (x, y) pairs pass (x for x, _ in loader)"
        )
    if data.ndim < 2:
        raise ValueError(f"data: expected shape (batch, channels, *space), got {tuple(data.shape)}")
    if not (data.dtype.is_floating_point or data.dtype.is_complex) and data.dtype != torch.bool:
        data = data.to(torch.float64)
    if data.is_complex():
        raise ValueError("data: complex tensors are not supported; normalise real parts")
    return data.detach()


class UnitGaussianNormalizer(nn.Module):
    """Shift and scale fields to zero mean and unit standard deviation.

    ``encode(x) = (x - mean) / (std + eps)`` and ``decode`` is its inverse. Inputs are laid
    out ``(batch, channels, *space)`` (or ``(channels, *space)`` for one sample).

    Parameters
    ----------
    pointwise : bool
        ``False`` (default): one mean and std per channel, buffers of shape
        ``(channels, 1, ..., 1)``, computed over the batch and all grid points; these
        transfer to any resolution. ``True``: one per channel and grid point, shape
        ``(channels, *space)``, over the batch only (as in the original FNO code); such
        statistics only apply to data on the grid they were fitted on.
    eps : float
        Added to ``std`` so constant channels do not divide by zero.

    Attributes
    ----------
    mean, std : Tensor
        Buffers (float64), empty until fitted; they move with ``.to(device)`` and are
        saved in ``state_dict`` together with the sample count and the options above.
    count : Tensor
        Number of values per statistic seen so far (float64 scalar), so ``partial_fit`` can
        continue after ``load_state_dict``.
    """

    mean: torch.Tensor
    std: torch.Tensor
    count: torch.Tensor

    def __init__(self, pointwise: bool = False, eps: float = 1e-5) -> None:
        super().__init__()
        if not isinstance(pointwise, bool):
            raise ValueError(f"pointwise: expected a bool, got {pointwise!r}")
        if not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps < 0:
            raise ValueError(f"eps: expected a non-negative finite number, got {eps!r}")
        self.pointwise = pointwise
        self.eps = float(eps)
        self.register_buffer("mean", torch.empty(0, dtype=torch.float64))
        self.register_buffer("std", torch.empty(0, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))

    @property
    def fitted(self) -> bool:
        """Whether statistics are available."""
        return self.mean.numel() > 0

    # -- fitting --------------------------------------------------------------------------
    def reset(self) -> UnitGaussianNormalizer:
        """Forget the statistics."""
        device = self.mean.device
        self.mean = torch.empty(0, dtype=torch.float64, device=device)
        self.std = torch.empty(0, dtype=torch.float64, device=device)
        self.count = torch.zeros((), dtype=torch.float64, device=device)
        return self

    def fit(self, data: torch.Tensor | np.ndarray | Iterable[Any]) -> UnitGaussianNormalizer:
        """Statistics of ``data``: a tensor ``(batch, channels, *space)`` or an iterable of
        such batches (e.g. a generator over a large file). Returns ``self``."""
        self.reset()
        if isinstance(data, (torch.Tensor, np.ndarray)):
            self.partial_fit(data)
        else:
            try:
                batches = iter(data)
            except TypeError:
                _as_batch(data)  # raises the descriptive error
                raise
            for batch in batches:
                self.partial_fit(batch)
        if not self.fitted:
            raise ValueError("data: no batches were given; cannot fit on nothing")
        return self

    def partial_fit(self, batch: torch.Tensor | np.ndarray) -> UnitGaussianNormalizer:
        """Merge one batch ``(batch, channels, *space)`` into the statistics; returns ``self``."""
        x = _as_batch(batch)
        if not torch.isfinite(x).all():
            bad = int((~torch.isfinite(x)).sum())
            raise ValueError(f"data: {bad} non-finite value(s) (NaN or Inf); cannot fit on them")
        x = x.to(dtype=torch.float64)
        dims = (0,) if self.pointwise else (0, *range(2, x.ndim))
        n_b = float(np.prod([x.shape[d] for d in dims]))
        if n_b == 0:
            return self
        mean_b = x.mean(dim=dims, keepdim=True)
        m2_b = ((x - mean_b) ** 2).sum(dim=dims, keepdim=True)[0].to(self.mean.device)
        mean_b = mean_b[0].to(self.mean.device)
        if not self.fitted:
            mean, m2, n = mean_b, m2_b, n_b
        else:
            if mean_b.shape != self.mean.shape:
                raise ValueError(
                    f"data: batch statistics have shape {tuple(mean_b.shape)} but earlier "
                    f"batches gave {tuple(self.mean.shape)}; channels"
                    + (" and grid" if self.pointwise else "")
                    + " must agree across batches"
                )
            n_a = float(self.count)
            m2_a = self.std.to(torch.float64) ** 2 * n_a
            n = n_a + n_b
            delta = mean_b - self.mean
            mean = self.mean + delta * (n_b / n)
            m2 = m2_a + m2_b + delta**2 * (n_a * n_b / n)
        self.mean = mean
        self.std = torch.sqrt(m2 / n)
        self.count = torch.tensor(n, dtype=torch.float64, device=self.mean.device)
        return self

    # -- transforming ---------------------------------------------------------------------
    def _check_input(self, x: torch.Tensor) -> None:
        if not self.fitted:
            raise RuntimeError(
                "UnitGaussianNormalizer is not fitted: call fit(data) or load_state_dict first"
            )
        if not isinstance(x, torch.Tensor) or not x.dtype.is_floating_point:
            raise ValueError(f"x: expected a floating-point tensor, got {describe(x)}")
        k = self.mean.ndim
        ok = x.ndim in (k, k + 1) and x.shape[-k] == self.mean.shape[0]
        if ok and self.pointwise:
            ok = tuple(x.shape[-k + 1 :]) == tuple(self.mean.shape[1:]) if k > 1 else True
        if not ok:
            expected = (
                f"(batch, {self.mean.shape[0]}, {', '.join(map(str, self.mean.shape[1:]))})"
                if self.pointwise
                else f"(batch, {self.mean.shape[0]}" + ", *space" * (k - 1) + ")"
            )
            hint = (
                "; pointwise statistics only apply on the grid they were fitted on "
                "(use pointwise=False to change resolution)"
                if self.pointwise
                else ""
            )
            raise ValueError(f"x: expected shape {expected}, got {tuple(x.shape)}{hint}")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(x - mean) / (std + eps)``, same shape and dtype as ``x``."""
        self._check_input(x)
        return (x - self.mean.to(x)) / (self.std.to(x) + self.eps)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`encode`: ``x * (std + eps) + mean``."""
        self._check_input(x)
        return x * (self.std.to(x) + self.eps) + self.mean.to(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`encode`."""
        return self.encode(x)

    # -- state ----------------------------------------------------------------------------
    def get_extra_state(self) -> dict[str, Any]:
        return {"pointwise": self.pointwise, "eps": self.eps}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.pointwise = bool(state["pointwise"])
        self.eps = float(state["eps"])

    def _load_from_state_dict(
        self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        # Buffers are empty before fitting; take the saved shapes so loading can fill them.
        for name in ("mean", "std"):
            saved = state_dict.get(prefix + name)
            if isinstance(saved, torch.Tensor):
                setattr(
                    self,
                    name,
                    torch.empty_like(saved, dtype=torch.float64, device=self.count.device),
                )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        shape = tuple(self.mean.shape) if self.fitted else "unfitted"
        return f"pointwise={self.pointwise}, eps={self.eps:g}, stats={shape}"


def fit_normalizers(
    dataset: Dataset,
    batch_size: int = 64,
    pointwise: bool = False,
    eps: float = 1e-5,
) -> tuple[UnitGaussianNormalizer, UnitGaussianNormalizer]:
    """Fit one normalizer on the inputs and one on the outputs of a dataset.

    Pass the training split only, so no test statistics leak into training.

    Parameters
    ----------
    dataset : OperatorDataset or Dataset of (x, y) pairs
        Read in contiguous slabs when it is an
        :class:`~sciml.data.dataset.OperatorDataset`, otherwise through a ``DataLoader``.
    batch_size : int
        Samples per read.
    pointwise, eps
        Options of both normalizers.

    Returns
    -------
    input_normalizer, output_normalizer : UnitGaussianNormalizer
    """
    from sciml.data.dataset import OperatorDataset

    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    if len(dataset) == 0:  # type: ignore[arg-type]
        raise ValueError("dataset: is empty; cannot fit normalizers on no samples")
    x_norm = UnitGaussianNormalizer(pointwise=pointwise, eps=eps)
    y_norm = UnitGaussianNormalizer(pointwise=pointwise, eps=eps)
    if isinstance(dataset, OperatorDataset):
        batches: Iterable[Any] = dataset.iter_batches(batch_size)
    else:
        batches = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    for batch in batches:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(f"dataset: items must be (input, output) pairs, got {describe(batch)}")
        x_norm.partial_fit(batch[0])
        y_norm.partial_fit(batch[1])
    return x_norm, y_norm
