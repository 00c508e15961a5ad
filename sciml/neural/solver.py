"""Neural operators behind the :class:`~sciml.core.solver.Solver` interface."""

from __future__ import annotations

import copy
import inspect
import os
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.core.device import resolve_device
from sciml.core.problem import OperatorProblem
from sciml.core.registry import MODELS, SOLVERS
from sciml.core.solver import Solver
from sciml.core.validation import check_finite, describe
from sciml.data.normalize import UnitGaussianNormalizer, fit_normalizers
from sciml.train.checkpoint import load_checkpoint, save_checkpoint
from sciml.train.trainer import Trainer

__all__ = ["NeuralOperatorSolver", "NormalizedOperator"]


class NormalizedOperator(nn.Module):
    """A model with its input and output normalizers folded in.

    ``forward(x) = output_normalizer.decode(model(input_normalizer.encode(x)))``, so the
    module maps physical fields to physical fields and losses are measured in physical units.
    The statistics travel in the state dict, so a checkpoint is self-contained.

    Parameters
    ----------
    model : nn.Module
        Maps ``(batch, in_channels, *space)`` to ``(batch, out_channels, *space)``.
    input_normalizer, output_normalizer : UnitGaussianNormalizer or None
        Fitted normalizers; ``None`` passes values through.
    """

    def __init__(
        self,
        model: nn.Module,
        input_normalizer: UnitGaussianNormalizer | None = None,
        output_normalizer: UnitGaussianNormalizer | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.input_normalizer = input_normalizer
        self.output_normalizer = output_normalizer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_normalizer is not None:
            x = self.input_normalizer.encode(x)
        y = self.model(x)
        if self.output_normalizer is not None:
            y = self.output_normalizer.decode(y)
        return y


@SOLVERS.register()
class NeuralOperatorSolver(Solver):
    """Train a neural operator (FNO, ...) on an :class:`~sciml.core.problem.OperatorProblem`.

    Parameters
    ----------
    model : nn.Module
        A registered sciml model (it has a ``config`` dict) mapping
        ``(batch, in_channels, *space)`` to ``(batch, out_channels, *space)``.
        ``fit`` trains a copy, so the same untrained model can seed several solvers.
    trainer : Trainer, optional
        Training options (epochs, learning rate, device, seed, checkpoints, ...); default
        ``Trainer()``.
    normalize : bool
        Fit per-channel unit-Gaussian normalizers on the training split (only) and fold them
        into the model.

    Attributes
    ----------
    model_ : NormalizedOperator
        The trained model with its normalizers.
    history_ : list of dict
        One record per epoch (see :meth:`Trainer.fit`).
    timings_ : dict
        ``{"fit": seconds}``.
    """

    problem_types = (OperatorProblem,)

    def __init__(
        self,
        model: nn.Module,
        trainer: Trainer | None = None,
        normalize: bool = True,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise ValueError(
                f"model: expected a torch nn.Module such as FNO, got {describe(model)}"
            )
        if trainer is not None and not isinstance(trainer, Trainer):
            raise ValueError(f"trainer: expected a sciml.train.Trainer, got {describe(trainer)}")
        self.model = model
        self.trainer = trainer if trainer is not None else Trainer()
        self.normalize = bool(normalize)

    # -- configuration --------------------------------------------------------------------
    def _config(self, model: nn.Module) -> dict[str, Any]:
        config = getattr(model, "config", None)
        if not isinstance(config, dict):
            raise ValueError(
                f"model: {type(model).__name__} has no `config` dict, so it cannot be saved and "
                "rebuilt; use a registered sciml model (e.g. sciml.neural.FNO)"
            )
        return {
            "solver": type(self).__name__,
            "model_class": type(model).__name__,
            "model": config,
            "normalize": self.normalize,
        }

    # -- fitting --------------------------------------------------------------------------
    def fit(self, problem: OperatorProblem) -> NeuralOperatorSolver:
        """Fit normalizers on ``problem.train`` and train a copy of the model.

        Test sets in ``problem.tests`` are evaluated during training (see the trainer's
        ``eval_every``) and recorded in :attr:`history_`.
        """
        self._check_problem(problem)
        for attr, want in (("in_channels", problem.in_channels),
                           ("out_channels", problem.out_channels)):
            have = getattr(self.model, attr, want)
            if have != want:
                raise ValueError(
                    f"model: has {attr}={have}, but problem {problem.name!r} has {want}; "
                    f"build the model with {attr}={want}"
                )
        config = self._config(self.model)
        if self.normalize:
            in_norm, out_norm = fit_normalizers(problem.train)
        else:
            in_norm = out_norm = None
        net = NormalizedOperator(copy.deepcopy(self.model), in_norm, out_norm)
        start = time.perf_counter()
        history = self.trainer.fit(net, problem.train, problem.tests, config=config)
        self.timings_ = {"fit": time.perf_counter() - start}
        self.history_ = history
        self.model_ = net
        self.device_ = next(net.parameters()).device
        return self

    # -- prediction -----------------------------------------------------------------------
    def predict(
        self, x: torch.Tensor | np.ndarray, batch_size: int | None = None
    ) -> torch.Tensor | np.ndarray:
        """Apply the trained operator.

        Parameters
        ----------
        x : tensor or array, shape ``(batch, in_channels, *space)`` or ``(in_channels, *space)``
            Input fields in physical units, at any resolution.
        batch_size : int, optional
            Samples per forward pass; default the trainer's batch size.

        Returns
        -------
        Same type as ``x`` (a tensor stays on its device), shape
        ``(batch, out_channels, *space)`` (or without the batch axis if ``x`` had none).
        """
        self._check_fitted("predict")
        is_numpy = isinstance(x, np.ndarray)
        xt = torch.as_tensor(x)
        in_channels = self.model_.model.config.get("in_channels")
        n_dims = len(self.model_.model.config.get("n_modes", ()))
        single = xt.ndim == n_dims + 1
        if single:
            xt = xt.unsqueeze(0)
        if xt.ndim != n_dims + 2 or (in_channels is not None and xt.shape[1] != in_channels):
            raise ValueError(
                f"x: expected shape (batch, {in_channels}, *space) with {n_dims} space axes, or "
                f"({in_channels}, *space); got {tuple(xt.shape)}"
            )
        check_finite("x", xt)
        batch_size = batch_size or self.trainer.batch_size
        out_device = xt.device
        net = self.model_.eval()
        outputs = []
        with torch.no_grad():
            for chunk in torch.split(xt, batch_size):
                chunk = chunk.to(self.device_, torch.float32, non_blocking=True)
                outputs.append(net(chunk).float().to(out_device))
        y = torch.cat(outputs)
        if single:
            y = y[0]
        return y.cpu().numpy() if is_numpy else y

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trained model, its normalizers and the training history to one file."""
        self._check_fitted("save")
        save_checkpoint(
            path,
            model=self.model_,
            config=self._config(self.model_.model),
            extra={"history": self.history_, "timings": self.timings_,
                   "trainer": self.trainer.config},
            rng=False,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "auto") -> NeuralOperatorSolver:
        """Rebuild a solver from :meth:`save` output or from a Trainer checkpoint.

        The file is read with ``torch.load(weights_only=True)``: it cannot run code.
        """
        ckpt = load_checkpoint(path, map_location="cpu")
        config = ckpt.config or {}
        for key in ("model_class", "model"):
            if key not in config:
                raise ValueError(
                    f"{path}: checkpoint config has no {key!r}; it was not written by a "
                    "NeuralOperatorSolver"
                )
        model = MODELS.get(config["model_class"])(**config["model"])
        if config.get("normalize", True):
            net = NormalizedOperator(model, UnitGaussianNormalizer(), UnitGaussianNormalizer())
        else:
            net = NormalizedOperator(model)
        net.load_state_dict(ckpt.model_state)
        dev = resolve_device(device)
        net.to(dev)
        extra = ckpt.extra or {}
        allowed = inspect.signature(Trainer).parameters
        trainer_options = {k: v for k, v in extra.get("trainer", {}).items() if k in allowed}
        trainer_options["device"] = str(dev)
        solver = cls(model, Trainer(**trainer_options), normalize=config.get("normalize", True))
        solver.model_ = net
        solver.history_ = list(extra.get("history", []))
        solver.timings_ = dict(extra.get("timings", {}))
        solver.device_ = dev
        return solver
