"""FNO options: domain padding, positional embedding, channel MLP and skip connections."""

from __future__ import annotations

import json
import math

import pytest
import torch

from sciml.neural.fno import FNO
from sciml.neural.spectral import count_parameters


def _model(dim=1, **kwargs):
    torch.manual_seed(0)
    args = {"hidden_channels": 6, "n_layers": 2, **kwargs}
    return FNO(1, 2, (4,) * dim, **args)


def _block_inputs(model, x):
    """Shapes and values of every FNO block's input during one forward pass."""
    seen = []
    handles = [b.register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))
               for b in model.blocks]
    with torch.no_grad():
        out = model(x)
    for h in handles:
        h.remove()
    return out, seen


# ----------------------------------------------------------------------------- padding
@pytest.mark.parametrize("mode", ["symmetric", "one-sided"])
@pytest.mark.parametrize(("fraction", "shape"), [(0.25, (32,)), (0.1, (33,)), (0.2, (16, 11)),
                                                 ((0.5, 0.0), (10, 12)), (0.15, (6, 7, 9))])
def test_padded_size_is_round_fraction_per_side(mode, fraction, shape):
    dim = len(shape)
    model = _model(dim, domain_padding=fraction, padding_mode=mode)
    fractions = (fraction,) * dim if isinstance(fraction, float) else fraction
    pads = [round(f * n) for f, n in zip(fractions, shape)]
    assert model.padding(shape) == tuple(pads)
    x = torch.randn(2, 1, *shape)
    out, inputs = _block_inputs(model, x)
    assert out.shape == (2, 2, *shape)
    sides = 2 if mode == "symmetric" else 1
    expected = tuple(n + sides * p for n, p in zip(shape, pads))
    assert all(tuple(h.shape[2:]) == expected for h in inputs)
    # the first block sees the lifted field surrounded by zeros exactly where padded
    h = inputs[0]
    lifted = model.lifting(model._embed(x)).detach()
    starts = pads if mode == "symmetric" else [0] * dim
    inner = (slice(None), slice(None), *(slice(s, s + n) for s, n in zip(starts, shape)))
    torch.testing.assert_close(h[inner], lifted)
    mask = torch.ones_like(h, dtype=torch.bool)
    mask[inner] = False
    assert mask.any() == any(pads) and (h[mask] == 0).all()


def test_no_padding_is_the_unpadded_model():
    a = _model(2)
    b = _model(2, domain_padding=0.0, padding_mode="one-sided")
    x = torch.randn(2, 1, 12, 10)
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)


def test_padding_scales_with_resolution():
    """With integer padding at 32 and 64 points the padded domains are the same: a smooth
    input gives the same output on the shared grid points up to aliasing of the zero pad."""
    model = _model(1, domain_padding=0.25, positional_embedding=False)
    assert model.padding((32,)) == (8,) and model.padding((64,)) == (16,)
    t64 = torch.arange(64) / 64
    u = torch.exp(-((t64 - 0.5) ** 2) / 0.02)[None, None]  # ~0 at the ends: padding is smooth
    with torch.no_grad():
        fine, coarse = model(u), model(u[..., ::2])
    err = (fine[..., ::2] - coarse).abs().max() / fine.abs().max()
    assert err < 2e-3, float(err)


