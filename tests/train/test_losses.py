"""Metrics and losses against hand computations and analytic norms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from sciml.train.losses import H1Loss, LpLoss, get_loss
from sciml.train.metrics import (
    METRICS,
    central_gradient,
    max_abs_error,
    mse,
    relative_h1,
    relative_l2,
)


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    pred = rng.standard_normal((4, 2, 6, 5))
    target = rng.standard_normal((4, 2, 6, 5))
    target[3] = 0.0  # the zero-target rule
    return pred, target


def test_relative_l2_matches_numpy(pair):
    pred, target = pair
    got = relative_l2(torch.from_numpy(pred), torch.from_numpy(target)).numpy()
    for i in range(4):
        err = np.sqrt(np.sum((pred[i] - target[i]) ** 2))
        den = np.sqrt(np.sum(target[i] ** 2))
        expected = err / den if den > 0 else err
        assert got[i] == pytest.approx(expected, rel=1e-12)


def test_elementwise_metrics_match_numpy(pair):
    pred, target = pair
    p, t = torch.from_numpy(pred), torch.from_numpy(target)
    np.testing.assert_allclose(mse(p, t).numpy(), ((pred - target) ** 2).mean(axis=(1, 2, 3)))
    np.testing.assert_allclose(
        max_abs_error(p, t).numpy(), np.abs(pred - target).max(axis=(1, 2, 3))
    )
    assert set(METRICS) >= {"rel_l2", "rel_h1", "mse", "max_abs_error"}
    assert relative_l2(t, t).abs().max() == 0


def test_bf16_inputs_are_promoted():
    x = torch.randn(2, 1, 8, generator=torch.Generator().manual_seed(1))
    out = relative_l2(x.bfloat16(), (2 * x).bfloat16())
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.full((2,), 0.5), atol=1e-2, rtol=0)


def test_metric_shape_errors():
    with pytest.raises(ValueError, match="pred"):
        relative_l2(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="target"):
        relative_l2(torch.zeros(2, 3), np.zeros((2, 3)))


def test_lp_loss_relative_and_reductions(pair):
    pred, target = pair
    p, t = torch.from_numpy(pred), torch.from_numpy(target)
    per = relative_l2(p, t)
    assert LpLoss()(p, t).item() == pytest.approx(per.mean().item(), rel=1e-12)
    assert LpLoss(reduction="sum")(p, t).item() == pytest.approx(per.sum().item(), rel=1e-12)
    l1 = LpLoss(p=1)(p[:3], t[:3]).item()
    hand = np.mean(
        [np.abs(pred[i] - target[i]).sum() / np.abs(target[i]).sum() for i in range(3)]
    )
    assert l1 == pytest.approx(hand, rel=1e-12)


def test_lp_loss_absolute_approximates_integral():
    # ||sin(2 pi x)||_L2(0,1) = 1/sqrt(2): a resolution-independent value.
    for n in (16, 64):
        x = torch.arange(n, dtype=torch.float64) / n
        u = torch.sin(2 * math.pi * x).reshape(1, 1, n)
        value = LpLoss(relative=False)(u, torch.zeros_like(u)).item()
        assert value == pytest.approx(1 / math.sqrt(2), rel=1e-12)


def test_central_gradient_exact_on_quadratics_3d():
    n = (5, 6, 7)
    h = [1.0 / (k - 1) for k in n]
    x, y, z = torch.meshgrid(
        *[torch.linspace(0, 1, k, dtype=torch.float64) for k in n], indexing="ij"
    )
    u = (x**2 + 3 * x * y - 2 * z**2 + y).reshape(1, 1, *n)
    gx, gy, gz = central_gradient(u, spacing=h)
    torch.testing.assert_close(gx[0, 0], 2 * x + 3 * y, rtol=0, atol=1e-12)
    torch.testing.assert_close(gy[0, 0], 3 * x + 1, rtol=0, atol=1e-12)
    torch.testing.assert_close(gz[0, 0], -4 * z, rtol=0, atol=1e-12)


def test_central_gradient_second_order_at_edges():
    errors = []
    for n in (33, 65):
        x = torch.linspace(0, 1, n, dtype=torch.float64)
        (d,) = central_gradient(torch.exp(x).reshape(1, 1, n), spacing=1 / (n - 1))
        errors.append((d[0, 0] - torch.exp(x)).abs().max().item())
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.1)


def _h1_ratio_1d_periodic(n: int) -> float:
    x = torch.arange(n, dtype=torch.float64) / n
    target = torch.sin(2 * math.pi * x).reshape(1, 1, n)
    pred = target + 0.1 * torch.sin(4 * math.pi * x).reshape(1, 1, n)
    return H1Loss(periodic=True)(pred, target).item()


def test_h1_periodic_1d_converges_to_analytic_ratio():
    # ||0.1 sin 4 pi x||_H1^2 = 0.005 (1 + 16 pi^2); ||sin 2 pi x||_H1^2 = 0.5 (1 + 4 pi^2).
    exact = math.sqrt(0.005 * (1 + 16 * math.pi**2) / (0.5 * (1 + 4 * math.pi**2)))
    errors = [abs(_h1_ratio_1d_periodic(n) - exact) for n in (32, 64, 128)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] / exact < 2e-3
    # Without derivatives the ratio would be the L2 one, 0.1: H1 must differ from it.
    assert abs(_h1_ratio_1d_periodic(128) - 0.1) > 0.05


def test_h1_2d_nonperiodic_converges_to_analytic_ratio():
    def target(x, y):
        return x**2 + np.exp(y)

    def error(x, y):
        return np.sin(np.pi * x) * y

    def h1_sq(f, fx, fy):
        val = integrate.dblquad(lambda y, x: f(x, y) ** 2 + fx(x, y) ** 2 + fy(x, y) ** 2,
                                0, 1, 0, 1)
        return val[0]

    t_sq = h1_sq(target, lambda x, y: 2 * x, lambda x, y: np.exp(y))
    e_sq = h1_sq(error, lambda x, y: np.pi * np.cos(np.pi * x) * y,
                 lambda x, y: np.sin(np.pi * x))
    exact = math.sqrt(e_sq / t_sq)
    errs = []
    for n in (17, 65):
        g = np.linspace(0, 1, n)
        x, y = np.meshgrid(g, g, indexing="ij")
        t = torch.from_numpy(target(x, y)).reshape(1, 1, n, n)
        p = t + torch.from_numpy(error(x, y)).reshape(1, 1, n, n)
        got = relative_h1(p, t, spacing=1 / (n - 1))
        assert H1Loss(spacing=1 / (n - 1))(p, t).item() == pytest.approx(got.item())
        errs.append(abs(got.item() - exact) / exact)
    assert errs[1] < errs[0]
    assert errs[1] < 0.02


def test_h1_3d_and_periodic_flags():
    u = torch.randn(2, 1, 6, 6, 6, generator=torch.Generator().manual_seed(2))
    loss = H1Loss(periodic=[True, False, True])
    assert loss(u, u).item() == 0.0
    assert loss(1.5 * u, u).item() == pytest.approx(0.5, rel=1e-5)
    with pytest.raises(ValueError, match="periodic"):
        H1Loss(periodic=[True, False])(u, u)
    with pytest.raises(ValueError, match="periodic"):
        H1Loss(periodic="yes")


def test_get_loss_names_modules_and_errors():
    assert isinstance(get_loss("l2"), LpLoss)
    assert isinstance(get_loss("h1"), H1Loss)
    assert isinstance(get_loss("mse"), torch.nn.MSELoss)
    module = LpLoss(p=1)
    assert get_loss(module) is module

    def fn(a, b):
        return (a - b).abs().mean()

    assert get_loss(fn) is fn
    with pytest.raises(ValueError, match=r"loss: got 'l3'.*'l2'.*'h1'.*'mse'"):
        get_loss("l3")
    with pytest.raises(ValueError, match="loss"):
        get_loss(3)
    with pytest.raises(ValueError, match="reduction"):
        LpLoss(reduction="max")
    with pytest.raises(ValueError, match="p: "):
        LpLoss(p=0.5)
