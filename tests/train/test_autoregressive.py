"""Autoregressive rollout, rollout errors and AutoregressiveTrainer (all three modes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from sciml.core.grid import Box, Grid
from sciml.core.problem import OperatorProblem
from sciml.core.registry import MODELS
from sciml.data.dataset import WindowDataset
from sciml.data.hdf5 import write
from sciml.data.normalize import UnitGaussianNormalizer
from sciml.neural.solver import NeuralOperatorSolver, NormalizedOperator
from sciml.train.autoregressive import (
    AutoregressiveTrainer,
    evaluate_rollout,
    rollout,
    rollout_errors,
)
from sciml.train.checkpoint import load_checkpoint
from sciml.train.losses import get_loss
from sciml.train.trainer import Trainer

N = 32  # grid points


def smooth_fields(n_samples: int, channels: int, seed: int) -> np.ndarray:
    """Random periodic fields ``(n_samples, channels, N)`` made of modes 1..4."""
    rng = np.random.default_rng(seed)
    x = np.arange(N) / N
    k = np.arange(1, 5)
    a = rng.standard_normal((n_samples, channels, 4, 1)) / k[:, None]
    b = rng.standard_normal((n_samples, channels, 4, 1)) / k[:, None]
    phase = 2 * np.pi * k[:, None] * x
    return (a * np.cos(phase) + b * np.sin(phase)).sum(axis=2)


def shift_windows(n_samples: int, k_in: int, m_out: int, seed: int, channels: int = 1,
                  static: int = 0) -> TensorDataset:
    """Windows of the shift dynamics u_{t+1} = roll(u_t, 1), laid out as WindowDataset items
    (time-major frames, static channels after the input frames)."""
    u0 = smooth_fields(n_samples, channels, seed)
    frames = [np.roll(u0, t, axis=-1) for t in range(k_in + m_out)]
    x = np.concatenate(frames[:k_in], axis=1)
    if static:
        x = np.concatenate([x, smooth_fields(n_samples, static, seed + 100)], axis=1)
    y = np.concatenate(frames[k_in:], axis=1)
    return TensorDataset(torch.tensor(x, dtype=torch.float32),
                         torch.tensor(y, dtype=torch.float32))


def conv(k_in: int, fpc: int = 1, seed: int = 0, channels: int = 1) -> nn.Conv1d:
    torch.manual_seed(seed)
    # frame t + f is the last frame shifted by f cells: the kernel must reach that far
    return nn.Conv1d(k_in * channels, fpc * channels, 2 * fpc + 1, padding=fpc,
                     padding_mode="circular")


# -- rollout against independent oracles -----------------------------------------------------
def test_rollout_of_a_shift_model_is_np_roll():
    c, k_in = 2, 3
    x = torch.tensor(smooth_fields(4, k_in * c, 1))

    def shift(window):  # next frame = last frame moved one cell right
        return window[:, -c:].roll(1, -1)

    out = rollout(shift, x, 5, channels=c)
    assert out.shape == (4, 5 * c, N)
    last = x[:, -c:].numpy()
    for t in range(5):
        np.testing.assert_array_equal(out[:, t * c : (t + 1) * c].numpy(),
                                      np.roll(last, t + 1, axis=-1))


def test_rollout_slides_the_window_and_keeps_static_channels():
    # next = frame[-1] + 0.5 frame[-k] + static: uses the oldest frame, so a wrong slide shows
    c, k_in, s = 1, 3, 1
    x = torch.tensor(smooth_fields(2, k_in * c + s, 2))
    seen_static = []

    def model(inp):
        assert inp.shape[1] == k_in * c + s
        seen_static.append(inp[:, -s:].clone())
        return inp[:, (k_in - 1) * c : k_in * c] + 0.5 * inp[:, :c] + inp[:, -s:]

    out = rollout(model, x, 6, channels=c, static_channels=s).numpy()
    seq = [x[:, j * c : (j + 1) * c].numpy() for j in range(k_in)]
    static = x[:, -s:].numpy()
    for _ in range(6):
        seq.append(seq[-1] + 0.5 * seq[-k_in] + static)
    np.testing.assert_allclose(out, np.concatenate(seq[k_in:], axis=1), rtol=1e-12)
    assert all(torch.equal(st, x[:, -s:]) for st in seen_static)


@pytest.mark.parametrize("fpc", [2, 3])
def test_rollout_with_several_frames_per_call(fpc):
    c, k_in = 1, 2
    x = torch.tensor(smooth_fields(3, k_in * c, 3))
    calls = []

    def model(window):  # predicts roll by 1..fpc of the last frame
        calls.append(window.clone())
        return torch.cat([window[:, -c:].roll(j, -1) for j in range(1, fpc + 1)], dim=1)

    out = rollout(model, x, 7, channels=c, frames_per_call=fpc)
    assert out.shape == (3, 7, N) and len(calls) == math.ceil(7 / fpc)
    last = x[:, -1:].numpy()
    want = np.concatenate([np.roll(last, t, axis=-1) for t in range(1, 8)], axis=1)
    np.testing.assert_array_equal(out.numpy(), want)
    # the second call's window holds the true frames' successors, not the initial frames
    np.testing.assert_array_equal(calls[1][:, -1].numpy(), np.roll(last[:, 0], fpc, axis=-1))


def test_rollout_validates_its_arguments():
    x = torch.zeros(2, 5, 8)
    with pytest.raises(ValueError, match="x: has 5 channels; with channels=2"):
        rollout(lambda t: t, x, 2, channels=2)
    with pytest.raises(ValueError, match="steps: expected an integer >= 1, got 0"):
        rollout(lambda t: t, x, 0, channels=1)
    with pytest.raises(ValueError, match=r"model: expected an output \(batch, frames_per_call"):
        rollout(lambda t: t, x, 2, channels=1)  # returns 5 channels, not 1


def test_rollout_errors_per_step_match_numpy():
    rng = np.random.default_rng(0)
    truth = rng.standard_normal((3, 4 * 2, 6, 5))
    pred = truth + 0.1 * rng.standard_normal(truth.shape)
    got = rollout_errors(torch.tensor(pred), torch.tensor(truth), channels=2).numpy()
    t = truth.reshape(3, 4, -1)
    p = pred.reshape(3, 4, -1)
    want = np.linalg.norm(p - t, axis=-1) / np.linalg.norm(t, axis=-1)
    assert got.shape == (3, 4)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match="shapes differ"):
        rollout_errors(torch.zeros(1, 2, 4), torch.zeros(1, 4, 4), channels=2)


def test_evaluate_rollout_of_a_damped_shift_has_closed_form_errors():
    # pred_t = 0.9^t roll(u, t): the relative error of frame t is exactly 1 - 0.9^t
    data = shift_windows(10, 2, 8, seed=4)
    x, y = data.tensors

    class Damped(nn.Module):
        def forward(self, window):
            return 0.9 * window[:, -1:].roll(1, -1)

    result = evaluate_rollout(Damped(), data, steps=6, channels=1, batch_size=3)
    want = 1 - 0.9 ** np.arange(1, 7)
    np.testing.assert_allclose(result.per_step, want, rtol=1e-5)
    assert result.per_sample.shape == (10, 6)
    assert result.final == pytest.approx(want[-1], rel=1e-5)
    assert result.total == pytest.approx(np.sqrt(np.mean(want**2)), rel=1e-5)
    assert result.to_dict()["steps"] == 6
    same = evaluate_rollout(Damped(), (x, y), channels=1)  # tensors; all 8 frames
    assert same.steps == 8
    with pytest.raises(ValueError, match="steps: got 9, but the targets hold only 8"):
        evaluate_rollout(Damped(), data, steps=9, channels=1)


# -- training modes ------------------------------------------------------------------------
def _trainer(mode: str, **options) -> AutoregressiveTrainer:
    defaults = dict(channels=1, epochs=80, batch_size=16, lr=5e-2, progress=False,
                    device="cpu", seed=0)
    return AutoregressiveTrainer(mode=mode, **{**defaults, **options})


@pytest.mark.parametrize(("mode", "fpc"), [("teacher_forcing", 1), ("pushforward", 1),
                                           ("unroll", 1), ("teacher_forcing", 2)])
def test_each_mode_learns_the_shift(mode, fpc):
    k_in, m_out = 2, 4
    train = shift_windows(64, k_in, m_out, seed=10)
    test = shift_windows(16, k_in, m_out, seed=11)
    model = conv(k_in, fpc)
    trainer = _trainer(mode, frames_per_call=fpc)
    history = trainer.fit(model, train, {"test": test})
    # test/rel_l2 is the rollout error over the m_out frames of the test windows
    assert history[-1]["test/rel_l2"] < 0.02, history[-1]
    long = evaluate_rollout(model, shift_windows(8, k_in, 12, seed=12), **trainer.layout)
    assert long.per_step[-1] < 0.05 and long.total < 0.05


def test_evaluate_reports_the_rollout_error():
    data = shift_windows(6, 2, 5, seed=3)
    model = conv(2, seed=1)
    trainer = _trainer("teacher_forcing")
    got = trainer.evaluate(model, data)["rel_l2"]
    with torch.no_grad():
        pred = rollout(model, data.tensors[0], 5, channels=1)
        want = (torch.linalg.vector_norm(pred - data.tensors[1], dim=(1, 2))
                / torch.linalg.vector_norm(data.tensors[1], dim=(1, 2))).mean()
    assert got == pytest.approx(float(want), rel=1e-5)


class Recorder(nn.Module):
    """Wraps a model; records whether each forward ran with gradient and counts the
    backward passes through its outputs (a tensor hook)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.grad_enabled: list[bool] = []
        self.backwards = 0

    def forward(self, x):
        out = self.inner(x)
        self.grad_enabled.append(torch.is_grad_enabled())
        if out.requires_grad:
            out.register_hook(self._count)
        return out

    def _count(self, grad):
        self.backwards += 1
        return grad


