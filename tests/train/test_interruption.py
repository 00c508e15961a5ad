"""A training process killed mid-epoch or mid-checkpoint-write resumes without loss.

tests/train/interrupt_worker.py trains a small FNO with ``checkpoint_every=1`` in a
subprocess and parks itself at a known point (inside a training step, or halfway through
writing a checkpoint's bytes); the test then sends SIGKILL or SIGINT. Afterwards
``last.pt`` must load (or be absent when no checkpoint was ever completed), no temporary
file may get in the way, and resuming must end with the weights, bitwise, of an
uninterrupted run, with every epoch the checkpoint had recorded kept in the history.

The four workers run concurrently; each costs mostly its torch import.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sciml.train.checkpoint import CheckpointError, capture_rng, load_checkpoint, restore_rng
from sciml.train.trainer import Trainer

if os.name == "nt":  # SIGKILL is POSIX
    pytest.skip("POSIX signals and shell needed", allow_module_level=True)

WORKER = Path(__file__).with_name("interrupt_worker.py")
ROOT = WORKER.parents[2]
_spec = importlib.util.spec_from_file_location("sciml_interrupt_worker", WORKER)
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)

EPOCHS, STEPS = worker.OPTIONS["epochs"], worker.STEPS_PER_EPOCH
MID_EPOCH_STEP = 2 * STEPS + 2  # epoch 3, batch 2: two epochs checkpointed, one batch done
SCENARIOS = {
    # name: (worker mode, at, signal)
    "kill mid-epoch": ("block", MID_EPOCH_STEP, signal.SIGKILL),
    "kill mid-write": ("slow-save", 2, signal.SIGKILL),  # writing epoch 2's checkpoint
    "kill mid-first-write": ("slow-save", 1, signal.SIGKILL),  # no checkpoint completed
    "ctrl-c mid-epoch": ("block", MID_EPOCH_STEP, signal.SIGINT),
}
WAIT_S = 240.0


class Run:
    def __init__(self, out: Path, returncode: int, output: str) -> None:
        self.out, self.returncode, self.output = out, returncode, output
        self.ckpt_dir = out / "ckpt"
        self.last = self.ckpt_dir / "last.pt"

    def temporaries(self) -> list[Path]:
        return sorted(p for p in self.ckpt_dir.iterdir() if p.name != "last.pt")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    procs = {}
    for name, (mode, at, _) in SCENARIOS.items():
        out = tmp_path_factory.mktemp(name.replace(" ", "_"))
        cmd = [sys.executable, str(WORKER), str(out), mode, str(at)]
        procs[name] = (out, subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                              stderr=subprocess.STDOUT, text=True,
                                              start_new_session=True))
    waiting = set(procs)
    deadline = time.monotonic() + WAIT_S
    try:
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                out, proc = procs[name]
                if (out / "ready").exists():
                    proc.send_signal(SCENARIOS[name][2])
                    waiting.discard(name)
                elif proc.poll() is not None:
                    pytest.fail(f"{name}: worker exited early ({proc.returncode}):\n"
                                f"{proc.stdout.read()}")
            time.sleep(0.05)
        assert not waiting, f"workers never reached their stop point: {sorted(waiting)}"
        result = {}
        for name, (out, proc) in procs.items():
            output, _ = proc.communicate(timeout=120)
            result[name] = Run(out, proc.returncode, output)
        return result
    finally:
        for _, proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def one_thread():
    """Same thread count as the worker (bitwise results), and the global RNGs restored."""
    threads, rng = torch.get_num_threads(), capture_rng()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    restore_rng(rng)


def _train(checkpoint_dir: Path | None = None, resume: Path | None = None):
    model = worker.build_model()
    trainer = Trainer(checkpoint_dir=checkpoint_dir, **worker.OPTIONS)
    history = trainer.fit(model, worker.dataset(), resume=resume)
    return model.state_dict(), history


@pytest.fixture(scope="module")
def reference():
    threads, rng = torch.get_num_threads(), capture_rng()
    torch.set_num_threads(1)
    try:
        return _train()
    finally:
        torch.set_num_threads(threads)
        restore_rng(rng)


def _without_time(history):
    return [{k: v for k, v in r.items() if k != "time"} for r in history]


def _assert_resumes_exactly(run: Run, reference) -> None:
    ckpt = load_checkpoint(run.last)
    recorded = ckpt.extra["history"]
    state, history = _train(run.ckpt_dir, resume=run.last)
    ref_state, ref_history = reference
    assert state.keys() == ref_state.keys()
    differing = [k for k in state if not torch.equal(state[k], ref_state[k])]
    assert not differing, f"weights differ from the uninterrupted run: {differing}"
    assert [r["epoch"] for r in history] == list(range(1, EPOCHS + 1))
    assert history[: len(recorded)] == recorded, "epochs recorded before the kill were lost"
    assert _without_time(history) == _without_time(ref_history)
    # The resumed run wrote its own checkpoints next to whatever the kill left behind.
    final = load_checkpoint(run.last)
    assert (final.epoch, final.step) == (EPOCHS, EPOCHS * STEPS)


def test_sigkill_mid_epoch(runs, reference, one_thread):
    run = runs["kill mid-epoch"]
    assert run.returncode == -signal.SIGKILL, run.output
    assert run.temporaries() == [], "a kill outside a checkpoint write left files behind"
    ckpt = load_checkpoint(run.last)
    assert (ckpt.epoch, ckpt.step) == (2, 2 * STEPS)
    assert ckpt.extra["trainer_state"]["batches_done"] == 0
    assert [r["epoch"] for r in ckpt.extra["history"]] == [1, 2]
    _assert_resumes_exactly(run, reference)


def test_sigkill_mid_checkpoint_write(runs, reference, one_thread):
    run = runs["kill mid-write"]
    assert run.returncode == -signal.SIGKILL, run.output
    # The kill really landed mid-write: half a checkpoint sits in a temporary file...
    (partial,) = run.temporaries()
    assert partial.name.startswith(".last.pt.") and partial.name.endswith(".tmp")
    assert partial.stat().st_size > 0
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(partial)
    # ...while last.pt still holds the previous, complete checkpoint.
    ckpt = load_checkpoint(run.last)
    assert (ckpt.epoch, ckpt.step) == (1, STEPS)
    assert [r["epoch"] for r in ckpt.extra["history"]] == [1]
    _assert_resumes_exactly(run, reference)
    # The resumed run's first save removed the dead writer's temporary.
    assert run.temporaries() == []


def test_sigkill_mid_first_write_leaves_no_checkpoint(runs, reference, one_thread):
    run = runs["kill mid-first-write"]
    assert run.returncode == -signal.SIGKILL, run.output
    assert not run.last.exists(), "a checkpoint appeared although none was completed"
    (partial,) = run.temporaries()
    with pytest.raises(CheckpointError):
        load_checkpoint(partial)
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load_checkpoint(run.last)
    # Starting over in the same folder is the uninterrupted run.
    state, _ = _train(run.ckpt_dir)
    assert all(torch.equal(state[k], reference[0][k]) for k in state)
    assert load_checkpoint(run.last).epoch == EPOCHS


def test_ctrl_c_mid_epoch_resumes_bitwise(runs, reference, one_thread):
    run = runs["ctrl-c mid-epoch"]
    assert run.returncode == 130 and "interrupted" in run.output, run.output
    assert run.temporaries() == []
    ckpt = load_checkpoint(run.last)
    # The interrupt checkpoint sits inside epoch 3, after its first batch.
    assert (ckpt.epoch, ckpt.step) == (2, 2 * STEPS + 1)
    assert ckpt.extra["trainer_state"]["batches_done"] == 1
    assert [r["epoch"] for r in ckpt.extra["history"]] == [1, 2]
    _assert_resumes_exactly(run, reference)


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    from sciml.train.checkpoint import remove_stale_temporaries, save_checkpoint

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    target = tmp_path / "last.pt"
    stale = tmp_path / f".last.pt.{dead_pid}.abc123.tmp"
    live = tmp_path / f".last.pt.{os.getpid()}.def456.tmp"
    foreign = tmp_path / ".last.pt.notapid.tmp"
    other = tmp_path / f".best.pt.{dead_pid}.abc123.tmp"
    for f in (stale, live, foreign, other):
        f.write_bytes(b"partial")
    assert remove_stale_temporaries(target) == [stale]
    assert not stale.exists() and live.exists() and foreign.exists() and other.exists()
    # save_checkpoint cleans up before it writes.
    stale.write_bytes(b"partial")
    save_checkpoint(target, model=torch.nn.Linear(1, 1))
    assert not stale.exists() and target.exists()
