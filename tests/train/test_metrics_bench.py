"""Benchmark metrics (PDEBench, The Well) against hand computations and a loop-based oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.train.metrics import (
    METRICS,
    brmse,
    crmse,
    fourier_rmse,
    frmse_high,
    frmse_low,
    frmse_mid,
    max_abs_error,
    max_error,
    nrmse,
    pdebench_metrics,
    rmse,
    vrmse,
)


def _t(a) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


# -- hand-computed 1-D case ------------------------------------------------------------
# target [1, 3, 1, 3], pred [1, 2, 3, 4]: error e = [0, -1, 2, 1]
PRED = _t([[[1.0, 2.0, 3.0, 4.0]]])
TARGET = _t([[[1.0, 3.0, 1.0, 3.0]]])


def test_rmse_nrmse_crmse_by_hand():
    assert rmse(PRED, TARGET).item() == pytest.approx(math.sqrt(6 / 4), rel=1e-14)
    # mean target^2 = (1 + 9 + 1 + 9) / 4 = 5
    assert nrmse(PRED, TARGET).item() == pytest.approx(math.sqrt(1.5 / 5), rel=1e-14)
    # spatial means 2.5 and 2
    assert crmse(PRED, TARGET).item() == pytest.approx(0.5, rel=1e-14)


def test_boundary_and_max_by_hand():
    # 1-D boundary: the two end points, errors 0 and 1
    assert brmse(PRED, TARGET).item() == pytest.approx(math.sqrt(0.5), rel=1e-14)
    assert max_error(PRED, TARGET).item() == pytest.approx(2.0)
    # 2-D: one unit error in corner (0, 0) of a 3x3 grid lies on the x = 0 and y = 0 faces,
    # so it counts twice over 2 * 3 + 2 * 3 = 12 face points.
    e = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    e[0, 0, 0, 0] = 1.0
    assert brmse(e, torch.zeros_like(e)).item() == pytest.approx(math.sqrt(2 / 12), rel=1e-14)
    # interior errors do not count
    e2 = torch.zeros_like(e)
    e2[0, 0, 1, 1] = 5.0
    assert brmse(e2, torch.zeros_like(e)).item() == 0.0


def test_vrmse_by_hand():
    # unbiased variance of [1, 3, 1, 3] is 4/3; mse = 1.5
    got = vrmse(PRED, TARGET).item()
    assert got == pytest.approx(math.sqrt(1.5 / (4 / 3 + 1e-7)), rel=1e-14)
    pop = vrmse(PRED, TARGET, correction=0, eps=0.0).item()
    assert pop == pytest.approx(math.sqrt(1.5 / 1.0), rel=1e-14)


def test_vrmse_of_the_mean_predictor_is_one():
    rng = np.random.default_rng(3)
    target = torch.from_numpy(rng.standard_normal((4, 2, 10, 7)))
    pred = target.mean(dim=(2, 3), keepdim=True).expand_as(target)
    got = vrmse(pred, target, correction=0, eps=0.0)
    torch.testing.assert_close(got, torch.ones(4, dtype=torch.float64))


def test_fourier_1d_by_hand():
    # FFT of e = [0, -1, 2, 1]: E_0 = 2, E_1 = -2 + 2i, E_2 = 2; shells scaled by L / N = 1/4
    shells = [0.5, math.sqrt(8) / 4, 0.5]
    assert fourier_rmse(PRED, TARGET, "low").item() == pytest.approx(sum(shells) / 3, rel=1e-14)
    # doubling the domain length doubles every Fourier error
    assert fourier_rmse(PRED, TARGET, "low", lengths=2.0).item() == pytest.approx(
        2 * sum(shells) / 3, rel=1e-14
    )
    with pytest.raises(ValueError, match="'mid' band holds shells"):
        fourier_rmse(PRED, TARGET, "mid")


def test_fourier_2d_single_mode_and_pdebench_quadrant():
    n = 8
    x = np.arange(n) / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    # cos(2 pi (x + 2y)) has modes (1, 2) and (-1, -2), each |E| = N / 2 = 32, shell
    # floor(sqrt 5) = 2; PDEBench keeps the (1, 2) one only: F_2 = 32 / 64.
    e = _t(np.cos(2 * np.pi * (X + 2 * Y)))[None, None]
    zero = torch.zeros_like(e)
    n_shells = n // 2
    assert frmse_low(e, zero).item() == pytest.approx(0.5 / n_shells, rel=1e-12)
    # with every signed mode, shell 2 holds both: sqrt(2) * 32 / 64
    got = fourier_rmse(e, zero, "low", all_modes=True).item()
    assert got == pytest.approx(math.sqrt(2) / 2 / n_shells, rel=1e-12)
    # modes (1, -2) and (-1, 2) lie outside PDEBench's quadrant: its fRMSE does not see them
    e_mixed = _t(np.cos(2 * np.pi * (X - 2 * Y)))[None, None]
    assert frmse_low(e_mixed, zero).item() == pytest.approx(0.0, abs=1e-12)
    assert fourier_rmse(e_mixed, zero, "low", all_modes=True).item() > 0.1


# -- oracle: PDEBench's metric_func, written out with loops in its layout (b, x, y, t, c) --
def _pdebench_oracle(pred: np.ndarray, target: np.ndarray, k_low=4, k_high=12) -> dict:
    """Loop-by-loop restatement of PDEBench's definitions for 1-D and 2-D arrays."""
    nb, *space, nt, nc = target.shape
    err = pred - target
    out = {k: [] for k in ("rmse", "nrmse", "crmse", "max_error", "brmse",
                           "frmse_low", "frmse_mid", "frmse_high")}
    for c in range(nc):
        for t in range(nt):
            e = err[..., t, c]
            tg = target[..., t, c]
            npts = math.prod(space)
            r = [math.sqrt((e[b] ** 2).sum() / npts) for b in range(nb)]
            out["rmse"].append(np.mean(r))
            out["nrmse"].append(np.mean(
                [r[b] / math.sqrt((tg[b] ** 2).sum() / npts) for b in range(nb)]))
            d2 = [(pred[b, ..., t, c].sum() - tg[b].sum()) ** 2 for b in range(nb)]
            out["crmse"].append(math.sqrt(np.mean(d2)) / npts)
            out["max_error"].append(np.abs(e).max())
            if len(space) == 1:
                bd = [math.sqrt((e[b, 0] ** 2 + e[b, -1] ** 2) / 2) for b in range(nb)]
                fe = np.fft.rfft(e, axis=1)
                shells = np.sqrt((np.abs(fe) ** 2).mean(axis=0)) / space[0]
            else:
                nx, ny = space
                bd = []
                for b in range(nb):
                    s = (e[b, 0, :] ** 2).sum() + (e[b, -1, :] ** 2).sum()
                    s += (e[b, :, 0] ** 2).sum() + (e[b, :, -1] ** 2).sum()
                    bd.append(math.sqrt(s / (2 * nx + 2 * ny)))
                fe = np.abs(np.fft.fft2(e, axes=(1, 2))) ** 2
                kmax = min(nx // 2, ny // 2)
                acc = np.zeros((nb, kmax))
                for i in range(nx // 2):
                    for j in range(ny // 2):
                        k = math.floor(math.sqrt(i * i + j * j))
                        if k < kmax:
                            acc[:, k] += fe[:, i, j]
                shells = np.sqrt(acc.mean(axis=0)) / (nx * ny)
            out["brmse"].append(np.mean(bd))
            out["frmse_low"].append(shells[:k_low].mean())
            out["frmse_mid"].append(shells[k_low:k_high].mean())
            out["frmse_high"].append(shells[k_high:].mean())
    return {k: float(np.mean(v)) for k, v in out.items()}


@pytest.mark.parametrize("space", [(40,), (28, 26)])
def test_pdebench_metrics_match_the_loop_oracle(space):
    rng = np.random.default_rng(7)
    nb, nt, nc = 3, 2, 2
    # ours: (batch, time, channels, *space); PDEBench: (batch, *space, time, channels)
    target = rng.standard_normal((nb, nt, nc, *space)) + 1.0
    pred = target + 0.3 * rng.standard_normal(target.shape)
    to_pdebench = (0, *range(3, 3 + len(space)), 1, 2)
    expected = _pdebench_oracle(pred.transpose(to_pdebench), target.transpose(to_pdebench))
    got = pdebench_metrics(torch.from_numpy(pred), torch.from_numpy(target), time_axis=True)
    assert set(got) == set(expected)
    for key in expected:
        assert got[key] == pytest.approx(expected[key], rel=1e-10), key
    # per-sample metrics reduce to the same numbers where PDEBench averages over the batch
    p, t = torch.from_numpy(pred), torch.from_numpy(target)
    for name, fn in (("rmse", rmse), ("nrmse", nrmse), ("brmse", brmse)):
        assert fn(p, t, time_axis=True).mean().item() == pytest.approx(expected[name], rel=1e-10)


def test_time_axis_is_a_mean_over_time_steps():
    rng = np.random.default_rng(1)
    p = torch.from_numpy(rng.standard_normal((2, 5, 3, 16)))
    t = torch.from_numpy(rng.standard_normal((2, 5, 3, 16)))
    for fn in (rmse, nrmse, crmse, brmse, max_error, vrmse, frmse_low, frmse_mid):
        per_step = torch.stack([fn(p[:, k], t[:, k]) for k in range(5)], dim=1).mean(dim=1)
        torch.testing.assert_close(fn(p, t, time_axis=True), per_step)


def test_max_error_equals_max_abs_error_for_one_channel():
    rng = np.random.default_rng(2)
    p = torch.from_numpy(rng.standard_normal((3, 1, 9, 5)))
    t = torch.from_numpy(rng.standard_normal((3, 1, 9, 5)))
    torch.testing.assert_close(max_error(p, t), max_abs_error(p, t))


def test_registered_metrics_return_one_value_per_sample():
    rng = np.random.default_rng(4)
    p = torch.from_numpy(rng.standard_normal((3, 2, 32)))
    t = torch.from_numpy(rng.standard_normal((3, 2, 32)))
    names = {"rmse", "nrmse", "crmse", "brmse", "frmse_low", "frmse_mid", "frmse_high",
             "max_error", "vrmse", "rel_l2"}
    assert names <= set(METRICS)
    for name in names:
        out = METRICS[name](p, t)
        assert out.shape == (3,), name
        assert torch.all(torch.isfinite(out)) and torch.all(out > 0), name
        assert torch.all(METRICS[name](t, t) < 1e-12), name
    assert frmse_high(p, t).shape == (3,)


def test_pdebench_metrics_reports_an_empty_band_as_nan():
    got = pdebench_metrics(PRED, TARGET)
    assert math.isnan(got["frmse_mid"]) and math.isnan(got["frmse_high"])
    assert got["crmse"] == pytest.approx(0.5)


def test_argument_errors_name_the_argument():
    p = torch.zeros(2, 1, 8)
    with pytest.raises(ValueError, match=r"pred: expected \(batch, channels, \*space\)"):
        rmse(torch.zeros(2, 8), torch.zeros(2, 8))
    with pytest.raises(ValueError, match=r"\(batch, time, channels, \*space\)"):
        rmse(p, p, time_axis=True)
    with pytest.raises(ValueError, match="band: got 'top'"):
        fourier_rmse(p, p, "top")
    with pytest.raises(ValueError, match="lengths"):
        fourier_rmse(p, p, lengths=-1.0)
    with pytest.raises(ValueError, match="k_high: must exceed"):
        fourier_rmse(p, p, k_low=4, k_high=4)
    with pytest.raises(ValueError, match="correction"):
        vrmse(p, p, correction=2)
    with pytest.raises(ValueError, match="does not match"):
        rmse(p, torch.zeros(2, 1, 9))
