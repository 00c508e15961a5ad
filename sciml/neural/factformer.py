"""FactFormer: a transformer with axial factorized kernel attention (Li, Shu, Barati Farimani,
"Scalable Transformer for PDE Surrogate Modeling", NeurIPS 2023).

Attention as a kernel integral
------------------------------
Softmax-free attention on a grid of ``N = n_1 ... n_d`` points is a kernel integral

.. math::

    z(x) = \\int_\\Omega \\kappa(x, y)\\, v(y)\\, dy
         \\approx \\frac{1}{N} \\sum_y \\kappa(x, y)\\, v(y),

whose dense kernel costs ``O(N^2)`` memory. FactFormer restricts the kernel to a product of
one-dimensional kernels, one per axis,

.. math::

    \\kappa(x, y) = \\prod_{a=1}^{d} \\kappa_a(x_a, y_a), \\qquad
    \\kappa_a(s, t) = \\big\\langle R(s)\\, q_a(s),\\ R(t)\\, k_a(t) \\big\\rangle ,

so the integral is applied one axis at a time (the *axial factorized integral*)::

    z = K_1 x_1 K_2 x_2 ... K_d x_d v,   K_a = q_a k_a^T / n_a   (n_a x n_a each)

at cost ``O(sum_a n_a * N * c)`` with kernel memory ``O(sum_a n_a^2)``; the dense kernel is the
Kronecker product ``K_1 (x) ... (x) K_d`` and is never formed. The ``1 / n_a`` factors are the
rectangle-rule quadrature weights on the unit cell, so the operator does not depend on the
resolution.

The queries and keys of axis ``a`` come from a *learnable projection* of the field to
one-dimensional sub-functions: a linear map, a mean over the other axes, then an MLP,
``phi_a = MLP(mean_{x_b, b != a} L_a h)``, and ``q_a = W_q^a phi_a``, ``k_a = W_k^a phi_a``.
``R(t)`` is the rotary position encoding of the axis coordinate ``t``: channel pairs
``(j, j + m)`` are rotated by the angle ``2 pi f_j t`` with integer frequencies
``f_j = 1, ..., m`` (so ``kappa_a`` depends on positions only through ``s - t`` in its
rotation part, and is periodic on the unit cell). All of this is multi-head.

Coordinates are those of a periodic unit cell, ``t_i = i / n`` for ``i = 0, ..., n - 1`` (the
convention of :class:`~sciml.neural.fno.FNO`'s positional embedding).

Architecture, for ``x`` of shape ``(batch, in_channels, *space)``:

1. random Fourier features of the coordinates, ``[cos 2 pi B t, sin 2 pi B t]`` with a fixed
   Gaussian ``B`` (``fourier_features x dim``, drawn from ``fourier_seed``, stored as a
   buffer), appended as ``2 * fourier_features`` channels;
2. lifting: pointwise MLP to ``hidden_channels``;
3. encoder: ``n_layers`` factorized attention blocks, each pre-norm with residuals::

       h = h + attention(group_norm(h))
       h = h + feed_forward(group_norm(h))

4. latent propagator: ``propagator_layers`` further blocks;
5. decoder: group norm and a pointwise MLP to the ``out_channels // out_steps`` channels of
   one frame.

``forward(x, steps=k)`` encodes once, applies the propagator ``k`` times (latent time
marching) and decodes every latent state, returning the frames stacked time-major along the
channels. ``forward(x)`` marches ``out_steps`` steps (default 1, the plain operator), and
``out_channels`` counts the channels of all of them, so ``(batch, in_channels, *space) ->
(batch, out_channels, *space)`` holds as for every model: with ``out_steps = m`` the model
predicts ``m`` frames per call by latent marching and trains behind
:class:`~sciml.train.autoregressive.AutoregressiveTrainer` with ``frames_per_call = m``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from sciml.core.registry import MODELS
from sciml.core.validation import check_batch, check_int, check_positive

from .fno import _ACTIVATIONS, _MLP, _activation_name, _Pointwise
from .spectral import _check_channels

__all__ = [
    "FactFormer",
    "FactorizedAttention",
    "axial_integral",
    "axial_kernel",
    "rotary_embedding",
    "unit_cell_coordinates",
]

_SPACE_LETTERS = "ijklmn"


def _no_autocast(device: torch.device) -> torch.autocast:
    return torch.autocast(device_type=device.type, enabled=False)


def _real_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 stays float64; everything else (float32, bf16, fp16) computes in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def unit_cell_coordinates(
    n: int, device: torch.device | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Coordinates ``i / n``, ``i = 0, ..., n - 1``, of a periodic unit cell; shape ``(n,)``."""
    return torch.arange(n, device=device, dtype=torch.float64).div(n).to(dtype)


