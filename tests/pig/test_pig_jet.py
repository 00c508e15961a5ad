"""Second-order jets: every network's forward-mode derivatives equal nested autograd's."""

from __future__ import annotations

import pytest
import torch

from sciml.core.residual import AutogradField
from sciml.pig.embedding import GaussianEmbedding, _GaussianSum
from sciml.pig.jet import Jet, derivative_order, jet_field, supports_jet
from sciml.pig.networks import MLP, PIGNetwork, PINNNetwork
from sciml.pig.training import HardDirichlet, _field
from sciml.problems.flow_mixing import flow_mixing_3d
from sciml.problems.helmholtz import helmholtz_2d
from sciml.problems.klein_gordon import klein_gordon_3d

LOWER, UPPER = [-1.0, -2.0, 0.0], [1.0, 2.0, 3.0]
NAMES = ("x", "y", "t")


def _points(n: int = 200, seed: int = 12345) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    lo, hi = torch.tensor(LOWER, dtype=torch.float64), torch.tensor(UPPER, dtype=torch.float64)
    return lo + torch.rand(n, 3, generator=gen, dtype=torch.float64) * (hi - lo)


def _networks() -> dict[str, torch.nn.Module]:
    full = PIGNetwork(LOWER, UPPER, n_gaussians=40, sigma_init=0.3, covariance="full", seed=1)
    with torch.no_grad():
        full.embedding.offdiag.normal_(0.0, 0.2, generator=torch.Generator().manual_seed(3))
    return {
        "pig-diagonal": PIGNetwork(LOWER, UPPER, n_gaussians=40, sigma_init=0.3, seed=0),
        "pig-full": full,
        "pig-cutoff": PIGNetwork(
            LOWER, UPPER, n_gaussians=60, sigma_init=0.2, cutoff=3.0, chunk_size=32, seed=2
        ),
        "pig-deep": PIGNetwork(LOWER, UPPER, n_gaussians=30, width=8, depth=2, seed=4),
        "pinn": PINNNetwork(LOWER, UPPER, width=16, depth=3, seed=5),
        "pinn-fourier": PINNNetwork(
            LOWER, UPPER, width=16, depth=2, fourier_features=8, fourier_scale=2.0, seed=6
        ),
        "hard": HardDirichlet(
            PIGNetwork(LOWER, UPPER, n_gaussians=20, sigma_init=0.4, seed=7),
            LOWER,
            UPPER,
            faces=[(0, 0), (0, 1), (1, 1), (2, 0)],
            value=0.5,
        ),
    }


