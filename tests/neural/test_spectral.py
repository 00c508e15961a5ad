"""SpectralConv against an independent dense float64 DFT oracle."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from sciml.neural.spectral import SpectralConv, count_parameters, kept_frequencies

TRANSFORMS = ["dft", "fft"]

# (n_modes, input shape): 1-D, 2-D, 3-D, even and odd sizes and mode counts, and grids too
# coarse for the requested modes
CASES = [
    ((6,), (16,)),
    ((6,), (15,)),
    ((7,), (9,)),
    ((5, 7), (12, 11)),
    ((6, 6), (11, 12)),
    ((8, 8), (5, 6)),
    ((4, 5, 6), (9, 8, 7)),
    ((6, 4, 5), (8, 9, 10)),
]


def _kept(m: int, n_in: int, n_out: int, last: bool) -> list[int]:
    """Kept frequencies spelled from the documented convention, by brute force."""
    if last:
        return [k for k in range(m // 2 + 1) if k <= n_in // 2 and k <= n_out // 2]
    wanted = range(-(m // 2), (m - 1) // 2 + 1)
    return [k for k in wanted if all(-(n // 2) <= k <= (n - 1) // 2 for n in (n_in, n_out))]


def oracle(x, weight, bias, n_modes, out_shape=None):
    """Dense float64 DFT implementation of the spectral convolution.

    Explicit DFT matrices over the kept integer frequencies; the weight of frequency k on a
    non-last axis with m modes sits at index k mod m. The real output is Re(sum_k c_k Y_k
    e^{2 pi i k.x}) with c_k = 2 on the last axis except at k = 0 and the Nyquist, which is
    the irfft of the half spectrum with its k_last = 0 / Nyquist slices made Hermitian.
    """
    d = len(n_modes)
    s_in = tuple(x.shape[2:])
    s_out = tuple(out_shape or s_in)
    spec = x.to(torch.complex128)
    ks = []
    for j in range(d):
        kk = _kept(n_modes[j], s_in[j], s_out[j], j == d - 1)
        ks.append(kk)
        n = s_in[j]
        mat = torch.tensor(np.exp(-2j * np.pi * np.outer(kk, np.arange(n)) / n) / n)
        spec = torch.movedim(torch.tensordot(spec, mat, dims=([2 + j], [1])), -1, 2 + j)
    w = weight
    for j in range(d):
        idx = [k % n_modes[j] for k in ks[j]]
        w = w.index_select(2 + j, torch.tensor(idx, dtype=torch.long))
    y = torch.einsum("bi...,io...->bo...", spec, w)
    n_last = s_out[-1]
    fac = [1.0 if (k == 0 or 2 * k == n_last) else 2.0 for k in ks[-1]]
    y = y * torch.tensor(fac, dtype=torch.float64)
    for j in range(d):
        n = s_out[j]
        mat = torch.tensor(np.exp(2j * np.pi * np.outer(np.arange(n), ks[j]) / n))
        y = torch.movedim(torch.tensordot(y, mat, dims=([2 + j], [1])), -1, 2 + j)
    out = y.real
    if bias is not None:
        out = out + bias.view(-1, *([1] * d))
    return out


def _make(n_modes, transform, in_ch=3, out_ch=2, seed=0):
    torch.manual_seed(seed)
    conv = SpectralConv(in_ch, out_ch, n_modes, transform=transform)
    with torch.no_grad():
        conv.bias.normal_()
    return conv


def _oracle_args(conv):
    return conv.weight.detach().to(torch.complex128), conv.bias.detach().double()


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize(("n_modes", "shape"), CASES)
def test_forward_matches_dense_dft(n_modes, shape, transform):
    conv = _make(n_modes, transform)
    x = torch.randn(2, 3, *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ref = oracle(x, *_oracle_args(conv), n_modes)
    out64 = conv(x)
    assert out64.dtype == torch.float64 and out64.shape == (2, 2, *shape)
    torch.testing.assert_close(out64, ref, rtol=0, atol=1e-12)
    out32 = conv(x.float())
    assert out32.dtype == torch.float32
    torch.testing.assert_close(out32.double(), ref, rtol=0, atol=2e-6 * ref.abs().max().item())


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize(("n_modes", "shape"), [CASES[1], CASES[3], CASES[5], CASES[6]])
def test_output_shape_resampling(n_modes, shape, transform):
    conv = _make(n_modes, transform)
    x = torch.randn(1, 3, *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    w, b = _oracle_args(conv)
    for out_shape in (tuple(2 * s for s in shape), tuple(s + 3 for s in shape),
                      tuple(max(s - 3, 1) for s in shape)):
        out = conv(x, output_shape=out_shape)
        assert out.shape == (1, 2, *out_shape)
        torch.testing.assert_close(out, oracle(x, w, b, n_modes, out_shape), rtol=0, atol=1e-12)


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize(("n_modes", "shape"), [CASES[0], CASES[1], CASES[3], CASES[4],
                                                CASES[6], CASES[7]])
def test_gradients_match_oracle(n_modes, shape, transform):
    conv = _make(n_modes, transform)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, *shape, dtype=torch.float64, generator=gen)
    probe = torch.randn(2, 2, *shape, dtype=torch.float64, generator=gen)

    x1 = x.clone().requires_grad_()
    (conv(x1) * probe).sum().backward()

    x2 = x.clone().requires_grad_()
    w2 = conv.weight.detach().to(torch.complex128).requires_grad_()
    b2 = conv.bias.detach().double().requires_grad_()
    (oracle(x2, w2, b2, n_modes) * probe).sum().backward()

    torch.testing.assert_close(x1.grad, x2.grad, rtol=0, atol=1e-11)
    torch.testing.assert_close(conv.weight.grad.to(torch.complex128), w2.grad, rtol=1e-5,
                               atol=1e-6)
    torch.testing.assert_close(conv.bias.grad.double(), b2.grad, rtol=1e-5, atol=1e-6)

    # float32 path: same gradient to float32 accuracy
    conv.zero_grad()
    x3 = x.float().requires_grad_()
    (conv(x3) * probe.float()).sum().backward()
    scale = x2.grad.abs().max().item()
    torch.testing.assert_close(x3.grad.double(), x2.grad, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_gradcheck_finite_differences(transform):
    torch.manual_seed(4)
    conv = SpectralConv(2, 2, (3, 4), transform=transform).double()
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    w = conv.weight.detach().to(torch.complex128).requires_grad_()
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)

    def f(x, w, b):
        return torch.func.functional_call(conv, {"weight": w, "bias": b}, (x,))

    assert torch.autograd.gradcheck(f, (x, w, b), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize(("n_modes", "shape"), [((6,), (12,)), ((5, 6), (9, 12)),
                                                ((4, 3, 8), (7, 6, 8))])
def test_hermitian_projection_against_numpy_irfftn(n_modes, shape, transform):
    """The output is numpy's irfftn of the half spectrum with Hermitian 0/Nyquist slices."""
    conv = _make(n_modes, transform)
    with torch.no_grad():
        conv.bias.zero_()
    x = torch.randn(1, 3, *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    d = len(shape)
    axes = tuple(range(2, 2 + d))
    full = np.fft.rfftn(x.numpy(), axes=axes, norm="forward")
    # keep the documented modes in a zero spectrum
    mask = np.zeros(full.shape[2:], dtype=bool)
    grids = np.meshgrid(
        *[np.fft.fftfreq(n, 1 / n) for n in shape[:-1]], np.arange(full.shape[-1]), indexing="ij"
    )
    keep = np.ones(mask.shape, dtype=bool)
    for j, m in enumerate(n_modes[:-1]):
        keep &= (grids[j] >= -(m // 2)) & (grids[j] <= (m - 1) // 2)
    keep &= grids[-1] <= n_modes[-1] // 2
    weight = conv.weight.detach().numpy().astype(np.complex128)
    y = np.zeros((1, 2, *full.shape[2:]), dtype=np.complex128)
    for idx in zip(*np.nonzero(keep)):
        widx = tuple(int(k) % m for k, m in zip([g[idx] for g in grids[:-1]], n_modes[:-1]))
        y[(slice(None), slice(None), *idx)] = full[(slice(None), slice(None), *idx)] @ weight[
            (slice(None), slice(None), *widx, int(grids[-1][idx]))
        ]
    # explicit Hermitian symmetrisation of the k_last = 0 and Nyquist slices
    edges = [0] + ([shape[-1] // 2] if shape[-1] % 2 == 0 else [])
    for e in edges:
        s = y[..., e]
        flipped = s
        for ax in range(2, 2 + d - 1):
            flipped = np.roll(np.flip(flipped, axis=ax), 1, axis=ax)
        y[..., e] = (s + np.conj(flipped)) / 2
    ref = np.fft.irfftn(y, s=shape, axes=axes, norm="forward")
    np.testing.assert_allclose(conv(x).detach().numpy(), ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_imaginary_zero_mode_weight_has_no_effect(transform):
    """An imaginary weight on the zero mode maps a real mean to an imaginary one: projected out."""
    conv = SpectralConv(1, 1, (4, 4), transform=transform)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 0, 0] = 1j
        conv.bias.fill_(0.25)
    x = 1.0 + torch.randn(2, 1, 8, 8)
    torch.testing.assert_close(conv(x), torch.full((2, 1, 8, 8), 0.25))
    with torch.no_grad():
        conv.weight[0, 0, 0, 0] = 1.0
    torch.testing.assert_close(conv(x), x.mean(dim=(2, 3), keepdim=True).expand(2, 1, 8, 8) + 0.25)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_adjoint_identity(transform):
    """<A x, y> = <x, A^T y> with A^T from autograd: the layer is a real linear map."""
    torch.manual_seed(6)
    conv = SpectralConv(3, 2, (5, 6), bias=False, transform=transform).double()
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(2, 3, 9, 10, dtype=torch.float64, generator=gen, requires_grad=True)
    y = torch.randn(2, 2, 9, 10, dtype=torch.float64, generator=gen)
    ax = conv(x)
    (aty,) = torch.autograd.grad(ax, x, grad_outputs=y)
    assert torch.isclose((ax * y).sum(), (x * aty).sum(), rtol=1e-12, atol=0)
    # linearity
    x2 = torch.randn_like(x)
    torch.testing.assert_close(conv(2 * x + x2), 2 * conv(x) + conv(x2), rtol=0, atol=1e-12)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_autocast_bfloat16_keeps_float32(transform):
    torch.manual_seed(8)
    conv = SpectralConv(4, 4, (6, 6), transform=transform)
    x = torch.randn(2, 4, 16, 12)
    ref = conv(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = conv(x)
        out_bf16_in = conv(x.bfloat16())
    assert out.dtype == torch.float32 and out_bf16_in.dtype == torch.float32
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)
    # only the input rounding to bfloat16 (8 bits of mantissa) remains
    err = (out_bf16_in - ref).abs().max() / ref.abs().max()
    assert err < 2e-2


def test_dft_and_fft_paths_agree_and_auto_picks():
    torch.manual_seed(9)
    a = SpectralConv(3, 3, (16, 16), transform="dft")
    b = SpectralConv(3, 3, (16, 16), transform="fft")
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 64, 48)
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=2e-6)
    auto = SpectralConv(3, 3, (16, 16))
    auto.load_state_dict(a.state_dict())
    torch.testing.assert_close(auto(x), a(x), rtol=0, atol=2e-6)


def test_kept_frequencies_convention():
    assert kept_frequencies((4, 5, 6), (16, 16, 16)) == [
        [0, 1, -2, -1],
        [0, 1, 2, -2, -1],
        [0, 1, 2, 3],
    ]
    # coarse grid: only what exists on 5 x 6 points
    assert kept_frequencies((8, 8), (5, 6)) == [[0, 1, 2, -2, -1], [0, 1, 2, 3]]
    # output grid limits too
    assert kept_frequencies((8,), (32,), (6,)) == [[0, 1, 2, 3]]


def test_parameter_count_formula():
    conv = SpectralConv(3, 5, (6, 7, 9))
    assert conv.weight.shape == (3, 5, 6, 7, 5)
    assert count_parameters(conv) == 2 * 3 * 5 * 6 * 7 * (9 // 2 + 1) + 5
    assert count_parameters(SpectralConv(3, 5, 8, bias=False)) == 2 * 3 * 5 * 5


def test_matches_neuralop_on_even_grids():
    """Same weights give the same output as neuraloperator 2.x (even sizes, where its shifts
    are right); this pins down the meaning of n_modes and the parameter count."""
    pytest.importorskip("neuralop")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from neuralop.layers.spectral_convolution import SpectralConv as NeuralopConv
    for n_modes, shape in [((6, 5), (16, 12)), ((4,), (10,)), ((4, 6, 4), (8, 8, 8)),
                           ((16, 16), (10, 10))]:
        torch.manual_seed(10)
        ours = SpectralConv(3, 2, n_modes)
        theirs = NeuralopConv(3, 2, n_modes)
        assert count_parameters(ours) == count_parameters(theirs)
        with torch.no_grad():
            ours.bias.normal_()
            theirs.bias.copy_(ours.bias.view(-1, *[1] * len(n_modes)))
            w = ours.weight
            if len(n_modes) > 1:  # their non-last mode axes are centred, ours in FFT order
                w = torch.fft.fftshift(w, dim=tuple(range(2, 1 + len(n_modes))))
            theirs.weight.tensor.copy_(w)
        x = torch.randn(2, 3, *shape)
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=1e-5)


def test_initial_output_variance_is_sane():
    torch.manual_seed(11)
    conv = SpectralConv(32, 32, (8, 8), bias=False)
    t = torch.linspace(0, 2 * math.pi, 33)[:-1]
    # smooth input: unit-variance combination of low modes in every channel
    phases = torch.rand(32, 1, 1) * 2 * math.pi
    x = (math.sqrt(2) * torch.sin(t[:, None] + t[None, :] + phases)).unsqueeze(0)
    var = conv(x).var().item()
    assert 0.3 < var < 3.0


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="n_modes"):
        SpectralConv(2, 2, (4, 0))
    with pytest.raises(ValueError, match="n_modes"):
        SpectralConv(2, 2, (4, 4, 4, 4))
    with pytest.raises(ValueError, match="in_channels"):
        SpectralConv(0, 2, 4)
    with pytest.raises(ValueError, match="transform"):
        SpectralConv(2, 2, 4, transform="fast")
    conv = SpectralConv(2, 3, (4, 4))
    with pytest.raises(ValueError, match=r"x: expected shape \(batch, 2, \*space\) with 2"):
        conv(torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match="2 spatial axes"):
        conv(torch.randn(1, 2, 8))
    with pytest.raises(ValueError, match="output_shape"):
        conv(torch.randn(1, 2, 8, 8), output_shape=(8,))
    with pytest.raises(ValueError, match="real"):
        conv(torch.randn(1, 2, 8, 8, dtype=torch.complex64))
