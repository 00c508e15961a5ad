"""Autoregressive time stepping: rollouts, their per-step errors, and training by rollout.

A time-dependent operator learns ``k_in`` frames -> the next frames. The frame layout is the
one of :class:`sciml.data.WindowDataset`: frames are stacked *time-major* along the channel
axis, oldest first (channel ``j * C + c`` is channel ``c`` of frame ``j``), and ``S`` static
channels (a coefficient, a forcing) follow the frames of the input. So a model maps

    ``(batch, k_in * C + S, *space)  ->  (batch, frames_per_call * C, *space)``

and :func:`rollout` feeds its predictions back: after each call the window slides to the
``k_in`` latest frames (true ones first, then predicted ones) and the static channels are
appended again unchanged.

:class:`AutoregressiveTrainer` trains such a model on windows whose target holds ``m_out``
frames, by teacher forcing, by the pushforward trick or by full backpropagation through the
rollout, and evaluates by rollout, so ``Trainer.evaluate`` reports the rollout error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from sciml.core.validation import check_choice, check_int, check_pair_dataset, describe
from sciml.train.metrics import relative_l2
from sciml.train.trainer import Trainer

__all__ = [
    "MODES",
    "AutoregressiveTrainer",
    "RolloutEvaluation",
    "evaluate_rollout",
    "rollout",
    "rollout_errors",
]

#: Training modes of :class:`AutoregressiveTrainer`.
MODES = ("teacher_forcing", "pushforward", "unroll")

Model = Callable[[torch.Tensor], torch.Tensor]


# -- layout ---------------------------------------------------------------------------------
def _check_layout(channels: Any, static_channels: Any, frames_per_call: Any) -> None:
    check_int("channels", channels, 1)
    check_int("static_channels", static_channels, 0)
    check_int("frames_per_call", frames_per_call, 1)


def _input_frames(x: Any, channels: int, static_channels: int, argument: str = "x") -> int:
    """``k_in`` of an input ``(batch, k_in * C + S, *space)``, validated."""
    if not isinstance(x, torch.Tensor) or x.ndim < 3:
        raise ValueError(
            f"{argument}: expected a tensor (batch, k_in * {channels} + {static_channels}, "
            f"*space), got {describe(x)}"
        )
    frame_part = x.shape[1] - static_channels
    if frame_part < channels or frame_part % channels:
        raise ValueError(
            f"{argument}: has {x.shape[1]} channels; with channels={channels} per frame and "
            f"static_channels={static_channels} it must be k_in * {channels} + "
            f"{static_channels} for some k_in >= 1"
        )
    return frame_part // channels


def _output_frames(y: Any, channels: int, argument: str = "y") -> int:
    """Number of frames ``m`` of a target ``(batch, m * C, *space)``, validated."""
    if not isinstance(y, torch.Tensor) or y.ndim < 3 or y.shape[1] % channels or not y.shape[1]:
        raise ValueError(
            f"{argument}: expected a tensor (batch, m_out * {channels}, *space) of whole frames "
            f"of channels={channels}, got {describe(y)}"
        )
    return y.shape[1] // channels


def _call(model: Model, window: torch.Tensor, static: torch.Tensor,
          expected: int) -> torch.Tensor:
    inputs = torch.cat([window, static], dim=1) if static.shape[1] else window
    out = model(inputs)
    if (not isinstance(out, torch.Tensor) or out.shape[0] != window.shape[0]
            or out.shape[1] != expected or out.shape[2:] != window.shape[2:]):
        raise ValueError(
            f"model: expected an output (batch, frames_per_call * channels = {expected}, "
            f"{', '.join(map(str, window.shape[2:]))}) for an input of shape "
            f"{tuple(inputs.shape)}, got {describe(out)}"
        )
    # A bf16 prediction fed back under autocast would otherwise widen the window's dtype drift.
    return out.to(window.dtype)


def rollout(
    model: Model,
    x: torch.Tensor,
    steps: int,
    channels: int,
    static_channels: int = 0,
    frames_per_call: int = 1,
) -> torch.Tensor:
    """Roll a one-window model forward by feeding its predictions back.

    Parameters
    ----------
    model : callable
        ``(batch, k_in * C + S, *space) -> (batch, frames_per_call * C, *space)``.
    x : torch.Tensor, shape ``(batch, k_in * C + S, *space)``
        The ``k_in`` initial frames, time-major, then the ``S`` static channels.
    steps : int
        Frames to predict (>= 1). The model is called ``ceil(steps / frames_per_call)``
        times; surplus frames of the last call are dropped.
    channels : int
        ``C``, channels of one frame.
    static_channels : int
        ``S``, channels appended to every input unchanged.
    frames_per_call : int
        Frames each model call predicts.

    Returns
    -------
    torch.Tensor, shape ``(batch, steps * C, *space)``
        Predicted frames, time-major like :class:`~sciml.data.WindowDataset` targets.

    Notes
    -----
    Gradients flow through the whole rollout (backpropagation through time); wrap the call
    in ``torch.no_grad()`` for evaluation.
    """
    check_int("steps", steps, 1)
    _check_layout(channels, static_channels, frames_per_call)
    k_in = _input_frames(x, channels, static_channels)
    width = k_in * channels
    window, static = x[:, :width], x[:, width:]
    outputs = []
    for _ in range(math.ceil(steps / frames_per_call)):
        out = _call(model, window, static, frames_per_call * channels)
        outputs.append(out)
        window = torch.cat([window, out], dim=1)[:, -width:]
    return torch.cat(outputs, dim=1)[:, : steps * channels]


def rollout_errors(pred: torch.Tensor, truth: torch.Tensor, channels: int) -> torch.Tensor:
    """Relative L2 error of every predicted frame.

    Parameters
    ----------
    pred, truth : torch.Tensor, shape ``(batch, steps * C, *space)``
        Time-major frames.
    channels : int
        ``C``, channels per frame.

    Returns
    -------
    torch.Tensor, shape ``(batch, steps)``
        ``||pred_t - truth_t|| / ||truth_t||`` with the norm over the frame's channels and
        grid points (the absolute error norm where a true frame is zero).
    """
    check_int("channels", channels, 1)
    if not isinstance(pred, torch.Tensor) or not isinstance(truth, torch.Tensor):
        raise ValueError(
            f"pred, truth: expected tensors, got {describe(pred)} and {describe(truth)}"
        )
    if pred.shape != truth.shape:
        raise ValueError(
            f"pred, truth: shapes differ, {tuple(pred.shape)} and {tuple(truth.shape)}"
        )
    steps = _output_frames(truth, channels, "truth")
    batch, space = truth.shape[0], truth.shape[2:]
    frames = (batch * steps, channels, *space)
    return relative_l2(pred.reshape(frames), truth.reshape(frames)).reshape(batch, steps)


# -- evaluation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RolloutEvaluation:
    """Errors of a rollout over a test set.

    Attributes
    ----------
    per_step : np.ndarray, shape ``(steps,)``
        Relative L2 error of each predicted frame, mean over samples.
    per_sample : np.ndarray, shape ``(samples, steps)``
        The same before averaging.
    final : float
        Mean over samples of the error at the last step (``per_step[-1]``).
    total : float
        Mean over samples of the relative L2 error of the whole horizon (all predicted
        frames as one field): the number papers quote for "T steps predicted".
    """

    per_step: np.ndarray
    per_sample: np.ndarray
    final: float
    total: float

    @property
    def steps(self) -> int:
        """Number of predicted frames."""
        return int(self.per_step.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form: ``per_step`` as a list, ``final``, ``total``, ``steps``."""
        return {"per_step": self.per_step.tolist(), "final": self.final, "total": self.total,
                "steps": self.steps}


