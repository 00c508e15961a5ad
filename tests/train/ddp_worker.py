"""Worker for tests/train/test_distributed.py, launched by ``torchrun`` (not a test module).

Usage: ``python -m torch.distributed.run --nproc_per_node=2 --standalone ddp_worker.py OUT``.

Every rank runs, on CPU with gloo:

1. a straight run of ``EPOCHS`` epochs with checkpoints in ``OUT/straight``;
2. the same run interrupted (KeyboardInterrupt on every rank) at training step
   ``INTERRUPT_AT``, checkpointed in ``OUT/resumed``, then resumed by a fresh trainer and
   model.

Rank 0 writes the histories to ``OUT/histories.json``; every rank writes what it saw
(sample indices, random draws, checkpoint writes) to ``OUT/rank<r>.json``. The test
module imports this file for the model, data and options, so the one-process reference
is built identically.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

N_TRAIN, N_TEST, SIZE = 21, 7, 32
EPOCHS = 3
INTERRUPT_AT = 8  # training forward 8 = epoch 2, batch 3 (5 steps per epoch)
OPTIONS = dict(
    epochs=EPOCHS, batch_size=5, lr=1e-2, scheduler="cosine", progress=False, seed=3,
    device="cpu",
)


class Recorder(nn.Module):
    """Identity that records one torch draw per training forward (model-side randomness).

    Its buffer gives DDP buffers to synchronise.
    """

    def __init__(self) -> None:
        super().__init__()
        self.draws: list[float] = []
        self.register_buffer("scale", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            self.draws.append(float(torch.rand(())))
        return x * self.scale


def irregular_trainer(**options):
    """A Trainer whose training_loss calls the model a rank-dependent number of times
    without gradient and twice with it (the pattern of pushforward training)."""
    from sciml.train.trainer import Trainer

    class Irregular(Trainer):
        def training_loss(self, model, x, y, loss_fn):
            with torch.no_grad():
                for _ in range(int(torch.randint(3, ()))):
                    x = 0.5 * (x + model(x))
            return loss_fn(model(0.5 * model(x)), y)

    return Irregular(**options)


class Tripwire(nn.Module):
    """Identity that raises KeyboardInterrupt at training forward ``at``."""

    def __init__(self, at: int | None = None) -> None:
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt
        return x


class Indexed(Dataset):
    """Dataset wrapper that logs the indices it is asked for."""

    def __init__(self, base: Dataset) -> None:
        self.base, self.seen = base, []

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i):
        self.seen.append(int(i))
        return self.base[i]


def build_model(seed: int, interrupt_at: int | None = None) -> nn.Sequential:
    from sciml.neural.fno import FNO

    torch.manual_seed(seed)
    fno = FNO(1, 1, n_modes=6, hidden_channels=8, n_layers=2)
    return nn.Sequential(Tripwire(interrupt_at), fno, Recorder())


def make_data() -> tuple[TensorDataset, TensorDataset]:
    rng = np.random.default_rng(0)
    grid = np.arange(SIZE) / SIZE
    def pairs(n):
        # u(x) = sum of two random sines; target: its smoothed square (a nonlinear operator).
        a = rng.standard_normal((n, 2, 1))
        x = a[:, :1] * np.sin(2 * np.pi * grid) + a[:, 1:] * np.cos(4 * np.pi * grid)
        y = np.roll(x, 1, -1) * x + 0.5 * x
        return TensorDataset(torch.tensor(x, dtype=torch.float32),
                             torch.tensor(y, dtype=torch.float32))
    return pairs(N_TRAIN), pairs(N_TEST)


def main(out: Path) -> None:
    import sciml.train.trainer as trainer_module
    from sciml.train import distributed as dist
    from sciml.train.trainer import Trainer

    torch.set_num_threads(1)
    assert dist.init_distributed("gloo")
    rank = dist.rank()
    saves = []
    real_save = trainer_module.save_checkpoint

    def counting_save(path, **kwargs):
        saves.append(str(path))
        return real_save(path, **kwargs)

    trainer_module.save_checkpoint = counting_save
    train, test = make_data()
    seen = Indexed(train)

    straight = build_model(0)
    h_straight = Trainer(checkpoint_dir=out / "straight", **OPTIONS).fit(
        straight, seen, {"test": test}
    )

    # Ranks start from different weights: DDP must broadcast rank 0's.
    interrupted = build_model(rank, interrupt_at=INTERRUPT_AT)
    try:
        Trainer(checkpoint_dir=out / "resumed", **OPTIONS).fit(
            interrupted, train, {"test": test}
        )
        raise AssertionError("the tripwire did not fire")
    except KeyboardInterrupt:
        pass
    dist.barrier()  # rank 0 wrote the interrupt checkpoint without one
    resumed = build_model(100 + rank)
    h_resumed = Trainer(checkpoint_dir=out / "resumed", **OPTIONS).fit(
        resumed, train, {"test": test}, resume=out / "resumed" / "last.pt"
    )

    # Must neither hang nor let the replicas drift apart.
    irregular = build_model(0)
    irregular_trainer(**{**OPTIONS, "epochs": 1}).fit(irregular, train)
    flat = torch.cat([p.detach().reshape(-1) for p in irregular.parameters()])
    flat = torch.view_as_real(flat) if flat.is_complex() else flat
    replicas_equal = bool(torch.equal(dist.all_reduce_mean(flat), flat))

    record = {
        "rank": rank,
        "world_size": dist.world_size(),
        "train_indices": seen.seen,
        "draws_straight": straight[2].draws,
        "draws_interrupted": interrupted[2].draws,
        "draws_resumed": resumed[2].draws,
        "saves": saves,
        "irregular_replicas_equal": replicas_equal,
        "weights_equal_across_runs": all(
            torch.equal(a, b)
            for a, b in zip(straight.state_dict().values(), resumed.state_dict().values())
        ),
    }
    (out / f"rank{rank}.json").write_text(json.dumps(record))
    if dist.is_main_process():
        histories = {"straight": h_straight, "resumed": h_resumed}
        (out / "histories.json").write_text(json.dumps(histories))
    dist.cleanup()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
