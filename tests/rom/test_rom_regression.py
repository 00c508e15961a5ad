import numpy as np
import pytest
import torch

from sciml.problems.thermal_block import thermal_block
from sciml.rom.regression import PODGPSurrogate, gp_posterior, matern52
from sciml.testing import SolverConformance


def test_matern52_against_formula():
    rng = np.random.default_rng(0)
    a, b = rng.random((4, 2)), rng.random((3, 2))
    ls, s2 = np.array([0.3, 0.7]), 1.7
    d = np.sqrt((((a[:, None] - b[None]) / ls) ** 2).sum(-1))
    oracle = s2 * (1 + np.sqrt(5) * d + 5 * d**2 / 3) * np.exp(-np.sqrt(5) * d)
    s2_t = torch.tensor(s2, dtype=torch.float64)
    got = matern52(torch.as_tensor(a), torch.as_tensor(b), torch.as_tensor(ls), s2_t)
    np.testing.assert_allclose(got.numpy(), oracle, rtol=1e-12)


def test_gp_posterior_against_dense_formula():
    rng = np.random.default_rng(1)
    x, xs = rng.random((10, 2)), rng.random((4, 2))
    y = rng.standard_normal((10, 3))
    f64 = torch.float64
    ls, s2 = torch.tensor([0.4, 0.5], dtype=f64), torch.tensor(1.3, dtype=f64)
    noise = torch.tensor(1e-4, dtype=f64)
    t = [torch.as_tensor(v) for v in (x, y, xs)]
    mean, var = gp_posterior(t[0], t[1], t[2], ls.double(), s2.double(), noise.double())
    k = matern52(t[0], t[0], ls.double(), s2.double()).numpy() + 1e-4 * np.eye(10)
    ks = matern52(t[0], t[2], ls.double(), s2.double()).numpy()
    np.testing.assert_allclose(mean.numpy(), ks.T @ np.linalg.solve(k, y), rtol=1e-8)
    oracle_var = 1.3 - np.einsum("ij,ij->j", ks, np.linalg.solve(k, ks))
    np.testing.assert_allclose(var.numpy(), oracle_var, rtol=1e-6, atol=1e-12)


def test_surrogate_learns_smooth_family_with_variance():
    # outputs y(mu) = sin(mu1 x) + mu2 x^2 on a grid: two smooth parameters.
    x = np.linspace(0, 1, 60)
    rng = np.random.default_rng(2)
    mus = rng.uniform(0, 1, (40, 2))
    ys = np.sin(np.outer(mus[:, 0] + 1, x)) + mus[:, 1:2] * x**2
    s = PODGPSurrogate(max_iter=30).fit_data(mus, ys)
    test = np.array([[0.3, 0.6], [0.8, 0.1]])
    truth = np.sin(np.outer(test[:, 0] + 1, x)) + test[:, 1:2] * x**2
    pred, std = s.predict(test, return_std=True)
    assert np.abs(pred - truth).max() < 1e-2
    assert std.shape == pred.shape and np.all(std >= 0)
    # At a training point the posterior (nearly) collapses: only the learned noise is left.
    _, std_train = s.predict(mus[0], return_std=True)
    assert std_train.max() < 0.2 * std.max()


def test_surrogate_input_fields():
    rng = np.random.default_rng(3)
    x = np.linspace(0, 1, 30)
    a = rng.uniform(0, 1, (25, 1))
    inputs = a * np.sin(np.pi * x)[None]  # fields, compressed to 1 mode
    outputs = 2 * inputs
    s = PODGPSurrogate(input_modes=1, max_iter=40).fit_data(inputs, outputs)
    pred = s.predict(0.5 * np.sin(np.pi * x))
    np.testing.assert_allclose(pred, np.sin(np.pi * x), atol=1e-3)
    with pytest.raises(ValueError, match="inputs, outputs"):
        s.fit_data(np.zeros((3, 2)), np.zeros((4, 2)))


class TestPODGPConformance(SolverConformance):
    def make_problem(self):
        return thermal_block(blocks=2, n=6)

    def make_solver(self):
        return PODGPSurrogate(n_train=16, max_iter=30)

    def predict_input(self, problem):
        return {"k0": 0.5, "k1": 0.2, "k2": 0.9, "k3": 0.4}