@pytest.mark.parametrize("name", list(_networks()))
def test_jet_matches_nested_autograd(name: str) -> None:
    net = _networks()[name].double()
    assert supports_jet(net)
    pts = _points()
    leaf = pts.clone().requires_grad_(True)
    reference = AutogradField(net(leaf), leaf, NAMES)
    field = jet_field(net, pts, NAMES)
    torch.testing.assert_close(field.value, reference.value, rtol=1e-12, atol=1e-14)
    for spec in ("x", "y", "t", "xx", "yy", "tt"):
        expected = reference.d(spec)
        scale = float(expected.abs().max().detach())
        assert scale > 0, spec  # a non-trivial derivative, or the comparison proves nothing
        err = float((field.d(spec) - expected).abs().max().detach())
        assert err <= 1e-10 * scale, (name, spec, err, scale)


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_embedding_jet_matches_the_closed_form(covariance: str) -> None:
    emb = GaussianEmbedding(25, 3, covariance=covariance, sigma_init=0.3, seed=3).double()
    if covariance == "full":
        with torch.no_grad():
            emb.offdiag.normal_(0.0, 0.2, generator=torch.Generator().manual_seed(0))
    z = _points(64) / 3.0
    P = emb.precisions()
    diff = z[:, None, :] - emb.mu[None]  # (n, N, d)
    r = torch.einsum("iab,nib->nia", P, diff)
    g = torch.exp(-0.5 * (diff * r).sum(-1))  # (n, N)
    w = emb.weight
    grad = -torch.einsum("ni,nia,ik->ank", g, r, w)
    hess = torch.einsum("ni,nia,ik->ank", g, r * r - torch.diagonal(P, dim1=1, dim2=2), w)
    jet = emb.jet(z)
    torch.testing.assert_close(jet.value, g @ w, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(jet.grad, grad, rtol=1e-11, atol=1e-13)
    torch.testing.assert_close(jet.hess, hess, rtol=1e-11, atol=1e-12)


def test_mixed_and_higher_derivatives_fall_back_to_autograd() -> None:
    net = _networks()["pig-diagonal"].double()
    pts = _points(50)
    leaf = pts.clone().requires_grad_(True)
    reference = AutogradField(net(leaf), leaf, NAMES)
    field = jet_field(net, pts, NAMES)
    for spec in ("xy", "yt", "xxy", "ttt"):
        torch.testing.assert_close(field.d(spec), reference.d(spec), rtol=1e-9, atol=1e-12)


def test_parameter_gradients_of_a_residual_loss_agree() -> None:
    problem = helmholtz_2d()
    net = PIGNetwork([-1.0, -1.0], [1.0, 1.0], n_gaussians=30, seed=0).double()
    pts = _points(100)[:, :2].clamp(-1, 1)

    def loss_grads(u: AutogradField) -> list[torch.Tensor]:
        loss = torch.mean(problem.residual(u, u.coords) ** 2)
        return torch.autograd.grad(loss, list(net.parameters()))

    leaf = pts.clone().requires_grad_(True)
    ref = loss_grads(AutogradField(net(leaf), leaf, ("x", "y")))
    new = loss_grads(jet_field(net, pts, ("x", "y")))
    for a, b in zip(ref, new):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_jet_algebra_on_a_known_function() -> None:
    # f(x, y) = tanh(x * y^2): compare the product and tanh rules with closed forms.
    pts = _points(30)[:, :2]
    ident = Jet.identity(pts)
    x = Jet(ident.value[:, 0], ident.grad[:, :, 0], ident.hess[:, :, 0])
    y = Jet(ident.value[:, 1], ident.grad[:, :, 1], ident.hess[:, :, 1])
    f = (x * y * y).tanh()
    xv, yv = pts[:, 0], pts[:, 1]
    t = torch.tanh(xv * yv**2)
    s = 1 - t**2
    torch.testing.assert_close(f.grad[0], s * yv**2)
    torch.testing.assert_close(f.grad[1], s * 2 * xv * yv)
    torch.testing.assert_close(f.hess[0], -2 * t * s * yv**4)
    torch.testing.assert_close(f.hess[1], s * 2 * xv - 2 * t * s * (2 * xv * yv) ** 2)


def test_the_training_field_uses_the_jet_and_plain_modules_use_autograd() -> None:
    pts = _points(10)
    net = _networks()["pig-diagonal"].double()
    field = _field(net, pts, NAMES)
    assert ("x", "x") in field._cache  # filled by the jet before any request
    plain = torch.nn.Sequential(torch.nn.Linear(3, 1).double(), torch.nn.Flatten(0))
    assert not supports_jet(plain)
    field = _field(plain, pts, NAMES)
    assert ("x", "x") not in field._cache
    assert field.d("xx").shape == (10,)


def test_known_derivatives_are_validated() -> None:
    pts = _points(5).requires_grad_(True)
    values = pts.sum(1)
    with pytest.raises(ValueError, match=r"known\[\('x',\)\]: expected shape \(5,\)"):
        AutogradField(values, pts, NAMES, known={("x",): torch.zeros(4)})
    with pytest.raises(ValueError, match="unknown|axes|not an axis|z"):
        AutogradField(values, pts, NAMES, known={("z",): torch.zeros(5)})


def test_embedding_and_mlp_jets_check_shapes() -> None:
    emb = GaussianEmbedding(10, 2)
    with pytest.raises(ValueError, match=r"expected shape \(n, 2\)"):
        emb.jet(torch.zeros(4, 3))
    out = MLP(2, 1, 4, 1).jet(Jet.identity(torch.zeros(4, 2)))
    assert out.value.shape == (4, 1) and out.grad.shape == (2, 4, 1)


@pytest.mark.parametrize("name", list(_networks()))
def test_first_order_jet_carries_value_and_gradient_only(name: str) -> None:
    net = _networks()[name].double()
    pts = _points(80)
    full, first = net.jet(pts), net.jet(pts, order=1)
    assert first.order == 1 and first.hess is None and full.order == 2
    torch.testing.assert_close(first.value, full.value, rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(first.grad, full.grad, rtol=1e-13, atol=1e-15)
    # A second derivative asked of a first-order field still comes, from autograd.
    field = jet_field(net, pts, NAMES, order=1)
    assert ("x", "x") not in field._cache
    torch.testing.assert_close(field.d("xx"), full.hess[0], rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="order: expected 1 or 2"):
        jet_field(net, pts, NAMES, order=3)


def test_derivative_order_of_residuals() -> None:
    pts = _points(3)
    assert derivative_order(flow_mixing_3d().residual, pts, NAMES) == 1
    assert derivative_order(klein_gordon_3d().residual, pts, NAMES) == 2
    assert derivative_order(lambda u, x: u.d("x") * u.d("xy"), pts, NAMES) == 2
    assert derivative_order(lambda u, x: u.value**2 - x.x, pts, NAMES) == 1

    def broken(u, x):
        raise RuntimeError("not on a probe")

    assert derivative_order(broken, pts, NAMES) == 2  # unknown: carry everything


def test_fused_gaussian_sum_gradients() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(9, 2, generator=gen, dtype=torch.float64)
    Z = torch.cat([x * x, x, torch.ones(9, 1, dtype=torch.float64)], 1).requires_grad_(True)
    prec = 1 + torch.rand(5, 2, generator=gen, dtype=torch.float64)
    mu = torch.rand(5, 2, generator=gen, dtype=torch.float64)
    W = (-0.5 * torch.cat([prec.T, -2 * (mu * prec).T, (mu * mu * prec).sum(1)[None]])).detach()
    W.requires_grad_(True)
    M = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(_GaussianSum.apply(Z, W, M), torch.exp(Z @ W) @ M)
    assert torch.autograd.gradcheck(_GaussianSum.apply, (Z, W, M))
    # Twice differentiable: mixed partials of a jet field differentiate its backward pass.
    assert torch.autograd.gradgradcheck(_GaussianSum.apply, (Z, W, M))
