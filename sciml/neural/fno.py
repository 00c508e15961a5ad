"""Fourier neural operator (Li et al., ICLR 2021), in the block layout of neuraloperator 2.x.

Architecture, for ``x`` of shape ``(batch, in_channels, *space)``:

1. positional embedding (optional): append the grid coordinates ``i / n_j`` in ``[0, 1)`` of
   each spatial axis as ``dim`` extra channels (a periodic grid with its origin at index 0);
2. lifting: pointwise MLP ``in (+ dim) -> lifting_channels -> hidden`` (one linear layer if
   ``lifting_channels == 0``), then domain padding (optional): zeros on both ends
   (``"symmetric"``) or the end (``"one-sided"``) of each axis, ``round(fraction * n_j)``
   per side, for problems that are not periodic;
3. ``n_layers`` FNO blocks; block ``l`` maps ``v`` to::

       h = spectral_l(v) + fno_skip_l(v)
       h = act(h)                                   (not in the last block)
       h = channel_mlp_l(h) + channel_mlp_skip_l(v)  (if use_channel_mlp)
       h = act(h)                                   (not in the last block)

   The last block has no activation, so the projection sees a linear combination of
   features, as in neuraloperator 2.x;
4. the padding is cropped off; projection: pointwise MLP ``hidden -> projection_channels ->
   out``.

Every pointwise layer has a bias; skip connections do not ("linear" is a bias-free 1x1
convolution, "soft-gating" a per-channel scale initialised to one, "identity" adds the input
unchanged, ``None`` drops the skip). The spectral convolutions carry a bias. With the
defaults the model has the parameter count of ``neuralop.models.FNO`` built with the same
``n_modes``, channels and ``n_layers``::

    lifting     (in + dim) * L + L + L * H + H          L = lifting_channels (2 H)
    per block   2 * H * H * prod(n_modes[:-1]) * (n_modes[-1] // 2 + 1) + H   spectral
                + H * H                                  linear fno skip
                + H * E + E + E * H + H                  channel MLP, E = round(H * expansion)
                + H                                      soft-gating skip
    projection  H * P + P + P * out + out               P = projection_channels (2 H)

With ``factorization`` set (and in :class:`TFNO`) the spectral term of each block is the
factorized weight's count (:mod:`sciml.neural.factorized`) plus its bias ``H``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sciml.core.registry import MODELS
from sciml.core.validation import check_batch, check_choice

from .factorized import FACTORIZATIONS
from .spectral import SpectralConv, _check_channels, _normalise_modes

__all__ = ["FNO", "TFNO"]

_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,
    "relu": F.relu,
    "tanh": torch.tanh,
    "silu": F.silu,
}
_SKIPS = ("linear", "identity", "soft-gating", None)
_PADDING_MODES = ("symmetric", "one-sided")


def _activation_name(non_linearity: str | Callable[..., Any]) -> str:
    if isinstance(non_linearity, str):
        check_choice("non_linearity", non_linearity, _ACTIVATIONS)
        return non_linearity
    for name, fn in _ACTIVATIONS.items():
        aliases = (fn, getattr(F, name, None), getattr(torch, name, None))
        if any(non_linearity is f for f in aliases):
            return name
    raise ValueError(
        f"non_linearity: got {non_linearity!r}; give one of {list(_ACTIVATIONS)} by name"
    )


class _Pointwise(nn.Module):
    """1x1 convolution ``(batch, in, *space) -> (batch, out, *space)`` as a batched matmul.

    Initialised like ``torch.nn.Conv1d``: weight and bias uniform in ``±1/sqrt(in)``.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_channels)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels).uniform_(-bound, bound))
        self.bias = (
            nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound)) if bias else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(2)
        weight = self.weight.to(flat.dtype).expand(flat.shape[0], -1, -1)
        if self.bias is None:
            out = torch.bmm(weight, flat)
        else:
            out = torch.baddbmm(self.bias.to(flat.dtype).view(1, -1, 1), weight, flat)
        return out.view(x.shape[0], -1, *x.shape[2:])

    def add_to(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``h + self(x)`` in one fused multiply-add (``h`` has the output's shape)."""
        flat = x.flatten(2)
        weight = self.weight.to(flat.dtype).expand(flat.shape[0], -1, -1)
        out = torch.baddbmm(h.flatten(2), weight, flat)
        if self.bias is not None:
            out = out + self.bias.to(out.dtype).view(1, -1, 1)
        return out.view(h.shape)


class _SoftGating(nn.Module):
    """Per-channel learnable scale, initialised to one."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.view(-1, *([1] * (x.ndim - 2)))

    def add_to(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(h, x, self.weight.view(-1, *([1] * (x.ndim - 2))))


class _Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def add_to(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return h + x


def _check_padding(value: float | Sequence[float], dim: int) -> tuple[float, ...]:
    values = (value,) * dim if isinstance(value, (int, float)) else value
    try:
        values = tuple(values)  # type: ignore[arg-type]
    except TypeError:
        values = ()
    ok = len(values) == dim and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0
        for v in values
    )
    if not ok or isinstance(value, bool):
        raise ValueError(
            f"domain_padding: got {value!r}; expected a fraction in [0, 1] of each spatial "
            f"size, one number or {dim} (one per axis)"
        )
    return tuple(float(v) for v in values)


class _MLP(nn.Module):
    """Pointwise two-layer MLP (or one linear layer if ``hidden == 0``)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden: int,
        act: Callable[[torch.Tensor], torch.Tensor],
    ) -> None:
        super().__init__()
        self.act = act
        if hidden:
            self.layers = nn.ModuleList(
                [_Pointwise(in_channels, hidden), _Pointwise(hidden, out_channels)]
            )
        else:
            self.layers = nn.ModuleList([_Pointwise(in_channels, out_channels)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            if i:
                x = self.act(x)
            x = layer(x)
        return x


_SkipModule = _Pointwise | _SoftGating | _Identity


def _skip(kind: str | None, channels: int) -> _SkipModule | None:
    if kind == "linear":
        return _Pointwise(channels, channels, bias=False)
    if kind == "soft-gating":
        return _SoftGating(channels)
    if kind == "identity":
        return _Identity()
    return None


class _FNOBlock(nn.Module):
    def __init__(
        self,
        channels: int,
        n_modes: tuple[int, ...],
        act: Callable[[torch.Tensor], torch.Tensor],
        use_channel_mlp: bool,
        mlp_hidden: int,
        fno_skip: str | None,
        channel_mlp_skip: str | None,
        last: bool,
        factorization: str | None = None,
        rank: int | float = 1.0,
    ) -> None:
        super().__init__()
        self.act = act
        self.last = last
        self.spectral = SpectralConv(
            channels, channels, n_modes, factorization=factorization, rank=rank
        )
        self.fno_skip = _skip(fno_skip, channels)
        self.channel_mlp = _MLP(channels, channels, mlp_hidden, act) if use_channel_mlp else None
        self.channel_mlp_skip = _skip(channel_mlp_skip, channels) if use_channel_mlp else None

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        # skips are added with fused multiply-adds: on the CPU these layers are memory-bound
        # and every full-size temporary costs about as much as the arithmetic
        h = self.spectral(v)
        if self.fno_skip is not None:
            h = self.fno_skip.add_to(h, v)
        if not self.last:
            h = self.act(h)
        if self.channel_mlp is not None:
            h = self.channel_mlp(h)
            if self.channel_mlp_skip is not None:
                h = self.channel_mlp_skip.add_to(h, v)
            if not self.last:
                h = self.act(h)
        return h


@MODELS.register()
class FNO(nn.Module):
    """Fourier neural operator on 1-D, 2-D or 3-D periodic grids of any resolution.

    Parameters
    ----------
    in_channels : int
        Channels of the input function.
    out_channels : int
        Channels of the output function.
    n_modes : int or sequence of int
        Fourier modes kept per axis by every spectral convolution (neuraloperator 2.x
        convention, see :mod:`sciml.neural.spectral`); its length is the spatial dimension.
    hidden_channels : int, default 64
        Width of the FNO blocks.
    n_layers : int, default 4
        Number of FNO blocks.
    lifting_channels : int, optional
        Hidden width of the lifting MLP; default ``2 * hidden_channels`` (neuraloperator's
        ``lifting_channel_ratio=2``). ``0`` makes the lifting a single linear layer.
    projection_channels : int, optional
        Hidden width of the projection MLP; default ``2 * hidden_channels``.
    positional_embedding : bool, default True
        Append the normalised grid coordinates ``i / n`` in ``[0, 1)`` of each axis as extra
        input channels (neuraloperator's default ``"grid"`` embedding).
    use_channel_mlp : bool, default True
        Add a pointwise two-layer MLP after each spectral layer.
    channel_mlp_expansion : float, default 0.5
        Hidden width of the channel MLP is ``round(hidden_channels * expansion)``.
    channel_mlp_skip : {"soft-gating", "linear", "identity", None}, default "soft-gating"
        Skip connection around the channel MLP (from the block input).
    fno_skip : {"linear", "identity", "soft-gating", None}, default "linear"
        Skip connection around the spectral convolution.
    non_linearity : {"gelu", "relu", "tanh", "silu"}, default "gelu"
        Activation, by name (the matching ``torch.nn.functional`` function is also accepted).
    factorization : {None, "dense", "tucker", "cp", "tt"}, default None
        Storage of the spectral weights (:mod:`sciml.neural.factorized`); ``None`` is dense.
    rank : int or float, default 1.0
        Rank of the factorization (an int, or the fraction in ``(0, 1]`` of the dense
        parameter count); must be ``1.0`` for dense weights.
    domain_padding : float or sequence of float, default 0.0
        Zero padding for non-periodic problems, as a fraction of each spatial size (one value
        for all axes or one per axis): after lifting, axis ``j`` of size ``n_j`` is padded
        with ``round(domain_padding[j] * n_j)`` zeros per padded side, and the padding is
        cropped off before the projection. It scales with the resolution, so the padded
        physical domain is the same at every resolution (exactly so when
        ``domain_padding * n`` is an integer).
    padding_mode : {"symmetric", "one-sided"}, default "symmetric"
        ``"symmetric"`` pads both ends of each axis, ``"one-sided"`` only the end.

    Notes
    -----
    Input ``(batch, in_channels, *space)``, output ``(batch, out_channels, *space)``. The
    model is registered in :data:`sciml.core.registry.MODELS` as ``"FNO"``; ``FNO(**m.config)``
    rebuilds an untrained copy of ``m``. Parameters are initialised from the global torch RNG.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        n_modes: int | Sequence[int],
        hidden_channels: int = 64,
        n_layers: int = 4,
        lifting_channels: int | None = None,
        projection_channels: int | None = None,
        positional_embedding: bool = True,
        use_channel_mlp: bool = True,
        channel_mlp_expansion: float = 0.5,
        channel_mlp_skip: str | None = "soft-gating",
        fno_skip: str | None = "linear",
        non_linearity: str | Callable[..., Any] = "gelu",
        factorization: str | None = None,
        rank: int | float = 1.0,
        domain_padding: float | Sequence[float] = 0.0,
        padding_mode: str = "symmetric",
    ) -> None:
        super().__init__()
        self.in_channels = _check_channels("in_channels", in_channels)
        self.out_channels = _check_channels("out_channels", out_channels)
        self.n_modes = _normalise_modes(n_modes)
        self.dim = len(self.n_modes)
        self.hidden_channels = _check_channels("hidden_channels", hidden_channels)
        self.n_layers = _check_channels("n_layers", n_layers)
        if lifting_channels is None:
            lifting_channels = 2 * self.hidden_channels
        elif lifting_channels != 0:
            _check_channels("lifting_channels", lifting_channels)
        if projection_channels is None:
            projection_channels = 2 * self.hidden_channels
        _check_channels("projection_channels", projection_channels)
        if not isinstance(channel_mlp_expansion, (int, float)) or not channel_mlp_expansion > 0:
            raise ValueError(
                f"channel_mlp_expansion: expected a positive number, got {channel_mlp_expansion!r}"
            )
        mlp_hidden = round(self.hidden_channels * channel_mlp_expansion)
        if use_channel_mlp and mlp_hidden < 1:
            raise ValueError(
                f"channel_mlp_expansion: {channel_mlp_expansion!r} gives "
                f"round({self.hidden_channels} * {channel_mlp_expansion}) = 0 hidden channels; "
                "use a larger expansion"
            )
        check_choice("fno_skip", fno_skip, _SKIPS)
        check_choice("channel_mlp_skip", channel_mlp_skip, _SKIPS)
        act_name = _activation_name(non_linearity)
        act = _ACTIVATIONS[act_name]
        check_choice("factorization", factorization, (None, *FACTORIZATIONS))
        if factorization == "dense":
            factorization = None
        check_choice("padding_mode", padding_mode, _PADDING_MODES)
        self.padding_mode = padding_mode
        self.domain_padding = _check_padding(domain_padding, self.dim)

        self.positional_embedding = bool(positional_embedding)
        self._config: dict[str, Any] = {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "n_modes": list(self.n_modes),
            "hidden_channels": self.hidden_channels,
            "n_layers": self.n_layers,
            "lifting_channels": int(lifting_channels),
            "projection_channels": int(projection_channels),
            "positional_embedding": self.positional_embedding,
            "use_channel_mlp": bool(use_channel_mlp),
            "channel_mlp_expansion": float(channel_mlp_expansion),
            "channel_mlp_skip": channel_mlp_skip,
            "fno_skip": fno_skip,
            "non_linearity": act_name,
            "factorization": factorization,
            "rank": rank,
            "domain_padding": (
                float(domain_padding)
                if isinstance(domain_padding, (int, float))
                else list(self.domain_padding)
            ),
            "padding_mode": padding_mode,
        }

        lifting_in = self.in_channels + (self.dim if self.positional_embedding else 0)
        self.lifting = _MLP(lifting_in, self.hidden_channels, int(lifting_channels), act)
        self.blocks = nn.ModuleList(
            [
                _FNOBlock(
                    self.hidden_channels,
                    self.n_modes,
                    act,
                    bool(use_channel_mlp),
                    mlp_hidden,
                    fno_skip,
                    channel_mlp_skip,
                    last=(i == self.n_layers - 1),
                    factorization=factorization,
                    rank=rank,
                )
                for i in range(self.n_layers)
            ]
        )
        self.projection = _MLP(
            self.hidden_channels, self.out_channels, int(projection_channels), act
        )

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-serialisable); ``FNO(**config)`` rebuilds the model."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self._config.items()}

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, *space = x.shape
        coords = [torch.arange(n, device=x.device, dtype=x.dtype) / n for n in space]
        grids = torch.meshgrid(*coords, indexing="ij")
        pos = torch.stack(grids).unsqueeze(0).expand(batch, -1, *space)
        return torch.cat([x, pos], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate the operator.

        Parameters
        ----------
        x : torch.Tensor
            ``(batch, in_channels, *space)``, ``len(space) == len(n_modes)``, real.

        Returns
        -------
        torch.Tensor
            ``(batch, out_channels, *space)``.
        """
        check_batch("x", x, self.in_channels, self.dim)
        if self.positional_embedding:
            x = self._embed(x)
        h = self.lifting(x)
        pads = self.padding(x.shape[2:])
        if any(pads):
            h = F.pad(h, self._pad_arg(pads))
        for block in self.blocks:
            h = block(h)
        if any(pads):
            h = h[self._crop_index(pads, x.shape[2:])]
        return self.projection(h)

    def padding(self, shape: Sequence[int]) -> tuple[int, ...]:
        """Zeros added per padded side of each axis for an input of spatial ``shape``:
        ``round(domain_padding[j] * shape[j])``."""
        return tuple(round(f * n) for f, n in zip(self.domain_padding, shape))

    def _pad_arg(self, pads: Sequence[int]) -> list[int]:
        # F.pad lists (before, after) pairs from the last axis backwards
        arg: list[int] = []
        for p in reversed(pads):
            arg += [p if self.padding_mode == "symmetric" else 0, p]
        return arg

    def _crop_index(self, pads: Sequence[int], shape: Sequence[int]) -> tuple[slice, ...]:
        starts = pads if self.padding_mode == "symmetric" else [0] * len(pads)
        crop = tuple(slice(s, s + n) for s, n in zip(starts, shape))
        return (slice(None), slice(None), *crop)


@MODELS.register()
class TFNO(FNO):
    """Tensorized FNO: an :class:`FNO` whose spectral weights are factorized.

    Parameters
    ----------
    in_channels, out_channels, n_modes
        As :class:`FNO`.
    factorization : {"tucker", "cp", "tt", "dense", None}, default "tucker"
        Factorization of every spectral weight (:mod:`sciml.neural.factorized`).
    rank : int or float, default 0.1
        An int rank, or the fraction of the dense parameter count kept by each spectral
        weight.
    **kwargs
        Every other :class:`FNO` option.

    Notes
    -----
    The parameter count is the :class:`FNO` formula of the module docstring with each block's
    dense spectral count ``2 H^2 prod(n_modes[:-1]) (n_modes[-1] // 2 + 1)`` replaced by the
    factorization's count for the weight shape ``s = (H, H, *n_modes[:-1], n_modes[-1] // 2
    + 1)`` and the resolved ranks ``r`` (:func:`sciml.neural.factorized.resolve_rank`):
    Tucker ``2 (prod r + sum s_k r_k)``, CP ``2 R sum s_k``, TT ``2 sum r_{k-1} s_k r_k``.
    ``TFNO(**m.config)`` rebuilds ``m``; registered in ``MODELS`` as ``"TFNO"``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        n_modes: int | Sequence[int],
        factorization: str | None = "tucker",
        rank: int | float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            in_channels, out_channels, n_modes, factorization=factorization, rank=rank, **kwargs
        )