def _grads(model: nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() for p in model.parameters()]


def test_pushforward_gets_no_gradient_from_the_early_steps():
    k_in, m_out = 2, 3
    x, y = shift_windows(4, k_in, m_out, seed=5).tensors
    loss_fn = get_loss("l2")
    trainer = _trainer("pushforward")
    model = Recorder(conv(k_in, seed=2))
    seen = set()
    for _ in range(12):
        model.zero_grad()
        model.grad_enabled, model.backwards = [], 0
        loss = trainer.training_loss(model, x, y, loss_fn)
        loss.backward()
        r = len(model.grad_enabled) - 1  # gradient-free calls drawn for this batch
        seen.add(r)
        assert model.grad_enabled == [False] * r + [True]
        assert model.backwards == 1  # the tensor hook: one output took part in backward
        got = _grads(model)

        # oracle: r steps by hand without gradient, then one step with gradient
        model.zero_grad()
        frames = [x[:, :1], x[:, 1:2]]
        with torch.no_grad():
            for _ in range(r):
                frames.append(model.inner(torch.cat(frames[-2:], dim=1)))
        want = loss_fn(model.inner(torch.cat(frames[-2:], dim=1)), y[:, r : r + 1])
        want.backward()
        assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-6)
        for g, w in zip(got, _grads(model)):
            torch.testing.assert_close(g, w)
    assert seen == {0, 1, 2}  # r is drawn uniformly from 0 .. calls - 1


