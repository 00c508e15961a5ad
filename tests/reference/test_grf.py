"""Gaussian random fields: covariance against a dense mode-by-mode oracle, seeding, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sciml.reference.grf import as_generator, gaussian_random_field, grf_spectrum


def neumann_covariance(shape, alpha, tau, keep_mean=False):
    """sum_k mu_k phi_k(x) phi_k(y) by explicit loops over cosine modes and grid points."""
    d = len(shape)
    sigma = tau ** (alpha - d / 2)
    axes = [np.arange(n) / (n - 1) for n in shape]
    points = np.array(list(itertools.product(*axes)))  # C order, like ravel()
    cov = np.zeros((len(points), len(points)))
    for k in itertools.product(*[range(n) for n in shape]):
        if not keep_mean and not any(k):
            continue
        mu = sigma**2 * (math.pi**2 * sum(m * m for m in k) + tau**2) ** (-alpha)
        phi = np.ones(len(points))
        for j, m in enumerate(k):
            phi *= (math.sqrt(2) if m else 1.0) * np.cos(math.pi * m * points[:, j])
        cov += mu * np.outer(phi, phi)
    return cov


def periodic_covariance(shape, alpha, tau, keep_mean=False):
    """sum_k mu_k cos(2 pi k.(x - y)) over the integer frequencies a periodic grid resolves."""
    d = len(shape)
    sigma = tau ** (alpha - d / 2)
    axes = [np.arange(n) / n for n in shape]
    points = np.array(list(itertools.product(*axes)))
    diff = points[:, None, :] - points[None, :, :]
    freqs = [range(-(n // 2), (n - 1) // 2 + 1) for n in shape]
    cov = np.zeros((len(points), len(points)))
    for k in itertools.product(*freqs):
        if not keep_mean and not any(k):
            continue
        mu = sigma**2 * (4 * math.pi**2 * sum(m * m for m in k) + tau**2) ** (-alpha)
        cov += mu * np.cos(2 * math.pi * diff @ np.array(k, dtype=float))
    return cov


def relative_error(samples, cov):
    flat = samples.reshape(samples.shape[0], -1)
    empirical = flat.T @ flat / flat.shape[0]  # the mean is known to be zero
    return np.linalg.norm(empirical - cov) / np.linalg.norm(cov)


CASES = [
    ("neumann", (9,), 2.0, 3.0, False),
    ("neumann", (5, 4), 2.0, 3.0, False),
    ("neumann", (5, 4), 1.5, 2.0, True),
    ("neumann", (3, 3, 2), 2.0, 3.0, False),
    ("periodic", (8,), 2.0, 3.0, False),
    ("periodic", (5, 4), 2.5, 4.0, False),
    ("periodic", (5, 4), 2.5, 4.0, True),
]


@pytest.mark.parametrize(("boundary", "shape", "alpha", "tau", "keep_mean"), CASES)
def test_empirical_covariance_matches_the_kl_covariance(boundary, shape, alpha, tau, keep_mean):
    oracle = neumann_covariance if boundary == "neumann" else periodic_covariance
    samples = gaussian_random_field(
        20000, shape, alpha, tau, boundary=boundary, rng=1234, keep_mean=keep_mean
    )
    # Monte Carlo error of a covariance estimate is about sqrt(2 / 20000) = 1%.
    assert relative_error(samples, oracle(shape, alpha, tau, keep_mean)) < 0.04
    # ... and the check can fail: nearby parameters are rejected by the same samples.
    assert relative_error(samples, oracle(shape, alpha, 1.5 * tau, keep_mean)) > 0.15
    assert relative_error(samples, oracle(shape, alpha, tau, not keep_mean)) > 0.15
    if not keep_mean:
        # With the default sigma the constant mode's variance tau^-d does not depend on alpha,
        # and it dominates when kept, so alpha is only identifiable without it.
        assert relative_error(samples, oracle(shape, alpha + 1.0, tau, keep_mean)) > 0.15


def test_spectrum_is_recovered_by_projection_on_the_cosine_basis():
    n = 6
    samples = gaussian_random_field(20000, (n,), rng=7, keep_mean=True)
    x = np.arange(n) / (n - 1)
    k = np.arange(n)
    basis = np.where(k == 0, 1.0, math.sqrt(2))[None, :] * np.cos(math.pi * np.outer(x, k))
    coeffs = np.linalg.solve(basis, samples.T)  # (modes, samples)
    expected = 3.0**3 * (math.pi**2 * k**2 + 9.0) ** -2.0
    np.testing.assert_allclose(coeffs.var(axis=1), expected, rtol=0.05)
    np.testing.assert_allclose(grf_spectrum(n, ndim=1, keep_mean=True), expected, rtol=1e-14)


def test_dropping_the_mean_mode_gives_zero_mean_samples():
    u = gaussian_random_field(4, (9, 7), rng=0)
    # DCT-I cosines are orthogonal to the constant under the trapezoidal rule.
    mean = np.trapezoid(np.trapezoid(u, dx=1 / 8, axis=1), dx=1 / 6, axis=1)
    np.testing.assert_allclose(mean, 0.0, atol=1e-13)
    v = gaussian_random_field(4, (6, 5), boundary="periodic", rng=0)
    np.testing.assert_allclose(v.mean(axis=(1, 2)), 0.0, atol=1e-13)
    assert np.abs(gaussian_random_field(4, (9, 7), rng=0, keep_mean=True).mean()) > 1e-6


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_shapes_and_dtype(boundary):
    assert gaussian_random_field(3, 8, boundary=boundary, rng=0).shape == (3, 8, 8)
    assert gaussian_random_field(2, 8, boundary=boundary, rng=0, ndim=1).shape == (2, 8)
    assert gaussian_random_field(2, (5, 6, 7), boundary=boundary, rng=0).shape == (2, 5, 6, 7)
    u = gaussian_random_field(1, (4, 9), boundary=boundary, rng=0)
    assert u.shape == (1, 4, 9)
    assert u.dtype == np.float64
    assert np.all(np.isfinite(u))


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_seeding(boundary):
    a = gaussian_random_field(5, (6, 6), boundary=boundary, rng=42)
    b = gaussian_random_field(5, (6, 6), boundary=boundary, rng=np.random.default_rng(42))
    assert np.array_equal(a, b)
    assert not np.allclose(a, gaussian_random_field(5, (6, 6), boundary=boundary, rng=43))
    # Draws are made sample after sample: a prefix does not depend on n_samples, and a shared
    # generator continues the stream.
    gen = np.random.default_rng(42)
    first = gaussian_random_field(2, (6, 6), boundary=boundary, rng=gen)
    rest = gaussian_random_field(3, (6, 6), boundary=boundary, rng=gen)
    assert np.array_equal(np.concatenate([first, rest]), a)


def test_neumann_fields_are_smooth_cosine_sums():
    # Continuous extension x -> sum_k a_k cos(pi k x) has zero slope at both ends; with most
    # mass in low modes the one-sided difference at the boundary is small compared with the
    # interior differences of the same samples.
    u = gaussian_random_field(500, (65,), alpha=3.0, rng=3)
    end_slope = np.abs(u[:, 1] - u[:, 0]).mean()
    mid_slope = np.abs(u[:, 33] - u[:, 32]).mean()
    assert end_slope < 0.1 * mid_slope


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 2.0}, "n_samples"),
        ({"n_samples": True}, "n_samples"),
        ({"resolution": 1}, "resolution"),
        ({"resolution": (4, 1)}, "resolution"),
        ({"resolution": ()}, "resolution"),
        ({"resolution": "8"}, "resolution"),
        ({"resolution": (4, 4.5)}, "resolution"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"tau": -1.0}, "tau"),
        ({"sigma": 0.0}, "sigma"),
        ({"boundary": "robin"}, "boundary"),
        ({"rng": "seed"}, "rng"),
        ({"rng": -3}, "rng"),
        ({"ndim": 0}, "ndim"),
        ({"resolution": (4, 4), "ndim": 3}, "ndim"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    args = {"n_samples": 2, "resolution": 4, "rng": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        gaussian_random_field(**args)


def test_as_generator():
    gen = np.random.default_rng(0)
    assert as_generator(gen) is gen
    assert isinstance(as_generator(None), np.random.Generator)
    assert as_generator(5).integers(1000) == np.random.default_rng(5).integers(1000)
