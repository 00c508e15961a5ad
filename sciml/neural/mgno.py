r"""Multigrid neural operator MgNO (He, Liu, Xu, ICLR 2024) in 1-D, 2-D and 3-D.

MgNO builds each linear operator between hidden layers out of a multigrid V-cycle whose
smoothers, residual operators, restrictions and prolongations are learned convolutions.

Architecture, for ``x`` of shape ``(batch, in_channels, *space)`` and ``C = hidden_channels``:

1. lifting: a 1x1 convolution ``in_channels -> C`` (with bias);
2. ``n_layers`` layers ``h <- act(MgConv(h) + W h + b)``, with ``W`` a 1x1 convolution and
   ``b`` a per-channel bias;
3. projection: a 1x1 convolution ``C -> out_channels`` (with bias).

There is no other lifting or projection and no positional embedding: the boundary condition
enters through the padding of the convolutions (``padding_mode``): ``"zeros"`` is a
homogeneous Dirichlet condition one cell outside the grid, ``"circular"`` is periodic and
``"reflect"`` (mirror about the edge point) is a homogeneous Neumann condition.

MgConv (:class:`MgConv`) maps a right-hand side ``f`` (``C_f`` channels) to an approximate
solution ``u`` (``C_u`` channels) of an unknown linear system ``A u = f`` by one V-cycle over
``n_levels`` grids; grid ``l + 1`` has ``ceil(n / 2)`` points per axis where grid ``l`` has
``n``. All convolutions are bias-free, ``3 x ... x 3`` and mix channels. On level ``l``::

    pre-smoothing   u <- u + S_{l,i} * (f - A_l * u)        i = 1 .. n_pre_smooth[l]
    restriction     f_{l+1} = R_l * (f - A_l * u)            stride-2 convolution
                    u_{l+1} = Pi_l * u  (or 0 if not restrict_u)   stride-2 convolution
    ... recurse on level l + 1 ...
    prolongation    u <- u + P_l^T * u_{l+1}                 stride-2 transposed convolution
    post-smoothing  u <- u + S'_{l,i} * (f - A_l * u)        i = 1 .. n_post_smooth[l]

The cycle starts from ``u = 0`` on the finest grid (and on every coarse grid if
``restrict_u=False``); a smoothing step from ``u = 0`` is just ``u = S * f``. On the coarsest
grid the post-smoothing steps follow the pre-smoothing steps directly. ``A_l`` is one
operator per level shared by its smoothing steps (it plays the discretised operator of that
grid), each smoothing step has its own ``S`` (as in MgNet). The transposed convolution is
computed as zero insertion onto the fine grid followed by a padded convolution with the
flipped kernel, so the padding mode also holds for the prolongation, and odd sizes come out
exactly (the fine size is given, not inferred).

Parameter count (``K = 3 ** dim``, ``L = n_levels``, ``s = sum(n_pre_smooth) +
sum(n_post_smooth)``, ``a = (L - 1) + [coarsest level has an A]``, where the coarsest level
has an ``A`` unless its only smoothing step starts from ``u = 0``)::

    MgConv  K * (s * C_u * C_f + a * C_f * C_u
                 + (L - 1) * (C_f ** 2 + C_u ** 2 + (C_u ** 2 if restrict_u else 0)))
    MgNO    in * C + C                                         lifting
            + n_layers * (MgConv(C_f = C_u = C) + C * C + C)   layers
            + C * out + out                                    projection
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sciml.core.registry import MODELS
from sciml.core.validation import check_batch, check_choice, check_int

from .fno import _ACTIVATIONS, _activation_name, _Pointwise
from .spectral import _check_channels

__all__ = ["MgConv", "MgNO", "prolong", "stencil_conv"]

PADDING_MODES = ("zeros", "circular", "reflect")
_CONVS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONVS_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _check_dim(dim: Any) -> int:
    if isinstance(dim, bool) or dim not in (1, 2, 3):
        raise ValueError(f"dim: got {dim!r}; allowed values are [1, 2, 3]")
    return int(dim)


def _check_padding_mode(padding_mode: Any) -> str:
    if padding_mode not in PADDING_MODES:
        raise ValueError(
            f"padding_mode: got {padding_mode!r}; allowed values are {list(PADDING_MODES)} "
            "(zeros = Dirichlet, circular = periodic, reflect = Neumann)"
        )
    return str(padding_mode)


def _pad(x: torch.Tensor, padding_mode: str) -> torch.Tensor:
    """Pad every space axis by one cell according to ``padding_mode``."""
    pad = (1, 1) * (x.ndim - 2)
    if padding_mode == "circular":
        return F.pad(x, pad, mode="circular")
    # reflection needs two points on an axis; a single-point coarse grid has no neighbour to
    # mirror, and copying the point is the Neumann condition there
    mode = "reflect" if min(x.shape[2:]) >= 2 else "replicate"
    return F.pad(x, pad, mode=mode)


def stencil_conv(
    x: torch.Tensor, weight: torch.Tensor, padding_mode: str = "zeros", stride: int = 1
) -> torch.Tensor:
    """3-point-per-axis convolution with one cell of padding.

    Parameters
    ----------
    x : torch.Tensor
        ``(batch, in_channels, *space)`` with 1 to 3 space axes.
    weight : torch.Tensor
        ``(out_channels, in_channels, 3, ..., 3)`` (cross-correlation, as ``torch.nn.Conv``).
    padding_mode : {"zeros", "circular", "reflect"}
        Values outside the grid: zero (Dirichlet), periodic, or mirrored (Neumann).
    stride : {1, 2}
        With 2 the output has ``ceil(n / 2)`` points where the input has ``n``; output point
        ``i`` is centred on input point ``2 i``.

    Returns
    -------
    torch.Tensor
        ``(batch, out_channels, *space_out)``.
    """
    conv = _CONVS[x.ndim - 2]
    weight = weight.to(x.dtype)
    if padding_mode == "zeros":
        return conv(x, weight, stride=stride, padding=1)
    return conv(_pad(x, padding_mode), weight, stride=stride)


def prolong(
    u: torch.Tensor, weight: torch.Tensor, size: Sequence[int], padding_mode: str = "zeros"
) -> torch.Tensor:
    """Stride-2 transposed 3-point convolution from a coarse grid onto a fine grid of ``size``.

    Coarse point ``i`` sits on fine point ``2 i``; the fine size may be even or odd
    (``ceil(size / 2)`` must equal the coarse size).

    Parameters
    ----------
    u : torch.Tensor
        ``(batch, in_channels, *coarse)``.
    weight : torch.Tensor
        ``(in_channels, out_channels, 3, ..., 3)`` (layout of ``torch.nn.ConvTranspose``).
    size : sequence of int
        Fine grid shape, one entry per space axis.
    padding_mode : {"zeros", "circular", "reflect"}
        With ``"zeros"`` this is exactly ``torch.nn.ConvTranspose(stride=2, padding=1)``
        with the output padding that yields ``size``; the other modes wrap or mirror the
        contributions that would fall outside the fine grid.

    Returns
    -------
    torch.Tensor
        ``(batch, out_channels, *size)``.
    """
    dim = u.ndim - 2
    size = tuple(int(n) for n in size)
    coarse = tuple(u.shape[2:])
    if len(size) != dim or any((n + 1) // 2 != m for n, m in zip(size, coarse)):
        raise ValueError(
            f"size: got {size} for a coarse grid {coarse}; each fine size n must have "
            "ceil(n / 2) equal to the coarse size"
        )
    weight = weight.to(u.dtype)
    if padding_mode == "zeros":
        output_padding = tuple(n - (2 * m - 1) for n, m in zip(size, coarse))
        return _CONVS_T[dim](u, weight, stride=2, padding=1, output_padding=output_padding)
    # a transposed convolution is a convolution of the zero-inserted field with the flipped,
    # channel-transposed kernel; doing it that way lets the padding wrap or mirror
    fine = u.new_zeros(u.shape[0], u.shape[1], *size)
    fine[(slice(None), slice(None)) + (slice(None, None, 2),) * dim] = u
    flipped = weight.transpose(0, 1).flip(tuple(range(2, 2 + dim)))
    return stencil_conv(fine, flipped, padding_mode)


def _stencil_parameter(out_channels: int, in_channels: int, dim: int) -> nn.Parameter:
    # torch.nn.Conv's default: uniform in +-1/sqrt(fan_in)
    fan_in = in_channels * 3**dim
    bound = 1.0 / math.sqrt(fan_in)
    shape = (out_channels, in_channels) + (3,) * dim
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


def _per_level(argument: str, value: Any, n_levels: int, minimum: int) -> list[int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = [value] * n_levels
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = list(value)
        if len(values) != n_levels:
            raise ValueError(
                f"{argument}: got {value!r} with {len(values)} entries; give one int or one "
                f"per level ({n_levels})"
            )
    else:
        raise ValueError(f"{argument}: expected an int or a sequence of ints, got {value!r}")
    return [check_int(argument, v, minimum) for v in values]


class _Level(nn.Module):
    """Convolutions of one V-cycle level (and of the transfer to the next coarser level)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        dim: int,
        n_pre: int,
        n_post: int,
        has_a: bool,
        coarser: bool,
        restrict_u: bool,
    ) -> None:
        super().__init__()
        c_f, c_u = in_channels, out_channels
        self.A = _stencil_parameter(c_f, c_u, dim) if has_a else None
        self.pre = nn.ParameterList([_stencil_parameter(c_u, c_f, dim) for _ in range(n_pre)])
        self.post = nn.ParameterList([_stencil_parameter(c_u, c_f, dim) for _ in range(n_post)])
        self.R = _stencil_parameter(c_f, c_f, dim) if coarser else None
        self.Pi = _stencil_parameter(c_u, c_u, dim) if coarser and restrict_u else None
        # transposed-convolution layout (in, out, 3, ...)
        self.P = _stencil_parameter(c_u, c_u, dim) if coarser else None