def test_unroll_gradients_match_manual_bptt():
    k_in, m_out = 2, 3
    x, y = shift_windows(4, k_in, m_out, seed=6).tensors
    model = Recorder(conv(k_in, seed=3))
    loss_fn = get_loss("l2")
    loss = _trainer("unroll").training_loss(model, x, y, loss_fn)
    loss.backward()
    assert model.grad_enabled == [True] * 3 and model.backwards == 3
    got = _grads(model)

    model.zero_grad()
    frames = [x[:, :1], x[:, 1:2]]
    losses = []
    for t in range(m_out):
        nxt = model.inner(torch.cat(frames[-2:], dim=1))
        losses.append(loss_fn(nxt, y[:, t : t + 1]))
        frames.append(nxt)
    want = torch.stack(losses).mean()
    want.backward()
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-6)
    for g, w in zip(got, _grads(model)):
        torch.testing.assert_close(g, w)


def test_teacher_forcing_loss_is_the_mean_over_true_windows():
    k_in, m_out, c, s = 2, 3, 2, 1
    x, y = shift_windows(4, k_in, m_out, seed=7, channels=c, static=s).tensors
    torch.manual_seed(4)
    model = nn.Conv1d(k_in * c + s, c, 3, padding=1, padding_mode="circular")
    loss_fn = get_loss("mse")
    trainer = _trainer("teacher_forcing", channels=c, static_channels=s)
    loss = trainer.training_loss(model, x, y, loss_fn)
    truth = torch.cat([x[:, : k_in * c], y], dim=1)
    static = x[:, k_in * c :]
    want = torch.stack([
        loss_fn(model(torch.cat([truth[:, t * c : (t + k_in) * c], static], dim=1)),
                y[:, t * c : (t + 1) * c])
        for t in range(m_out)
    ]).mean()
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-6)


