"""Advection by spectral shift: exact for band-limited data, spectral otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.reference.advection import solve_advection


def test_band_limited_data_is_shifted_exactly_by_any_distance():
    n = 32
    x = np.arange(n) / n
    u0 = np.sin(2 * np.pi * 3 * x) + 0.5 * np.cos(2 * np.pi * 7 * x + 0.3)
    times = np.array([0.0, 0.123, 1.0, 2.71])
    u = solve_advection(u0[None], times, 0.37, device="cpu").numpy()[0]
    shifted = x[None] - 0.37 * times[:, None]
    exact = np.sin(2 * np.pi * 3 * shifted) + 0.5 * np.cos(2 * np.pi * 7 * shifted + 0.3)
    np.testing.assert_allclose(u, exact, atol=1e-13)


def test_whole_cell_shifts_are_rolls_even_with_a_nyquist_mode():
    rng = np.random.default_rng(0)
    u0 = rng.standard_normal((3, 16))  # white noise: every mode, Nyquist included
    u = solve_advection(u0, [0.0, 3 / 16, 5 / 16], 1.0, device="cpu").numpy()
    np.testing.assert_allclose(u[:, 1], np.roll(u0, 3, axis=1), atol=1e-13)
    np.testing.assert_allclose(u[:, 2], np.roll(u0, 5, axis=1), atol=1e-13)


def test_spectral_convergence_for_smooth_periodic_data():
    errors = []
    for n in (8, 16, 32):
        x = np.arange(n) / n
        u = solve_advection(np.exp(np.sin(2 * np.pi * x))[None], [0.7], 1.3, device="cpu")
        exact = np.exp(np.sin(2 * np.pi * (x - 1.3 * 0.7)))
        errors.append(np.abs(u.numpy()[0, 0] - exact).max())
    assert errors[0] > 1e-4 and errors[1] < 1e-6 and errors[2] < 1e-13


def test_per_sample_velocities_and_errors():
    x = np.arange(16) / 16
    u0 = np.stack([np.sin(2 * np.pi * x)] * 2)
    u = solve_advection(u0, [0.25], [0.0, 1.0], device="cpu").numpy()
    np.testing.assert_allclose(u[0, 0], u0[0], atol=1e-14)
    np.testing.assert_allclose(u[1, 0], -np.cos(2 * np.pi * x), atol=1e-14)
    with pytest.raises(ValueError, match="beta"):
        solve_advection(u0, [0.25], [1.0, 2.0, 3.0], device="cpu")
    with pytest.raises(ValueError, match="u0"):
        solve_advection(x, [0.25], 1.0, device="cpu")
