"""Burgers pseudo-spectral ETDRK4 against Cole–Hopf exact solutions."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.reference.burgers import cole_hopf_solution, solve_burgers

NU, AMPLITUDES, OFFSET = 0.05, [0.5, 0.3, 0.1], 1.0


def exact(x, t):
    return cole_hopf_solution(x, t, NU, AMPLITUDES, OFFSET)


def test_cole_hopf_solves_burgers():
    # independent check of the oracle by finite differences in x and t
    x = np.linspace(0, 1, 7)[:, None]
    t, h = 0.3, 1e-4
    u = exact(x, t)
    ut = (exact(x, t + h) - exact(x, t - h)) / (2 * h)
    ux = (exact(x + h, t) - exact(x - h, t)) / (2 * h)
    uxx = (exact(x + h, t) - 2 * u + exact(x - h, t)) / h**2
    np.testing.assert_allclose(ut + u * ux - NU * uxx, 0.0, atol=1e-5)
    with pytest.raises(ValueError, match="offset"):
        cole_hopf_solution(x, t, NU, [0.6, 0.5], 1.0)


def test_matches_the_exact_solution_at_all_output_times():
    n = 128
    x = np.arange(n) / n
    times = np.linspace(0.0, 0.5, 6)
    u = solve_burgers(exact(x, 0.0)[None], times, NU, device="cpu").numpy()[0]
    want = exact(x[None], times[:, None])
    assert np.abs(u - want).max() < 1e-7


def test_fourth_order_in_time():
    n = 128
    x = np.arange(n) / n
    u0 = exact(x, 0.0)[None]
    errors = []
    for dt in (0.05, 0.025, 0.0125):
        u = solve_burgers(u0, [0.0, 0.5], NU, dt_max=dt, cfl=100.0, device="cpu")
        errors.append(np.abs(u.numpy()[0, -1] - exact(x, 0.5)).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 3.5), (errors, rates)


def test_spectral_convergence_in_space():
    errors = []
    for n in (16, 24, 48):
        x = np.arange(n) / n
        u = solve_burgers(exact(x, 0.0)[None], [0.0, 0.2], NU, dt_max=1e-3, device="cpu")
        errors.append(np.abs(u.numpy()[0, -1] - exact(x, 0.2)).max())
    assert errors[0] > 10 * errors[1] > 100 * errors[2]
    assert errors[2] < 1e-8


def test_samples_do_not_depend_on_their_batch():
    rng = np.random.default_rng(0)
    u0 = rng.standard_normal((3, 64)) * np.array([[0.2], [1.0], [3.0]])  # three CFL steps
    both = solve_burgers(u0, [0.0, 0.05, 0.1], 0.02, device="cpu").numpy()
    alone = solve_burgers(u0[2:], [0.0, 0.05, 0.1], 0.02, device="cpu").numpy()
    np.testing.assert_allclose(both[2], alone[0], rtol=0, atol=1e-14)
    calls = []
    solve_burgers(u0, [0.0, 0.05, 0.1], 0.02, device="cpu",
                  callback=lambda j, k: calls.append((j, k)))
    assert sum(k for j, k in calls if j == 2) == 3