def rotary_embedding(
    x: torch.Tensor, coords: torch.Tensor, frequencies: torch.Tensor
) -> torch.Tensor:
    """Rotate channel pairs of ``x`` by angles proportional to the position.

    Parameters
    ----------
    x : torch.Tensor
        ``(..., n, 2 m)``: ``n`` positions, ``2 m`` channels; the pairs are ``(j, j + m)``.
    coords : torch.Tensor
        ``(n,)`` positions.
    frequencies : torch.Tensor
        ``(m,)`` frequencies in cycles per unit length.

    Returns
    -------
    torch.Tensor
        ``(..., n, 2 m)``, pair ``j`` at position ``t`` rotated by ``2 pi f_j t``. Since
        rotations compose, ``<rot(s) q, rot(t) k> = <q, rot(t - s) k>``: the inner product of
        rotated vectors depends on the positions only through their difference.
    """
    m = frequencies.shape[-1]
    if x.shape[-1] != 2 * m or x.shape[-2] != coords.shape[-1]:
        raise ValueError(
            f"x: expected shape (..., {coords.shape[-1]}, {2 * m}) for {coords.shape[-1]} "
            f"positions and {m} frequencies, got {tuple(x.shape)}"
        )
    # angles in float64: 2 pi f t reaches tens of radians, and their rounding is relative
    angle = (2 * math.pi) * coords.double()[:, None] * frequencies.double()[None, :]
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x1, x2 = x[..., :m], x[..., m:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def axial_kernel(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """One axis's attention kernel ``q k^T / n`` (no softmax; ``1 / n`` is the quadrature).

    Parameters
    ----------
    q, k : torch.Tensor
        ``(batch, heads, n, channels)``.

    Returns
    -------
    torch.Tensor
        ``(batch, heads, n, n)``.
    """
    if q.shape != k.shape or q.ndim != 4:
        raise ValueError(
            "q, k: expected two tensors of equal shape (batch, heads, n, channels), got "
            f"{tuple(q.shape)} and {tuple(k.shape)}"
        )
    return torch.matmul(q, k.transpose(-1, -2)) / q.shape[-2]


def axial_integral(kernels: Sequence[torch.Tensor], v: torch.Tensor) -> torch.Tensor:
    """Apply the Kronecker product of per-axis kernels to ``v``, one axis at a time.

    ``z[b, h, c, i_1, ..., i_d] = sum_j K_1[b, h, i_1, j_1] ... K_d[b, h, i_d, j_d]
    v[b, h, c, j_1, ..., j_d]``, at cost ``O(sum_a n_a * N * c)`` per head, never forming the
    ``N x N`` kernel (``N = prod n_a``).

    Parameters
    ----------
    kernels : sequence of torch.Tensor
        ``d`` kernels, ``kernels[a]`` of shape ``(batch, heads, n_a, n_a)``.
    v : torch.Tensor
        Values ``(batch, heads, channels, n_1, ..., n_d)``.

    Returns
    -------
    torch.Tensor
        ``(batch, heads, channels, n_1, ..., n_d)``.
    """
    d = len(kernels)
    if not 1 <= d <= len(_SPACE_LETTERS) or v.ndim != 3 + d:
        raise ValueError(
            f"v: expected shape (batch, heads, channels, *space) with one space axis per "
            f"kernel ({d} kernels), got {tuple(v.shape)}"
        )
    for a, kernel in enumerate(kernels):
        n = v.shape[3 + a]
        if tuple(kernel.shape) != (v.shape[0], v.shape[1], n, n):
            raise ValueError(
                f"kernels[{a}]: expected shape {(v.shape[0], v.shape[1], n, n)} to match v of "
                f"shape {tuple(v.shape)}, got {tuple(kernel.shape)}"
            )
    space = _SPACE_LETTERS[:d]
    for a, kernel in enumerate(kernels):
        out = space[:a] + "z" + space[a + 1 :]
        v = torch.einsum(f"bhz{space[a]},bhc{space}->bhc{out}", kernel, v)
    return v


class _AxisProjection(nn.Module):
    """Field ``(batch, channels, *space)`` -> queries and keys of one axis.

    The sub-function is ``phi = MLP(mean_{other axes}(L h))``. ``L`` is linear with a bias, so
    it commutes with the mean: it is applied after the mean, on ``n_a`` points instead of
    ``N``.
    """

    def __init__(
        self,
        axis: int,
        channels: int,
        width: int,
        qk_channels: int,
        act: Callable[[torch.Tensor], torch.Tensor],
    ) -> None:
        super().__init__()
        self.axis = axis
        self.linear = _Pointwise(channels, width)
        self.mlp = _MLP(width, width, width, act)
        self.to_qk = _Pointwise(width, 2 * qk_channels, bias=False)

    def sub_function(self, h: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, *space)`` -> ``(batch, width, n_axis)``."""
        other = [2 + j for j in range(h.ndim - 2) if j != self.axis]
        pooled = h.mean(dim=other) if other else h
        return self.mlp(self.linear(pooled))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, *space)`` -> ``(batch, 2 * qk_channels, n_axis)``."""
        return self.to_qk(self.sub_function(h))


class FactorizedAttention(nn.Module):
    """Multi-head axial factorized kernel attention, ``(batch, C, *space) -> (batch, C, *space)``.

    Parameters
    ----------
    channels : int
        Channels ``C`` of the input and output.
    dim : int
        Number of space axes (1 to 3).
    n_heads : int, default 4
        Attention heads.
    head_channels : int, default ``channels // n_heads``
        Value channels per head, and query/key channels per head; must be even (the rotary
        encoding rotates channel pairs).
    projection_channels : int, default ``channels``
        Width of the per-axis sub-functions and of their MLPs.
    non_linearity : str, default "gelu"
        Activation of the sub-function MLPs.

    Notes
    -----
    The kernels, the rotary encoding and the axial integral run in float32 with autocast
    disabled (float64 inputs stay float64): without a softmax the kernels are unnormalised
    sums over the grid, which bf16 rounds too coarsely. The pointwise maps run under the
    caller's autocast.
    """

    def __init__(
        self,
        channels: int,
        dim: int,
        n_heads: int = 4,
        head_channels: int | None = None,
        projection_channels: int | None = None,
        non_linearity: str = "gelu",
    ) -> None:
        super().__init__()
        self.channels = _check_channels("channels", channels)
        self.dim = check_int("dim", dim, 1)
        if self.dim > 3:
            raise ValueError(f"dim: expected 1, 2 or 3 space axes, got {dim!r}")
        self.n_heads = _check_channels("n_heads", n_heads)
        if head_channels is None:
            head_channels = max(2, 2 * (self.channels // self.n_heads // 2))
        self.head_channels = _check_channels("head_channels", head_channels)
        if self.head_channels % 2:
            raise ValueError(
                f"head_channels: expected an even number (rotary pairs), got {head_channels!r}"
            )
        width = self.channels if projection_channels is None else projection_channels
        self.projection_channels = _check_channels("projection_channels", width)
        act = _ACTIVATIONS[_activation_name(non_linearity)]
        inner = self.n_heads * self.head_channels
        self.to_v = _Pointwise(self.channels, inner, bias=False)
        self.to_out = _Pointwise(inner, self.channels)
        self.axes = nn.ModuleList(
            [_AxisProjection(a, self.channels, width, inner, act) for a in range(self.dim)]
        )
        m = self.head_channels // 2
        self.register_buffer(
            "rotary_frequencies", torch.arange(1, m + 1, dtype=torch.float32), persistent=False
        )

    def kernels(self, h: torch.Tensor) -> list[torch.Tensor]:
        """Per-axis kernels ``K_a = rot(q_a) rot(k_a)^T / n_a``, each ``(batch, heads, n_a, n_a)``,
        float32 (float64 for float64 ``h``)."""
        batch = h.shape[0]
        real = _real_dtype(h.dtype)
        out = []
        for a, proj in enumerate(self.axes):
            n = h.shape[2 + a]
            qk = proj(h)
            with _no_autocast(h.device):
                qk = qk.to(real).view(batch, 2, self.n_heads, self.head_channels, n)
                qk = qk.transpose(-1, -2)
                coords = unit_cell_coordinates(n, h.device, real)
                q = rotary_embedding(qk[:, 0], coords, self.rotary_frequencies)
                k = rotary_embedding(qk[:, 1], coords, self.rotary_frequencies)
                out.append(axial_kernel(q, k))
        return out

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, *space)`` -> ``(batch, channels, *space)``."""
        check_batch("h", h, self.channels, self.dim)
        batch, _, *space = h.shape
        kernels = self.kernels(h)
        v = self.to_v(h)
        with _no_autocast(h.device):
            v = v.to(kernels[0].dtype).view(batch, self.n_heads, self.head_channels, *space)
            z = axial_integral(kernels, v).reshape(batch, -1, *space)
        return self.to_out(z)


class _FactFormerBlock(nn.Module):
    """Pre-norm residual block: factorized attention, then a pointwise feed-forward MLP."""

    def __init__(
        self,
        channels: int,
        dim: int,
        n_heads: int,
        head_channels: int,
        projection_channels: int,
        ffn_channels: int,
        norm_groups: int,
        non_linearity: str,
    ) -> None:
        super().__init__()
        act = _ACTIVATIONS[non_linearity]
        self.norm_attention = nn.GroupNorm(norm_groups, channels)
        self.attention = FactorizedAttention(
            channels, dim, n_heads, head_channels, projection_channels, non_linearity
        )
        self.norm_ffn = nn.GroupNorm(norm_groups, channels)
        self.ffn = _MLP(channels, channels, ffn_channels, act)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = h + self.attention(self.norm_attention(h))
        return h + self.ffn(self.norm_ffn(h))


@MODELS.register()
class FactFormer(nn.Module):
    """Factorized transformer neural operator on 1-D, 2-D or 3-D grids of any resolution.

    Parameters
    ----------
    in_channels : int
        Channels of the input function.
    out_channels : int
        Channels of ``forward(x)``: ``out_steps`` frames of ``out_channels // out_steps``
        channels each (:attr:`frame_channels`). With the default ``out_steps=1``, the
        channels of the output function.
    dim : int, default 2
        Number of space axes (1, 2 or 3).
    hidden_channels : int, default 64
        Width of the latent field.
    n_layers : int, default 3
        Factorized attention blocks in the encoder.
    n_heads : int, default 4
        Attention heads.
    head_channels : int, optional
        Channels per head (values, queries and keys); default ``hidden_channels // n_heads``
        rounded down to an even number. Must be even.
    projection_channels : int, optional
        Width of the per-axis sub-functions; default ``hidden_channels``.
    ffn_expansion : float, default 2.0
        The feed-forward MLPs have ``round(hidden_channels * ffn_expansion)`` hidden channels.
    norm_groups : int, default 8
        Groups of the group norms; must divide ``hidden_channels``.
    fourier_features : int, default 16
        Random Fourier features of the coordinates (``2 * fourier_features`` input channels);
        ``0`` turns the positional features off.
    fourier_scale : float, default 2.0
        Standard deviation of the random frequencies, in cycles per unit length.
    fourier_seed : int, default 0
        Seed of the random frequencies (they are a buffer, not trained).
    periodic_features : bool, default True
        Round the random frequencies to integers, so the features are periodic on the unit
        cell (a frequency vector may round to zero: a constant channel). For periodic
        problems this makes the model converge spectrally under grid refinement; ``False``
        keeps the Gaussian frequencies (first-order convergence, from the jump at the wrap).
    propagator_layers : int, default 1
        Blocks of the latent propagator, applied once per time step.
    non_linearity : {"gelu", "relu", "tanh", "silu"}, default "gelu"
        Activation, by name.
    out_steps : int, default 1
        Latent steps of ``forward(x)`` without a ``steps`` argument; must divide
        ``out_channels``.

    Notes
    -----
    Input ``(batch, in_channels, *space)``, output ``(batch, out_channels, *space)``, or
    ``(batch, steps * frame_channels, *space)`` for ``forward(x, steps)``.
    Registered in :data:`sciml.core.registry.MODELS` as ``"FactFormer"``;
    ``FactFormer(**m.config)`` rebuilds an untrained copy with the same Fourier features.
    Trainable parameters are initialised from the global torch RNG. No parameter depends on
    the grid size.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        dim: int = 2,
        hidden_channels: int = 64,
        n_layers: int = 3,
        n_heads: int = 4,
        head_channels: int | None = None,
        projection_channels: int | None = None,
        ffn_expansion: float = 2.0,
        norm_groups: int = 8,
        fourier_features: int = 16,
        fourier_scale: float = 2.0,
        fourier_seed: int = 0,
        periodic_features: bool = True,
        propagator_layers: int = 1,
        non_linearity: str = "gelu",
        out_steps: int = 1,
    ) -> None:
        super().__init__()
        self.in_channels = _check_channels("in_channels", in_channels)
        self.out_channels = _check_channels("out_channels", out_channels)
        self.out_steps = check_int("out_steps", out_steps, 1)
        if self.out_channels % self.out_steps:
            raise ValueError(
                f"out_steps: got {out_steps!r}, which does not divide out_channels="
                f"{self.out_channels}; out_channels counts the channels of all out_steps "
                f"frames (frames * channels per frame)"
            )
        #: Channels of one decoded frame.
        self.frame_channels = self.out_channels // self.out_steps
        self.dim = check_int("dim", dim, 1)
        if self.dim > 3:
            raise ValueError(f"dim: expected 1, 2 or 3 space axes, got {dim!r}")
        self.hidden_channels = _check_channels("hidden_channels", hidden_channels)
        self.n_layers = check_int("n_layers", n_layers, 0)
        self.n_heads = _check_channels("n_heads", n_heads)
        if head_channels is None:
            head_channels = max(2, 2 * (self.hidden_channels // self.n_heads // 2))
        _check_channels("head_channels", head_channels)
        if head_channels % 2:
            raise ValueError(
                f"head_channels: expected an even number (rotary pairs), got {head_channels!r}"
            )
        if projection_channels is None:
            projection_channels = self.hidden_channels
        _check_channels("projection_channels", projection_channels)
        check_positive("ffn_expansion", ffn_expansion)
        ffn_channels = round(self.hidden_channels * ffn_expansion)
        if ffn_channels < 1:
            raise ValueError(
                f"ffn_expansion: {ffn_expansion!r} gives no feed-forward channels; use a larger "
                "expansion"
            )
        _check_channels("norm_groups", norm_groups)
        if self.hidden_channels % norm_groups:
            raise ValueError(
                f"norm_groups: got {norm_groups!r}, which does not divide hidden_channels="
                f"{self.hidden_channels}; use a divisor of it"
            )
        self.fourier_features = check_int("fourier_features", fourier_features, 0)
        check_positive("fourier_scale", fourier_scale)
        fourier_seed = check_int("fourier_seed", fourier_seed, 0)
        self.propagator_layers = check_int("propagator_layers", propagator_layers, 1)
        act_name = _activation_name(non_linearity)
        act = _ACTIVATIONS[act_name]

        self._config: dict[str, Any] = {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "dim": self.dim,
            "hidden_channels": self.hidden_channels,
            "n_layers": self.n_layers,
            "n_heads": self.n_heads,
            "head_channels": int(head_channels),
            "projection_channels": int(projection_channels),
            "ffn_expansion": float(ffn_expansion),
            "norm_groups": int(norm_groups),
            "fourier_features": self.fourier_features,
            "fourier_scale": float(fourier_scale),
            "fourier_seed": fourier_seed,
            "periodic_features": bool(periodic_features),
            "propagator_layers": self.propagator_layers,
            "non_linearity": act_name,
            "out_steps": self.out_steps,
        }

        generator = torch.Generator().manual_seed(fourier_seed)
        frequencies = torch.randn(self.fourier_features, self.dim, generator=generator)
        frequencies = frequencies * float(fourier_scale)
        if periodic_features:
            # integer frequencies make the features periodic on the unit cell: every
            # integrand of the attention is then smooth across the wrap, and the rectangle
            # rule converges spectrally with the resolution instead of at first order
            frequencies = frequencies.round()
        self.register_buffer("fourier_frequencies", frequencies)

        def block() -> _FactFormerBlock:
            return _FactFormerBlock(
                self.hidden_channels,
                self.dim,
                self.n_heads,
                int(head_channels),
                int(projection_channels),
                ffn_channels,
                int(norm_groups),
                act_name,
            )

        lifting_in = self.in_channels + 2 * self.fourier_features
        self.lifting = _MLP(lifting_in, self.hidden_channels, self.hidden_channels, act)
        self.encoder = nn.ModuleList([block() for _ in range(self.n_layers)])
        self.propagator = nn.ModuleList([block() for _ in range(self.propagator_layers)])
        self.decoder_norm = nn.GroupNorm(int(norm_groups), self.hidden_channels)
        self.decoder = _MLP(self.hidden_channels, self.frame_channels, self.hidden_channels,
                            act)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-serialisable); ``FactFormer(**config)`` rebuilds it."""
        return dict(self._config)

    def positional_features(
        self,
        space: Sequence[int],
        device: torch.device | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Random Fourier features ``[cos 2 pi B t, sin 2 pi B t]`` of the unit-cell coordinates.

        Returns
        -------
        torch.Tensor
            ``(2 * fourier_features, *space)``, computed in float64 and rounded to ``dtype``.
        """
        coords = [unit_cell_coordinates(n, device, torch.float64) for n in space]
        grid = torch.stack(torch.meshgrid(*coords, indexing="ij"))  # (dim, *space)
        freqs = self.fourier_frequencies.to(device=device, dtype=torch.float64)
        phase = (2 * math.pi) * torch.tensordot(freqs, grid, dims=1)
        return torch.cat([phase.cos(), phase.sin()]).to(dtype)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, in_channels, *space)`` -> latent ``(batch, hidden_channels, *space)``."""
        check_batch("x", x, self.in_channels, self.dim)
        if self.fourier_features:
            batch, _, *space = x.shape
            pos = self.positional_features(space, x.device, x.dtype)
            x = torch.cat([x, pos.unsqueeze(0).expand(batch, *pos.shape)], dim=1)
        h = self.lifting(x)
        for blk in self.encoder:
            h = blk(h)
        return h

    def propagate(self, h: torch.Tensor) -> torch.Tensor:
        """One latent time step, ``(batch, hidden, *space) -> (batch, hidden, *space)``."""
        for blk in self.propagator:
            h = blk(h)
        return h

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """Latent ``(batch, hidden, *space)`` -> one frame ``(batch, frame_channels, *space)``."""
        return self.decoder(self.decoder_norm(h))

    def forward(self, x: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        """Evaluate the operator, marching ``steps`` latent time steps.

        Parameters
        ----------
        x : torch.Tensor
            ``(batch, in_channels, *space)`` with ``dim`` space axes, real.
        steps : int, optional
            Latent steps, default ``out_steps``: the input is encoded once, the propagator is
            applied ``steps`` times and each latent state is decoded.

        Returns
        -------
        torch.Tensor
            ``(batch, steps * frame_channels, *space)`` (``(batch, out_channels, *space)`` by
            default), frame ``s`` (0-based) in channels ``s * frame_channels`` to
            ``(s + 1) * frame_channels - 1``.
        """
        steps = check_int("steps", self.out_steps if steps is None else steps, 1)
        h = self.encode(x)
        frames = []
        for _ in range(steps):
            h = self.propagate(h)
            frames.append(self.decode(h))
        return frames[0] if steps == 1 else torch.cat(frames, dim=1)
