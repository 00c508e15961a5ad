"""Trainer: learning, evaluation, exact resume, divergence and option checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from sciml.train.checkpoint import load_checkpoint
from sciml.train.trainer import Trainer, TrainingDivergedError

KERNEL = (0.5, -1.0, 2.0)  # y_i = 0.5 x_{i-1} - x_i + 2 x_{i+1} (periodic)


def _shift_operator(x: np.ndarray) -> np.ndarray:
    return KERNEL[0] * np.roll(x, 1, -1) + KERNEL[1] * x + KERNEL[2] * np.roll(x, -1, -1)


def _dataset(n: int, seed: int, size: int = 16) -> TensorDataset:
    x = np.random.default_rng(seed).standard_normal((n, 1, size)).astype(np.float32)
    return TensorDataset(torch.from_numpy(x), torch.from_numpy(_shift_operator(x)))


def _conv(seed: int) -> nn.Conv1d:
    torch.manual_seed(seed)
    return nn.Conv1d(1, 1, 3, padding=1, padding_mode="circular")


class Tripwire(nn.Module):
    """Counts training forwards and acts at a chosen one (interrupt or NaN)."""

    def __init__(self, at: int | None = None, action: str = "interrupt", on_fire=None):
        super().__init__()
        self.at, self.action, self.on_fire, self.calls = at, action, on_fire, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        self.calls += 1
        if self.calls == self.at:
            if self.on_fire is not None:
                self.on_fire()
            if self.action == "interrupt":
                raise KeyboardInterrupt
            return x * math.nan
        return x


def _dropout_net(seed: int, tripwire: Tripwire | None = None) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv1d(1, 4, 3, padding=1, padding_mode="circular"),
        nn.GELU(),
        nn.Dropout(0.2),
        tripwire or Tripwire(),
        nn.Conv1d(4, 1, 1),
    )


def _same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def _core(history):
    return [{k: v for k, v in r.items() if k != "time"} for r in history]


def test_learns_a_linear_operator():
    model = _conv(0)
    trainer = Trainer(epochs=15, batch_size=8, lr=5e-2, eval_every=5, progress=True)
    history = trainer.fit(model, _dataset(64, 0), {"test": _dataset(16, 1)})
    assert len(history) == 15
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 10
    assert [r["epoch"] for r in history] == list(range(1, 16))
    assert history[-1]["step"] == 15 * 8
    assert [r["epoch"] for r in history if "test/rel_l2" in r] == [5, 10, 15]
    assert {"epoch", "step", "train_loss", "lr", "time", "test/loss"} <= set(history[-1])
    assert history[-1]["test/rel_l2"] < 0.05
    assert history[-1]["lr"] < history[0]["lr"]  # cosine decay
    assert trainer.history_ is history


def test_evaluate_matches_hand_computation():
    data = _dataset(10, 2)
    model = _conv(3)
    model.train()
    w = model.weight.detach().numpy()[0, 0]
    b = model.bias.detach().numpy()[0]
    x, y = (t.numpy().astype(np.float64) for t in data.tensors)
    pred = w[0] * np.roll(x, 1, -1) + w[1] * x + w[2] * np.roll(x, -1, -1) + b
    rel = np.sqrt(((pred - y) ** 2).sum(axis=(1, 2)) / (y**2).sum(axis=(1, 2)))

    got = Trainer(batch_size=3, progress=False).evaluate(model, data)
    assert got["rel_l2"] == pytest.approx(rel.mean(), rel=1e-5)
    assert got["loss"] == pytest.approx(rel.mean(), rel=1e-5)
    got = Trainer(loss="mse", progress=False).evaluate(model, data, batch_size=4)
    assert got["loss"] == pytest.approx(((pred - y) ** 2).mean(), rel=1e-5)
    assert model.training  # mode restored


def test_resume_after_whole_epochs_matches_straight_run(tmp_path):
    train, test = _dataset(20, 4), {"val": _dataset(6, 5)}
    options = dict(
        batch_size=6, lr=1e-2, scheduler="step", scheduler_kwargs={"step_size": 1, "gamma": 0.7},
        grad_clip=1.0, progress=False, seed=11,
    )
    straight = _conv(0)
    h_straight = Trainer(epochs=4, checkpoint_dir=tmp_path / "a", **options).fit(
        straight, train, test
    )

    first = _conv(0)
    Trainer(epochs=2, checkpoint_dir=tmp_path / "b", **options).fit(first, train, test)
    assert load_checkpoint(tmp_path / "b" / "last.pt").epoch == 2
    resumed = _conv(99)  # weights come from the checkpoint
    h_resumed = Trainer(epochs=4, checkpoint_dir=tmp_path / "b", **options).fit(
        resumed, train, test, resume=tmp_path / "b" / "last.pt"
    )
    _same_weights(straight, resumed)
    assert _core(h_resumed) == _core(h_straight)

    other_seed = _conv(0)
    Trainer(epochs=4, **{**options, "seed": 12}).fit(other_seed, train)
    assert not torch.equal(other_seed.weight, straight.weight)


@pytest.mark.parametrize("scheduler", ["cosine", "onecycle"])
def test_resume_after_interrupt_mid_epoch_is_bitwise(tmp_path, scheduler):
    train = _dataset(16, 6)  # 4 steps per epoch
    options = dict(epochs=3, batch_size=4, lr=1e-2, scheduler=scheduler, progress=False)

    straight = _dropout_net(0)
    h_straight = Trainer(**options).fit(straight, train)

    # Fires during training forward 7 = epoch 2, batch 3, after dropout drew its mask.
    interrupted = _dropout_net(0, Tripwire(at=7))
    trainer = Trainer(checkpoint_dir=tmp_path, **options)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(interrupted, train)
    ck = load_checkpoint(tmp_path / "last.pt")
    assert (ck.epoch, ck.step, ck.extra["trainer_state"]["batches_done"]) == (1, 6, 2)
    assert len(ck.extra["history"]) == 1

    torch.manual_seed(1234)  # the RNG state must come from the checkpoint
    resumed = _dropout_net(5)
    h_resumed = trainer.fit(resumed, train, resume=tmp_path / "last.pt")
    _same_weights(straight, resumed)
    assert _core(h_resumed) == _core(h_straight)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    path = tmp_path / "last.pt"
    snapshot = {}

    def remember():
        snapshot["bytes"] = path.read_bytes()

    # 16 samples / batch 4: forward 6 is step 6 = epoch 2, batch 2.
    model = _dropout_net(0, Tripwire(at=6, action="nan", on_fire=remember))
    trainer = Trainer(epochs=3, batch_size=4, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(TrainingDivergedError, match=r"step 6 \(epoch 2") as info:
        trainer.fit(model, _dataset(16, 7))
    assert isinstance(info.value, RuntimeError)
    assert path.read_bytes() == snapshot["bytes"]
    ck = load_checkpoint(path)
    assert (ck.epoch, ck.step) == (1, 4)
    assert all(torch.isfinite(v).all() for v in ck.model_state.values())
    assert all(torch.isfinite(p).all() for p in model.parameters())  # no NaN step taken


def test_nan_in_data_diverges():
    x = torch.randn(8, 1, 8, generator=torch.Generator().manual_seed(0))
    y = x.clone()
    y[3, 0, 2] = math.nan
    with pytest.raises(TrainingDivergedError, match="epoch 1"):
        Trainer(epochs=1, batch_size=8, progress=False).fit(_conv(0), TensorDataset(x, y))


def test_bf16_autocast_runs_on_cpu():
    model = _conv(0)
    trainer = Trainer(epochs=3, batch_size=8, lr=5e-2, amp="bf16", loss="h1", progress=False)
    history = trainer.fit(model, _dataset(32, 8), {"t": _dataset(8, 9)})
    assert all(math.isfinite(r["train_loss"]) for r in history)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert model.weight.dtype == torch.float32


def test_grad_clip_bounds_the_global_norm(monkeypatch):
    seen = []
    real = torch.nn.utils.clip_grad_norm_

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        out = real(parameters, max_norm, *args, **kwargs)
        norm = torch.sqrt(sum(p.grad.square().sum() for p in parameters)).item()
        seen.append((max_norm, norm))
        return out

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    Trainer(epochs=1, batch_size=4, grad_clip=1e-3, loss="mse", progress=False).fit(
        _conv(0), _dataset(16, 10)
    )
    assert len(seen) == 4
    assert all(m == 1e-3 and n <= 1e-3 * (1 + 1e-5) for m, n in seen)


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("optimizer", "sgd", "'adam', 'adamw'"),
        ("scheduler", "linear", "'cosine', 'step', 'onecycle', 'none'"),
        ("amp", "fp16", "'auto', 'bf16', 'none'"),
        ("loss", "l3", "'l2', 'h1', 'mse'"),
        ("epochs", 0, "integer >= 1"),
        ("batch_size", 2.5, "integer >= 1"),
        ("lr", 0.0, "positive"),
        ("weight_decay", -1.0, "non-negative"),
        ("grad_clip", -1.0, "positive"),
        ("eval_every", 0, "integer >= 1"),
        ("checkpoint_every", 0, "integer >= 1"),
        ("num_workers", -1, "integer >= 0"),
        ("seed", "zero", "integer >= 0"),
        ("device", "tpu", "'auto', 'cpu'"),
        ("scheduler_kwargs", [1], "dict"),
        ("progress", "yes", "True or False"),
    ],
)
def test_invalid_options_raise(option, value, allowed):
    with pytest.raises(ValueError, match=option) as info:
        Trainer(**{option: value})
    assert allowed in str(info.value)
    assert repr(value) in str(info.value) or str(value) in str(info.value)


def test_invalid_fit_arguments():
    trainer = Trainer(epochs=1, progress=False)
    with pytest.raises(ValueError, match="train"):
        trainer.fit(_conv(0), TensorDataset(torch.zeros(0, 1, 4), torch.zeros(0, 1, 4)))
    with pytest.raises(ValueError, match="model"):
        trainer.fit("not a model", _dataset(4, 0))
    with pytest.raises(ValueError, match="scheduler_kwargs"):
        Trainer(epochs=1, scheduler="step", scheduler_kwargs={"bogus": 1}, progress=False).fit(
            _conv(0), _dataset(4, 0)
        )


def test_callbacks_run_each_epoch_and_may_extend_the_record():
    seen = []

    def note(trainer, model, record):
        seen.append(record["epoch"])
        record["weight_norm"] = float(sum(p.detach().norm() for p in model.parameters()))

    torch.manual_seed(0)
    trainer = Trainer(epochs=3, batch_size=8, progress=False, device="cpu", callbacks=[note])
    history = trainer.fit(_conv(0), _dataset(16, 0))
    assert seen == [1, 2, 3]
    assert all("weight_norm" in r for r in history)
    with pytest.raises(ValueError, match="callbacks\\[0\\]"):
        Trainer(callbacks=[3])


def test_training_loss_and_predict_batch_are_overridable():
    class Doubled(Trainer):
        def predict_batch(self, model, x, y):
            return 2 * model(x)

        def training_loss(self, model, x, y, loss_fn):
            return loss_fn(2 * model(x), y)

    torch.manual_seed(0)
    data = _dataset(16, 1)
    model = _conv(1)
    plain = Trainer(epochs=1, batch_size=8, progress=False, device="cpu")
    doubled = Doubled(epochs=1, batch_size=8, progress=False, device="cpu")
    x, y = data.tensors
    with torch.no_grad():
        want = float((torch.linalg.vector_norm(2 * model(x) - y, dim=(1, 2))
                      / torch.linalg.vector_norm(y, dim=(1, 2))).mean())
    assert doubled.evaluate(model, data)["rel_l2"] == pytest.approx(want, rel=1e-5)
    assert plain.evaluate(model, data)["rel_l2"] != pytest.approx(want, rel=1e-3)
