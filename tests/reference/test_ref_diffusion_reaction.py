"""Fisher diffusion–reaction: logistic and heat-equation exact solutions, order in time."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.reference.diffusion_reaction import logistic_solution, solve_diffusion_reaction


def test_constant_states_follow_the_logistic_law():
    times = np.linspace(0.0, 1.0, 5)
    u0 = np.array([[0.05] * 16, [0.5] * 16, [0.9] * 16])
    u = solve_diffusion_reaction(u0, times, 1.0, 5.0, dt_max=0.01, device="cpu").numpy()
    want = logistic_solution(u0[:, :1, None], times[None, :, None], 5.0)
    # ETDRK4 with h * rho = 0.05: error about (h rho)^4 / 10
    np.testing.assert_allclose(u, np.broadcast_to(want, u.shape), atol=2e-8)


def test_without_reaction_modes_decay_like_the_heat_equation():
    n = 32
    x = np.arange(n) / n
    u0 = np.sin(2 * np.pi * x) + 0.3 * np.cos(2 * np.pi * 4 * x)
    u = solve_diffusion_reaction(u0[None], [0.0, 0.01], 0.5, 0.0, device="cpu").numpy()
    want = (np.exp(-0.5 * (2 * np.pi) ** 2 * 0.01) * np.sin(2 * np.pi * x)
            + 0.3 * np.exp(-0.5 * (8 * np.pi) ** 2 * 0.01) * np.cos(8 * np.pi * x))
    np.testing.assert_allclose(u[0, -1], want, atol=1e-14)


def test_fourth_order_in_time_on_a_nonlinear_case():
    n = 64
    x = np.arange(n) / n
    u0 = (0.5 + 0.4 * np.sin(2 * np.pi * x) * np.cos(4 * np.pi * x))[None]
    nu, rho = 0.01, 10.0
    ref = solve_diffusion_reaction(u0, [0.0, 1.0], nu, rho, dt_max=1e-3, device="cpu")
    errors = []
    for dt in (0.05, 0.025, 0.0125):
        u = solve_diffusion_reaction(u0, [0.0, 1.0], nu, rho, dt_max=dt, device="cpu")
        errors.append(np.abs((u - ref).numpy()[0, -1]).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 3.5), (errors, rates)


def test_spectral_convergence_in_space():
    nu, rho = 0.005, 5.0

    def run(n):
        x = np.arange(n) / n
        u0 = 1 / (1 + np.exp(-np.sin(2 * np.pi * x) * 4))
        return solve_diffusion_reaction(u0[None], [0.0, 0.5], nu, rho, dt_max=1e-3,
                                        device="cpu").numpy()[0, -1]

    ref = run(256)
    errors = [np.abs(run(n) - ref[:: 256 // n]).max() for n in (32, 64, 128)]
    assert errors[0] > 10 * errors[1] and errors[2] < 1e-10, errors


def test_values_stay_in_the_unit_interval_and_errors():
    rng = np.random.default_rng(2)
    u0 = rng.uniform(0, 1, (4, 64))
    u = solve_diffusion_reaction(u0, np.linspace(0, 1, 3), 0.5, 2.0, device="cpu").numpy()
    assert u.min() > -1e-6 and u.max() < 1 + 1e-6
    with pytest.raises(ValueError, match="rho"):
        solve_diffusion_reaction(u0, [0, 1], 0.5, -1.0, device="cpu")
