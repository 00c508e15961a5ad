"""GaussianEmbedding against a dense numpy oracle, its closed-form gradient, and truncation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.pig.embedding import GaussianEmbedding


def oracle(emb: GaussianEmbedding, x: np.ndarray) -> np.ndarray:
    """sum_i f_i exp(-1/2 (x - mu_i)^T Sigma_i^-1 (x - mu_i)), one Gaussian at a time."""
    mu = emb.mu.detach().double().numpy()
    cov = emb.covariances().detach().double().numpy()
    f = emb.weight.detach().double().numpy()
    out = np.zeros((x.shape[0], f.shape[1]))
    for i in range(mu.shape[0]):
        d = x - mu[i]
        q = np.einsum("pi,ij,pj->p", d, np.linalg.inv(cov[i]), d)
        out += np.exp(-0.5 * q)[:, None] * f[i]
    return out


def perturb(emb: GaussianEmbedding, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in emb.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_matches_dense_oracle(covariance, dim):
    emb = GaussianEmbedding(7, dim, features=3, covariance=covariance, sigma_init=0.4, seed=dim)
    emb = emb.double()
    perturb(emb)
    x = np.random.default_rng(0).uniform(-1, 1, (50, dim))
    out = emb(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, oracle(emb, x), rtol=1e-12, atol=1e-14)


def test_full_with_zero_offdiagonal_equals_diagonal():
    diag = GaussianEmbedding(5, 2, sigma_init=0.3, seed=3).double()
    full = GaussianEmbedding(5, 2, covariance="full", sigma_init=0.3, seed=3).double()
    x = torch.rand(20, 2, dtype=torch.float64)
    torch.testing.assert_close(diag(x), full(x))


def test_covariances_stay_positive_definite():
    emb = GaussianEmbedding(20, 3, covariance="full", seed=1).double()
    with torch.no_grad():
        emb.log_sigma.normal_(0, 3)
        emb.offdiag.normal_(0, 5)
    eig = torch.linalg.eigvalsh(emb.covariances())
    assert bool((eig > 0).all())
    L = emb.cholesky()
    torch.testing.assert_close(L, torch.tril(L))
    torch.testing.assert_close(emb.marginal_std() ** 2, torch.diagonal(emb.covariances(), 0, 1, 2))


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_gradient_matches_closed_form(covariance):
    emb = GaussianEmbedding(6, 2, features=1, covariance=covariance, sigma_init=0.5, seed=2)
    emb = emb.double()
    perturb(emb, 1)
    x = torch.rand(10, 2, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(emb(x).sum(), x)
    # d/dx sum_i f_i G_i(x) = -sum_i f_i G_i(x) Sigma_i^-1 (x - mu_i)
    prec = torch.linalg.inv(emb.covariances()).detach()
    d = (x[:, None, :] - emb.mu[None]).detach()
    g = torch.exp(-0.5 * torch.einsum("pni,nij,pnj->pn", d, prec, d))
    expected = -torch.einsum("pn,n,nij,pnj->pi", g, emb.weight[:, 0].detach(), prec, d)
    torch.testing.assert_close(grad, expected)


def test_chunking_is_exact():
    emb = GaussianEmbedding(30, 2, seed=0).double()
    chunked = GaussianEmbedding(30, 2, chunk_size=7, seed=0).double()
    x = torch.rand(100, 2, dtype=torch.float64) * 2 - 1
    torch.testing.assert_close(emb(x), chunked(x), rtol=0, atol=1e-15)


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_cutoff_error_is_bounded(covariance):
    n, c = 400, 4.0
    exact = GaussianEmbedding(n, 2, covariance=covariance, sigma_init=0.05, seed=5).double()
    cut = GaussianEmbedding(
        n, 2, covariance=covariance, sigma_init=0.05, cutoff=c, chunk_size=64, seed=5
    ).double()
    if covariance == "full":
        with torch.no_grad():
            exact.offdiag.fill_(0.02)
            cut.offdiag.fill_(0.02)
    x = torch.rand(2000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    err = (exact(x) - cut(x)).abs().max()
    bound = math.exp(-(c**2) / 2) * exact.weight.abs().sum(0).max()
    assert err <= bound
    # and the points come back in their original order, with gradients
    xg = x[:50].clone().requires_grad_(True)
    (g,) = torch.autograd.grad(cut(xg).sum(), xg)
    (ge,) = torch.autograd.grad(exact(xg).sum(), xg)
    torch.testing.assert_close(g, ge, atol=1e-3, rtol=0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="covariance"):
        GaussianEmbedding(4, 2, covariance="spherical")
    with pytest.raises(ValueError, match="n_gaussians"):
        GaussianEmbedding(0, 2)
    with pytest.raises(ValueError, match="sigma_init"):
        GaussianEmbedding(4, 2, sigma_init=-1.0)
    with pytest.raises(ValueError, match="cutoff"):
        GaussianEmbedding(4, 2, cutoff=0)
    with pytest.raises(ValueError, match=r"x: expected shape \(n, 2\)"):
        GaussianEmbedding(4, 2)(torch.zeros(3, 3))
