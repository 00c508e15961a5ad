"""Dirichlet GRFs, per-sample streams, nested periodic fields and random sines."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sciml.reference.grf import (
    gaussian_random_field,
    grf_spectrum,
    nested_periodic_grf,
    random_sines,
    sample_generator,
)


def dirichlet_covariance(shape, alpha, tau):
    """sum_k mu_k phi_k(x) phi_k(y) over sine modes k_j = 1..n_j-2, by explicit loops."""
    d = len(shape)
    sigma = tau ** (alpha - d / 2)
    axes = [np.arange(n) / (n - 1) for n in shape]
    points = np.array(list(itertools.product(*axes)))
    cov = np.zeros((len(points), len(points)))
    for k in itertools.product(*[range(1, n - 1) for n in shape]):
        mu = sigma**2 * (math.pi**2 * sum(m * m for m in k) + tau**2) ** (-alpha)
        phi = np.ones(len(points))
        for j, m in enumerate(k):
            phi *= math.sqrt(2) * np.sin(math.pi * m * points[:, j])
        cov += mu * np.outer(phi, phi)
    return cov


def relative_error(samples, cov):
    flat = samples.reshape(samples.shape[0], -1)
    empirical = flat.T @ flat / flat.shape[0]
    return np.linalg.norm(empirical - cov) / np.linalg.norm(cov)


@pytest.mark.parametrize(("shape", "alpha", "tau"), [((9,), 2.0, 3.0), ((6, 5), 2.0, 3.0),
                                                     ((5, 6), 1.5, 2.0), ((4, 4, 5), 2.0, 3.0)])
def test_dirichlet_covariance_matches_the_sine_expansion(shape, alpha, tau):
    samples = gaussian_random_field(20000, shape, alpha, tau, boundary="dirichlet", rng=3)
    assert relative_error(samples, dirichlet_covariance(shape, alpha, tau)) < 0.04
    assert relative_error(samples, dirichlet_covariance(shape, alpha, 2.0 * tau)) > 0.15
    assert relative_error(samples, dirichlet_covariance(shape, alpha + 1.0, tau)) > 0.15


def test_dirichlet_spectrum_by_projection_on_the_sine_basis():
    n = 8
    samples = gaussian_random_field(20000, (n,), boundary="dirichlet", rng=5)
    x = np.arange(n) / (n - 1)
    k = np.arange(1, n - 1)
    basis = math.sqrt(2) * np.sin(math.pi * np.outer(x[1:-1], k))
    coeffs = np.linalg.solve(basis, samples[:, 1:-1].T)
    expected = 3.0**3 * (math.pi**2 * k**2 + 9.0) ** -2.0
    np.testing.assert_allclose(coeffs.var(axis=1), expected, rtol=0.05)
    np.testing.assert_allclose(grf_spectrum(n, ndim=1, boundary="dirichlet"), expected,
                               rtol=1e-14)


def test_dirichlet_fields_vanish_on_the_boundary():
    u = gaussian_random_field(3, (7, 9), boundary="dirichlet", rng=0)
    assert u.shape == (3, 7, 9)
    for edge in (u[:, 0], u[:, -1], u[:, :, 0], u[:, :, -1]):
        assert np.all(edge == 0.0)
    assert np.abs(u[:, 1:-1, 1:-1]).min() > 0.0
    with pytest.raises(ValueError, match="at least 3 points"):
        gaussian_random_field(1, (2, 5), boundary="dirichlet", rng=0)


def test_sample_streams_depend_only_on_seed_and_index():
    a = sample_generator(7, 3).standard_normal(5)
    b = sample_generator(7, 3).standard_normal(5)
    c = sample_generator(7, 4).standard_normal(5)
    d = sample_generator(8, 3).standard_normal(5)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, d)
    with pytest.raises(ValueError, match="index"):
        sample_generator(0, -1)


def test_nested_field_is_shared_across_resolutions():
    def rngs():
        return [sample_generator(0, i) for i in range(3)]

    fine = nested_periodic_grf(rngs(), 64, 2.5, 7.0, 7.0**1.5, modes=64)
    coarse = nested_periodic_grf(rngs(), 16, 2.5, 7.0, 7.0**1.5, modes=64)
    # the coarse field is the fine one with |k| >= 8 removed: compare spectra directly
    f_hat = np.fft.fft2(fine) / 64**2
    c_hat = np.fft.fft2(coarse) / 16**2
    low = np.r_[0:8, -7:0]
    np.testing.assert_allclose(c_hat[:, low][:, :, low], f_hat[:, low][:, :, low],
                               atol=1e-14)
    assert np.abs(f_hat[:, 8]).max() > 0  # the fine field does have the higher modes
    # one batch of three equals three batches of one
    single = np.concatenate([nested_periodic_grf([sample_generator(0, i)], 16, 2.5, 7.0,
                                                 7.0**1.5, modes=64) for i in range(3)])
    assert np.array_equal(single, coarse)


def test_nested_field_has_the_target_covariance():
    rngs = [sample_generator(1, i) for i in range(20000)]
    u = nested_periodic_grf(rngs, (6,), 2.0, 3.0, modes=6)
    # same measure as gaussian_random_field on the periodic grid, minus the Nyquist mode
    x = np.arange(6) / 6
    diff = x[:, None] - x[None, :]
    cov = sum(
        3.0**3 * (4 * math.pi**2 * k**2 + 9.0) ** -2.0 * np.cos(2 * math.pi * k * diff)
        for k in (-2, -1, 1, 2)
    )
    assert relative_error(u, cov) < 0.04
    # on a box of side L the eigenvalues are 4 pi^2 k^2 / L^2
    v = nested_periodic_grf(rngs[:4000], (6,), 2.0, 3.0, length=2 * math.pi, modes=6)
    cov_l = sum(
        3.0**3 * (k**2 + 9.0) ** -2.0 * np.cos(2 * math.pi * k * diff) for k in (-2, -1, 1, 2)
    )
    assert relative_error(v, cov_l) < 0.08


def test_random_sines_are_band_limited_superpositions():
    rngs = [sample_generator(0, i) for i in range(4)]
    u = random_sines(rngs, 64, n_waves=3, max_frequency=5)
    assert u.shape == (4, 64)
    spectrum = np.abs(np.fft.rfft(u, axis=1))
    assert spectrum[:, 6:].max() < 1e-12 and spectrum[:, 0].max() < 1e-12
    assert np.array_equal(u[1], random_sines([sample_generator(0, 1)], 64, 3, 5)[0])