def test_options_config_and_validation():
    trainer = AutoregressiveTrainer(channels=3, mode="unroll", static_channels=1,
                                    frames_per_call=2, epochs=2, progress=False)
    config = trainer.config
    assert {k: config[k] for k in ("channels", "mode", "static_channels", "frames_per_call")} \
        == {"channels": 3, "mode": "unroll", "static_channels": 1, "frames_per_call": 2}
    assert AutoregressiveTrainer(**config).config == config
    with pytest.raises(ValueError, match=r"mode: got 'bptt'; allowed values are"):
        AutoregressiveTrainer(mode="bptt")
    with pytest.raises(ValueError, match="frames_per_call: expected an integer >= 1"):
        AutoregressiveTrainer(frames_per_call=0)
    with pytest.raises(ValueError, match="y: expected a tensor"):
        trainer.training_loss(conv(1), torch.zeros(2, 7, 8), torch.zeros(2, 4, 8),
                              get_loss("l2"))


# -- exact resume --------------------------------------------------------------------------
class Tripwire(nn.Module):
    """Interrupts at the ``at``-th training forward with gradient (pushforward makes exactly
    one per batch, after a random number without)."""

    def __init__(self, at: int | None = None):
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, x):
        if self.training and torch.is_grad_enabled():
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt
        return x


def _dropout_net(seed: int, tripwire: Tripwire | None = None) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv1d(2, 4, 3, padding=1, padding_mode="circular"), nn.GELU(), nn.Dropout(0.2),
        tripwire or Tripwire(), nn.Conv1d(4, 1, 1),
    )


def test_resume_after_interrupt_is_bitwise(tmp_path):
    train = shift_windows(16, 2, 3, seed=8)  # 4 batches per epoch
    options = dict(epochs=3, batch_size=4, lr=1e-2, progress=False, device="cpu")
    straight = _dropout_net(0)
    h_straight = _trainer("pushforward", **options).fit(straight, train)

    trainer = _trainer("pushforward", checkpoint_dir=tmp_path, **options)
    interrupted = _dropout_net(0, Tripwire(at=7))  # epoch 2, batch 3
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(interrupted, train)
    ck = load_checkpoint(tmp_path / "last.pt")
    assert (ck.epoch, ck.extra["trainer_state"]["batches_done"]) == (1, 2)
    assert ck.extra["trainer"]["mode"] == "pushforward"

    torch.manual_seed(1234)  # the RNG state must come from the checkpoint
    resumed = _dropout_net(5)
    again = AutoregressiveTrainer(**{**trainer.config, "checkpoint_dir": tmp_path})
    h_resumed = again.fit(resumed, train, resume=tmp_path / "last.pt")
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    strip = [{k: v for k, v in r.items() if k != "time"} for r in h_straight]
    assert [{k: v for k, v in r.items() if k != "time"} for r in h_resumed] == strip


# -- NeuralOperatorSolver with an autoregressive trainer ---------------------------------
class StepConv(nn.Module):
    """A registered 1-D model with ``dim`` and no ``n_modes`` in its config."""

    dim = 1

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 5):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.config = {"in_channels": in_channels, "out_channels": out_channels,
                       "kernel": kernel}
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, padding=kernel // 2,
                              padding_mode="circular")

    def forward(self, x):
        return self.conv(x)


if "StepConv" not in MODELS:
    MODELS.register()(StepConv)

T = 10


@pytest.fixture(scope="module")
def window_file(tmp_path_factory):
    """Shift trajectories of a field with a large offset (so normalizers matter), plus an
    unused static field, in the native file layout (sample, time, x, channel)."""
    u0 = 3.0 + 2.0 * smooth_fields(12, 1, 20)[:, 0]
    u = np.stack([np.roll(u0, t, axis=-1) for t in range(T)], axis=1)[..., None]
    a = smooth_fields(12, 1, 21).transpose(0, 2, 1)[:, None]
    grid = Grid.uniform(Box(x=(0, 1)), (N,), periodic=True)
    path = write(tmp_path_factory.mktemp("ar") / "shift.h5", {"u": u, "a": a}, grid)
    return path, u


def _problem(path, m_out=4):
    train = WindowDataset(path, "u", 2, m_out, static="a", indices=range(8))
    test = WindowDataset(path, "u", 2, m_out, static="a", indices=range(8, 12), hop=3)
    return OperatorProblem(train, {"test": test}, name="shift")


def _ar_solver(tmp_path=None, mode="teacher_forcing"):
    torch.manual_seed(0)
    trainer = AutoregressiveTrainer(channels=1, static_channels=1, frames_per_call=2, mode=mode,
                                    epochs=30, batch_size=8, lr=5e-2, progress=False,
                                    device="cpu", checkpoint_dir=tmp_path)
    return NeuralOperatorSolver(StepConv(3, 2), trainer)