def _as_pairs(data: Any) -> Dataset:
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(
        isinstance(t, (torch.Tensor, np.ndarray)) for t in data
    ):
        x, y = (torch.as_tensor(t) for t in data)
        if x.shape[0] != y.shape[0]:
            raise ValueError(
                f"data: inputs and targets hold {x.shape[0]} and {y.shape[0]} samples; "
                f"they must match"
            )
        return TensorDataset(x, y)
    check_pair_dataset("data", data)
    return data


def _model_device(model: Any, fallback: torch.device) -> torch.device:
    if isinstance(model, nn.Module):
        for tensor in (*model.parameters(), *model.buffers()):
            return tensor.device
    return fallback


@torch.no_grad()
def evaluate_rollout(
    model: Model,
    data: Dataset | tuple[torch.Tensor, torch.Tensor],
    steps: int | None = None,
    *,
    channels: int,
    static_channels: int = 0,
    frames_per_call: int = 1,
    batch_size: int = 32,
) -> RolloutEvaluation:
    """Roll ``model`` out from every test input and measure the error at each step.

    Parameters
    ----------
    model : callable
        As in :func:`rollout`; an ``nn.Module`` runs in eval mode (its mode is restored)
        on the device of its parameters. For a :class:`~sciml.neural.NeuralOperatorSolver`
        pass ``solver.model_`` (physical units).
    data : Dataset of (x, y) pairs, or a pair of tensors ``(x, y)``
        ``x`` is ``(k_in * C + S, *space)`` per sample, ``y`` the true following frames
        ``(m * C, *space)`` (e.g. a :class:`~sciml.data.WindowDataset` with a long
        ``m_out``).
    steps : int, optional
        Frames to predict, at most ``m``; default ``m``.
    channels, static_channels, frames_per_call : int
        Frame layout (see :func:`rollout`).
    batch_size : int
        Samples per rollout.

    Returns
    -------
    RolloutEvaluation
        Per-step error (mean over samples), per-sample errors, and the mean error at the
        final step and over the whole horizon.
    """
    _check_layout(channels, static_channels, frames_per_call)
    check_int("batch_size", batch_size, 1)
    dataset = _as_pairs(data)
    available = _output_frames(torch.as_tensor(dataset[0][1])[None], channels, "data targets")
    if steps is None:
        steps = available
    check_int("steps", steps, 1)
    if steps > available:
        raise ValueError(
            f"steps: got {steps}, but the targets hold only {available} frames of "
            f"{channels} channels; use windows with m_out >= steps"
        )
    device = _model_device(model, torch.device("cpu"))
    was_training = isinstance(model, nn.Module) and model.training
    if isinstance(model, nn.Module):
        model.eval()
    per_sample, total = [], []
    try:
        for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            x = x.to(device)
            y = y.to(device)[:, : steps * channels]
            pred = rollout(model, x, steps, channels, static_channels, frames_per_call)
            pred = pred.to(y.dtype)
            per_sample.append(rollout_errors(pred, y, channels).double().cpu())
            total.append(relative_l2(pred, y).double().cpu())
    finally:
        if isinstance(model, nn.Module):
            model.train(was_training)
    errors = torch.cat(per_sample).numpy()
    per_step = errors.mean(axis=0)
    return RolloutEvaluation(
        per_step=per_step,
        per_sample=errors,
        final=float(per_step[-1]),
        total=float(torch.cat(total).mean()),
    )