def _cumulative_integral_data(n, size, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.linspace(0, 1, size)
    c = torch.randn(n, 4, generator=gen)
    f = c[:, :1] + c[:, 1:2] * x + c[:, 2:3] * torch.sin(3 * x + c[:, 3:4])
    u = torch.cat([torch.zeros(n, 1), torch.cumulative_trapezoid(f, x, dim=-1)], dim=-1)
    return f[:, None], u[:, None]


def test_padding_helps_a_non_periodic_problem():
    """u(x) = int_0^x f on [0, 1]: not periodic and not translation equivariant. Without
    positional embedding an unpadded FNO commutes with periodic shifts and cannot locate
    x = 0; zero padding marks the boundary. Measured test errors: 0.52 unpadded, 0.08-0.14
    padded (three seeds)."""
    x_train, y_train = _cumulative_integral_data(32, 32, 0)
    x_test, y_test = _cumulative_integral_data(32, 32, 1)
    errors = {}
    for padding in (0.0, 0.25):
        torch.manual_seed(0)
        model = FNO(1, 1, 8, hidden_channels=12, n_layers=2, domain_padding=padding,
                    positional_embedding=False)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(150):
            optimizer.zero_grad()
            (model(x_train) - y_train).square().mean().backward()
            optimizer.step()
        with torch.no_grad():
            err = (model(x_test) - y_test).norm(dim=-1) / y_test.norm(dim=-1)
        errors[padding] = err.mean().item()
    assert errors[0.25] < 0.4 * errors[0.0], errors


def test_padding_options_validated_and_in_config():
    model = _model(2, domain_padding=(0.1, 0.2), padding_mode="one-sided")
    config = json.loads(json.dumps(model.config))
    assert config["domain_padding"] == [0.1, 0.2] and config["padding_mode"] == "one-sided"
    assert FNO(**config).padding((20, 20)) == (2, 4)
    with pytest.raises(ValueError, match="domain_padding"):
        FNO(1, 1, 4, domain_padding=-0.1)
    with pytest.raises(ValueError, match="domain_padding"):
        FNO(1, 1, (4, 4), domain_padding=(0.1, 0.1, 0.1))
    with pytest.raises(ValueError, match="domain_padding"):
        FNO(1, 1, 4, domain_padding=True)
    with pytest.raises(ValueError, match="padding_mode"):
        FNO(1, 1, 4, padding_mode="both")


# ----------------------------------------------------------------------------- embedding
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_positional_embedding_breaks_shift_equivariance(dim):
    """Without the embedding (and without padding) the FNO commutes with periodic shifts,
    exactly up to rounding; the embedding's coordinate channels break that."""
    shape = (12, 10, 8)[:dim]
    x = torch.randn(2, 1, *shape)
    dims = tuple(range(2, 2 + dim))
    shifts = (3, -2, 5)[:dim]
    for embed in (False, True):
        model = _model(dim, positional_embedding=embed)
        with torch.no_grad():
            a = model(torch.roll(x, shifts, dims))
            b = torch.roll(model(x), shifts, dims)
        err = ((a - b).abs().max() / b.abs().max()).item()
        assert (err > 1e-3) if embed else (err < 1e-5), (embed, err)


def test_positional_embedding_channels_are_grid_coordinates():
    model = _model(2)
    x = torch.zeros(1, 1, 4, 5)
    emb = model._embed(x)
    assert emb.shape == (1, 3, 4, 5)
    torch.testing.assert_close(emb[0, 1], (torch.arange(4) / 4)[:, None].expand(4, 5))
    torch.testing.assert_close(emb[0, 2], (torch.arange(5) / 5)[None, :].expand(4, 5))


# ----------------------------------------------------------------------------- channel MLP
def test_channel_mlp_off_removes_its_parameters():
    on = FNO(1, 1, (6, 6), hidden_channels=8, n_layers=3)
    off = FNO(1, 1, (6, 6), hidden_channels=8, n_layers=3, use_channel_mlp=False)
    h, e = 8, 4
    per_block = h * e + e + e * h + h + h  # channel MLP + soft-gating skip
    assert count_parameters(on) - count_parameters(off) == 3 * per_block
    assert all(b.channel_mlp is None and b.channel_mlp_skip is None for b in off.blocks)


def test_channel_mlp_expansion_sets_width():
    model = FNO(1, 1, 4, hidden_channels=10, n_layers=1, channel_mlp_expansion=1.5)
    assert model.blocks[0].channel_mlp.layers[0].weight.shape == (15, 10)


# ----------------------------------------------------------------------------- skips
def _one_block(skip, use_channel_mlp=False):
    torch.manual_seed(3)
    model = FNO(1, 1, 4, hidden_channels=5, n_layers=1, fno_skip=skip,
                use_channel_mlp=use_channel_mlp, channel_mlp_skip=skip,
                positional_embedding=False)
    with torch.no_grad():  # no spectral path: the block output is the skip alone
        model.blocks[0].spectral.weight.zero_()
        model.blocks[0].spectral.bias.zero_()
    return model


def test_skip_connections_against_hand_computation():
    x = torch.randn(3, 1, 16)
    outs = {}
    for skip in ("identity", "soft-gating", "linear", None):
        model = _one_block(skip)
        with torch.no_grad():
            v = model.lifting(x)
            if skip == "soft-gating":
                model.blocks[0].fno_skip.weight.copy_(torch.arange(1.0, 6.0))
            expected = {
                "identity": v,
                "soft-gating": v * torch.arange(1.0, 6.0)[:, None],
                "linear": torch.einsum("oi,bin->bon", model.blocks[0].fno_skip.weight, v)
                if skip == "linear" else None,
                None: torch.zeros_like(v),
            }[skip]
            outs[skip] = model(x)
            torch.testing.assert_close(outs[skip], model.projection(expected))


def test_channel_mlp_skip_against_hand_computation():
    x = torch.randn(2, 1, 16)
    model = _one_block("identity", use_channel_mlp=True)
    block = model.blocks[0]
    with torch.no_grad():
        v = model.lifting(x)
        h = v  # spectral part is zero, identity fno skip, last block: no activation
        expected = block.channel_mlp(h) + v
        torch.testing.assert_close(model(x), model.projection(expected))


@pytest.mark.parametrize("skip", ["linear", "identity", "soft-gating", None])
def test_skip_parameter_counts(skip):
    base = FNO(1, 1, 4, hidden_channels=6, n_layers=2, fno_skip=None, channel_mlp_skip=None)
    model = FNO(1, 1, 4, hidden_channels=6, n_layers=2, fno_skip=skip, channel_mlp_skip=skip)
    per_skip = {"linear": 36, "soft-gating": 6, "identity": 0, None: 0}[skip]
    assert count_parameters(model) - count_parameters(base) == 2 * 2 * per_skip


def test_all_options_together_train_in_3d():
    torch.manual_seed(4)
    model = FNO(2, 1, (4, 4, 4), hidden_channels=6, n_layers=2, domain_padding=0.2,
                padding_mode="one-sided", factorization="tt", rank=0.3, fno_skip="soft-gating",
                channel_mlp_skip="linear", non_linearity="silu")
    x = torch.randn(2, 2, 6, 7, 5)
    loss = model(x).square().mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert math.isfinite(loss.item())
