"""Supervised training loop shared by the neural-operator solvers.

The :class:`Trainer` fits any ``nn.Module`` mapping ``(batch, in_channels, *space)`` to
``(batch, out_channels, *space)`` on datasets of ``(input, output)`` pairs. It is
deterministic given its seed: the shuffling order of epoch ``e`` depends only on
``(seed, e)``, and a run resumed from a checkpoint (also one written on Ctrl-C mid-epoch)
ends with the same weights as an uninterrupted one.

Under ``torchrun`` the same code trains data-parallel (DistributedDataParallel): each rank
takes a disjoint share of every global batch, so the loss curve is that of one process with
the same ``batch_size``. ``compile=True`` runs the forward passes through ``torch.compile``.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from sciml.core.device import resolve_device
from sciml.core.progress import progress_bar
from sciml.core.validation import (
    check_choice,
    check_int,
    check_pair_dataset,
    check_positive,
    describe,
)
from sciml.train import distributed as dist
from sciml.train.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from sciml.train.losses import get_loss
from sciml.train.metrics import relative_l2

__all__ = ["OPTIMIZERS", "SCHEDULERS", "Trainer", "TrainingDivergedError"]

OPTIMIZERS = ("adam", "adamw")
SCHEDULERS = ("cosine", "step", "onecycle", "none")
AMP_MODES = ("auto", "bf16", "none")
CHECKPOINT_NAME = "last.pt"


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite."""


def _epoch_seed(seed: int, epoch: int) -> int:
    # SeedSequence mixes (seed, epoch) well, unlike seed + epoch whose streams overlap.
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0])


def _rank_step_seed(seed: int, rank: int, step: int) -> int:
    # The leading tag keeps these streams apart from the data-order streams of _epoch_seed.
    words = [0x5EED, int(seed), int(rank), int(step)]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


