"""Every way sciml reads a checkpoint refuses one whose pickle would run code.

Each payload is first shown to run (a positive control: an unsafe loader creates a marker
file), then fed to every load path: ``load_checkpoint``, ``Trainer.fit(resume=...)``, the
``load`` classmethod of every solver class found in the package, and the ``sciml``
commands that take a checkpoint. Each must raise ``CheckpointError`` (or exit with status
2 naming it) and leave no marker. ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` is set while
loading: it turns off torch's safe loading wherever a caller did not ask for it
explicitly, so this also proves that every path asks.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import io
import os
import pickle
import pkgutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import sciml
from sciml.core.grid import Box, Grid
from sciml.data.hdf5 import write
from sciml.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from sciml.train.trainer import Trainer

if os.name == "nt":  # the payload runs `touch`
    pytest.skip("POSIX signals and shell needed", allow_module_level=True)

REFUSED = r"not a safe sciml checkpoint"
# Solver classes that must be among those discovered (the discovery must not go blind).
KNOWN_LOADERS = {
    "KroneckerGPSolver", "NeuralOperatorSolver", "NonintrusiveReducedBasisSolver",
    "PIGSolver", "PINNSolver", "PODGPSurrogate", "ReducedBasisSolver",
}


class _System:
    """Unpickles to ``os.system("touch MARKER")``."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


