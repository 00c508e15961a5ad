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
from torch.utils.data import DataLoader

from sciml.core.device import resolve_device
from sciml.core.problem import OperatorProblem
from sciml.core.registry import MODELS, SOLVERS
from sciml.core.solver import Solver
from sciml.core.validation import check_finite, check_int, describe
from sciml.data.normalize import UnitGaussianNormalizer, fit_normalizers
from sciml.train.autoregressive import AutoregressiveTrainer, rollout
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
    frame_channels : int, optional
        For autoregressive models whose output is frames stacked time-major: the channels
        ``C`` of one frame. The output normalizer then holds ``C`` statistics, shared by
        every frame, and decodes ``(batch, f * C, *space)`` frame by frame, so the same
        normalizer serves any number of frames per call.
    """

    def __init__(
        self,
        model: nn.Module,
        input_normalizer: UnitGaussianNormalizer | None = None,
        output_normalizer: UnitGaussianNormalizer | None = None,
        frame_channels: int | None = None,
    ) -> None:
        super().__init__()
        if frame_channels is not None:
            check_int("frame_channels", frame_channels, 1)
        self.model = model
        self.input_normalizer = input_normalizer
        self.output_normalizer = output_normalizer
        self.frame_channels = None if frame_channels is None else int(frame_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_normalizer is not None:
            x = self.input_normalizer.encode(x)
        y = self.model(x)
        if self.output_normalizer is not None:
            if self.frame_channels is None:
                y = self.output_normalizer.decode(y)
            else:
                frames = (y.shape[0] * (y.shape[1] // self.frame_channels),
                          self.frame_channels, *y.shape[2:])
                y = self.output_normalizer.decode(y.reshape(frames)).reshape(y.shape)
        return y


def _trainer_classes() -> dict[str, type[Trainer]]:
    """Trainer and every subclass imported so far, by class name."""
    found: dict[str, type[Trainer]] = {"Trainer": Trainer}
    stack: list[type[Trainer]] = [Trainer]
    while stack:
        for sub in stack.pop().__subclasses__():
            found.setdefault(sub.__name__, sub)
            stack.append(sub)
    return found


def _trainer_options(cls: type[Trainer]) -> set[str]:
    """Keyword names ``cls`` accepts, through the ``**options`` of subclasses."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if isinstance(klass, type) and issubclass(klass, Trainer):
            for p in inspect.signature(klass.__init__).parameters.values():
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                    names.add(p.name)
    return names


def _rebuild_trainer(name: str | None, options: dict[str, Any], device: str) -> Trainer:
    classes = _trainer_classes()
    name = name or "Trainer"
    if name not in classes:
        raise ValueError(
            f"trainer_class: the checkpoint was trained with {name!r}, which is not a Trainer "
            f"subclass imported here; import the module that defines it before loading "
            f"(known: {sorted(classes)})"
        )
    cls = classes[name]
    allowed = _trainer_options(cls)
    kept = {k: v for k, v in options.items() if k in allowed}
    kept["device"] = device
    return cls(**kept)


