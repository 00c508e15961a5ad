"""Worker for tests/train/test_interruption.py (a script, not a test module).

Usage: ``python interrupt_worker.py OUT {block|slow-save} AT``

Trains the small model below with ``checkpoint_every=1`` into ``OUT/ckpt`` and stops
where the test can kill it, announcing the moment by creating ``OUT/ready``:

``block AT``
    training step ``AT`` (1-based, counted over the whole run) sleeps inside
    ``training_loss``, before its optimiser step: a kill lands mid-epoch.
``slow-save AT``
    the ``AT``-th ``torch.save`` of the run writes the first half of the checkpoint's
    bytes to the temporary file, fsyncs them and sleeps: a kill lands mid-write, before
    the rename.

A KeyboardInterrupt (SIGINT) exits with status 130 after the trainer wrote its interrupt
checkpoint. The test imports this file for ``build_model``, ``dataset`` and ``OPTIONS``
so that its in-process reference run is built identically.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

N_TRAIN, SIZE = 12, 16
OPTIONS = dict(
    epochs=4, batch_size=4, lr=1e-2, scheduler="cosine", progress=False, seed=7, device="cpu",
    checkpoint_every=1,
)
STEPS_PER_EPOCH = N_TRAIN // OPTIONS["batch_size"]
SLEEP_S = 120.0  # far longer than the test waits: only a signal ends it


def build_model() -> torch.nn.Module:
    from sciml.neural.fno import FNO

    torch.manual_seed(0)
    return FNO(2, 1, n_modes=4, hidden_channels=8, n_layers=2)


def dataset() -> TensorDataset:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(N_TRAIN, 2, SIZE, generator=g)
    y = torch.sin(x[:, :1]) + 0.1 * x[:, 1:]
    return TensorDataset(x, y)


def _announce(out: Path) -> None:
    (out / "ready").touch()


def main(out: Path, mode: str, at: int) -> int:
    torch.set_num_threads(1)  # the reference run in the test uses one thread too
    from sciml.train.trainer import Trainer

    calls = {"step": 0, "save": 0}

    class Blocking(Trainer):
        def training_loss(self, model, x, y, loss_fn):
            calls["step"] += 1
            if mode == "block" and calls["step"] == at:
                _announce(out)
                time.sleep(SLEEP_S)
            return super().training_loss(model, x, y, loss_fn)

    real_save = torch.save

    def slow_save(obj, f, *args, **kwargs):
        calls["save"] += 1
        if mode != "slow-save" or calls["save"] != at:
            return real_save(obj, f, *args, **kwargs)
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        data = buffer.getvalue()
        f.write(data[: len(data) // 2])
        f.flush()
        os.fsync(f.fileno())
        _announce(out)
        time.sleep(SLEEP_S)
        raise AssertionError("slow-save: the test should have killed this process")

    torch.save = slow_save
    trainer = Blocking(checkpoint_dir=out / "ckpt", **OPTIONS)
    try:
        trainer.fit(build_model(), dataset())
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        return 130
    print("finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
