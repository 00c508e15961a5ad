"""Closed-form kernel derivatives against finite differences and autograd on smooth profiles."""

import math

import pytest
import torch

from sciml.gp.kernels import (
    Matern52,
    ProductKernel,
    SpectralMixture,
    SquaredExponential,
    StudentTMixture,
    make_kernel,
)


def kernels():
    sm = SpectralMixture(n_components=3, max_frequency=2.0)
    st = StudentTMixture(n_components=3, max_frequency=2.0)
    return {
        "se": SquaredExponential(lengthscale=0.7, variance=1.3),
        "matern": Matern52(lengthscale=0.8, variance=0.9),
        "sm": sm,
        "st": st,
    }


@pytest.mark.parametrize("name", ["se", "matern", "sm", "st"])
def test_derivatives_match_finite_differences(name):
    k = kernels()[name]
    # Points away from d = 0 so finite differences of the Matérn are smooth.
    x = torch.tensor([0.13, 0.9, 1.7], dtype=torch.float64)
    y = torch.tensor([0.5, 1.2], dtype=torch.float64)
    h = 2e-5
    with torch.no_grad():
        for order in range(1, k.max_order + 1):
            fd = (k(x + h, y, dx=order - 1) - k(x - h, y, dx=order - 1)) / (2 * h)
            torch.testing.assert_close(k(x, y, dx=order), fd, rtol=1e-4, atol=1e-6)
            # Second-argument derivatives flip sign per order.
            fd_y = (k(x, y + h, dx=order - 1) - k(x, y - h, dx=order - 1)) / (2 * h)
            torch.testing.assert_close(k(x, y, dx=order - 1, dy=1), fd_y, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["se", "matern", "sm", "st"])
def test_diagonal_of_mixed_second_derivative_is_positive(name):
    # d2k/dxdy at x = y is the variance of u'; autograd through |x - y| would give 0 here.
    k = kernels()[name]
    x = torch.linspace(0, 1, 5, dtype=torch.float64)
    with torch.no_grad():
        m = k(x, x, dx=1, dy=1)
    assert torch.all(torch.diagonal(m) > 0)
    torch.testing.assert_close(m, m.T)


def test_squared_exponential_closed_forms():
    k = SquaredExponential(lengthscale=0.5, variance=2.0)
    d = torch.tensor([0.0, 0.3, -0.8], dtype=torch.float64)
    with torch.no_grad():
        k0 = 2.0 * torch.exp(-(d**2) / 0.5)
        torch.testing.assert_close(k.profile(d, 0), k0)
        torch.testing.assert_close(k.profile(d, 2), (d**2 / 0.0625 - 1 / 0.25) * k0)
        torch.testing.assert_close(k.profile(d, 4), (d**4 / 0.5**8 - 6 * d**2 / 0.5**6
                                                    + 3 / 0.5**4) * k0)


def test_spectral_mixture_matches_formula_and_autograd():
    k = SpectralMixture(n_components=2, max_frequency=1.5, bandwidth=0.7)
    d = torch.linspace(-1, 1, 7, dtype=torch.float64, requires_grad=True)
    w = k.weights.detach()
    mu = k.frequencies.detach()
    value = sum(w[q] * torch.exp(-0.49 * d**2) * torch.cos(2 * math.pi * mu[q] * d)
                for q in range(2))
    torch.testing.assert_close(k.profile(d, 0), value)
    # The profile is smooth in d, so autograd in d (not through |x - y|) is a valid oracle.
    (g1,) = torch.autograd.grad(value.sum(), d, create_graph=True)
    (g2,) = torch.autograd.grad(g1.sum(), d)
    torch.testing.assert_close(k.profile(d, 1), g1)
    torch.testing.assert_close(k.profile(d, 2), g2)


def test_log_weights_jeffreys_and_frequency_grid():
    k = SpectralMixture(n_components=5, max_frequency=4.0)
    torch.testing.assert_close(k.frequencies.detach(),
                               torch.linspace(0, 4, 5, dtype=torch.float64))
    torch.testing.assert_close(k.weights.sum().detach(), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(k.neg_log_prior().detach(), 5 * math.log(0.2) * torch.ones((),
                               dtype=torch.float64))


def test_gram_matrices_are_positive_semidefinite():
    x = torch.linspace(0, 3, 40, dtype=torch.float64)
    for k in kernels().values():
        with torch.no_grad():
            lam = torch.linalg.eigvalsh(k(x, x))
        assert lam.min() > -1e-10 * lam.max()


def test_product_kernel_is_product_of_axes():
    pk = ProductKernel({"x": SquaredExponential(0.5), "y": Matern52(0.7)})
    g = torch.Generator().manual_seed(0)
    a = torch.rand(4, 2, generator=g, dtype=torch.float64)
    b = torch.rand(3, 2, generator=g, dtype=torch.float64)
    with torch.no_grad():
        full = pk(a, b, dx=[2, 1])
        expected = pk["x"](a[:, 0], b[:, 0], dx=2) * pk["y"](a[:, 1], b[:, 1], dx=1)
    torch.testing.assert_close(full, expected)


def test_errors():
    with pytest.raises(ValueError, match="total order 0 to 2"):
        Matern52()(torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64), dx=3)
    with pytest.raises(ValueError, match="kernel: got 'rbf'"):
        make_kernel("rbf")
    with pytest.raises(ValueError, match="lengthscale"):
        SquaredExponential(lengthscale=-1.0)
    with pytest.raises(ValueError, match="n_components"):
        SpectralMixture(n_components=0)
