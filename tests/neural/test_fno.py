"""FNO: shapes, resolution invariance, config round trip, parameter count, bad inputs."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch

from sciml.core.registry import MODELS
from sciml.neural.fno import FNO
from sciml.neural.spectral import count_parameters


def _small(dim: int, **kwargs) -> FNO:
    torch.manual_seed(0)
    args = {"hidden_channels": 8, "n_layers": 2, **kwargs}
    return FNO(2, 3, (4,) * dim, **args)


@pytest.mark.parametrize(("dim", "shape"), [(1, (20,)), (2, (12, 9)), (3, (6, 7, 8))])
def test_shapes(dim, shape):
    model = _small(dim)
    out = model(torch.randn(4, 2, *shape))
    assert out.shape == (4, 3, *shape)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()


def _smooth_field(n: int, dim: int) -> torch.Tensor:
    """A band-limited periodic field (modes <= 2) sampled on n points per axis."""
    t = torch.arange(n, dtype=torch.float64) / n
    grids = torch.meshgrid(*[t] * dim, indexing="ij")
    u = sum(torch.sin(2 * math.pi * g + 0.3 * i) for i, g in enumerate(grids))
    u = u + 0.5 * torch.cos(4 * math.pi * grids[0])
    return torch.stack([u, 0.5 * u**2]).unsqueeze(0).float()


def _shared(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Values of two grid functions at the grid points both grids share."""
    na, nb = a.shape[-1], b.shape[-1]
    g = math.gcd(na, nb)
    dim = a.ndim - 2
    sa = (slice(None), slice(None)) + (slice(None, None, na // g),) * dim
    sb = (slice(None), slice(None)) + (slice(None, None, nb // g),) * dim
    return a[sa], b[sb]


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize(("positional_embedding", "tol"), [(False, 1e-4), (True, 1e-2)])
def test_resolution_invariance(dim, positional_embedding, tol):
    """Same model at 16, 32, 48 and 33 points: equal values where the grids meet.

    Without the positional embedding every intermediate field stays smooth, so only float32
    rounding and weak aliasing separate the resolutions; the sawtooth coordinate channels of
    the embedding are not band-limited, which costs a little aliasing.
    """
    model = _small(dim, positional_embedding=positional_embedding)
    with torch.no_grad():
        outs = {n: model(_smooth_field(n, dim)) for n in (16, 32, 48, 33)}
    scale = outs[48].abs().max()
    assert scale > 1e-3
    for n in (16, 32, 33):
        a, b = _shared(outs[48], outs[n])
        assert a.shape == b.shape and a.numel() >= 3
        err = (a - b).abs().max() / scale
        assert err < tol, (n, float(err))


def test_resolution_invariance_can_fail():
    """The check above is sensitive: a non-band-limited input breaks agreement."""
    model = _small(1, positional_embedding=False)
    gen = torch.Generator().manual_seed(0)
    fine = torch.randn(1, 2, 48, generator=gen)
    with torch.no_grad():
        a, b = _shared(model(fine), model(fine[..., ::3]))
    assert (a - b).abs().max() / a.abs().max() > 1e-3


def test_config_round_trip():
    torch.manual_seed(1)
    model = FNO(2, 1, (6, 5), hidden_channels=12, n_layers=3, fno_skip="soft-gating",
                channel_mlp_skip="linear", non_linearity="tanh", lifting_channels=0)
    config = json.loads(json.dumps(model.config))
    assert config["non_linearity"] == "tanh" and config["n_modes"] == [6, 5]
    clone = FNO(**config)
    assert count_parameters(clone) == count_parameters(model)
    assert clone.config == model.config
    clone.load_state_dict(model.state_dict())
    x = torch.randn(2, 2, 10, 11)
    torch.testing.assert_close(clone(x), model(x))
    assert MODELS.get("FNO") is FNO


def test_activation_given_as_function_is_stored_by_name():
    model = FNO(1, 1, 4, hidden_channels=4, n_layers=1, non_linearity=torch.nn.functional.relu)
    assert model.config["non_linearity"] == "relu"


def _expected_count(in_ch, out_ch, n_modes, hidden, layers, dim_pe=True):
    """The parameter-count formula of the fno module docstring, spelled out."""
    lift_in = in_ch + (len(n_modes) if dim_pe else 0)
    lift, proj, mlp = 2 * hidden, 2 * hidden, round(hidden * 0.5)
    spectral = 2 * hidden * hidden * math.prod(n_modes[:-1]) * (n_modes[-1] // 2 + 1) + hidden
    block = spectral + hidden * hidden + (hidden * mlp + mlp + mlp * hidden + hidden) + hidden
    return (
        lift_in * lift + lift + lift * hidden + hidden
        + layers * block
        + hidden * proj + proj + proj * out_ch + out_ch
    )


@pytest.mark.parametrize(
    ("in_ch", "out_ch", "n_modes", "hidden", "layers"),
    [(1, 1, (16, 16), 64, 4), (3, 2, (8,), 16, 2), (2, 1, (6, 5, 4), 12, 3), (1, 2, (7, 9), 10, 1)],
)
def test_parameter_count_formula_and_neuralop(in_ch, out_ch, n_modes, hidden, layers):
    model = FNO(in_ch, out_ch, n_modes, hidden_channels=hidden, n_layers=layers)
    assert count_parameters(model) == _expected_count(in_ch, out_ch, n_modes, hidden, layers)
    pytest.importorskip("neuralop")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from neuralop.models import FNO as NeuralopFNO

        theirs = NeuralopFNO(n_modes=n_modes, in_channels=in_ch, out_channels=out_ch,
                             hidden_channels=hidden, n_layers=layers)
    assert count_parameters(model) == count_parameters(theirs)


@pytest.mark.parametrize("skip", ["linear", "identity", "soft-gating", None])
def test_skip_options_train(skip):
    torch.manual_seed(2)
    model = FNO(1, 1, 4, hidden_channels=6, n_layers=2, fno_skip=skip, channel_mlp_skip=skip)
    x = torch.randn(3, 1, 16)
    model(x).square().mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_last_block_has_no_activation():
    """With the last block's output linear in its input, scaling the projection input by
    a negative number must be visible (gelu/relu outputs would be nearly non-negative)."""
    model = FNO(1, 1, 4, hidden_channels=6, n_layers=1, non_linearity="relu")
    captured = {}
    model.projection.register_forward_pre_hook(lambda m, args: captured.setdefault("h", args[0]))
    model(torch.randn(2, 1, 16))
    assert (captured["h"] < 0).any()


def test_autocast_bfloat16_forward():
    model = _small(2)
    x = torch.randn(2, 2, 16, 16)
    ref = model(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
    assert out.shape == ref.shape
    assert ((out.float() - ref).abs().max() / ref.abs().max()) < 5e-2


def test_bad_inputs_raise_value_errors():
    model = _small(2)
    with pytest.raises(ValueError, match=r"expected shape \(batch, 2, \*space\) with 2 spatial"):
        model(torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match="2 spatial axes"):
        model(torch.randn(1, 2, 8))
    with pytest.raises(ValueError, match="2 spatial axes"):
        model(torch.randn(1, 2, 8, 8, 8))
    with pytest.raises(ValueError, match="floating-point"):
        model(torch.ones(1, 2, 8, 8, dtype=torch.long))
    with pytest.raises(ValueError, match="fno_skip"):
        FNO(1, 1, 4, fno_skip="gated")
    with pytest.raises(ValueError, match="non_linearity"):
        FNO(1, 1, 4, non_linearity="swish")
    with pytest.raises(ValueError, match="non_linearity"):
        FNO(1, 1, 4, non_linearity=lambda t: t)
    with pytest.raises(ValueError, match="hidden_channels"):
        FNO(1, 1, 4, hidden_channels=0)
    with pytest.raises(ValueError, match="n_modes"):
        FNO(1, 1, (4, 4, 4, 4))
