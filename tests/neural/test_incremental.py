"""Incremental modes: exact masking, growth rules, resume and a small training run."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch.utils.data import TensorDataset

from sciml.neural.fno import FNO
from sciml.neural.incremental import IncrementalModes, needs_more_modes, spectral_layers
from sciml.neural.spectral import SpectralConv, kept_frequencies
from sciml.train import Trainer

pytestmark = pytest.mark.filterwarnings("ignore:Complex modules are a new feature")


def _sliced(full: torch.Tensor, n_modes, active) -> torch.Tensor:
    """Sub-block of a stored weight for ``active`` modes, by explicit frequency lists."""
    freqs = kept_frequencies(active, [2 * m for m in n_modes])  # a grid fine enough for all
    w = full
    for j, ks in enumerate(freqs[:-1]):
        w = w.index_select(2 + j, torch.tensor([k % n_modes[j] for k in ks]))
    return w.narrow(-1, 0, len(freqs[-1]))


@pytest.mark.parametrize("factorization", [None, "tucker", "cp", "tt"])
@pytest.mark.parametrize("transform", ["dft", "fft"])
@pytest.mark.parametrize(("n_modes", "active", "shape"), [
    ((8,), (3,), (16,)),
    ((8,), (8,), (16,)),
    ((8, 7), (4, 3), (12, 11)),
    ((8, 7), (5, 6), (6, 16)),     # coarse first axis limits further
    ((6, 5, 6), (3, 2, 4), (8, 9, 10)),
])
def test_active_modes_equal_a_smaller_layer(factorization, transform, n_modes, active, shape):
    """Active modes m == a layer built with n_modes=m holding the matching weight block."""
    torch.manual_seed(0)
    conv = SpectralConv(3, 2, n_modes, transform=transform, factorization=factorization,
                        rank=0.5 if factorization else 1.0)
    with torch.no_grad():
        conv.bias.normal_()
    conv.set_active_modes(active)
    small = SpectralConv(3, 2, active, transform=transform)
    with torch.no_grad():
        full = conv.weight if factorization is None else conv.weight.to_dense()
        small.weight.copy_(_sliced(full, n_modes, active))
        small.bias.copy_(conv.bias)
    x = torch.randn(2, 3, *shape, dtype=torch.float64)
    atol = 1e-12 if factorization is None else 1e-6 * small(x).abs().max().item()
    torch.testing.assert_close(conv(x), small(x), rtol=0, atol=atol)


def test_inactive_modes_contribute_nothing_and_get_no_gradient():
    torch.manual_seed(1)
    conv = SpectralConv(2, 2, (8, 8))
    conv.set_active_modes((4, 2))
    x = torch.randn(2, 2, 16, 16)
    before = conv(x)
    mask = torch.ones_like(conv.weight, dtype=torch.bool)
    mask[:, :, [0, 1, 6, 7], :2] = False  # frequencies -2, -1, 0, 1 and 0, 1
    with torch.no_grad():
        conv.weight[mask] = 100.0
    torch.testing.assert_close(conv(x), before, rtol=0, atol=0)
    conv(x).square().sum().backward()
    assert (conv.weight.grad[mask] == 0).all() and (conv.weight.grad[~mask] != 0).any()
    with pytest.raises(ValueError, match=r"1 <= modes\[j\] <= n_modes\[j\]"):
        conv.set_active_modes((9, 2))
    with pytest.raises(ValueError, match="modes"):
        conv.set_active_modes((4,))


def test_fno_with_active_modes_equals_smaller_fno():
    torch.manual_seed(2)
    big = FNO(1, 1, (8, 8), hidden_channels=6, n_layers=2)
    for layer in spectral_layers(big):
        layer.set_active_modes((4, 5))
    small = FNO(1, 1, (4, 5), hidden_channels=6, n_layers=2)
    state = big.state_dict()
    for i in range(2):
        key = f"blocks.{i}.spectral."
        state[key + "weight"] = _sliced(state[key + "weight"], (8, 8), (4, 5))
        state[key + "active_modes"] = torch.tensor([4, 5])
    small.load_state_dict(state)
    x = torch.randn(2, 1, 16, 14)
    torch.testing.assert_close(big(x), small(x), rtol=0, atol=1e-6)


def test_active_modes_in_state_dict_and_old_state_dicts_load():
    conv = SpectralConv(2, 2, (6, 6))
    conv.set_active_modes(2)
    state = conv.state_dict()
    assert state["active_modes"].tolist() == [2, 2]
    other = SpectralConv(2, 2, (6, 6))
    other.load_state_dict(state)
    assert other.get_active_modes() == (2, 2)
    # a state dict from before the buffer existed: all modes active, strict loading works
    old = {k: v for k, v in state.items() if k != "active_modes"}
    other.load_state_dict(old)
    assert other.get_active_modes() == (6, 6)


def test_needs_more_modes_by_hand():
    # shells |k| = 0, 1, 2 with energies 10, 5, 0.01: 99 % explained without shell 2
    freqs = [0, 1, 2, -2, -1]
    energy = torch.tensor([10.0, 2.5, 0.005, 0.005, 2.5])
    assert not needs_more_modes(freqs, energy, 0.99)
    assert needs_more_modes(freqs, energy, 0.9999)
    energy[2] = 1.0
    assert needs_more_modes(freqs, energy, 0.99)
    assert needs_more_modes([0], torch.tensor([1.0]), 0.99)  # only the mean: always grow


class _Recorder:
    def __init__(self):
        self.records = []

    def __call__(self, model, callback, epochs):
        for epoch in range(1, epochs + 1):
            record = {"epoch": epoch}
            callback(None, model, record)
            self.records.append(record)
        return [r["n_modes"] for r in self.records]


def test_schedule_growth():
    model = FNO(1, 1, (9, 6), hidden_channels=4, n_layers=2)
    callback = IncrementalModes(initial_modes=(1, 2), step=(2, 1), every=2)
    callback.start(model)
    assert all(layer.get_active_modes() == (1, 2) for layer in spectral_layers(model))
    used = _Recorder()(model, callback, 10)
    # modes used in epoch e: initial + step * ((e - 1) // 2), capped at n_modes
    assert used == [[1, 2], [1, 2], [3, 3], [3, 3], [5, 4], [5, 4], [7, 5], [7, 5], [9, 6],
                    [9, 6]]
    assert all(layer.get_active_modes() == (9, 6) for layer in spectral_layers(model))


def test_energy_criterion_grows_only_where_needed():
    torch.manual_seed(3)
    model = FNO(1, 1, (8, 8), hidden_channels=4, n_layers=1)
    conv = spectral_layers(model)[0]
    callback = IncrementalModes(initial_modes=4, step=2, energy=0.99)
    callback.start(model)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[:, :, 0, 0] = 1.0     # frequency (0, 0)
        conv.weight[:, :, 6, 0] = 1.0     # frequency -2 on axis 0: the top active shell
    record = {"epoch": 1}
    callback(None, model, record)
    assert record["n_modes"] == [4, 4]
    # axis 0 needs its top shell (|k| = 2), axis 1 (k_last = 0 only matters) does not
    assert conv.get_active_modes() == (6, 4)


def _data(n, seed, size=32):
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(size) / size
    coeffs = torch.randn(n, 3, generator=gen) / torch.arange(1, 4)
    x = sum(c[:, None] * torch.sin(2 * torch.pi * (k + 1) * t)
            for k, c in enumerate(coeffs.T))
    x = x[:, None].float()
    y = torch.fft.irfft(torch.fft.rfft(x) * 1j * torch.arange(size // 2 + 1) / size, n=size)
    return TensorDataset(x, y.float())


def test_training_run_grows_modes_and_learns():
    """A derivative-like operator on fields with frequencies 1..3 (n_modes=8 keeps 0..4)."""
    torch.manual_seed(4)
    model = FNO(1, 1, 8, hidden_channels=8, n_layers=2)
    callback = IncrementalModes(initial_modes=2, step=2, every=2)
    callback.start(model)
    trainer = Trainer(epochs=8, batch_size=8, lr=1e-2, progress=False, device="cpu",
                      callbacks=[callback])
    history = trainer.fit(model, _data(64, 0), {"test": _data(16, 1)})
    assert [r["n_modes"] for r in history] == [[2], [2], [4], [4], [6], [6], [8], [8]]
    # measured: 3.10 -> 0.61
    assert history[-1]["train_loss"] < 0.3 * history[0]["train_loss"]


def test_training_run_with_energy_criterion():
    torch.manual_seed(4)
    model = FNO(1, 1, 8, hidden_channels=8, n_layers=2)
    callback = IncrementalModes(initial_modes=2, step=2, energy=0.99)
    callback.start(model)
    trainer = Trainer(epochs=5, batch_size=8, lr=1e-2, progress=False, device="cpu",
                      callbacks=[callback])
    history = trainer.fit(model, _data(64, 0))
    used = [r["n_modes"][0] for r in history]
    assert used[0] == 2 and used == sorted(used) and used[-1] > 2
    assert all(len(r["n_modes_per_layer"]) == 2 for r in history)
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]


def test_resume_restores_active_modes_and_matches_straight_run(tmp_path):
    def run(epochs, checkpoint_dir, resume=None):
        torch.manual_seed(5)
        model = FNO(1, 1, 12, hidden_channels=6, n_layers=2)
        callback = IncrementalModes(initial_modes=2, step=2, every=1)
        callback.start(model)
        trainer = Trainer(epochs=epochs, batch_size=8, lr=1e-2, progress=False, device="cpu",
                          callbacks=[callback], checkpoint_dir=checkpoint_dir, seed=0,
                          scheduler="none")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = trainer.fit(model, _data(32, 2), resume=resume)
        return model, history

    straight, h_straight = run(4, tmp_path / "a")
    run(2, tmp_path / "b")
    resumed, h_resumed = run(4, tmp_path / "b", resume=tmp_path / "b" / "last.pt")
    assert [r["n_modes"] for r in h_resumed] == [[2], [4], [6], [8]]
    assert [r["n_modes"] for r in h_straight] == [r["n_modes"] for r in h_resumed]
    for layer in spectral_layers(resumed):
        assert layer.get_active_modes() == (10,)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_missing_start_warns_and_bad_options_raise():
    model = FNO(1, 1, 8, hidden_channels=4, n_layers=1)
    with pytest.warns(UserWarning, match="start"):
        IncrementalModes(initial_modes=2)(None, model, {"epoch": 1})
    with pytest.raises(ValueError, match="every"):
        IncrementalModes(every=0)
    with pytest.raises(ValueError, match="energy"):
        IncrementalModes(energy=1.0)
    with pytest.raises(ValueError, match="initial_modes"):
        IncrementalModes(initial_modes=0)
    with pytest.raises(ValueError, match="step"):
        IncrementalModes(step=(2, 0))
    with pytest.raises(ValueError, match="SpectralConv"):
        IncrementalModes().start(torch.nn.Linear(2, 2))


@pytest.mark.filterwarnings("ignore:Dynamo detected a call")
def test_compiled_model_sees_new_active_modes():
    """torch.compile must not freeze the active modes it was traced with."""
    torch.manual_seed(6)
    model = FNO(1, 1, (8, 8), hidden_channels=4, n_layers=1)
    compiled = torch.compile(model, backend="eager")
    x = torch.randn(2, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x))
        IncrementalModes(initial_modes=2).start(model)
        reduced = model(x)
        torch.testing.assert_close(compiled(x), reduced)
        spectral_layers(model)[0].set_active_modes(8)
        assert (model(x) - reduced).abs().max() > 1e-4
