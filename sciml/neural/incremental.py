"""Incremental Fourier modes during training (iFNO, Zhao et al., "Incremental spectral
learning in Fourier neural operator").

Training starts with few Fourier modes active in every :class:`SpectralConv` and adds modes
as it goes, either on a fixed schedule or when the spectrum of the learned weights asks for
more. Which modes are active lives in each layer's ``active_modes`` buffer, so it is saved
in checkpoints and restored on resume.

Explained-energy criterion
--------------------------
For a layer and a spatial axis ``j`` with active frequencies ``-a..b`` (or ``0..b`` on the
last axis), let ``e_f`` be the weight energy ``sum |W|^2`` of the frequencies with
``|k_j| = f`` (summed over channels and the other active modes), ``f = 0, ..., F``. The
smallest ``K`` with ``sum_{f < K} e_f >= energy * sum_f e_f`` is the number of frequency
shells needed to explain the fraction ``energy`` of the spectrum. If ``K = F + 1``, the
highest active shell still carries more than ``1 - energy`` of the energy, so the layer
needs more modes along that axis and grows by ``step``; otherwise it keeps its modes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from sciml.core.validation import check_int

from .spectral import SpectralConv

__all__ = ["IncrementalModes", "needs_more_modes", "spectral_layers"]


def spectral_layers(model: nn.Module) -> list[SpectralConv]:
    """Every :class:`SpectralConv` inside ``model``, in module order."""
    return [m for m in model.modules() if isinstance(m, SpectralConv)]


def needs_more_modes(freqs: Sequence[int], energy: torch.Tensor, threshold: float) -> bool:
    """The iFNO test along one axis: does the highest active frequency shell matter?

    Parameters
    ----------
    freqs : sequence of int
        Active integer frequencies of the axis.
    energy : torch.Tensor
        ``(len(freqs),)`` weight energy of each frequency.
    threshold : float
        Fraction of the energy to explain, in ``(0, 1)``.

    Returns
    -------
    bool
        True when all frequency shells ``|k| = 0..F`` are needed to reach ``threshold`` of
        the total energy (see the module docstring).
    """
    shells = max(abs(int(k)) for k in freqs) + 1
    per_shell = torch.zeros(shells, dtype=torch.float64)
    index = torch.tensor([abs(int(k)) for k in freqs])
    per_shell.index_add_(0, index, energy.detach().double().cpu())
    total = float(per_shell.sum())
    if shells == 1 or total <= 0.0:
        return True
    cumulative = torch.cumsum(per_shell, 0) / total
    # first K (1-based) with cumulative >= threshold; rounding never makes K exceed `shells`
    needed = int(torch.searchsorted(cumulative, torch.tensor([threshold], dtype=torch.float64)))
    return needed + 1 >= shells


def _per_axis(value: int | Sequence[int], dim: int, argument: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * dim
    values = tuple(value)
    if len(values) != dim:
        raise ValueError(f"{argument}: got {value!r}; expected one int or {dim} (one per axis)")
    return tuple(check_int(f"{argument}[{j}]", v, 1) for j, v in enumerate(values))


class IncrementalModes:
    """Trainer callback that grows the active Fourier modes of every spectral layer.

    Parameters
    ----------
    initial_modes : int or sequence of int, default 2
        Active modes per axis at the start (``n_modes`` convention: ``m`` keeps frequencies
        ``-(m // 2)..(m - 1) // 2`` on non-last axes and ``0..m // 2`` on the last), capped
        at each layer's ``n_modes``.
    step : int or sequence of int, default 2
        Modes added per axis at each growth (2 adds one frequency of each sign on the
        non-last axes and one frequency on the last).
    every : int, default 1
        Grow (or, with ``energy``, test whether to grow) after every ``every`` epochs.
    energy : float, optional
        Use the iFNO explained-energy criterion with this threshold in ``(0, 1)`` (e.g.
        0.99) instead of the fixed schedule: each layer and axis grows only when its highest
        active frequency is needed to explain ``energy`` of the weight spectrum.

    Notes
    -----
    Call :meth:`start` on the model before training (``NeuralOperatorSolver`` copies the
    model, and the copy keeps the active modes). Pass the object in
    ``Trainer(callbacks=[...])``; after each epoch it writes ``record["n_modes"]`` (the
    active modes per axis used in that epoch, the largest over the layers) and
    ``record["n_modes_per_layer"]``, then grows the modes for the next epoch. With the
    schedule, the modes after ``e`` epochs are ``min(initial + step * (e // every),
    n_modes)``; with ``energy`` they depend on the weights. Either way the state is in the
    layers' ``active_modes`` buffers, so resuming from a checkpoint continues exactly.
    """

    def __init__(
        self,
        initial_modes: int | Sequence[int] = 2,
        step: int | Sequence[int] = 2,
        every: int = 1,
        energy: float | None = None,
    ) -> None:
        self.initial_modes = initial_modes
        self.step = step
        self.every = check_int("every", every, 1)
        if energy is not None and not (
            isinstance(energy, (int, float))
            and not isinstance(energy, bool)
            and 0.0 < energy < 1.0
        ):
            raise ValueError(f"energy: got {energy!r}; expected a fraction in (0, 1) or None")
        self.energy = None if energy is None else float(energy)
        # validate now, against any dimension, so a bad value fails before training
        for name, value in (("initial_modes", initial_modes), ("step", step)):
            if isinstance(value, int) and not isinstance(value, bool):
                check_int(name, value, 1)
            else:
                try:
                    _per_axis(value, len(tuple(value)), name)
                except TypeError:
                    raise ValueError(
                        f"{name}: got {value!r}; expected a positive int or a sequence of them"
                    ) from None
        self._started = False

    def _layers(self, model: nn.Module) -> list[SpectralConv]:
        layers = spectral_layers(model)
        if not layers:
            raise ValueError(
                f"model: {type(model).__name__} has no SpectralConv layers whose modes could grow"
            )
        return layers

    def _scheduled(self, layer: SpectralConv, epochs_done: int) -> tuple[int, ...]:
        initial = _per_axis(self.initial_modes, layer.dim, "initial_modes")
        step = _per_axis(self.step, layer.dim, "step")
        grown = epochs_done // self.every
        return tuple(min(i + s * grown, n) for i, s, n in zip(initial, step, layer.n_modes))

    def start(self, model: nn.Module) -> nn.Module:
        """Set every spectral layer of ``model`` to ``initial_modes``; returns ``model``."""
        for layer in self._layers(model):
            layer.set_active_modes(self._scheduled(layer, 0))
        self._started = True
        return model

    def _grow_by_energy(self, layer: SpectralConv) -> tuple[int, ...]:
        step = _per_axis(self.step, layer.dim, "step")
        modes = list(layer.get_active_modes())
        for j in range(layer.dim):
            if modes[j] >= layer.n_modes[j]:
                continue
            freqs, energy = layer.mode_energy(j)
            assert self.energy is not None
            if needs_more_modes(freqs, energy, self.energy):
                modes[j] = min(modes[j] + step[j], layer.n_modes[j])
        return tuple(modes)

    def __call__(self, trainer: Any, model: nn.Module, record: dict[str, Any]) -> None:
        layers = self._layers(model)
        used = [list(layer.get_active_modes()) for layer in layers]
        done = int(record["epoch"])
        if done == 1 and not self._started:
            expected = [list(self._scheduled(layer, 0)) for layer in layers]
            if used != expected:
                warnings.warn(
                    "IncrementalModes: the first epoch ran with active modes "
                    f"{used}, not initial_modes; call callback.start(model) before training",
                    stacklevel=2,
                )
        record["n_modes"] = [max(col) for col in zip(*used)] if used else []
        record["n_modes_per_layer"] = used
        if done % self.every:
            return
        for layer in layers:
            if self.energy is None:
                modes = self._scheduled(layer, done)
            else:
                modes = self._grow_by_energy(layer)
            layer.set_active_modes(modes)

    def __repr__(self) -> str:
        return (
            f"IncrementalModes(initial_modes={self.initial_modes!r}, step={self.step!r}, "
            f"every={self.every}, energy={self.energy!r})"
        )
