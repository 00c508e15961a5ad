"""2-D vorticity solver: exact Taylor–Green decay, conservation, order, resolution agreement."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sciml.reference.grf import nested_periodic_grf, sample_generator
from sciml.reference.navier_stokes import (
    fno_forcing,
    kolmogorov_forcing,
    solve_vorticity,
    velocity_from_vorticity,
)


def fno_initial(n, indices, keep_mean=False):
    rngs = [sample_generator(0, i) for i in indices]
    return nested_periodic_grf(rngs, n, 2.5, 7.0, 7.0**1.5, keep_mean=keep_mean)


def test_taylor_green_vortex_decays_at_the_viscous_rate():
    # w = 2 k sin(k x) sin(k y) has u . grad w = 0: pure viscous decay e^{-2 nu k^2 t}
    n, nu = 16, 0.01
    x = np.arange(n) / n
    k = 2 * math.pi * 2
    w0 = 2 * k * np.sin(k * x)[:, None] * np.sin(k * x)[None, :]
    times = [0.0, 0.5, 1.0]
    w = solve_vorticity(w0[None], times, nu, device="cpu", cfl=1.0).numpy()
    for j, t in enumerate(times):
        # Crank-Nicolson's decay per step is e^{-z} + O(z^3), z = 2 nu k^2 h <= 0.03
        np.testing.assert_allclose(w[0, j], w0 * math.exp(-2 * nu * k**2 * t),
                                   atol=3e-4 * np.abs(w0).max())
    # and the shape is untouched: the advection of this mode is zero to round-off
    big = np.abs(w0) > 1e-3 * np.abs(w0).max()
    ratio = w[0, -1][big] / w0[big]
    assert np.ptp(ratio) < 1e-12


def test_steady_forced_mode_is_reached_without_advection():
    # the FNO forcing is a single Fourier mode k = 2 pi (1, 1) whose own advection vanishes:
    # w(t) = f / (nu |k|^2) (1 - e^{-nu |k|^2 t}) exactly
    n, nu = 16, 0.1
    f = fno_forcing(n)
    lam = nu * 8 * math.pi**2
    w = solve_vorticity(np.zeros((1, n, n)), [0.0, 2.0], nu, forcing=f, device="cpu",
                        dt_max=0.01).numpy()
    steady = f / lam
    # second-order transient error: about (lam h)^2 / 12 of the steady amplitude
    np.testing.assert_allclose(w[0, -1], steady * (1 - math.exp(-lam * 2.0)),
                               atol=1e-5 * np.abs(steady).max())


def test_mean_vorticity_is_conserved_to_round_off():
    w0 = fno_initial(32, range(3), keep_mean=True)
    assert np.abs(w0.mean(axis=(1, 2))).min() > 1e-4  # a real mean to conserve
    w = solve_vorticity(w0, np.linspace(0, 2.0, 5), 1e-3, forcing=fno_forcing(32),
                        device="cpu").numpy()
    drift = np.abs(w.mean(axis=(2, 3)) - w0.mean(axis=(1, 2))[:, None]).max()
    assert drift < 1e-12
    assert np.abs(w[:, -1] - w0).max() > 0.05  # the flow did evolve


def test_second_order_in_time():
    w0 = fno_initial(24, [0])
    f = fno_forcing(24)
    runs = [
        solve_vorticity(w0, [0.0, 1.0], 1e-3, forcing=f, dt_max=dt, cfl=10, device="cpu")
        for dt in (0.04, 0.02, 0.01, 0.005)
    ]
    # successive differences of a p-th order method shrink by 2^p
    diffs = [float((a - b)[0, -1].abs().max()) for a, b in itertools.pairwise(runs)]
    rates = np.log2(np.array(diffs[:-1]) / np.array(diffs[1:]))
    assert np.all(rates > 1.8) and np.all(rates < 2.3), (diffs, rates)


def test_kolmogorov_flow_converges_in_time_and_space():
    """The Kolmogorov configuration (2 pi box, sin(4y) forcing, drag) converges like the
    solver it shares: second order in time, and a coarse grid matches a fine one."""
    n, length = 32, 2.0 * math.pi
    def initial(size):  # fresh generators: the same field sampled at two resolutions
        # a smooth field (fast-decaying spectrum) so that 32 points resolve it
        return nested_periodic_grf([sample_generator(3, 0)], size, 4.0, 1.0, 2.0,
                                   length=length)

    w0 = initial(2 * n)
    kw = {"forcing": kolmogorov_forcing(2 * n), "drag": 0.1, "length": length, "cfl": 10,
          "device": "cpu"}
    runs = [solve_vorticity(w0, [0.0, 0.5], 1e-2, dt_max=dt, **kw)[0, -1]
            for dt in (0.02, 0.01, 0.005)]
    diffs = [float((a - b).abs().max()) for a, b in itertools.pairwise(runs)]
    assert 1.8 < math.log2(diffs[0] / diffs[1]) < 2.3, diffs
    kw["forcing"] = kolmogorov_forcing(n)
    coarse = solve_vorticity(initial(n), [0.0, 0.5], 1e-2, dt_max=0.005, **kw)[0, -1]
    fine = runs[-1][::2, ::2]
    assert float((coarse - fine).norm() / fine.norm()) < 1e-3


def test_coarse_and_fine_grids_agree_on_a_short_run():
    times = [0.0, 1.0]
    fine = solve_vorticity(fno_initial(64, [0]), times, 1e-3, forcing=fno_forcing(64),
                           device="cpu").numpy()[:, -1, ::2, ::2]
    coarse = solve_vorticity(fno_initial(32, [0]), times, 1e-3, forcing=fno_forcing(32),
                             device="cpu").numpy()[:, -1]
    assert np.linalg.norm(coarse - fine) / np.linalg.norm(fine) < 1e-3


@pytest.mark.slow
def test_64_agrees_with_256_downsampled_at_t10():
    # the acceptance test, nu = 1e-3, same initial condition on both grids
    times = [0.0, 10.0]
    fine = solve_vorticity(fno_initial(256, [0, 1]), times, 1e-3, forcing=fno_forcing(256),
                           device="cpu").numpy()[:, -1, ::4, ::4]
    coarse = solve_vorticity(fno_initial(64, [0, 1]), times, 1e-3, forcing=fno_forcing(64),
                             device="cpu").numpy()[:, -1]
    assert np.linalg.norm(coarse - fine) / np.linalg.norm(fine) < 1e-3


def test_batch_composition_does_not_change_a_sample():
    w0 = fno_initial(16, range(4))
    times = np.linspace(0, 1.0, 3)
    together = solve_vorticity(w0, times, 1e-3, forcing=fno_forcing(16), device="cpu")
    alone = solve_vorticity(w0[2:3], times, 1e-3, forcing=fno_forcing(16), device="cpu")
    np.testing.assert_allclose(together[2].numpy(), alone[0].numpy(), rtol=0, atol=1e-13)


def test_velocity_is_divergence_free_and_curls_back_to_the_vorticity():
    n = 32
    w = fno_initial(n, [0])[0]
    u, v = velocity_from_vorticity(w)
    kx = 2 * math.pi * np.fft.fftfreq(n, 1 / n)
    dx = lambda a: np.fft.ifft(1j * kx[:, None] * np.fft.fft(a, axis=0), axis=0).real  # noqa: E731
    dy = lambda a: np.fft.ifft(1j * kx[None, :] * np.fft.fft(a, axis=1), axis=1).real  # noqa: E731
    u, v = u.numpy(), v.numpy()
    assert np.abs(dx(u) + dy(v)).max() < 1e-12
    np.testing.assert_allclose(dx(v) - dy(u), w - w.mean(), atol=1e-12)


def test_kolmogorov_forcing_is_the_curl_of_sin_4y():
    n = 32
    f = kolmogorov_forcing(n)
    y = 2 * math.pi * np.arange(n) / n
    np.testing.assert_allclose(f, np.broadcast_to(-4 * np.cos(4 * y), (n, n)), atol=1e-14)
    # with drag the laminar state w = f / (nu k^2 + drag) is a fixed point
    nu, drag = 0.05, 0.1
    laminar = f / (nu * 16 + drag)
    w = solve_vorticity(laminar[None], [0.0, 1.0], nu, forcing=f, drag=drag,
                        length=2 * math.pi, device="cpu").numpy()
    np.testing.assert_allclose(w[0, -1], laminar, atol=1e-12)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="omega0"):
        solve_vorticity(np.zeros((4, 4)), [0, 1], 1e-3, device="cpu")
    with pytest.raises(ValueError, match="forcing"):
        solve_vorticity(np.zeros((1, 8, 8)), [0, 1], 1e-3, forcing=np.zeros((4, 4)),
                        device="cpu")
    with pytest.raises(ValueError, match="nu"):
        solve_vorticity(np.zeros((1, 8, 8)), [0, 1], 0.0, device="cpu")