class MgConv(nn.Module):
    """Linear operator parameterised by one multigrid V-cycle (see the module docstring).

    Parameters
    ----------
    in_channels : int
        Channels ``C_f`` of the right-hand side ``f`` (the input).
    out_channels : int
        Channels ``C_u`` of the solution ``u`` (the output).
    dim : {1, 2, 3}
        Number of space axes.
    n_levels : int, default 4
        Grids in the V-cycle, the input grid included (1 gives plain smoothing).
    n_pre_smooth : int or sequence of int, default 1
        Smoothing steps before restriction, per level (finest first); at least 1 each.
    n_post_smooth : int or sequence of int, default 0
        Smoothing steps after prolongation, per level; on the coarsest level they follow the
        pre-smoothing.
    padding_mode : {"zeros", "circular", "reflect"}, default "zeros"
        Boundary condition: Dirichlet, periodic or Neumann.
    restrict_u : bool, default True
        Start each coarse level from ``Pi * u`` (a learned stride-2 convolution of the finer
        iterate, as MgNO does) instead of zero (the classical correction scheme).

    Notes
    -----
    Input ``(batch, in_channels, *space)``, output ``(batch, out_channels, *space)``, any
    sizes (odd included). Weights: ``levels[l].A`` ``(C_f, C_u, 3, ...)``, ``levels[l].pre[i]``
    and ``levels[l].post[i]`` ``(C_u, C_f, 3, ...)``, ``levels[l].R`` ``(C_f, C_f, 3, ...)``,
    ``levels[l].Pi`` and ``levels[l].P`` ``(C_u, C_u, 3, ...)``; ``R``, ``Pi``, ``P`` are
    ``None`` on the coarsest level, ``A`` is ``None`` where no step would use it.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        dim: int,
        n_levels: int = 4,
        n_pre_smooth: int | Sequence[int] = 1,
        n_post_smooth: int | Sequence[int] = 0,
        padding_mode: str = "zeros",
        restrict_u: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = _check_channels("in_channels", in_channels)
        self.out_channels = _check_channels("out_channels", out_channels)
        self.dim = _check_dim(dim)
        self.n_levels = check_int("n_levels", n_levels, 1)
        self.n_pre_smooth = _per_level("n_pre_smooth", n_pre_smooth, self.n_levels, 1)
        self.n_post_smooth = _per_level("n_post_smooth", n_post_smooth, self.n_levels, 0)
        self.padding_mode = _check_padding_mode(padding_mode)
        self.restrict_u = bool(restrict_u)
        last = self.n_levels - 1
        levels = []
        for level in range(self.n_levels):
            starts_at_zero = level == 0 or not self.restrict_u
            steps = self.n_pre_smooth[level] + self.n_post_smooth[level]
            # the coarsest level needs A only if some step smooths a non-zero iterate
            has_a = level < last or steps > (1 if starts_at_zero else 0)
            levels.append(
                _Level(self.in_channels, self.out_channels, self.dim,
                       self.n_pre_smooth[level], self.n_post_smooth[level],
                       has_a, level < last, self.restrict_u)
            )
        self.levels = nn.ModuleList(levels)

    def _smooth(
        self,
        u: torch.Tensor | None,
        f: torch.Tensor,
        a: torch.Tensor | None,
        smoothers: nn.ParameterList,
    ) -> torch.Tensor | None:
        for s in smoothers:
            if u is None:
                u = stencil_conv(f, s, self.padding_mode)
            else:
                assert a is not None
                residual = f - stencil_conv(u, a, self.padding_mode)
                u = u + stencil_conv(residual, s, self.padding_mode)
        return u

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        """Apply one V-cycle.

        Parameters
        ----------
        f : torch.Tensor
            ``(batch, in_channels, *space)`` with ``dim`` space axes.

        Returns
        -------
        torch.Tensor
            ``(batch, out_channels, *space)``.
        """
        check_batch("f", f, self.in_channels, self.dim)
        mode = self.padding_mode
        down: list[tuple[torch.Tensor, torch.Tensor]] = []
        u: torch.Tensor | None = None
        for level in self.levels:
            u = self._smooth(u, f, level.A, level.pre)
            assert u is not None  # every level smooths at least once
            if level.R is None:
                u = self._smooth(u, f, level.A, level.post)
                break
            down.append((u, f))
            f = stencil_conv(f - stencil_conv(u, level.A, mode), level.R, mode, stride=2)
            u = stencil_conv(u, level.Pi, mode, stride=2) if level.Pi is not None else None
        for index in range(len(down) - 1, -1, -1):
            level = self.levels[index]
            u_fine, f_fine = down[index]
            u = u_fine + prolong(u, level.P, u_fine.shape[2:], mode)
            u = self._smooth(u, f_fine, level.A, level.post)
        assert u is not None
        return u


@MODELS.register()
class MgNO(nn.Module):
    """Multigrid neural operator on 1-D, 2-D or 3-D grids of any resolution.

    Parameters
    ----------
    in_channels : int
        Channels of the input function.
    out_channels : int
        Channels of the output function.
    dim : {1, 2, 3}, default 2
        Number of space axes.
    hidden_channels : int, default 32
        Width ``C`` of the hidden layers.
    n_layers : int, default 4
        Number of layers ``h <- act(MgConv(h) + W h + b)``.
    n_levels : int, default 4
        Grids in each V-cycle, the input grid included.
    n_pre_smooth, n_post_smooth : int or sequence of int, default 1 and 0
        Smoothing steps per level before restriction and after prolongation (see
        :class:`MgConv`).
    padding_mode : {"zeros", "circular", "reflect"}, default "zeros"
        Boundary condition of every convolution: Dirichlet, periodic or Neumann.
    restrict_u : bool, default True
        Coarse levels start from a learned restriction of the finer iterate (MgNO) rather
        than from zero.
    non_linearity : {"gelu", "relu", "tanh", "silu"}, default "gelu"
        Activation ``act``, by name (the matching ``torch.nn.functional`` function is also
        accepted).

    Notes
    -----
    Input ``(batch, in_channels, *space)``, output ``(batch, out_channels, *space)``. The
    architecture and its parameter count are in :mod:`sciml.neural.mgno`. Registered in
    :data:`sciml.core.registry.MODELS` as ``"MgNO"``; ``MgNO(**m.config)`` rebuilds an
    untrained copy of ``m``. Parameters are initialised from the global torch RNG.

    The 3x3 stencils act on grid cells, not on physical lengths, so a model trained at one
    resolution represents a different operator at another; the model runs at any
    resolution, but zero-shot super-resolution is not expected to be accurate.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        dim: int = 2,
        hidden_channels: int = 32,
        n_layers: int = 4,
        n_levels: int = 4,
        n_pre_smooth: int | Sequence[int] = 1,
        n_post_smooth: int | Sequence[int] = 0,
        padding_mode: str = "zeros",
        restrict_u: bool = True,
        non_linearity: str | Callable[..., Any] = "gelu",
    ) -> None:
        super().__init__()
        self.in_channels = _check_channels("in_channels", in_channels)
        self.out_channels = _check_channels("out_channels", out_channels)
        self.dim = _check_dim(dim)
        self.hidden_channels = _check_channels("hidden_channels", hidden_channels)
        self.n_layers = check_int("n_layers", n_layers, 1)
        n_levels = check_int("n_levels", n_levels, 1)
        pre = _per_level("n_pre_smooth", n_pre_smooth, n_levels, 1)
        post = _per_level("n_post_smooth", n_post_smooth, n_levels, 0)
        padding_mode = _check_padding_mode(padding_mode)
        check_choice("restrict_u", restrict_u, (True, False))
        act_name = _activation_name(non_linearity)
        self.act = _ACTIVATIONS[act_name]
        self._config: dict[str, Any] = {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "dim": self.dim,
            "hidden_channels": self.hidden_channels,
            "n_layers": self.n_layers,
            "n_levels": n_levels,
            "n_pre_smooth": pre,
            "n_post_smooth": post,
            "padding_mode": padding_mode,
            "restrict_u": bool(restrict_u),
            "non_linearity": act_name,
        }
        c = self.hidden_channels
        self.lifting = _Pointwise(self.in_channels, c)
        self.mgconvs = nn.ModuleList(
            [MgConv(c, c, self.dim, n_levels, pre, post, padding_mode, bool(restrict_u))
             for _ in range(self.n_layers)]
        )
        # W u + b of each layer
        self.pointwise = nn.ModuleList([_Pointwise(c, c) for _ in range(self.n_layers)])
        self.projection = _Pointwise(c, self.out_channels)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-serialisable); ``MgNO(**config)`` rebuilds the model."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self._config.items()}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate the operator.

        Parameters
        ----------
        x : torch.Tensor
            ``(batch, in_channels, *space)`` with ``dim`` space axes, real.

        Returns
        -------
        torch.Tensor
            ``(batch, out_channels, *space)``.
        """
        check_batch("x", x, self.in_channels, self.dim)
        h = self.lifting(x)
        for mgconv, pointwise in zip(self.mgconvs, self.pointwise):
            h = self.act(pointwise.add_to(mgconv(h), h))
        return self.projection(h)