class Trainer:
    """Mini-batch training with evaluation, checkpoints and exact resume.

    Parameters
    ----------
    epochs : int
        Passes over the training set.
    batch_size : int
        Samples per step (the last batch of an epoch may be smaller).
    optimizer : {"adam", "adamw"}
        Optimiser.
    lr : float
        Learning rate (the peak for ``"onecycle"``).
    weight_decay : float
        Weight decay (L2 for Adam, decoupled for AdamW).
    scheduler : {"cosine", "step", "onecycle", "none"}
        Learning-rate schedule, stepped per epoch (per step for ``"onecycle"``). Defaults:
        cosine over ``epochs``; step halves every ``max(1, epochs // 4)`` epochs.
    scheduler_kwargs : dict, optional
        Extra arguments for the torch scheduler, overriding those defaults (e.g.
        ``{"step_size": 10, "gamma": 0.5}``).
    grad_clip : float, optional
        Clip the global gradient norm to this value.
    loss : str or nn.Module or callable
        Anything :func:`sciml.train.losses.get_loss` accepts.
    eval_every : int
        Evaluate the test sets every this many epochs (and after the last).
    device : str or torch.device
        ``"auto"`` picks CUDA when available.
    seed : int
        Seeds the shuffling order (model initialisation is the caller's business).
    amp : {"auto", "bf16", "none"}
        Mixed precision: ``"auto"`` is bf16 autocast on CUDA and none on the CPU; ``"bf16"``
        autocasts on any device.
    progress : bool
        Show a tqdm bar with the loss and the latest test metric.
    checkpoint_dir : path-like, optional
        Where ``last.pt`` is written every ``checkpoint_every`` epochs, at the end, and on
        KeyboardInterrupt.
    checkpoint_every : int
        Epochs between checkpoints.
    num_workers : int
        DataLoader worker processes.
    callbacks : sequence of callable, optional
        Each is called as ``callback(trainer, model, record)`` at the end of every epoch,
        after evaluation and before the checkpoint, with the epoch's history ``record``
        (a dict it may add keys to). State a callback changes must live in the model (e.g.
        a buffer) for resume to restore it. Not part of :attr:`config`. Under DDP every
        rank runs the callbacks (they must change every replica alike); guard file output
        with :func:`sciml.train.distributed.is_main_process`.
    distributed : {"auto", True, False}
        Data-parallel training. ``"auto"``: DDP when a ``torch.distributed`` process group
        is initialised (e.g. by :func:`sciml.train.distributed.init_distributed`); ``True``:
        also initialise one from the ``torchrun`` environment, and fail without it;
        ``False``: never (each process trains alone; give each its own checkpoint_dir).
    compile : bool
        Run training and evaluation forward passes through ``torch.compile`` (opt-in; the
        first steps pay the compilation). Checkpoints and ``model`` stay the uncompiled
        module.
    compile_backend : str
        ``torch.compile`` backend: ``"inductor"`` (default; on the CPU it needs a C++
        compiler), or e.g. ``"aot_eager"``/``"eager"`` to trace without code generation.

    Notes
    -----
    A checkpoint written on KeyboardInterrupt records the batches already done in the
    current epoch; ``fit(..., resume=path)`` skips them. An interrupt that lands inside
    ``optimizer.step()`` itself can leave weights half-updated; anywhere else the state is
    consistent.

    **Distributed data parallel** (``torchrun --nproc_per_node=N script.py``). The model
    is wrapped in ``DistributedDataParallel`` (after a resume has loaded its weights; DDP
    then copies rank 0's weights to every rank). The trainer's seeded global batch list is
    sharded, not a ``DistributedSampler``: rank ``r`` of ``W`` takes ``batch[r::W]`` of each
    global batch of ``batch_size`` samples, so every step sees exactly the samples of the
    one-process step and the data order is shared by all ranks. Each rank's loss is
    weighted by ``W * n_rank / n_batch`` before backward, so that DDP's gradient average is
    the gradient of the global-batch mean even when the last batch does not split evenly
    (a rank with an empty share runs one sample with weight 0 to take part in the gradient
    all-reduce). This assumes the loss is a mean over samples, as all of
    :func:`~sciml.train.losses.get_loss`'s losses are. The logged ``train_loss`` is the
    all-reduced global-batch loss. Only the order of float32 sums differs from one
    process: measured on 2 gloo processes on the CPU (small 1-D FNO, 3 epochs, uneven last
    batch), the loss curves differ by at most 5e-8 relative per epoch and the weights by
    3e-7 (relative L2); tests/train/test_distributed.py allows 1e-5 and 1e-4.

    Model-side randomness (dropout) must differ between ranks, and resume must stay exact
    without gathering every rank's RNG state: under DDP the torch RNG is reseeded before
    every step from ``(seed, rank, step)``. Hooks receive the DDP-wrapped (or compiled)
    model in ``training_loss``; ``predict_batch`` gets the plain (or compiled) module.
    ``training_loss`` may call the model several times, and a rank-dependent number of
    times without gradient (pushforward); the gradient-enabled calls must be the same on
    every rank. Buffers are copied from rank 0 when wrapping but not before every forward,
    so buffers that the forward pass updates (BatchNorm running statistics) drift apart
    between ranks and rank 0's are saved.
    Evaluation splits the test set's batches among the ranks and all-reduces the sums, so
    every rank gets the full-set metrics (all ranks must call :meth:`evaluate`).
    Checkpoints are written by rank 0 from the unwrapped model (no ``module.`` prefixes)
    while the other ranks wait at a barrier; every rank loads them on resume. Only rank 0
    shows a progress bar. On KeyboardInterrupt rank 0 saves without a barrier (other ranks
    may be stuck in a collective).

    **Mixed precision.** ``amp="bf16"`` autocasts the forward pass; spectral layers still
    run their FFTs in float32 and losses are computed in the target's precision; weights
    and optimiser state stay float32. Tolerances, tested in tests/train/test_precision.py
    on the CPU: a 2-D FNO's output under bf16 is within a relative L2 of 3e-2 of float32
    (measured 2.5e-3 to 1.1e-2 over three seeds), and the final training loss of a short
    run within a relative 2e-2 (measured 1e-4 to 1e-3).

    **Compilation.** ``compile=True`` changes results by float32 rounding only. Tolerances:
    relative 1e-5 for outputs and losses and 1e-4 (relative L2) for the weights after a few
    steps. Measured on the CPU (small FNOs): bitwise equal to eager with
    ``compile_backend="aot_eager"``; with ``"inductor"`` 2e-7 for the forward pass and
    2e-7 for the weights after 4 Adam steps. The CPU inductor backend compiled a tiny FNO
    in about 90 s (forward) plus 50 s (backward) on a 2-core machine.
    """

    def __init__(
        self,
        epochs: int = 100,
        batch_size: int = 32,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        scheduler: str = "cosine",
        scheduler_kwargs: Mapping[str, Any] | None = None,
        grad_clip: float | None = None,
        loss: str | nn.Module | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = "l2",
        eval_every: int = 1,
        device: str | torch.device = "auto",
        seed: int = 0,
        amp: str = "auto",
        progress: bool = True,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int = 1,
        num_workers: int = 0,
        callbacks: Sequence[Callable[[Trainer, nn.Module, dict[str, Any]], None]] | None = None,
        distributed: bool | str = "auto",
        compile: bool = False,
        compile_backend: str = "inductor",
    ) -> None:
        check_int("epochs", epochs, 1)
        check_int("batch_size", batch_size, 1)
        check_choice("optimizer", optimizer, OPTIMIZERS)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)):
            raise ValueError(f"lr: expected a positive finite number, got {lr!r}")
        check_positive("lr", lr)
        if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)):
            raise ValueError(f"weight_decay: expected a non-negative number, got {weight_decay!r}")
        check_positive("weight_decay", weight_decay, allow_zero=True)
        check_choice("scheduler", scheduler, SCHEDULERS)
        if scheduler_kwargs is not None and not isinstance(scheduler_kwargs, Mapping):
            raise ValueError(
                f"scheduler_kwargs: expected a dict of scheduler arguments or None, "
                f"got {describe(scheduler_kwargs)}"
            )
        if grad_clip is not None:
            if isinstance(grad_clip, bool) or not isinstance(grad_clip, (int, float)):
                raise ValueError(
                    f"grad_clip: expected None or a positive number, got {grad_clip!r}"
                )
            check_positive("grad_clip", grad_clip)
        get_loss(loss)  # raises ValueError naming the allowed losses
        check_int("eval_every", eval_every, 1)
        resolve_device(device)
        check_int("seed", seed, 0)
        check_choice("amp", amp, AMP_MODES)
        if not isinstance(progress, bool):
            raise ValueError(f"progress: expected True or False, got {progress!r}")
        if checkpoint_dir is not None and not isinstance(checkpoint_dir, (str, os.PathLike)):
            raise ValueError(
                f"checkpoint_dir: expected None or a directory path, got {describe(checkpoint_dir)}"
            )
        check_int("checkpoint_every", checkpoint_every, 1)
        check_int("num_workers", num_workers, 0)
        callbacks = list(callbacks or [])
        for i, cb in enumerate(callbacks):
            if not callable(cb):
                raise ValueError(f"callbacks[{i}]: expected a callable, got {describe(cb)}")
        if not (isinstance(distributed, bool) or distributed == "auto"):
            raise ValueError(f"distributed: expected 'auto', True or False, got {distributed!r}")
        if not isinstance(compile, bool):
            raise ValueError(f"compile: expected True or False, got {compile!r}")
        if not isinstance(compile_backend, str) or not compile_backend:
            raise ValueError(
                f"compile_backend: expected the name of a torch.compile backend such as "
                f"'inductor', got {describe(compile_backend)}"
            )
        if compile:
            # Imported only when asked for: torch._dynamo takes seconds to import.
            import torch._dynamo

            check_choice(
                "compile_backend", compile_backend, torch._dynamo.list_backends(exclude_tags=())
            )

        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.optimizer = optimizer
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.scheduler = scheduler
        self.scheduler_kwargs = dict(scheduler_kwargs or {})
        self.grad_clip = None if grad_clip is None else float(grad_clip)
        self.loss = loss
        self.eval_every = int(eval_every)
        self.device = device
        self.seed = int(seed)
        self.amp = amp
        self.progress = progress
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = int(checkpoint_every)
        self.num_workers = int(num_workers)
        self.callbacks = callbacks
        self.distributed = distributed
        self.compile = compile
        self.compile_backend = compile_backend
        # (module, compiled module) of the latest model compiled for evaluation.
        self._compiled: tuple[nn.Module, nn.Module] | None = None

    # ------------------------------------------------------------------ helpers
    @property
    def checkpoint_path(self) -> Path | None:
        """``checkpoint_dir / "last.pt"``, or None without a checkpoint directory."""
        return None if self.checkpoint_dir is None else Path(self.checkpoint_dir) / CHECKPOINT_NAME

    def _autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        use_bf16 = self.amp == "bf16" or (self.amp == "auto" and device.type == "cuda")
        if use_bf16:
            return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _make_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        cls = torch.optim.Adam if self.optimizer == "adam" else torch.optim.AdamW
        return cls(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    def _make_scheduler(self, optimizer: torch.optim.Optimizer, steps_per_epoch: int):
        sched = torch.optim.lr_scheduler
        kwargs = dict(self.scheduler_kwargs)
        try:
            if self.scheduler == "cosine":
                return sched.CosineAnnealingLR(optimizer, **{"T_max": self.epochs, **kwargs})
            if self.scheduler == "step":
                defaults = {"step_size": max(1, self.epochs // 4), "gamma": 0.5}
                return sched.StepLR(optimizer, **{**defaults, **kwargs})
            if self.scheduler == "onecycle":
                defaults = {"max_lr": self.lr, "total_steps": self.epochs * steps_per_epoch}
                return sched.OneCycleLR(optimizer, **{**defaults, **kwargs})
        except TypeError as err:
            raise ValueError(f"scheduler_kwargs: {err}") from None
        return None

    def _loader(
        self, dataset: Dataset, batches: list[list[int]], seed: int, device: torch.device
    ) -> DataLoader:
        # An own generator keeps the DataLoader from drawing its worker seed from the global
        # torch RNG, which would break bitwise resume.
        return DataLoader(
            dataset,
            batch_sampler=batches,
            num_workers=self.num_workers,
            pin_memory=device.type == "cuda",
            generator=torch.Generator().manual_seed(seed),
        )

    def _epoch_batches(self, n: int, epoch: int) -> list[list[int]]:
        generator = torch.Generator().manual_seed(_epoch_seed(self.seed, epoch))
        order = torch.randperm(n, generator=generator).tolist()
        return [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]

    def _use_ddp(self) -> bool:
        if self.distributed is False:
            return False
        if self.distributed is True and not dist.init_distributed():
            raise ValueError(
                "distributed: got True but no process group is initialised and RANK/"
                "WORLD_SIZE are unset; launch with torchrun or use distributed='auto'"
            )
        return dist.is_distributed()

    def _resolve_device(self, ddp: bool) -> torch.device:
        device = resolve_device(self.device)
        if ddp and device.type == "cuda" and device.index is None:
            # init_distributed made this rank's own GPU the current device.
            device = torch.device("cuda", torch.cuda.current_device())
        return device

    def _compiled_for_eval(self, model: nn.Module) -> nn.Module:
        if not self.compile:
            return model
        if self._compiled is None or self._compiled[0] is not model:
            self._compiled = (model, torch.compile(model, backend=self.compile_backend))
        return self._compiled[1]

    @property
    def config(self) -> dict[str, Any]:
        """The constructor options as a JSON-serialisable dict (``Trainer(**config)``).

        A loss given as a module or function is not serialisable and is left out, so a
        rebuilt trainer uses the default loss.
        """
        config = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "scheduler": self.scheduler,
            "scheduler_kwargs": dict(self.scheduler_kwargs),
            "grad_clip": self.grad_clip,
            "eval_every": self.eval_every,
            "device": str(self.device),
            "seed": self.seed,
            "amp": self.amp,
            "progress": self.progress,
            "checkpoint_dir": None if self.checkpoint_dir is None else str(self.checkpoint_dir),
            "checkpoint_every": self.checkpoint_every,
            "num_workers": self.num_workers,
            "distributed": self.distributed,
            "compile": self.compile,
            "compile_backend": self.compile_backend,
        }
        if isinstance(self.loss, str):
            config["loss"] = self.loss
        return config

    # ------------------------------------------------------------------ hooks
    def predict_batch(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor
    ) -> torch.Tensor:
        """Prediction compared with the target ``y`` in :meth:`evaluate`.

        Default ``model(x)`` under the trainer's autocast. Subclasses (e.g. autoregressive
        rollout) override it; the result must have ``y``'s shape.
        """
        with self._autocast(x.device):
            return model(x)

    def training_loss(
        self,
        model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    ) -> torch.Tensor:
        """Scalar loss of one training batch; :meth:`fit` calls ``backward`` on it.

        Default ``loss_fn(model(x), y)`` with the forward pass under autocast and the loss
        in ``y``'s precision. Subclasses override it to train differently (unrolled
        rollouts, for example).
        """
        with self._autocast(x.device):
            pred = model(x)
        return loss_fn(self._match_dtype(pred, y), y)

    # ------------------------------------------------------------------ public API
    @torch.no_grad()
    def evaluate(
        self, model: nn.Module, dataset: Dataset, batch_size: int | None = None
    ) -> dict[str, float]:
        """Mean relative L2 error and mean loss of ``model`` over ``dataset``.

        Parameters
        ----------
        model : nn.Module
            Moved to the trainer's device; run in eval mode (its mode is restored after).
        dataset : Dataset
            ``(input, output)`` pairs shaped ``(channels, *space)``.
        batch_size : int, optional
            Defaults to the trainer's.

        Returns
        -------
        dict
            ``{"rel_l2": mean over samples, "loss": loss averaged over batches weighted by
            their size}``.

        Notes
        -----
        Under DDP (see the class notes) each rank evaluates every ``world_size``-th batch
        and the sums are all-reduced, so every rank must call this and all get the
        full-set result. With ``compile=True`` the forward passes are compiled.
        """
        if not isinstance(model, nn.Module):
            raise ValueError(f"model: expected a torch.nn.Module, got {describe(model)}")
        check_pair_dataset("dataset", dataset)
        batch_size = self.batch_size if batch_size is None else batch_size
        check_int("batch_size", batch_size, 1)
        ddp = self._use_ddp()
        model = dist.unwrap_model(model)
        return self._evaluate(model, self._compiled_for_eval(model), dataset, batch_size, ddp)

    def _evaluate(
        self, model: nn.Module, forward: nn.Module, dataset: Dataset, batch_size: int, ddp: bool
    ) -> dict[str, float]:
        # ``model`` owns the parameters and the train/eval mode; ``forward`` (the model
        # itself or its compiled version) runs the batches.
        n = len(dataset)
        device = self._resolve_device(ddp)
        model.to(device)
        loss_fn = get_loss(self.loss)
        if isinstance(loss_fn, nn.Module):
            loss_fn.to(device)
        batches = [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
        if ddp:
            # Whole batches per rank: the per-batch losses are those of one process.
            batches = batches[dist.rank() :: dist.world_size()]
        was_training = model.training
        model.eval()
        sums = torch.zeros(2, dtype=torch.float64, device=device)  # rel_l2, loss
        try:
            if batches:
                for x, y in self._loader(dataset, batches, self.seed, device):
                    x = x.to(device, non_blocking=True)
                    y = y.to(device, non_blocking=True)
                    pred = self._match_dtype(self.predict_batch(forward, x, y), y)
                    sums[0] += relative_l2(pred, y).double().sum()
                    sums[1] += loss_fn(pred, y).double() * x.shape[0]
        finally:
            model.train(was_training)
        if ddp:
            sums = dist.all_reduce_sum(sums)
        return {"rel_l2": float(sums[0]) / n, "loss": float(sums[1]) / n}

    @staticmethod
    def _match_dtype(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # Losses are computed outside autocast, in the target's precision.
        if pred.dtype != target.dtype and pred.is_floating_point() and target.is_floating_point():
            return pred.to(target.dtype)
        return pred

    def fit(
        self,
        model: nn.Module,
        train: Dataset,
        tests: Mapping[str, Dataset] | None = None,
        *,
        resume: str | os.PathLike | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Train ``model`` on ``train`` and return the per-epoch history.

        Parameters
        ----------
        model : nn.Module
            Maps ``(batch, in_channels, *space)`` to ``(batch, out_channels, *space)``;
            moved to the trainer's device and trained in place.
        train : Dataset
            ``(input, output)`` pairs shaped ``(channels, *space)``.
        tests : mapping of str to Dataset, optional
            Named test sets evaluated every ``eval_every`` epochs and after the last.
        resume : path-like, optional
            Checkpoint to continue from (weights, optimiser, scheduler, RNG, history and the
            position inside a partly done epoch).
        config : dict, optional
            JSON-serialisable model config stored in checkpoints; default
            ``model.config`` when the model has a dict ``config``.

        Returns
        -------
        list of dict
            One record per epoch: ``epoch`` (1-based count of epochs done), ``step``,
            ``train_loss`` (sample-weighted mean over the epoch), ``lr`` (at the epoch's last
            step), ``time`` (seconds), and ``"<name>/rel_l2"``, ``"<name>/loss"`` at evaluated
            epochs. Also stored as ``self.history_``.

        Raises
        ------
        TrainingDivergedError
            If the loss (or gradient norm) becomes NaN or Inf; the checkpoint on disk is left
            as it was.
        """
        if not isinstance(model, nn.Module):
            raise ValueError(f"model: expected a torch.nn.Module, got {describe(model)}")
        n_train = check_pair_dataset("train", train)
        tests = dict(tests or {})
        for name, dataset in tests.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"tests: names must be non-empty strings, got {name!r}")
            check_pair_dataset(f"tests[{name!r}]", dataset)
        if config is None:
            candidate = getattr(model, "config", None)
            config = candidate if isinstance(candidate, Mapping) else None

        ddp = self._use_ddp()
        model = dist.unwrap_model(model)
        rank, world = (dist.rank(), dist.world_size()) if ddp else (0, 1)
        main = rank == 0
        device = self._resolve_device(ddp)
        model.to(device)
        loss_fn = get_loss(self.loss)
        if isinstance(loss_fn, nn.Module):
            loss_fn.to(device)
        steps_per_epoch = math.ceil(n_train / self.batch_size)
        optimizer = self._make_optimizer(model)
        scheduler = self._make_scheduler(optimizer, steps_per_epoch)

        history: list[dict[str, Any]] = []
        start_epoch, step, batches_done = 0, 0, 0
        loss_sum, loss_count = 0.0, 0
        if resume is not None:
            # Every rank loads the file: the optimiser and scheduler states are per rank.
            ckpt = load_checkpoint(resume, map_location=device)
            model.load_state_dict(ckpt.model_state)
            if ckpt.optimizer_state is not None:
                optimizer.load_state_dict(ckpt.optimizer_state)
            if scheduler is not None and ckpt.scheduler_state is not None:
                scheduler.load_state_dict(ckpt.scheduler_state)
            state = ckpt.extra.get("trainer_state", {})
            history = [dict(r) for r in ckpt.extra.get("history", [])]
            start_epoch, step = ckpt.epoch, ckpt.step
            batches_done = int(state.get("batches_done", 0))
            loss_sum = float(state.get("loss_sum", 0.0))
            loss_count = int(state.get("loss_count", 0))
            if main:
                self._check_resume(ckpt.extra.get("trainer", {}), n_train, batches_done, resume)
            if ckpt.rng:
                restore_rng(ckpt)
        train_forward = self._training_module(model, ddp, device)

        position = {"epoch": start_epoch, "batches_done": batches_done, "step": step,
                    "loss_sum": loss_sum, "loss_count": loss_count}
        rng_snapshot: dict[str, Any] | None = None
        lr_used = optimizer.param_groups[0]["lr"]

        def checkpoint(rng: bool | dict[str, Any] = True, wait: bool = True) -> None:
            if self.checkpoint_path is None:
                return
            if main:
                save_checkpoint(
                    self.checkpoint_path,
                    model=model,
                    optimizer=optimizer,
                    scheduler=scheduler,
                    step=position["step"],
                    epoch=position["epoch"],
                    config=config,
                    rng=rng,
                    extra={
                        "history": history,
                        "trainer": self.config | {"n_train": n_train},
                        "trainer_state": {
                            "batches_done": position["batches_done"],
                            "loss_sum": position["loss_sum"],
                            "loss_count": position["loss_count"],
                        },
                    },
                )
            if ddp and wait:
                # Nobody reads (or overwrites) the file while rank 0 is writing it.
                dist.barrier()

        bar = self._progress_bar(self.epochs * steps_per_epoch, step) if main else None
        latest_metric: str | None = None
        try:
            for epoch in range(start_epoch, self.epochs):
                started = time.perf_counter()
                train_forward.train()
                batches = self._epoch_batches(n_train, epoch)[position["batches_done"] :]
                sizes = [len(b) for b in batches]
                fractions = [1.0] * len(batches)
                if ddp:
                    shares = [dist.shard_batch(b, rank, world) for b in batches]
                    fractions = [len(s) / len(b) for s, b in zip(shares, batches)]
                    # An empty share still runs (with weight 0): DDP's gradient all-reduce
                    # needs every rank.
                    batches = [s or b[:1] for s, b in zip(shares, batches)]
                iterator: Iterator = iter(
                    self._loader(train, batches, _epoch_seed(self.seed, epoch), device)
                )
                index = 0
                while True:
                    if self.checkpoint_path is not None:
                        # The state before this batch is what an interrupt must save.
                        rng_snapshot = capture_rng()
                    try:
                        x, y = next(iterator)
                    except StopIteration:
                        break
                    size, fraction = sizes[index], fractions[index]
                    index += 1
                    x = x.to(device, non_blocking=True)
                    y = y.to(device, non_blocking=True)
                    optimizer.zero_grad(set_to_none=True)
                    if ddp:
                        torch.manual_seed(_rank_step_seed(self.seed, rank, position["step"]))
                    loss = self.training_loss(train_forward, x, y, loss_fn)
                    if ddp:
                        # The global-batch mean, identical on every rank, so that all of
                        # them stop together on a NaN.
                        value = float(dist.all_reduce_sum(loss.detach().double() * fraction))
                    else:
                        value = float(loss.detach())
                    if not math.isfinite(value):
                        raise TrainingDivergedError(
                            f"training loss is {value} at step {position['step'] + 1} "
                            f"(epoch {epoch + 1}, batch {position['batches_done'] + 1}); "
                            f"lower lr, set grad_clip or check the data for NaN"
                        )
                    lr_used = optimizer.param_groups[0]["lr"]
                    if ddp:
                        # DDP averages gradients over ranks; this weight makes the average
                        # the gradient of the global-batch mean for uneven shares too.
                        (loss * (world * fraction)).backward()
                    else:
                        loss.backward()
                    if self.grad_clip is not None:
                        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
                        if not torch.isfinite(norm):
                            raise TrainingDivergedError(
                                f"gradient norm is {float(norm)} at step {position['step'] + 1} "
                                f"(epoch {epoch + 1}); lower lr or check the data"
                            )
                    optimizer.step()
                    if self.scheduler == "onecycle":
                        scheduler.step()
                    position["step"] += 1
                    position["batches_done"] += 1
                    position["loss_sum"] += value * size
                    position["loss_count"] += size
                    if bar is not None:
                        bar.update(1)
                        postfix = {"epoch": epoch + 1, "loss": f"{value:.3e}"}
                        if latest_metric is not None:
                            postfix["test"] = latest_metric
                        bar.set_postfix(postfix, refresh=False)

                done = epoch + 1
                record: dict[str, Any] = {
                    "epoch": done,
                    "step": position["step"],
                    "train_loss": position["loss_sum"] / max(position["loss_count"], 1),
                    "lr": float(lr_used),
                }
                if tests and (done % self.eval_every == 0 or done == self.epochs):
                    for name, dataset in tests.items():
                        result = self.evaluate(model, dataset)
                        record[f"{name}/rel_l2"] = result["rel_l2"]
                        record[f"{name}/loss"] = result["loss"]
                        latest_metric = f"{name} {result['rel_l2']:.3e}"
                for callback in self.callbacks:
                    callback(self, model, record)
                record["time"] = time.perf_counter() - started
                # Kept together so that an interrupt sees either the epoch unfinished (and
                # the scheduler not yet stepped) or finished and recorded.
                if scheduler is not None and self.scheduler != "onecycle":
                    scheduler.step()
                history.append(record)
                position.update(epoch=done, batches_done=0, loss_sum=0.0, loss_count=0)
                if done % self.checkpoint_every == 0 or done == self.epochs:
                    checkpoint()
        except KeyboardInterrupt:
            # No barrier: the other ranks may be stuck in a collective of the lost step.
            checkpoint(rng=rng_snapshot if rng_snapshot is not None else True, wait=False)
            raise
        finally:
            if bar is not None:
                bar.close()
        self.history_ = history
        return history

    def _training_module(self, model: nn.Module, ddp: bool, device: torch.device) -> nn.Module:
        """The module whose forward passes :meth:`training_loss` runs."""
        if not ddp:
            return self._compiled_for_eval(model)
        ids = [device.index] if device.type == "cuda" else None
        # Wrapping broadcasts rank 0's parameters and buffers, so replicas start equal.
        # No buffer broadcast per forward: it is a collective in every forward after a
        # gradient-enabled one, so hooks that call the model a rank-dependent number of
        # times without gradient (pushforward's random unroll) would misalign the ranks.
        ddp = torch.nn.parallel.DistributedDataParallel
        if "forward_sync_buffers" in inspect.signature(ddp.__init__).parameters:
            no_forward_sync = {"forward_sync_buffers": False}
        else:  # older torch
            no_forward_sync = {"broadcast_buffers": False}
        module: nn.Module = ddp(model, device_ids=ids, **no_forward_sync)
        if self.compile:
            # Compiling the DDP wrapper (not the reverse) lets dynamo split the graph at
            # gradient buckets so communication overlaps the backward pass.
            module = torch.compile(module, backend=self.compile_backend)
        return module

    def _check_resume(
        self, saved: Mapping[str, Any], n_train: int, batches_done: int, path: Any
    ) -> None:
        if batches_done and (
            saved.get("batch_size") != self.batch_size or saved.get("n_train") != n_train
        ):
            raise ValueError(
                f"resume: {path} stopped inside an epoch with batch_size="
                f"{saved.get('batch_size')} on {saved.get('n_train')} samples; resuming needs "
                f"the same, got batch_size={self.batch_size} on {n_train} samples"
            )
        keys = ["seed", "batch_size", "scheduler", "lr"]
        if self.scheduler in ("cosine", "onecycle") or (
            self.scheduler == "step" and "step_size" not in self.scheduler_kwargs
        ):
            # These schedules are shaped by the number of epochs.
            keys.append("epochs")
        changed = [k for k in keys if k in saved and saved[k] != getattr(self, k)]
        if changed:
            warnings.warn(
                f"resume: options {changed} differ from those of the run that wrote {path}; "
                f"the result will not match an uninterrupted run",
                stacklevel=3,
            )

    def _progress_bar(self, total: int, initial: int):
        if not self.progress:
            return None
        return progress_bar(total=total, initial=initial, desc="train", unit="step")
