"""Factorized spectral weights against their dense reconstructions and hand formulas."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from sciml.neural.factorized import (
    CPSpectralWeight,
    TTSpectralWeight,
    TuckerSpectralWeight,
    resolve_rank,
    spectral_weight,
)
from sciml.neural.spectral import SpectralConv, count_parameters

# the complex128 oracles cast modules with complex parameters, which torch warns about
pytestmark = pytest.mark.filterwarnings("ignore:Complex modules are a new feature")

FACTORIZATIONS = ["dense", "tucker", "cp", "tt"]
# (shape, block): 1-D, 2-D and 3-D weights; blocks that keep everything or a sub-block
CASES = [
    ((3, 4, 5), [(0, 4)]),
    ((3, 4, 5), [(0, 2)]),
    ((4, 3, 6, 4), [(3, 2), (0, 3)]),
    ((4, 3, 6, 4), [(1, 1), (0, 1)]),
    ((2, 3, 4, 5, 3), [(2, 1), (1, 2), (0, 2)]),
    ((2, 3, 4, 5, 3), [(0, 0), (2, 0), (0, 0)]),
]


def _weight(factorization, shape, rank=0.5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    if factorization == "dense":
        return spectral_weight("dense", shape, 1.0, generator=gen)
    return spectral_weight(factorization, shape, rank, generator=gen)


def _dense64(weight, block=None):
    """The reconstruction computed in complex128 (from a double copy of the factors)."""
    return copy.deepcopy(weight).to(torch.complex128).to_dense(block).detach()


def _slice(w, block):
    """Gather a block from a dense tensor by explicit index lists (independent of the code)."""
    for j, (a, b) in enumerate(block):
        size = w.shape[2 + j]
        idx = list(range(b + 1)) + list(range(size - a, size))
        w = w.index_select(2 + j, torch.tensor(idx))
    return w


@pytest.mark.parametrize("factorization", FACTORIZATIONS)
@pytest.mark.parametrize(("shape", "block"), CASES)
@pytest.mark.parametrize("rank", [0.3, 2])
def test_contraction_matches_dense_reconstruction(factorization, shape, block, rank):
    weight = _weight(factorization, shape, rank)
    kept = [a + b + 1 for a, b in block]
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(3, shape[0], *kept, dtype=torch.complex128, generator=gen)
    full = _dense64(weight)
    assert full.shape == shape and full.dtype == torch.complex128
    dense = _slice(full, block)
    # the block of the reconstruction is the reconstruction of the block
    torch.testing.assert_close(_dense64(weight, block), dense)
    ref = torch.einsum("bi...,io...->bo...", z, dense)
    out64 = weight.contract(z, block)
    assert out64.dtype == torch.complex128 and out64.shape == (3, shape[1], *kept)
    torch.testing.assert_close(out64, ref, rtol=0, atol=1e-12 * ref.abs().max().item())
    out32 = weight.contract(z.to(torch.complex64), block)
    assert out32.dtype == torch.complex64
    torch.testing.assert_close(out32.to(torch.complex128), ref, rtol=0,
                               atol=3e-6 * ref.abs().max().item())


@pytest.mark.parametrize("factorization", FACTORIZATIONS)
@pytest.mark.parametrize(("shape", "block"), [CASES[1], CASES[3], CASES[4]])
def test_slice_energy_matches_dense(factorization, shape, block):
    weight = _weight(factorization, shape, 0.4)
    dense = _dense64(weight, block)
    for axis in range(len(shape) - 2):
        dims = [d for d in range(dense.ndim) if d != 2 + axis]
        ref = dense.abs().square().sum(dim=dims)
        got = copy.deepcopy(weight).to(torch.complex128).slice_energy(axis, block)
        torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12 * ref.sum().item())
        got32 = weight.slice_energy(axis, block).double()
        torch.testing.assert_close(got32, ref, rtol=1e-5, atol=1e-7 * ref.sum().item())


def _formula(factorization, shape, ranks):
    """Real parameter counts spelled out from the docstrings."""
    if factorization == "dense":
        return 2 * math.prod(shape)
    if factorization == "cp":
        return 2 * ranks[0] * sum(shape)
    if factorization == "tucker":
        return 2 * (math.prod(ranks) + sum(s * r for s, r in zip(shape, ranks)))
    bonds = [1, *ranks, 1]
    return 2 * sum(bonds[k] * shape[k] * bonds[k + 1] for k in range(len(shape)))


@pytest.mark.parametrize(
    ("factorization", "rank"),
    [("dense", 1.0)] + [(f, r) for f in FACTORIZATIONS[1:] for r in (1, 3, 0.05, 0.2, 0.7, 1.0)],
)
@pytest.mark.parametrize("shape", [(3, 4, 5), (8, 6, 6, 4), (2, 3, 4, 5, 3)])
def test_parameter_count_matches_formula(factorization, shape, rank):
    weight = _weight(factorization, shape, rank)
    expected = _formula(factorization, shape, weight.ranks)
    assert count_parameters(weight) == expected == weight.n_parameters
    assert all(p.dtype == torch.complex64 for p in weight.parameters())


def test_integer_ranks():
    shape = (8, 6, 6, 4)
    assert resolve_rank("cp", shape, 5) == (5,)
    assert resolve_rank("tucker", shape, 5) == (5, 5, 5, 4)
    # TT caps: min(prod(shape[:k+1]), prod(shape[k+1:])) = 8, 24, 4
    assert resolve_rank("tt", shape, 30) == (8, 24, 4)
    assert resolve_rank("tt", shape, 5) == (5, 5, 4)
    assert TuckerSpectralWeight(shape, 3).core.shape == (3, 3, 3, 3)
    assert [tuple(c.shape) for c in TTSpectralWeight(shape, 5).cores] == [
        (1, 8, 5), (5, 6, 5), (5, 6, 4), (4, 4, 1)
    ]


@pytest.mark.parametrize("shape", [(16, 16, 8, 5), (7, 5, 9), (4, 4, 6, 5, 3)])
@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.37, 1.0])
def test_fractional_rank_is_closest_count(shape, fraction):
    """Brute force over the rank family: no other member is closer to the target count."""
    target = fraction * 2 * math.prod(shape)

    def miss(name, ranks):
        return abs(_formula(name, shape, ranks) - target)

    # CP: every R
    best = resolve_rank("cp", shape, fraction)
    assert all(miss("cp", best) <= miss("cp", (r,)) for r in range(1, 4 * math.prod(shape)))
    # TT: a common bond rank, capped
    n = len(shape)
    caps = [min(math.prod(shape[: k + 1]), math.prod(shape[k + 1 :])) for k in range(n - 1)]
    best = resolve_rank("tt", shape, fraction)
    for r in range(1, max(caps) + 1):
        assert miss("tt", best) <= miss("tt", tuple(min(r, c) for c in caps))
    # Tucker: r_k = clamp(round(c s_k), 1, s_k) on a fine grid of c
    best = resolve_rank("tucker", shape, fraction)
    for i in range(1, 2001):
        c = i / 2000
        ranks = tuple(min(s, max(1, math.floor(c * s + 0.5))) for s in shape)
        assert miss("tucker", best) <= miss("tucker", ranks)


@pytest.mark.parametrize(
    ("factorization", "rank"),
    [("dense", 1.0)] + [(f, r) for f in FACTORIZATIONS[1:] for r in (0.05, 0.2, 8)],
)
def test_initialisation_matches_dense_variance(factorization, rank):
    """Implied weight second moment and output variance agree with the dense layer's.

    Dense entries have E|w|^2 = 2 / (in + out); for complex inputs with E|z|^2 = 1 the output
    variance is in * 2 / (in + out). The factorized inits match in expectation (a single
    Tucker draw varies by ~25 %: its pieces are i.i.d.), so the mean over 32 seeds must be
    within 15 %.
    """
    shape = (24, 16, 12, 7)
    sigma2 = 2 / (24 + 16)
    block = [(6, 5), (0, 6)]
    seeds = 32
    w2, out_var = [], []
    for seed in range(seeds):
        weight = _weight(factorization, shape, rank, seed)
        with torch.no_grad():
            dense = weight.to_dense()
            w2.append(dense.abs().square().mean().item())
            z = torch.randn(8, 24, 12, 7, dtype=torch.complex64,
                            generator=torch.Generator().manual_seed(100 + seed))
            out_var.append(weight.contract(z, block).abs().square().mean().item())
    assert abs(sum(w2) / seeds / sigma2 - 1) < 0.15, w2
    assert abs(sum(out_var) / seeds / (24 * sigma2) - 1) < 0.15, out_var


@pytest.mark.parametrize("factorization", ["tucker", "cp", "tt"])
def test_adam_trains_complex_factors(factorization):
    """Fit the action of a lower-rank weight of the same kind with Adam: the loss drops 10x."""
    torch.manual_seed(2)
    shape = (6, 5, 6, 4)
    target = _weight(factorization, shape, 2, seed=5)
    weight = _weight(factorization, shape, 4)
    optimizer = torch.optim.Adam(weight.parameters(), lr=2e-2)
    z = torch.randn(16, 6, 6, 4, dtype=torch.complex64)
    with torch.no_grad():
        y = target.contract(z)
    losses = []
    for _ in range(150):
        optimizer.zero_grad()
        loss = (weight.contract(z) - y).abs().square().mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(p.grad is not None and p.grad.is_complex() for p in weight.parameters())
    assert losses[-1] < 0.1 * losses[0]


@pytest.mark.parametrize("factorization", ["tucker", "cp", "tt"])
@pytest.mark.parametrize("transform", ["dft", "fft"])
@pytest.mark.parametrize(("n_modes", "shape"), [((6,), (16,)), ((7,), (9,)), ((5, 6), (12, 11)),
                                                ((8, 8), (5, 6)), ((4, 5, 6), (9, 8, 7))])
def test_factorized_spectral_conv_equals_dense_with_reconstructed_weight(
    factorization, transform, n_modes, shape
):
    """The layer's operator, coarse grids included, is the dense layer's with W = to_dense()."""
    torch.manual_seed(3)
    conv = SpectralConv(3, 2, n_modes, transform=transform, factorization=factorization,
                        rank=0.5)
    dense = SpectralConv(3, 2, n_modes, transform=transform)
    with torch.no_grad():
        conv.bias.normal_()
        dense.weight.copy_(conv.weight.to_dense())
        dense.bias.copy_(conv.bias)
    assert "weight" not in dict(conv.named_parameters())
    x = torch.randn(2, 3, *shape, dtype=torch.float64)
    ref = dense(x)
    # the dense copy holds the reconstruction rounded to complex64
    torch.testing.assert_close(conv(x), ref, rtol=0, atol=1e-6 * ref.abs().max().item())
    out = conv(x.float())
    torch.testing.assert_close(out, dense(x.float()), rtol=0, atol=2e-6 * out.abs().max().item())
    # gradients reach every factor
    conv(x.float()).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in conv.weight.parameters())


def test_factorized_state_dict_round_trip():
    torch.manual_seed(4)
    a = SpectralConv(3, 3, (6, 6), factorization="tt", rank=4)
    b = SpectralConv(3, 3, (6, 6), factorization="tt", rank=4)
    assert set(a.state_dict()) == {"weight.cores.0", "weight.cores.1", "weight.cores.2",
                                   "weight.cores.3", "bias", "active_modes"}
    b.load_state_dict(a.state_dict())
    x = torch.randn(1, 3, 10, 10)
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="factorization"):
        spectral_weight("svd", (2, 2, 4), 0.5)
    with pytest.raises(ValueError, match="factorization"):
        SpectralConv(2, 2, 4, factorization="TT")
    with pytest.raises(ValueError, match=r"rank: got 1.5"):
        TuckerSpectralWeight((2, 2, 4), 1.5)
    with pytest.raises(ValueError, match="rank: got 0"):
        CPSpectralWeight((2, 2, 4), 0)
    with pytest.raises(ValueError, match="rank"):
        CPSpectralWeight((2, 2, 4), True)
    with pytest.raises(ValueError, match="dense"):
        SpectralConv(2, 2, 4, rank=0.5)
    with pytest.raises(ValueError, match="shape"):
        TuckerSpectralWeight((2, 2), 1)
    weight = TuckerSpectralWeight((2, 3, 4, 5), 2)
    with pytest.raises(ValueError, match="block"):
        weight.contract(torch.zeros(1, 2, 4, 5, dtype=torch.complex64), [(0, 3)])
    with pytest.raises(ValueError, match="block"):
        weight.contract(torch.zeros(1, 2, 4, 5, dtype=torch.complex64), [(2, 2), (0, 4)])
    with pytest.raises(ValueError, match=r"z: expected a complex tensor \(batch, 2"):
        weight.contract(torch.zeros(1, 2, 4, 5), [(0, 3), (0, 4)])
    with pytest.raises(ValueError, match="axis"):
        weight.slice_energy(2)
