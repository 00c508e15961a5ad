"""TFNO: FNO with factorized spectral weights (counts, config, dense oracle, solver)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from sciml.core.problem import OperatorProblem
from sciml.core.registry import MODELS
from sciml.neural.factorized import resolve_rank
from sciml.neural.fno import FNO, TFNO
from sciml.neural.solver import NeuralOperatorSolver
from sciml.neural.spectral import count_parameters
from sciml.reference.grf import gaussian_random_field
from sciml.testing import SolverConformance
from sciml.train import Trainer


def _spectral_count(factorization, shape, ranks):
    if factorization is None:
        return 2 * math.prod(shape)
    if factorization == "cp":
        return 2 * ranks[0] * sum(shape)
    if factorization == "tucker":
        return 2 * (math.prod(ranks) + sum(s * r for s, r in zip(shape, ranks)))
    bonds = [1, *ranks, 1]
    return 2 * sum(bonds[k] * shape[k] * bonds[k + 1] for k in range(len(shape)))


def _expected_count(in_ch, out_ch, n_modes, hidden, layers, factorization, rank):
    """The fno module docstring's formula with the factorized spectral count."""
    lift_in = in_ch + len(n_modes)
    lift, proj, mlp = 2 * hidden, 2 * hidden, round(hidden * 0.5)
    shape = (hidden, hidden, *n_modes[:-1], n_modes[-1] // 2 + 1)
    ranks = () if factorization is None else resolve_rank(factorization, shape, rank)
    spectral = _spectral_count(factorization, shape, ranks) + hidden
    block = spectral + hidden * hidden + (hidden * mlp + mlp + mlp * hidden + hidden) + hidden
    return (
        lift_in * lift + lift + lift * hidden + hidden
        + layers * block
        + hidden * proj + proj + proj * out_ch + out_ch
    )


@pytest.mark.parametrize(
    ("factorization", "rank", "n_modes", "hidden"),
    [("tucker", 0.1, (16, 16), 64), ("tucker", 4, (8,), 16), ("cp", 0.05, (6, 5, 4), 12),
     ("tt", 0.2, (7, 9), 10), ("tt", 3, (8,), 8), ("cp", 6, (6, 6), 8)],
)
def test_parameter_count_formula(factorization, rank, n_modes, hidden):
    model = TFNO(2, 1, n_modes, hidden_channels=hidden, n_layers=3,
                 factorization=factorization, rank=rank)
    expected = _expected_count(2, 1, n_modes, hidden, 3, factorization, rank)
    assert count_parameters(model) == expected


def test_default_is_tucker_one_tenth():
    model = TFNO(1, 1, (16, 16))
    spectral = model.blocks[0].spectral
    assert spectral.factorization == "tucker" and spectral.rank == 0.1
    dense_count = 2 * 64 * 64 * 16 * 9
    ratio = count_parameters(spectral.weight) / dense_count
    assert 0.09 < ratio < 0.11
    # the whole model shrinks accordingly
    assert count_parameters(model) < 0.2 * count_parameters(FNO(1, 1, (16, 16)))


def test_config_round_trip_through_registry():
    torch.manual_seed(0)
    model = TFNO(2, 1, (6, 5), hidden_channels=8, n_layers=2, factorization="cp", rank=0.3,
                 domain_padding=0.125)
    config = json.loads(json.dumps(model.config))
    assert config["factorization"] == "cp" and config["rank"] == 0.3
    assert MODELS.get("TFNO") is TFNO
    clone = MODELS.get("TFNO")(**config)
    assert clone.config == model.config
    clone.load_state_dict(model.state_dict())
    x = torch.randn(2, 2, 12, 10)
    torch.testing.assert_close(clone(x), model(x), rtol=0, atol=0)
    # FNO with the same options is the same architecture
    fno = FNO(**config)
    fno.load_state_dict(model.state_dict())
    torch.testing.assert_close(fno(x), model(x), rtol=0, atol=0)


@pytest.mark.parametrize("factorization", ["tucker", "cp", "tt"])
@pytest.mark.parametrize(("n_modes", "shape"), [((6,), (20,)), ((6, 5), (12, 9)),
                                                ((4, 4, 4), (6, 7, 8))])
def test_equals_fno_with_reconstructed_dense_weights(factorization, n_modes, shape):
    """Oracle: a dense FNO whose spectral weights are the TFNO's reconstructions."""
    torch.manual_seed(1)
    tfno = TFNO(2, 3, n_modes, hidden_channels=6, n_layers=2, factorization=factorization,
                rank=0.4)
    fno = FNO(2, 3, n_modes, hidden_channels=6, n_layers=2)
    state = {k: v for k, v in tfno.state_dict().items() if ".spectral.weight." not in k}
    with torch.no_grad():
        for i, block in enumerate(tfno.blocks):
            state[f"blocks.{i}.spectral.weight"] = block.spectral.weight.to_dense()
    fno.load_state_dict(state)
    x = torch.randn(2, 2, *shape)
    out = tfno(x)
    assert out.shape == (2, 3, *shape)
    torch.testing.assert_close(out, fno(x), rtol=0, atol=2e-6 * out.abs().max().item())


def test_resolution_invariance_holds_for_tfno():
    torch.manual_seed(2)
    model = TFNO(1, 1, (6,), hidden_channels=8, n_layers=2, positional_embedding=False)
    t = torch.arange(48) / 48
    u = (torch.sin(2 * math.pi * t) + 0.5 * torch.cos(4 * math.pi * t))[None, None]
    with torch.no_grad():
        fine, coarse = model(u), model(u[..., ::3])
    assert ((fine[..., ::3] - coarse).abs().max() / fine.abs().max()) < 1e-4


def _problem(n=40, size=16, seed=0):
    field = gaussian_random_field(n, size, alpha=3.0, tau=3.0, boundary="periodic", rng=seed)
    x = torch.as_tensor(field, dtype=torch.float32)[:, None]
    y = (x + x.roll(1, -1) + x.roll(-1, -1)) / 3.0
    train = torch.utils.data.TensorDataset(x[: n - 8], y[: n - 8])
    test = torch.utils.data.TensorDataset(x[n - 8 :], y[n - 8 :])
    return OperatorProblem(train, {"16": test}, name="smoothing")


def _solver(epochs):
    torch.manual_seed(0)
    model = TFNO(1, 1, (8, 8), hidden_channels=8, n_layers=2, rank=0.3)
    trainer = Trainer(epochs=epochs, batch_size=8, lr=1e-2, progress=False, device="cpu")
    return NeuralOperatorSolver(model, trainer)


class TestTFNOSolverConformance(SolverConformance):
    """Train, save, load and predict through NeuralOperatorSolver with a TFNO."""

    def make_problem(self):
        return _problem()

    def make_solver(self):
        return _solver(epochs=2)


def test_tfno_trains():
    problem = _problem()
    solver = _solver(epochs=15).fit(problem)
    history = solver.history_
    assert history[-1]["train_loss"] < 0.2 * history[0]["train_loss"]