class _Exec:
    """Unpickles to ``exec(...)`` of Python that creates MARKER."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.exec, (f"open({self.marker!r}, 'w').close()",))


def _valid_payload(tmp: Path) -> dict:
    """The raw dict of a genuine sciml checkpoint (format marker, version, state...)."""
    good = tmp / "good.pt"
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    save_checkpoint(good, model=model, optimizer=torch.optim.Adam(model.parameters()),
                    config={"in": 3}, extra={"history": [{"epoch": 1}]}, step=4, epoch=1)
    return torch.load(good, weights_only=True)


def _legacy_opcodes(marker: Path) -> bytes:
    # Hand-written protocol-0 pickle: GLOBAL posix.system, a string argument, REDUCE.
    return f"cposix\nsystem\n(S'touch {marker}'\ntR.".encode()


def _payloads(tmp: Path, marker: Path) -> dict[str, tuple[Path, Callable[[Path], object]]]:
    """name -> (file, unsafe loader that runs its code)."""
    base = _valid_payload(tmp)

    def zipped(name: str, payload: object) -> Path:
        path = tmp / f"{name}.pt"
        torch.save(payload, path)
        return path

    def raw(name: str, data: bytes) -> Path:
        path = tmp / f"{name}.pt"
        path.write_bytes(data)
        return path

    def pickle_load(path: Path) -> object:
        with open(path, "rb") as f:
            return pickle.load(f)

    def torch_unsafe(path: Path) -> object:
        return torch.load(path, weights_only=False)

    in_state = {**base, "model": {**base["model"], "bias": _System(marker)}}
    in_extra = {**base, "extra": {**base["extra"], "history": [_Exec(marker)]}}
    in_optimizer = {**base, "optimizer": {**base["optimizer"], "state": _System(marker)}}
    return {
        "legacy pickle": (raw("legacy", pickle.dumps({"model": _System(marker)}, protocol=2)),
                          pickle_load),
        "legacy opcodes": (raw("opcodes", _legacy_opcodes(marker)), pickle_load),
        "zip, top level": (zipped("top", _System(marker)), torch_unsafe),
        "zip, model state": (zipped("state", in_state), torch_unsafe),
        "zip, extra (exec)": (zipped("extra", in_extra), torch_unsafe),
        "zip, optimizer": (zipped("optimizer", in_optimizer), torch_unsafe),
    }


@pytest.fixture
def payloads(tmp_path):
    marker = tmp_path / "pwned"
    files = _payloads(tmp_path, marker)
    # Positive control: every payload really runs code under an unsafe loader.
    for name, (path, unsafe) in files.items():
        assert not marker.exists()
        try:
            unsafe(path)
        except Exception:
            pass  # the object graph may not rebuild, but the code has already run
        assert marker.exists(), f"payload {name!r} did not run under an unsafe loader"
        marker.unlink()
    return marker, {name: path for name, (path, _) in files.items()}


@pytest.fixture
def unsafe_torch_default(monkeypatch):
    # torch honours this only where a caller leaves weights_only unset.
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")


def _loader_classes() -> dict[str, type]:
    """Every class defined in sciml with a concrete ``load`` classmethod."""
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(sciml.__path__, "sciml."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            load = inspect.getattr_static(cls, "load", None)
            if isinstance(load, classmethod) and not getattr(
                load.__func__, "__isabstractmethod__", False
            ):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def _assert_refused(marker: Path, call: Callable[[], object]) -> None:
    with pytest.raises(CheckpointError, match=REFUSED):
        call()
    assert not marker.exists(), "the payload ran"


def test_load_checkpoint_refuses(payloads, unsafe_torch_default):
    marker, files = payloads
    for path in files.values():
        _assert_refused(marker, lambda p=path: load_checkpoint(p))
        _assert_refused(marker, lambda p=path: load_checkpoint(p, map_location=None))


def test_trainer_resume_refuses(payloads, unsafe_torch_default):
    marker, files = payloads
    data = TensorDataset(torch.randn(4, 3, 8), torch.randn(4, 2, 8))
    for path in files.values():
        model = nn.Conv1d(3, 2, 1)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        trainer = Trainer(epochs=1, batch_size=2, device="cpu", progress=False)
        _assert_refused(
            marker, lambda t=trainer, m=model, p=path: t.fit(m, data, resume=p)
        )
        after = model.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before), "weights were touched"


def test_every_solver_load_refuses(payloads, unsafe_torch_default):
    marker, files = payloads
    classes = _loader_classes()
    names = {name.rsplit(".", 1)[-1] for name in classes}
    assert KNOWN_LOADERS <= names, f"discovery missed {KNOWN_LOADERS - names}"
    for qualname, cls in sorted(classes.items()):
        for label, path in files.items():
            try:
                _assert_refused(marker, lambda c=cls, p=path: c.load(p, device="cpu"))
            except AssertionError as err:  # name the class and payload in the failure
                raise AssertionError(f"{qualname}.load, payload {label!r}: {err}") from err


def test_cli_commands_refuse(payloads, unsafe_torch_default, tmp_path, capsys):
    from sciml.cli import main

    marker, files = payloads
    data = tmp_path / "data.h5"
    grid = Grid.uniform(Box(x=(0, 1)), (8,))
    rng = np.random.default_rng(0)
    write(data, {"a": rng.standard_normal((2, 1, 8, 1)), "u": rng.standard_normal((2, 1, 8, 1))},
          grid)
    out = tmp_path / "out"
    for path in (files["legacy pickle"], files["zip, model state"]):
        commands = [
            ["plot", "history", str(path), "-o", str(out / "h.png")],
            ["evaluate", str(path), str(data)],
            ["predict", str(path), str(data), "-o", str(out / "p.h5")],
            ["plot", "compare", str(path), str(data), "-o", str(out / "c.png")],
        ]
        for argv in commands:
            status = main(argv)
            err = capsys.readouterr().err
            assert status == 2, (argv, err)
            assert REFUSED in err, (argv, err)
            assert not marker.exists(), f"the payload ran in `sciml {' '.join(argv[:2])}`"


def test_genuine_checkpoint_still_loads(tmp_path, unsafe_torch_default):
    """The refusals above are not a loader that refuses everything."""
    payload = _valid_payload(tmp_path)
    ckpt = load_checkpoint(tmp_path / "good.pt")
    assert ckpt.step == 4 and ckpt.epoch == 1 and ckpt.config == {"in": 3}
    assert torch.equal(ckpt.model_state["weight"], payload["model"]["weight"])
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    (tmp_path / "copy.pt").write_bytes(buffer.getvalue())
    assert load_checkpoint(tmp_path / "copy.pt").extra["history"] == [{"epoch": 1}]
