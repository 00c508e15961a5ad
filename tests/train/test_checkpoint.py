"""Checkpoints: round trip, RNG, atomic writes, and refusal of unsafe or damaged files."""

from __future__ import annotations

import os
import pickle
import random

import numpy as np
import pytest
import torch
from torch import nn

from sciml.train.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    CheckpointError,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)


def _trained_setup(seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    model(torch.randn(5, 3)).square().sum().backward()
    opt.step()
    sched.step()
    return model, opt, sched


def test_round_trip(tmp_path):
    model, opt, sched = _trained_setup()
    path = save_checkpoint(
        tmp_path / "sub" / "ck.pt",
        model=model,
        optimizer=opt,
        scheduler=sched,
        step=7,
        epoch=3,
        config={"width": 4, "modes": [2, 3], "name": "mlp"},
        extra={"history": [{"epoch": 1, "loss": 0.5}], "buf": torch.arange(3)},
    )
    ck = load_checkpoint(path)
    assert isinstance(ck, Checkpoint)
    assert ck.format_version == FORMAT_VERSION
    assert ck.library_version and isinstance(ck.library_version, str)
    assert ck.model_class == "torch.nn.modules.container.Sequential"
    assert ck.config == {"width": 4, "modes": [2, 3], "name": "mlp"}
    assert (ck.step, ck.epoch) == (7, 3)
    assert ck.extra["history"] == [{"epoch": 1, "loss": 0.5}]
    assert torch.equal(ck.extra["buf"], torch.arange(3))

    model2, opt2, sched2 = _trained_setup(seed=1)
    model2.load_state_dict(ck.model_state)
    opt2.load_state_dict(ck.optimizer_state)
    sched2.load_state_dict(ck.scheduler_state)
    for a, b in zip(model.state_dict().values(), model2.state_dict().values()):
        assert torch.equal(a, b)
    state1, state2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    for key in state1:
        for name in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(state1[key][name], state2[key][name])
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["ck.pt"]


def test_rng_states_round_trip(tmp_path):
    torch.manual_seed(3)
    np.random.seed(3)  # noqa: NPY002 (the legacy global state is what is saved)
    random.seed(3)
    save_checkpoint(tmp_path / "ck.pt", model=nn.Linear(1, 1))

    def draw():
        legacy = np.random.rand(3).tolist()  # noqa: NPY002
        return (torch.rand(3).tolist(), legacy, random.random())

    first = draw()
    draw()
    restore_rng(load_checkpoint(tmp_path / "ck.pt"))
    assert draw() == first
    # A captured snapshot can be saved instead of the current state.
    snap = capture_rng()
    first = draw()
    save_checkpoint(tmp_path / "ck2.pt", model=nn.Linear(1, 1), rng=snap)
    restore_rng(load_checkpoint(tmp_path / "ck2.pt"))
    assert draw() == first
    save_checkpoint(tmp_path / "ck3.pt", model=nn.Linear(1, 1), rng=False)
    with pytest.raises(CheckpointError, match="no RNG state"):
        restore_rng(load_checkpoint(tmp_path / "ck3.pt"))


@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_crash_mid_write_keeps_previous(tmp_path, monkeypatch, exc):
    model, _, _ = _trained_setup()
    target = tmp_path / "last.pt"
    save_checkpoint(target, model=model, step=1)
    before = target.read_bytes()

    real_save = torch.save

    def crashing_save(obj, handle, *args, **kwargs):
        real_save(obj, handle, *args, **kwargs)
        handle.truncate(100)  # partial data on disk, then the crash
        raise exc

    monkeypatch.setattr(torch, "save", crashing_save)
    with torch.no_grad():
        model[0].weight.add_(1.0)
    with pytest.raises(type(exc)):
        save_checkpoint(target, model=model, step=2)
    monkeypatch.undo()

    assert os.listdir(tmp_path) == ["last.pt"]  # no temporary left behind
    assert target.read_bytes() == before
    ck = load_checkpoint(target)
    assert ck.step == 1
    assert not torch.equal(ck.model_state["0.weight"], model[0].weight)


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


@pytest.mark.skipif(os.name != "posix", reason="payload uses the touch command")
def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    raw = tmp_path / "raw.pt"
    with open(raw, "wb") as f:
        pickle.dump({"model": _Evil(str(marker))}, f, protocol=2)
    zipped = tmp_path / "zipped.pt"
    torch.save({"format": "sciml-checkpoint", "model": _Evil(str(marker))}, zipped)
    for path in (raw, zipped):
        with pytest.raises(CheckpointError, match="not a safe sciml checkpoint") as info:
            load_checkpoint(path)
        assert str(path) in str(info.value)
        assert not marker.exists()
    # Positive control: the payload really runs under an unsafe unpickler.
    with open(raw, "rb") as f:
        pickle.load(f)
    assert marker.exists()


def test_damaged_missing_and_foreign_files(tmp_path):
    path = tmp_path / "ck.pt"
    save_checkpoint(path, model=nn.Linear(8, 8))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)

    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="ck.pt"):
        load_checkpoint(path)

    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")

    other = tmp_path / "other.pt"
    torch.save({"format": "sciml-checkpoint", "format_version": 999}, other)
    with pytest.raises(CheckpointError, match="format version 999"):
        load_checkpoint(other)
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="not a sciml checkpoint"):
        load_checkpoint(other)
    assert issubclass(CheckpointError, ValueError)


def test_save_rejects_unsafe_content(tmp_path):
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="config"):
        save_checkpoint(tmp_path / "a.pt", model=model, config={"f": object()})
    with pytest.raises(ValueError, match=r"extra\['arr'\]"):
        save_checkpoint(tmp_path / "a.pt", model=model, extra={"arr": np.zeros(2)})
    with pytest.raises(ValueError, match="step"):
        save_checkpoint(tmp_path / "a.pt", model=model, step=-1)
    assert not (tmp_path / "a.pt").exists()