def test_solver_fits_windows_rolls_out_and_round_trips(window_file, tmp_path):
    path, u = window_file
    problem = _problem(path)
    solver = _ar_solver(tmp_path / "ck").fit(problem)
    assert solver.history_[-1]["test/rel_l2"] < 0.01
    # output statistics per frame channel: one mean, that of every target frame
    out_norm = solver.model_.output_normalizer
    assert out_norm.mean.shape == (1, 1)
    targets = torch.stack([problem.train[i][1] for i in range(len(problem.train))])
    assert float(out_norm.mean) == pytest.approx(float(targets.double().mean()), rel=1e-9)

    test = problem.tests["test"]
    assert [test.window(i) for i in (0, 2)] == [(8, 0), (9, 0)]
    x0 = torch.stack([test[i][0] for i in (0, 2)])
    pred = solver.rollout(x0, 7)
    assert isinstance(pred, torch.Tensor) and pred.shape == (2, 7, N)
    truth = torch.tensor(u[8:10, 2:9, :, 0], dtype=torch.float32)
    assert float(rollout_errors(pred, truth, 1).max()) < 0.02
    single = solver.rollout(x0[0].numpy(), 3)
    assert isinstance(single, np.ndarray) and single.shape == (3, N)
    np.testing.assert_allclose(single, pred[0, :3].numpy(), rtol=1e-5, atol=1e-5)
    assert solver.predict(x0).shape == (2, 2, N)  # one call: frames_per_call frames
    report = evaluate_rollout(solver.model_, (x0, truth), channels=1, static_channels=1,
                              frames_per_call=2)
    assert report.total < 0.02

    solver.save(tmp_path / "ar.pt")
    for loaded in (NeuralOperatorSolver.load(tmp_path / "ar.pt", device="cpu"),
                   NeuralOperatorSolver.load(tmp_path / "ck" / "last.pt", device="cpu")):
        assert type(loaded.trainer) is AutoregressiveTrainer
        assert loaded.trainer.config == solver.trainer.config
        torch.testing.assert_close(loaded.rollout(x0, 7), pred)


def test_solver_checks_the_window_layout(window_file):
    problem = _problem(window_file[0])
    trainer = AutoregressiveTrainer(channels=1, static_channels=1, frames_per_call=2,
                                    epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"model: has out_channels=1, but frames_per_call \* "
                                         r"channels is 2"):
        NeuralOperatorSolver(StepConv(3, 1), trainer).fit(problem)
    bad = AutoregressiveTrainer(channels=2, epochs=1, progress=False)
    with pytest.raises(ValueError, match="trainer: channels=2, static_channels=0 do not fit"):
        NeuralOperatorSolver(StepConv(3, 2), bad).fit(problem)


def test_normalized_operator_decodes_frame_by_frame():
    y_norm = UnitGaussianNormalizer().fit(torch.randn(20, 2, 8) * torch.tensor([[2.0], [5.0]])
                                          + torch.tensor([[1.0], [-3.0]]))
    net = NormalizedOperator(nn.Identity(), None, y_norm, frame_channels=2)
    z = torch.randn(3, 6, 8, dtype=torch.float64)
    out = net(z)
    mean, std = y_norm.mean, y_norm.std + y_norm.eps
    for f in range(3):
        torch.testing.assert_close(out[:, 2 * f : 2 * f + 2], z[:, 2 * f : 2 * f + 2] * std + mean)


def test_plain_trainer_solver_rolls_out_a_frame_to_frame_model():
    data = shift_windows(16, 1, 1, seed=30)
    problem = OperatorProblem(data, data, name="one-step")
    torch.manual_seed(0)
    solver = NeuralOperatorSolver(
        StepConv(1, 1), Trainer(epochs=1, batch_size=8, progress=False, device="cpu")
    ).fit(problem)
    assert solver.rollout_layout() == {"channels": 1, "static_channels": 0, "frames_per_call": 1}
    x0 = data.tensors[0][:3]
    once = solver.predict(x0)
    twice = solver.predict(once)
    torch.testing.assert_close(solver.rollout(x0, 2), torch.cat([once, twice], dim=1))
    three_to_two = NeuralOperatorSolver(StepConv(3, 2), Trainer(epochs=1, progress=False))
    three_to_two.model_ = NormalizedOperator(StepConv(3, 2))
    with pytest.raises(ValueError, match="rollout: the model maps 3 to 2 channels"):
        three_to_two.rollout(torch.zeros(1, 3, N), 2)
