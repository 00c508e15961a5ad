"""Spectral convolution: the global linear operator of a Fourier neural operator layer.

A :class:`SpectralConv` multiplies the lowest Fourier modes of its input by learned complex
channel-mixing matrices (one ``(in, out)`` matrix per kept frequency) and discards the rest:

.. math::

    (K v)(x) = \\mathcal{F}^{-1}\\big[\\, k \\mapsto W_k \\, \\hat v_k \\ \\text{for kept } k,
    \\ 0 \\text{ otherwise} \\big](x) + b.

Which frequencies are kept
--------------------------
``n_modes[j]`` follows the convention of neuraloperator 2.x: it counts the modes kept along
axis ``j`` with both signs. Along every axis but the last, the kept integer frequencies are

    ``k = -(m // 2), ..., (m - 1) // 2``          (``m = n_modes[j]``, ``m`` values)

i.e. the centred block of size ``m`` that neuraloperator selects after ``fftshift``: for even
``m`` one more negative than positive frequency, for odd ``m`` a symmetric block. Along the last
axis the input is real, so the real FFT is used and the kept frequencies are
``k = 0, ..., m // 2`` (``m // 2 + 1`` values).

A frequency is kept only if it exists on the grid. On an axis of ``n`` points the available
frequencies are ``-(n // 2), ..., (n - 1) // 2`` (last axis: ``0, ..., n // 2``); when the grid
is too coarse for the requested modes the layer keeps the intersection, and each frequency
keeps its own weight whatever the resolution, so the same layer applied to a finer sampling of
a band-limited function gives the same function (discretisation invariance). With
``output_shape`` the intersection is over the input and the output grids.

Weight layout
-------------
``weight`` has shape ``(in_channels, out_channels, *n_modes[:-1], n_modes[-1] // 2 + 1)`` and is
complex64. The non-last mode axes are stored in FFT order (frequency ``k >= 0`` at index ``k``,
``k < 0`` at index ``m + k``), which lets the kept block be gathered from the spectrum with two
slices per axis instead of an ``fftshift`` of the whole spectrum. Parameter count
(complex weights count as two reals)::

    2 * in_channels * out_channels * prod(n_modes[:-1]) * (n_modes[-1] // 2 + 1)
      + out_channels                       (bias, if enabled)

This equals the count of neuraloperator 2.x's dense ``SpectralConv`` with its default bias.
With ``factorization="tucker" | "cp" | "tt"`` the weight is a module of
:mod:`sciml.neural.factorized` implying a tensor of the same shape and layout; its count is
given there. The layer gathers the kept block from the factors and contracts with them
directly; only this contraction step differs from the dense layer.

Active modes (incremental training)
-----------------------------------
The buffer ``active_modes`` (``n_modes`` convention, default ``n_modes``) restricts the kept
frequencies further, exactly as if the layer had been built with ``n_modes=active_modes``:
the rest of the weight is not used and gets zero gradient.

Hermitian symmetry
------------------
The output of a real linear operator has a Hermitian spectrum. Along the last axis this is
built in (only ``k_last >= 0`` is stored), but the ``k_last = 0`` slice, and the Nyquist slice
``k_last = n // 2`` when the last size is even and that mode is kept, must also be Hermitian in
the other axes. Arbitrary complex weights break this, and what ``irfft`` does with a
non-Hermitian input is implementation-defined (cuFFT documents it as undefined). The layer
therefore projects those slices onto their Hermitian part explicitly. After the inverse
transform along the non-last axes, the Hermitian part of a slice is exactly its real part, so
the FFT path sets the imaginary part of those two slices to zero before ``irfft``, and the DFT
path (see ``transform``) uses an inverse matrix whose rows for the imaginary parts of those
two slices are zero. Either way this is the orthogonal projection
``Y_k <- (Y_k + conj(Y_{-k})) / 2``, so the layer is a well-defined real linear map whose
autograd gradient is its exact adjoint on every backend.

Precision
---------
The transforms (FFTs or DFT matmuls) always run in float32 (float64 if the input is
float64), also under autocast: autocast is switched off inside the layer and lower-precision
inputs are cast up. The output is float32 (float64 for float64 input).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
from torch import nn

from sciml.core.validation import check_batch, check_choice

from .factorized import (
    AbstractSpectralWeight,
    dense_contract,
    gather_block,
    spectral_weight,
)

__all__ = ["SpectralConv", "count_parameters", "kept_frequencies"]


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of real parameters of ``module``; a complex entry counts as two.

    Parameters
    ----------
    module : torch.nn.Module
        Any module.
    trainable_only : bool, default False
        Count only parameters with ``requires_grad``.

    Returns
    -------
    int
        ``sum(p.numel() * (2 if p.is_complex() else 1))`` over the (trainable) parameters.
    """
    return sum(
        p.numel() * (2 if p.is_complex() else 1)
        for p in module.parameters()
        if p.requires_grad or not trainable_only
    )