def _fit_frame_normalizers(
    dataset: Any, channels: int, batch_size: int = 64
) -> tuple[UnitGaussianNormalizer, UnitGaussianNormalizer]:
    """Input statistics per input channel; output statistics per frame channel, over the
    targets ``(batch, m_out * C, *space)`` seen as ``(batch * m_out, C, *space)``."""
    x_norm, y_norm = UnitGaussianNormalizer(), UnitGaussianNormalizer()
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        x_norm.partial_fit(x)
        y_norm.partial_fit(y.reshape(-1, channels, *y.shape[2:]))
    return x_norm, y_norm


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
        ``Trainer()``. An :class:`~sciml.train.autoregressive.AutoregressiveTrainer` makes an
        autoregressive solver: the problem's items are windows (``k_in * C + S`` input
        channels, ``m_out * C`` target channels, as :class:`~sciml.data.WindowDataset`
        makes them), the model predicts ``frames_per_call * C`` channels, and
        :meth:`rollout` steps it forward.
    normalize : bool
        Fit per-channel unit-Gaussian normalizers on the training split (only) and fold them
        into the model. With an autoregressive trainer the output statistics are per frame
        channel (``C`` of them, shared by all frames), fitted on the targets split into
        frames.

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

    @property
    def autoregressive(self) -> bool:
        """Whether the trainer is an :class:`AutoregressiveTrainer`."""
        return isinstance(self.trainer, AutoregressiveTrainer)

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
            "trainer_class": type(self.trainer).__name__,
            "frame_channels": self.trainer.channels if self.autoregressive else None,
        }

    def _check_channels(self, problem: OperatorProblem) -> None:
        want_in, want_out = problem.in_channels, problem.out_channels
        source = f"problem {problem.name!r} has"
        if self.autoregressive:
            t = self.trainer
            c, s = t.channels, t.static_channels
            frames_in = problem.in_channels - s
            if frames_in < c or frames_in % c or problem.out_channels % c:
                raise ValueError(
                    f"trainer: channels={c}, static_channels={s} do not fit problem "
                    f"{problem.name!r} with {problem.in_channels} input and "
                    f"{problem.out_channels} output channels; windows need k_in * {c} + {s} "
                    f"input and m_out * {c} output channels"
                )
            want_out = t.frames_per_call * c
        sources = {"in_channels": source,
                   "out_channels": "frames_per_call * channels is" if self.autoregressive
                   else source}
        for attr, want in (("in_channels", want_in), ("out_channels", want_out)):
            have = getattr(self.model, attr, want)
            if have != want:
                raise ValueError(
                    f"model: has {attr}={have}, but {sources[attr]} {want}; "
                    f"build the model with {attr}={want}"
                )

    # -- fitting --------------------------------------------------------------------------
    def fit(self, problem: OperatorProblem) -> NeuralOperatorSolver:
        """Fit normalizers on ``problem.train`` and train a copy of the model.

        Test sets in ``problem.tests`` are evaluated during training (see the trainer's
        ``eval_every``) and recorded in :attr:`history_`; with an autoregressive trainer
        that is the rollout error over each test window's ``m_out`` frames.
        """
        self._check_problem(problem)
        self._check_channels(problem)
        config = self._config(self.model)
        frame_channels = config["frame_channels"]
        if not self.normalize:
            in_norm = out_norm = None
        elif frame_channels is not None:
            in_norm, out_norm = _fit_frame_normalizers(problem.train, frame_channels)
        else:
            in_norm, out_norm = fit_normalizers(problem.train)
        net = NormalizedOperator(copy.deepcopy(self.model), in_norm, out_norm, frame_channels)
        start = time.perf_counter()
        history = self.trainer.fit(net, problem.train, problem.tests, config=config)
        self.timings_ = {"fit": time.perf_counter() - start}
        self.history_ = history
        self.model_ = net
        self.device_ = next(net.parameters()).device
        return self

    # -- prediction -----------------------------------------------------------------------
    def _space_dims(self) -> int:
        model = self.model_.model
        dim = getattr(model, "dim", None)
        if isinstance(dim, int) and not isinstance(dim, bool):
            return dim
        return len(model.config.get("n_modes", ()))

    def _batch(self, x: Any) -> tuple[torch.Tensor, bool]:
        """``x`` as a checked ``(batch, in_channels, *space)`` tensor, and whether it had no
        batch axis."""
        xt = torch.as_tensor(x)
        in_channels = self.model_.model.config.get("in_channels")
        n_dims = self._space_dims()
        single = xt.ndim == n_dims + 1
        if single:
            xt = xt.unsqueeze(0)
        if xt.ndim != n_dims + 2 or (in_channels is not None and xt.shape[1] != in_channels):
            raise ValueError(
                f"x: expected shape (batch, {in_channels}, *space) with {n_dims} space axes, or "
                f"({in_channels}, *space); got {tuple(xt.shape)}"
            )
        check_finite("x", xt)
        return xt, single

    def _apply(self, x: Any, batch_size: int | None, fn: Any) -> torch.Tensor | np.ndarray:
        is_numpy = isinstance(x, np.ndarray)
        xt, single = self._batch(x)
        batch_size = batch_size or self.trainer.batch_size
        check_int("batch_size", batch_size, 1)
        out_device = xt.device
        net = self.model_.eval()
        outputs = []
        with torch.no_grad():
            for chunk in torch.split(xt, batch_size):
                chunk = chunk.to(self.device_, torch.float32, non_blocking=True)
                outputs.append(fn(net, chunk).float().to(out_device))
        y = torch.cat(outputs)
        if single:
            y = y[0]
        return y.cpu().numpy() if is_numpy else y

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
        For an autoregressive solver this is one model call (``frames_per_call`` frames);
        see :meth:`rollout` for more.
        """
        self._check_fitted("predict")
        return self._apply(x, batch_size, lambda net, chunk: net(chunk))

    def rollout_layout(self) -> dict[str, int]:
        """Frame layout used by :meth:`rollout`: ``channels``, ``static_channels`` and
        ``frames_per_call``. Those of an autoregressive trainer; for a plain one, a model
        with ``in_channels = k * out_channels`` is read as ``k`` frames of ``out_channels``
        channels in, one out."""
        if self.autoregressive:
            return self.trainer.layout
        config = self.model_.model.config
        c_in, c_out = config.get("in_channels"), config.get("out_channels")
        if not c_in or not c_out or c_in % c_out:
            raise ValueError(
                f"rollout: the model maps {c_in} to {c_out} channels, which is not a window of "
                f"frames; train with sciml.train.AutoregressiveTrainer to roll out a model "
                f"with static channels or several frames per call"
            )
        return {"channels": int(c_out), "static_channels": 0, "frames_per_call": 1}

    def rollout(
        self, x0: torch.Tensor | np.ndarray, steps: int, batch_size: int | None = None
    ) -> torch.Tensor | np.ndarray:
        """Step the trained model forward autoregressively.

        Parameters
        ----------
        x0 : tensor or array, shape ``(batch, k_in * C + S, *space)`` or without batch axis
            The initial window of frames (time-major) and static channels, as the inputs of
            a :class:`~sciml.data.WindowDataset`, in physical units.
        steps : int
            Frames to predict.
        batch_size : int, optional
            Samples per rollout; default the trainer's batch size.

        Returns
        -------
        Same type as ``x0``, shape ``(batch, steps * C, *space)`` (or without the batch axis),
        the predicted frames time-major (see :func:`sciml.train.autoregressive.rollout`).
        """
        self._check_fitted("rollout")
        check_int("steps", steps, 1)
        layout = self.rollout_layout()
        return self._apply(x0, batch_size, lambda net, chunk: rollout(net, chunk, steps,
                                                                       **layout))

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trained model, its normalizers, the trainer (class and options) and the
        training history to one file."""
        self._check_fitted("save")
        save_checkpoint(
            path,
            model=self.model_,
            config=self._config(self.model_.model),
            extra={"history": self.history_, "timings": self.timings_,
                   "trainer": self.trainer.config,
                   "trainer_class": type(self.trainer).__name__},
            rng=False,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "auto") -> NeuralOperatorSolver:
        """Rebuild a solver from :meth:`save` output or from a Trainer checkpoint.

        The trainer is rebuilt as the class it was saved with (``Trainer``,
        ``AutoregressiveTrainer`` or any imported subclass) with its options. The file is
        read with ``torch.load(weights_only=True)``: it cannot run code.
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
        frame_channels = config.get("frame_channels")
        if config.get("normalize", True):
            net = NormalizedOperator(model, UnitGaussianNormalizer(), UnitGaussianNormalizer(),
                                     frame_channels)
        else:
            net = NormalizedOperator(model, frame_channels=frame_channels)
        net.load_state_dict(ckpt.model_state)
        dev = resolve_device(device)
        net.to(dev)
        extra = ckpt.extra or {}
        trainer = _rebuild_trainer(
            extra.get("trainer_class", config.get("trainer_class")),
            dict(extra.get("trainer", {})),
            str(dev),
        )
        solver = cls(model, trainer, normalize=config.get("normalize", True))
        solver.model_ = net
        solver.history_ = list(extra.get("history", []))
        solver.timings_ = dict(extra.get("timings", {}))
        solver.device_ = dev
        return solver