# -- training -------------------------------------------------------------------------------
class AutoregressiveTrainer(Trainer):
    """Train a one-window model on multi-frame targets, and evaluate it by rollout.

    Items are ``(x, y)`` windows as :class:`~sciml.data.WindowDataset` makes them: ``x`` is
    ``(k_in * C + S, *space)``, ``y`` is ``(m_out * C, *space)``; the model maps
    ``(batch, k_in * C + S, *space)`` to ``(batch, frames_per_call * C, *space)``, so it is
    called ``n = ceil(m_out / frames_per_call)`` times per window. The loss of one call is
    ``loss(pred_j, y_j)`` on its ``frames_per_call`` frames (the last call's surplus frames
    are dropped), and the modes differ in what call ``j`` sees and where gradients flow:

    ``"teacher_forcing"``
        Call ``j`` sees the *true* frames before its targets (the window slides over the
        truth). All ``n`` calls run as one forward pass over an ``n`` times larger batch
        (mind the memory); the loss is the mean over the calls.
    ``"pushforward"``
        (Brandstetter, Worrall and Welling 2022, "Message passing neural PDE solvers".) Per
        batch, a number ``r`` is drawn uniformly from ``0, ..., n - 1``; the first ``r``
        calls run without gradient from the true ``x``, feeding their predictions back, and
        call ``r + 1`` runs with gradient on that self-made window; only its frames enter the
        loss. The model learns to correct the distribution shift of its own predictions
        without the cost and instability of backpropagating through the rollout, while
        ``r = 0`` keeps it anchored to true inputs. Choices made here: ``r`` is uniform
        (the paper also ramps its maximum up over epochs; grow ``m_out`` between runs for
        that), it is drawn from torch's global RNG (saved and restored by checkpoints, so
        resume stays exact), and with ``m_out <= frames_per_call`` this is one-step
        training. Always unrolling the whole window (``r = n - 1``) was tried and does not
        train (on the shift toy of the tests the rollout error stayed near 1): from a random
        start the model only ever sees its own poor predictions. Under DDP each rank draws
        its own ``r``; every rank still makes exactly one call with gradient.
    ``"unroll"``
        The full rollout from the true ``x`` with backpropagation through time, as FNO-2D is
        trained on Navier-Stokes in Li et al.; the loss is the mean over the ``n`` calls.

    Evaluation (:meth:`predict_batch`, used by :meth:`Trainer.evaluate` and the test sets
    of :meth:`Trainer.fit`) rolls out ``m_out`` frames from ``x`` in every mode, so the
    reported ``rel_l2`` is the rollout error over the window's horizon.

    Parameters
    ----------
    channels : int
        ``C``, channels of one frame (``WindowDataset.channels``).
    mode : {"teacher_forcing", "pushforward", "unroll"}
        Training mode (above).
    static_channels : int
        ``S``, static channels at the end of each input.
    frames_per_call : int
        Frames the model predicts per call (its ``out_channels / C``).
    **options
        Any :class:`~sciml.train.Trainer` option (``epochs``, ``lr``, ``seed``, ...).
    """

    def __init__(
        self,
        channels: int = 1,
        mode: str = "teacher_forcing",
        static_channels: int = 0,
        frames_per_call: int = 1,
        **options: Any,
    ) -> None:
        _check_layout(channels, static_channels, frames_per_call)
        check_choice("mode", mode, MODES)
        super().__init__(**options)
        self.channels = int(channels)
        self.mode = mode
        self.static_channels = int(static_channels)
        self.frames_per_call = int(frames_per_call)

    @property
    def config(self) -> dict[str, Any]:
        """The Trainer options plus ``channels``, ``mode``, ``static_channels`` and
        ``frames_per_call`` (``AutoregressiveTrainer(**config)`` rebuilds it)."""
        return super().config | {
            "channels": self.channels,
            "mode": self.mode,
            "static_channels": self.static_channels,
            "frames_per_call": self.frames_per_call,
        }

    @property
    def layout(self) -> dict[str, int]:
        """``{"channels", "static_channels", "frames_per_call"}``: keyword arguments of
        :func:`rollout` and :func:`evaluate_rollout`."""
        return {"channels": self.channels, "static_channels": self.static_channels,
                "frames_per_call": self.frames_per_call}

    # -- pieces ---------------------------------------------------------------------------
    def _frames(self, x: torch.Tensor, y: torch.Tensor) -> tuple[int, int, int]:
        k_in = _input_frames(x, self.channels, self.static_channels)
        m_out = _output_frames(y, self.channels)
        return k_in, m_out, math.ceil(m_out / self.frames_per_call)

    def _call_losses(
        self,
        pred: torch.Tensor,
        y: torch.Tensor,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    ) -> torch.Tensor:
        """Mean over calls of the loss of each call's frames; ``pred`` and ``y`` are
        ``(batch, m * C, *space)``."""
        width = self.frames_per_call * self.channels
        pred = self._match_dtype(pred, y)
        losses = [loss_fn(pred[:, i : i + width], y[:, i : i + width])
                  for i in range(0, y.shape[1], width)]
        return torch.stack(losses).mean()

    def _teacher_forcing(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                         k_in: int, n_calls: int) -> torch.Tensor:
        c, fpc = self.channels, self.frames_per_call
        frames = torch.cat([x[:, : k_in * c], y], dim=1)
        static = x[:, k_in * c :]
        windows = [frames[:, j * fpc * c : (j * fpc + k_in) * c] for j in range(n_calls)]
        # One forward over all windows stacked along the batch: calls are independent here.
        batch = torch.cat([torch.cat([w, static], dim=1) for w in windows], dim=0)
        with self._autocast(x.device):
            out = model(batch)
        out = out.reshape(n_calls, x.shape[0], *out.shape[1:])
        return torch.cat(list(out), dim=1)[:, : y.shape[1]]

    # -- hooks ----------------------------------------------------------------------------
    def training_loss(
        self,
        model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    ) -> torch.Tensor:
        """Loss of one batch of windows in the trainer's :attr:`mode` (see the class)."""
        k_in, m_out, n_calls = self._frames(x, y)
        layout = self.layout
        if self.mode == "teacher_forcing":
            return self._call_losses(self._teacher_forcing(model, x, y, k_in, n_calls), y,
                                     loss_fn)
        if self.mode == "unroll":
            with self._autocast(x.device):
                pred = rollout(model, x, m_out, **layout)
            return self._call_losses(pred, y, loss_fn)
        # pushforward
        c, fpc = self.channels, self.frames_per_call
        unrolled = int(torch.randint(n_calls, ())) if n_calls > 1 else 0
        free = unrolled * fpc  # frames predicted without gradient
        window = x
        if free:
            with torch.no_grad(), self._autocast(x.device):
                early = rollout(model, x, free, **layout)
            frames = torch.cat([x[:, : k_in * c], early], dim=1)[:, -k_in * c :]
            window = torch.cat([frames, x[:, k_in * c :]], dim=1)
        with self._autocast(x.device):
            last = rollout(model, window, min(fpc, m_out - free), **layout)
        target = y[:, free * c : (free + last.shape[1] // c) * c]
        return loss_fn(self._match_dtype(last, y), target)

    def predict_batch(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor
    ) -> torch.Tensor:
        """Rollout of ``y``'s number of frames from ``x`` (under the trainer's autocast)."""
        _, m_out, _ = self._frames(x, y)
        with self._autocast(x.device):
            return rollout(model, x, m_out, **self.layout)