def _normalise_modes(n_modes: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(n_modes, (int,)) and not isinstance(n_modes, bool):
        modes = (int(n_modes),)
    else:
        try:
            modes = tuple(n_modes)  # type: ignore[arg-type]
        except TypeError:
            raise ValueError(
                f"n_modes: got {n_modes!r}; expected a positive int or a sequence of 1 to 3 "
                "positive ints"
            ) from None
    ok = 1 <= len(modes) <= 3 and all(
        isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in modes
    )
    if not ok:
        raise ValueError(
            f"n_modes: got {n_modes!r}; expected a positive int or a sequence of 1 to 3 "
            "positive ints (one per spatial axis)"
        )
    return tuple(int(m) for m in modes)


def _check_channels(argument: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{argument}: expected a positive int, got {value!r}")
    return int(value)


def _kept_range(m: int, sizes: Sequence[int]) -> tuple[int, int]:
    """``(a, b)``: the kept frequencies of a non-last axis are ``-a, ..., b``."""
    a = min([m // 2] + [n // 2 for n in sizes])
    b = min([(m - 1) // 2] + [(n - 1) // 2 for n in sizes])
    return a, b


def kept_frequencies(
    n_modes: int | Sequence[int], shape: Sequence[int], output_shape: Sequence[int] | None = None
) -> list[list[int]]:
    """Integer frequencies a :class:`SpectralConv` keeps on a grid, axis by axis.

    Parameters
    ----------
    n_modes : int or sequence of int
        Modes per axis, as given to :class:`SpectralConv`.
    shape : sequence of int
        Spatial shape of the input.
    output_shape : sequence of int, optional
        Spatial shape of the output (default: ``shape``).

    Returns
    -------
    list of list of int
        For each non-last axis the kept frequencies in FFT order (``0, 1, ..., b, -a, ...,
        -1``); for the last axis ``0, ..., k_max``.
    """
    modes = _normalise_modes(n_modes)
    out = list(shape) if output_shape is None else list(output_shape)
    freqs: list[list[int]] = []
    for j, m in enumerate(modes[:-1]):
        a, b = _kept_range(m, (shape[j], out[j]))
        freqs.append(list(range(b + 1)) + list(range(-a, 0)))
    m = modes[-1]
    k_last = min(m // 2, shape[-1] // 2, out[-1] // 2)
    freqs.append(list(range(k_last + 1)))
    return freqs


def _gather(z: torch.Tensor, dim: int, size: int, a: int, b: int) -> torch.Tensor:
    """Frequencies ``0..b`` then ``-a..-1`` of an FFT-ordered axis of length ``size``."""
    return gather_block(z, dim, a, b)


def _scatter(z: torch.Tensor, dim: int, size: int, a: int, b: int) -> torch.Tensor:
    """Inverse of :func:`_gather`: place ``0..b, -a..-1`` in an FFT-ordered axis of ``size``."""
    gap = size - (a + b + 1)
    if gap == 0:
        return z
    zshape = list(z.shape)
    zshape[dim] = gap
    zeros = z.new_zeros(zshape)
    if a == 0:
        return torch.cat([z, zeros], dim=dim)
    return torch.cat([z.narrow(dim, 0, b + 1), zeros, z.narrow(dim, b + 1, a)], dim=dim)


@functools.lru_cache(maxsize=128)
def _dft_matrix(
    kind: str, n: int, a: int, b: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """Truncated DFT matrices, built in float64 and rounded once to ``dtype``.

    ``kind``:

    - ``"fwd"``: complex ``(a + b + 1, n)``, rows ``k = 0..b, -a..-1``, entries
      ``exp(-2 pi i k x / n) / n``;
    - ``"inv"``: complex ``(n, a + b + 1)``, entries ``exp(+2 pi i k x / n)``;
    - ``"rfwd"``: real ``(n, 2 (b + 1))`` for ``k = 0..b``, columns interleaving the real and
      imaginary parts of ``exp(-2 pi i k x / n) / n``, so ``x @ M`` viewed as complex is the
      truncated ``rfft``;
    - ``"rinv"``: real ``(2 (b + 1), n)``: ``[Re Y, Im Y] @ M`` is the ``irfft`` of the
      half spectrum ``Y``. Its ``Im`` rows vanish for ``k = 0`` and the Nyquist ``k = n/2``,
      which is exactly the Hermitian projection of those slices.
    """
    if kind in ("rfwd", "rinv"):
        freqs = torch.arange(b + 1, dtype=torch.float64)
    else:
        freqs = torch.cat(
            [torch.arange(b + 1, dtype=torch.float64), torch.arange(-a, 0, dtype=torch.float64)]
        )
    x = torch.arange(n, dtype=torch.float64)
    # reduce k * x modulo n in exact integer arithmetic before scaling: keeps the angle small
    theta = (2 * math.pi / n) * torch.remainder(freqs[:, None] * x[None, :], n)
    cos, sin = torch.cos(theta), torch.sin(theta)
    if kind == "fwd":
        mat = torch.complex(cos, -sin) / n
    elif kind == "inv":
        mat = torch.complex(cos, sin).T
    elif kind == "rfwd":
        mat = torch.stack([cos.T, -sin.T], dim=-1).reshape(n, 2 * (b + 1)) / n
    else:
        # weights 1 for k = 0 and the Nyquist, 2 for the others (their conjugate partners)
        is_edge = (freqs == 0) | (2 * freqs == n)
        weight = torch.where(is_edge, 1.0, 2.0).to(torch.float64)[:, None]
        sin = torch.where(is_edge[:, None], 0.0, sin)
        mat = torch.stack([weight * cos, -weight * sin], dim=1).reshape(2 * (b + 1), n)
    return mat.to(device=device, dtype=dtype).contiguous()


def _matmul_axis(mat: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``mat @ z[l]`` for every ``l`` of ``z (lead, n, trailing)``: ``(lead, m, trailing)``.

    Broadcasting ``torch.matmul`` becomes a complex ``bmm``, which the CPU profiler shows
    running as ``lead`` separate small products; folding ``lead`` into the columns makes it
    one ``(m, n) @ (n, lead * trailing)`` product, at the price of two small transposes
    (about 15% off a 64x64 spectral layer's forward plus backward on the CPU).
    """
    return torch.tensordot(mat, z, dims=([1], [1])).transpose(0, 1)


def _use_dft(kept: Sequence[int], sizes: Sequence[int], device: torch.device) -> bool:
    """Whether truncated-DFT matmuls beat FFTs: few kept modes, and full-precision matmuls.

    The threshold ``kept <= 4 log2(n)`` (at least 8) comes from CPU timings of forward plus
    backward: for 16 of 64 modes the matmuls are about twice as fast as FFTs, for 128 of 4096
    four times slower. The DFT path is never used when float32 matmuls may run in TF32 or
    bfloat16, which would spoil the float32 accuracy of the transform.
    """
    if torch.get_float32_matmul_precision() != "highest":
        return False
    if device.type == "cuda" and torch.backends.cuda.matmul.allow_tf32:
        return False
    return all(k <= max(8.0, 4 * math.log2(max(n, 2))) for k, n in zip(kept, sizes))


class SpectralConv(nn.Module):
    """Fourier-space convolution with dense or factorized complex weights, in 1, 2 or 3 D.

    Parameters
    ----------
    in_channels : int
        Channels of the input.
    out_channels : int
        Channels of the output.
    n_modes : int or sequence of int
        Modes kept per spatial axis (neuraloperator 2.x convention, see the module docstring);
        ``len(n_modes)`` is the spatial dimension (1 to 3).
    bias : bool, default True
        Add a learned per-channel constant to the output (as neuraloperator's default).
    transform : {"auto", "dft", "fft"}, default "auto"
        How the truncated transforms are computed. ``"fft"``: ``rfft``/``fft`` along each
        axis, transforming only the kept columns of the later axes. ``"dft"``: matmuls with
        truncated DFT matrices (``n x kept`` per axis, cached), whose forward and backward
        touch only the kept modes; much faster on CPU when few modes are kept. ``"auto"``
        picks ``"dft"`` when every axis keeps at most ``max(8, 4 log2 n)`` modes and float32
        matmuls run in full precision (``torch.get_float32_matmul_precision() ==
        "highest"`` and, on CUDA, TF32 off), else ``"fft"``. Both give the same operator to
        float32 rounding.
    factorization : {None, "dense", "tucker", "cp", "tt"}, default None
        How the weight is stored (:mod:`sciml.neural.factorized`). ``None``/``"dense"``: a
        plain complex parameter ``weight``. Otherwise ``weight`` is a factorized module that
        the layer contracts with directly, on the kept modes only.
    rank : int or float, default 1.0
        Rank of the factorization: an int, or a float in ``(0, 1]`` giving the fraction of
        the dense parameter count to keep (see :func:`sciml.neural.factorized.resolve_rank`).
        Must be ``1.0`` for a dense weight.

    Attributes
    ----------
    weight : torch.nn.Parameter or AbstractSpectralWeight
        Dense: complex64, ``(in_channels, out_channels, *n_modes[:-1], n_modes[-1] // 2 +
        1)``, non-last mode axes in FFT order. Factorized: a module implying a tensor of that
        shape.
    bias : torch.nn.Parameter or None
        ``(out_channels,)``.
    active_modes : torch.Tensor
        Buffer, int64 ``(dim,)``: the modes in use per axis, in the ``n_modes`` convention
        (default ``n_modes``). Frequencies outside the block of ``active_modes`` are skipped:
        they contribute nothing and their weights get zero gradient. Saved in the state dict,
        so resuming restores it. Change it with :meth:`set_active_modes` (or by loading a
        state dict), not by writing to the buffer: the forward pass reads a host copy.
        State dicts written before this buffer existed load with all modes active.

    Notes
    -----
    Dense weights are drawn with real and imaginary parts i.i.d. ``N(0, 1 / (in + out))``, so
    ``E|w|^2 = 2 / (in + out)`` (a Glorot-like scale: for a smooth input of unit variance the
    output variance is about ``2 * in / (in + out)``); factorized weights are initialised to
    the same second moment. The global torch RNG is used; seed it with ``torch.manual_seed``
    or :func:`sciml.core.device.seed_everything`. The bias starts at zero.

    FFTs use ``norm="forward"``, so the stored spectrum approximates Fourier-series
    coefficients independently of the resolution; the overall operator does not depend on
    this choice.

    Active modes ``m`` give exactly the layer built with ``n_modes=m`` whose weight is the
    matching sub-block (the kept frequencies of ``m``, see :func:`kept_frequencies`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        n_modes: int | Sequence[int],
        bias: bool = True,
        transform: str = "auto",
        factorization: str | None = None,
        rank: int | float = 1.0,
    ) -> None:
        super().__init__()
        check_choice("transform", transform, ("auto", "dft", "fft"))
        check_choice("factorization", factorization, (None, "dense", "tucker", "cp", "tt"))
        self.transform = transform
        self.in_channels = _check_channels("in_channels", in_channels)
        self.out_channels = _check_channels("out_channels", out_channels)
        self.n_modes = _normalise_modes(n_modes)
        self.dim = len(self.n_modes)
        self.factorization = None if factorization == "dense" else factorization
        weight_modes = (*self.n_modes[:-1], self.n_modes[-1] // 2 + 1)
        shape = (self.in_channels, self.out_channels, *weight_modes)
        weight = spectral_weight(self.factorization, shape, rank)
        self.rank = rank
        if self.factorization is None:
            # a plain parameter keeps state dicts as they were: "weight", not "weight.weight"
            self.weight = weight.weight
        else:
            self.weight = weight
        self.bias = nn.Parameter(torch.zeros(self.out_channels)) if bias else None
        self.register_buffer("active_modes", torch.tensor(self.n_modes, dtype=torch.long))
        # forward reads this host copy of the buffer: no device sync, and torch.compile
        # guards on its value, so changing the active modes recompiles instead of being missed
        self._active: tuple[int, ...] = self.n_modes

    def extra_repr(self) -> str:
        text = (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
            f"n_modes={self.n_modes}, bias={self.bias is not None}, "
            f"transform={self.transform!r}"
        )
        if self.factorization is not None:
            text += f", factorization={self.factorization!r}, rank={self.rank!r}"
        return text

    # ------------------------------------------------------------------ active modes
    def get_active_modes(self) -> tuple[int, ...]:
        """The active modes per axis (``n_modes`` convention), as Python ints."""
        return self._active

    def set_active_modes(self, modes: int | Sequence[int]) -> None:
        """Use only the lowest ``modes`` per axis (``n_modes`` convention).

        Parameters
        ----------
        modes : int or sequence of int
            One value for all axes or one per axis, each in ``[1, n_modes[j]]``.
        """
        if isinstance(modes, int) and not isinstance(modes, bool):
            modes = (modes,) * self.dim
        try:
            values = tuple(modes)
        except TypeError:
            values = ()
        ok = len(values) == self.dim and all(
            isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= n
            for m, n in zip(values, self.n_modes)
        )
        if not ok:
            raise ValueError(
                f"modes: got {modes!r}; expected an int or {self.dim} ints with "
                f"1 <= modes[j] <= n_modes[j] = {self.n_modes}"
            )
        with torch.no_grad():
            self.active_modes.copy_(torch.tensor(values, dtype=torch.long))
        self._active = tuple(int(m) for m in values)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        key = prefix + "active_modes"
        if key not in state_dict:
            # checkpoints from before incremental training: every mode was active
            state_dict[key] = torch.tensor(self.n_modes, dtype=torch.long)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        loaded = tuple(int(m) for m in self.active_modes.tolist())
        if len(loaded) != self.dim or not all(1 <= m <= n for m, n in zip(loaded, self.n_modes)):
            raise ValueError(
                f"state_dict: {key} = {list(loaded)} does not fit n_modes = {self.n_modes}"
            )
        self._active = loaded

    def active_block(self) -> list[tuple[int, int]]:
        """Block ``(a, b)`` per stored mode axis of the active modes (any grid).

        Non-last axes keep frequencies ``-a..b``; the last keeps ``0..b`` (``a = 0``).
        """
        modes = self.get_active_modes()
        block = [(m // 2, (m - 1) // 2) for m in modes[:-1]]
        return [*block, (0, modes[-1] // 2)]

    def mode_energy(self, axis: int) -> tuple[list[int], torch.Tensor]:
        """Spectral energy of the active weight along one spatial axis.

        Parameters
        ----------
        axis : int
            Spatial axis ``0 <= axis < dim``.

        Returns
        -------
        freqs : list of int
            The active integer frequencies of that axis (FFT order, as
            :func:`kept_frequencies`).
        energy : torch.Tensor
            Real ``(len(freqs),)``: ``sum |W|^2`` over channels and the other active modes
            for each frequency, computed from the factors without the dense weight.
        """
        if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis < self.dim:
            raise ValueError(f"axis: got {axis!r}; expected an int in [0, {self.dim})")
        block = self.active_block()
        a, b = block[axis]
        freqs = list(range(b + 1)) + list(range(-a, 0))
        with torch.no_grad():
            if self.factorization is None:
                w = self.weight
                for j, (aj, bj) in enumerate(block):
                    w = gather_block(w, 2 + j, aj, bj)
                dims = [d for d in range(w.ndim) if d != 2 + axis]
                energy = w.abs().square().sum(dim=dims)
            else:
                assert isinstance(self.weight, AbstractSpectralWeight)
                energy = self.weight.slice_energy(axis, block)
        return freqs, energy

    # ------------------------------------------------------------------ forward
    def _check_input(
        self, x: torch.Tensor, output_shape: Sequence[int] | None
    ) -> tuple[int, ...]:
        check_batch("x", x, self.in_channels, self.dim)
        if output_shape is None:
            return tuple(x.shape[2:])
        out = tuple(output_shape)
        if len(out) != self.dim or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in out
        ):
            raise ValueError(
                f"output_shape: expected {self.dim} positive ints, got {output_shape!r}"
            )
        return out

    def forward(
        self, x: torch.Tensor, output_shape: Sequence[int] | None = None
    ) -> torch.Tensor:
        """Apply the spectral convolution.

        Parameters
        ----------
        x : torch.Tensor
            Real input ``(batch, in_channels, *space)`` with ``len(space) == len(n_modes)``.
        output_shape : sequence of int, optional
            Spatial shape of the output; the kept modes are resampled on that grid (Fourier
            interpolation). Default: the input's spatial shape.

        Returns
        -------
        torch.Tensor
            ``(batch, out_channels, *output_shape)``, float32 (float64 for float64 input).
        """
        out_shape = self._check_input(x, output_shape)
        with torch.autocast(device_type=x.device.type, enabled=False):
            return self._forward(x, out_shape)

    def _forward(self, x: torch.Tensor, out_shape: tuple[int, ...]) -> torch.Tensor:
        real = torch.float64 if x.dtype == torch.float64 else torch.float32
        x = x.to(real)
        in_shape = tuple(x.shape[2:])
        modes = self.get_active_modes()
        k_last = min(modes[-1] // 2, in_shape[-1] // 2, out_shape[-1] // 2)
        ranges = [
            _kept_range(m, (n_in, n_out))
            for m, n_in, n_out in zip(modes[:-1], in_shape, out_shape)
        ]

        use_dft = self.transform == "dft"
        if self.transform == "auto":
            kept = [a + b + 1 for a, b in ranges] + [k_last + 1]
            sizes = [max(i, o) for i, o in zip(in_shape, out_shape)]
            use_dft = _use_dft(kept, sizes, x.device)
        if use_dft:
            return self._forward_dft(x, ranges, k_last, out_shape)
        return self._forward_fft(x, ranges, k_last, out_shape)

    def _contract(
        self, z: torch.Tensor, ranges: list[tuple[int, int]], k_last: int
    ) -> torch.Tensor:
        """``(batch, in, *kept) -> (batch, out, *kept)`` on the kept block, plus the bias."""
        block = [*ranges, (0, k_last)]
        if self.factorization is None:
            y = dense_contract(z, self.weight, block)
        else:
            y = self.weight.contract(z, block)
        if self.bias is None:
            return y
        # a constant is the zero-frequency coefficient (always kept): adding the bias
        # here costs a pass over the small spectrum instead of over the output field
        flat = y.flatten(2)
        dc = self.bias.to(flat.dtype)[:, None]
        flat = torch.cat([flat[..., :1] + dc, flat[..., 1:]], dim=-1)
        return flat.view(y.shape)

    def _forward_dft(
        self,
        x: torch.Tensor,
        ranges: list[tuple[int, int]],
        k_last: int,
        out_shape: tuple[int, ...],
    ) -> torch.Tensor:
        real = x.dtype
        cplx = torch.complex128 if real == torch.float64 else torch.complex64
        in_shape = tuple(x.shape[2:])
        batch, d = x.shape[0], self.dim
        dev = x.device
        n = in_shape[-1]
        # last axis: one real matmul whose interleaved (re, im) output is viewed as complex
        z = x.reshape(-1, n) @ _dft_matrix("rfwd", n, 0, k_last, real, dev)
        z = torch.view_as_complex(z.view(*x.shape[:-1], k_last + 1, 2))
        trailing = k_last + 1
        for j in reversed(range(d - 1)):
            a, b = ranges[j]
            mat = _dft_matrix("fwd", in_shape[j], a, b, cplx, dev)
            z = _matmul_axis(mat, z.reshape(-1, in_shape[j], trailing))
            trailing *= a + b + 1
        kept = [a + b + 1 for a, b in ranges] + [k_last + 1]
        y = self._contract(z.reshape(batch, self.in_channels, *kept), ranges, k_last)
        leading = batch * self.out_channels
        for j in range(d - 1):
            a, b = ranges[j]
            mat = _dft_matrix("inv", out_shape[j], a, b, cplx, dev)
            y = _matmul_axis(mat, y.reshape(leading, a + b + 1, -1))
            leading *= out_shape[j]
        y = torch.view_as_real(y.contiguous()).reshape(-1, 2 * (k_last + 1))
        out = y @ _dft_matrix("rinv", out_shape[-1], 0, k_last, real, dev)
        return out.view(batch, self.out_channels, *out_shape)

    def _forward_fft(
        self,
        x: torch.Tensor,
        ranges: list[tuple[int, int]],
        k_last: int,
        out_shape: tuple[int, ...],
    ) -> torch.Tensor:
        real = x.dtype
        in_shape = tuple(x.shape[2:])
        d = self.dim
        # last axis: real FFT, then keep k = 0..k_last; the other axes are transformed only
        # on the kept columns, which prunes most of their FFT work
        z = torch.fft.rfft(x, dim=-1, norm="forward").narrow(-1, 0, k_last + 1)
        for j, (a, b) in enumerate(ranges):
            z = torch.fft.fft(z, dim=2 + j, norm="forward")
            z = _gather(z, 2 + j, in_shape[j], a, b)
        y = self._contract(z, ranges, k_last)
        for j in range(d - 1):
            a, b = ranges[j]
            axis = 2 + j
            y = _scatter(y, axis, out_shape[j], a, b)
            y = torch.fft.ifft(y, dim=axis, norm="forward")

        # Hermitian projection of the k_last = 0 (and kept Nyquist) slices: after the inverse
        # FFT of the other axes it amounts to dropping their imaginary part
        mask = torch.ones(k_last + 1, dtype=real, device=y.device)
        mask[0] = 0.0
        if out_shape[-1] % 2 == 0 and k_last == out_shape[-1] // 2:
            mask[-1] = 0.0
        y = torch.complex(y.real, y.imag * mask)
        return torch.fft.irfft(y, n=out_shape[-1], dim=-1, norm="forward")
