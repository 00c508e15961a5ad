"""bf16 autocast and torch.compile change results by less than their documented tolerances.

The tolerances are those stated in the Notes of :class:`sciml.train.trainer.Trainer`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from sciml.neural.fno import FNO
from sciml.neural.spectral import SpectralConv
from sciml.train.checkpoint import load_checkpoint
from sciml.train.trainer import Trainer

BF16_FORWARD_RTOL = 3e-2  # measured 2.5e-3 .. 1.1e-2 (relative L2, three seeds)
BF16_FINAL_LOSS_RTOL = 2e-2  # measured 7.5e-5 (this test) and 8e-4 (10 epochs)
COMPILE_FORWARD_RTOL = 1e-5  # measured 0 (aot_eager) and 2e-7 (inductor)
COMPILE_WEIGHTS_RTOL = 1e-4  # measured 0 (aot_eager) and 1.6e-7 (inductor) after 4 Adam steps


def _rel_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = (torch.view_as_real(t) if t.is_complex() else t for t in (a.detach(), b.detach()))
    a, b = a.double(), b.double()
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


def _smooth_pairs(n: int, seed: int, size: int = 32) -> TensorDataset:
    """Smooth random fields u and the nonlinear target Laplacian-like(u) + u^2."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n, 1, size, size))
    k = np.fft.fftfreq(size)[:, None] * size
    q = np.fft.rfftfreq(size)[None, :] * size
    u = np.fft.irfft2(np.fft.rfft2(u) * np.exp(-(k**2 + q**2) / 16), s=(size, size))
    u /= u.std(axis=(1, 2, 3), keepdims=True)
    y = np.roll(u, 1, -1) - 2 * u + np.roll(u, -1, -1) + u**2
    return TensorDataset(torch.tensor(u, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))


def _fno(seed: int, in_channels: int = 1) -> FNO:
    torch.manual_seed(seed)
    return FNO(in_channels, 1, n_modes=(8, 8), hidden_channels=16, n_layers=3)


# ---------------------------------------------------------------- bf16 autocast
def test_spectral_conv_keeps_float32_under_autocast():
    torch.manual_seed(0)
    layer = SpectralConv(4, 4, n_modes=(6, 6))
    x = torch.randn(2, 4, 24, 24, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        plain = layer(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            auto = layer(x)
    assert auto.dtype == torch.float32
    assert _rel_l2(auto, plain) < 1e-6  # nothing inside ran in bf16


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fno_forward_bf16_close_to_float32(seed):
    model = _fno(seed, in_channels=2)
    x = torch.randn(4, 2, 32, 32, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        want = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = model(x)
    error = _rel_l2(got.float(), want)
    assert error < BF16_FORWARD_RTOL
    assert error > 1e-5  # bf16 really was used: the comparison can fail


def test_bf16_training_final_loss_close_to_float32():
    train = _smooth_pairs(24, 0)
    finals = {}
    for amp in ("none", "bf16"):
        model = _fno(0)
        history = Trainer(
            epochs=5, batch_size=8, lr=1e-2, amp=amp, device="cpu", progress=False
        ).fit(model, train)
        assert history[-1]["train_loss"] < 0.85 * history[0]["train_loss"]
        # autocast leaves the master weights in full precision
        assert all(p.dtype in (torch.float32, torch.complex64) for p in model.parameters())
        finals[amp] = history[-1]["train_loss"]
    assert abs(finals["bf16"] - finals["none"]) / finals["none"] < BF16_FINAL_LOSS_RTOL


# ---------------------------------------------------------------- torch.compile
class _DropoutConv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv1d(1, 8, 3, padding=1, padding_mode="circular")
        self.drop = nn.Dropout(0.5)
        self.out = nn.Conv1d(8, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(torch.tanh(self.conv(x))))


def _line_pairs(n: int, seed: int) -> TensorDataset:
    x = torch.randn(n, 1, 16, generator=torch.Generator().manual_seed(seed))
    return TensorDataset(x, 0.5 * torch.roll(x, 1, -1) - x)


def _one_d_fno(seed: int) -> FNO:
    torch.manual_seed(seed)
    return FNO(1, 1, n_modes=4, hidden_channels=8, n_layers=2)


def _compare_compiled_training(backend: str, tmp_path) -> None:
    train, test = _line_pairs(16, 0), {"t": _line_pairs(8, 1)}
    options = dict(epochs=2, batch_size=8, lr=1e-2, device="cpu", progress=False)
    eager = _one_d_fno(0)
    h_eager = Trainer(**options).fit(eager, train, test)
    compiled = _one_d_fno(0)
    trainer = Trainer(compile=True, compile_backend=backend, checkpoint_dir=tmp_path, **options)
    h_comp = trainer.fit(compiled, train, test)
    for a, b in zip(h_comp, h_eager):
        assert abs(a["train_loss"] - b["train_loss"]) / b["train_loss"] < COMPILE_FORWARD_RTOL
        assert abs(a["t/rel_l2"] - b["t/rel_l2"]) / b["t/rel_l2"] < COMPILE_FORWARD_RTOL
    # The caller's module was trained, and it is what the checkpoint holds.
    for a, b in zip(compiled.parameters(), eager.parameters()):
        assert _rel_l2(a, b) < COMPILE_WEIGHTS_RTOL
    assert not any(torch.equal(a, b) for a, b in zip(compiled.parameters(),
                                                      _one_d_fno(0).parameters()))
    state = load_checkpoint(tmp_path / "last.pt").model_state
    assert state.keys() == eager.state_dict().keys()  # no "_orig_mod." prefix
    x = test["t"].tensors[0]
    with torch.no_grad():
        out = torch.compile(compiled, backend=backend)(x)
        assert _rel_l2(out, compiled(x)) < COMPILE_FORWARD_RTOL


def test_compiled_training_matches_eager_aot_eager(tmp_path):
    _compare_compiled_training("aot_eager", tmp_path)


@pytest.mark.slow  # the CPU inductor backend compiles C++: ~150 s here
def test_compiled_training_matches_eager_inductor(tmp_path):
    _compare_compiled_training("inductor", tmp_path)


def test_compiled_evaluate_switches_to_eval_mode():
    """A graph traced in train mode (dropout on) must not be reused for evaluation."""
    data = _line_pairs(8, 2)
    model = _DropoutConv()
    trainer = Trainer(compile=True, compile_backend="eager", progress=False, device="cpu")
    want = Trainer(progress=False, device="cpu").evaluate(model, data)
    x = data.tensors[0]
    compiled = trainer._compiled_for_eval(model)
    model.train()
    with torch.no_grad():
        train_mode = compiled(x)  # traced with dropout active
    assert _rel_l2(train_mode, model.eval()(x).detach()) > 0.1
    model.train()
    got = trainer.evaluate(model, data)
    assert got["rel_l2"] == pytest.approx(want["rel_l2"], rel=COMPILE_FORWARD_RTOL)
    assert model.training


def test_compile_options_are_checked():
    with pytest.raises(ValueError, match="compile: expected True or False, got 'yes'"):
        Trainer(compile="yes")
    with pytest.raises(ValueError, match="compile_backend: expected the name"):
        Trainer(compile_backend=3)
    with pytest.raises(ValueError, match="compile_backend: got 'nope'"):
        Trainer(compile=True, compile_backend="nope")
    config = Trainer(compile=True, compile_backend="aot_eager").config
    assert (config["compile"], config["compile_backend"]) == (True, "aot_eager")
    assert Trainer(**config).compile
