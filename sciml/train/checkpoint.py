"""Safe, atomic training checkpoints.

A checkpoint is one file written by ``torch.save`` holding only tensors and plain data
(dicts, lists, strings, numbers), so it always loads with ``torch.load(weights_only=True)``:
loading a sciml checkpoint never runs code. The constructor config is stored as a JSON
string and RNG states as tensors and lists for the same reason.

Writes are atomic: the file goes to a temporary name in the target directory, is flushed and
fsynced, then renamed over the target, and the directory is fsynced. A crash mid-write
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.core.files import fsync_path
from sciml.core.validation import describe

__all__ = [
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "capture_rng",
    "load_checkpoint",
    "remove_stale_temporaries",
    "restore_rng",
    "save_checkpoint",
]

FORMAT_VERSION = 1
_MAGIC = "sciml-checkpoint"
_REQUIRED = ("format_version", "model_class", "model", "step", "epoch")


class CheckpointError(ValueError):
    """A file is missing, corrupt, of another format version, or not a safe checkpoint."""


@dataclass
class Checkpoint:
    """The content of a checkpoint file.

    Attributes
    ----------
    path : str
        File it was read from.
    format_version : int
        Layout version of the file (:data:`FORMAT_VERSION` when written by this code).
    library_version : str
        sciml version that wrote it.
    model_class : str
        Qualified class name of the model.
    config : dict or None
        Constructor config of the model (decoded from JSON).
    model_state, optimizer_state, scheduler_state : dict or None
        State dicts.
    step, epoch : int
        Optimiser steps and epochs completed.
    rng : dict or None
        RNG states as returned by :func:`capture_rng`.
    extra : dict
        Additional tensors and plain data.
    """

    path: str
    format_version: int
    library_version: str
    model_class: str
    config: dict[str, Any] | None
    model_state: dict[str, Any]
    optimizer_state: dict[str, Any] | None = None
    scheduler_state: dict[str, Any] | None = None
    step: int = 0
    epoch: int = 0
    rng: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _library_version() -> str:
    # Read lazily: ``sciml/__init__`` may still be importing this module.
    module = sys.modules.get("sciml")
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version

        return dist_version("sciml")
    except PackageNotFoundError:
        return "unknown"


def capture_rng() -> dict[str, Any]:
    """Snapshot the Python, NumPy and torch (CPU and CUDA) RNG states as plain data.

    Returns
    -------
    dict
        ``{"python": {...}, "numpy": {...}, "torch": ByteTensor, "cuda": [ByteTensor, ...]}``
        (``"cuda"`` is an empty list without CUDA); safe for ``weights_only`` loading.
    """
    py_version, py_state, gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()  # noqa: NPY002
    cuda = []
    if torch.cuda.is_available():
        cuda = [s.clone() for s in torch.cuda.get_rng_state_all()]
    return {
        "python": {"version": int(py_version), "state": list(py_state), "gauss_next": gauss},
        "numpy": {
            "name": str(np_name),
            "keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "cached_gaussian": float(np_gauss),
        },
        "torch": torch.get_rng_state(),
        "cuda": cuda,
    }


def _restore_rng_state(state: Mapping[str, Any]) -> None:
    if "python" in state:
        p = state["python"]
        random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))
    if "numpy" in state:
        n = state["numpy"]
        keys = n["keys"].cpu().numpy().astype(np.uint32)
        # The legacy global state is what user code seeded with np.random.seed draws from.
        np.random.set_state(  # noqa: NPY002
            (n["name"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"])
        )
    if "torch" in state:
        torch.set_rng_state(state["torch"].cpu().to(torch.uint8))
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available():
        # A machine with fewer GPUs restores the devices it has.
        for index, s in enumerate(cuda[: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(s.cpu().to(torch.uint8), index)


def restore_rng(checkpoint: Checkpoint | Mapping[str, Any]) -> None:
    """Restore the RNG states stored in a checkpoint (or a :func:`capture_rng` dict).

    Raises
    ------
    CheckpointError
        If the checkpoint holds no RNG state.
    """
    state = checkpoint.rng if isinstance(checkpoint, Checkpoint) else checkpoint
    if not state:
        where = checkpoint.path if isinstance(checkpoint, Checkpoint) else "the given state"
        raise CheckpointError(f"{where}: holds no RNG state (was it saved with rng=False?)")
    _restore_rng_state(state)


_PLAIN = (str, int, float, bool, type(None), torch.Tensor)


def _check_plain(argument: str, value: Any) -> None:
    """Raise unless ``value`` is made of tensors, plain scalars, lists, tuples and dicts."""
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(f"{argument}[{i}]", v)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise ValueError(f"{argument}: keys must be str or int, got {describe(k)}")
            _check_plain(f"{argument}[{k!r}]", v)
        return
    raise ValueError(
        f"{argument}: got {describe(value)}; a checkpoint stores only tensors, str, int, float, "
        f"bool, None and lists/tuples/dicts of them (so it loads with weights_only=True)"
    )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else, or cannot tell: keep its file
    return True


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Delete temporaries of ``path`` left by writers that were killed mid-write.

    :func:`save_checkpoint` writes ``.NAME.PID.XXXX.tmp`` beside the checkpoint and renames it
    into place; a process killed by SIGKILL (or a power cut) leaves the temporary behind. Files
    whose writer PID no longer runs on this machine are removed; others are kept.

    Returns
    -------
    list of Path
        The files removed.
    """
    path = Path(path)
    removed = []
    for candidate in path.parent.glob(f".{path.name}.*.tmp"):
        pid_text = candidate.name[len(path.name) + 2 :].split(".", 1)[0]
        if not pid_text.isdigit() or _process_alive(int(pid_text)):
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
        except FileNotFoundError:
            pass
    return removed


def save_checkpoint(
    path: str | os.PathLike,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any | None = None,
    step: int = 0,
    epoch: int = 0,
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    rng: bool | Mapping[str, Any] = True,
) -> Path:
    """Write a checkpoint atomically to ``path``.

    Parameters
    ----------
    path : path-like
        Target file; parent directories are created.
    model : nn.Module
        Its ``state_dict`` and class name are stored.
    optimizer, scheduler : optional
        Objects with ``state_dict()``.
    step, epoch : int
        Progress counters.
    config : dict, optional
        JSON-serialisable constructor config (stored as a JSON string).
    extra : dict, optional
        Tensors and plain data (lists, dicts, numbers, strings) to keep alongside.
    rng : bool or dict
        ``True`` captures the RNG states now, ``False`` stores none, and a dict from
        :func:`capture_rng` stores that earlier snapshot.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If ``config`` is not JSON-serialisable, ``extra`` holds other objects, or a counter
        is negative.
    """
    path = Path(path)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected a torch.nn.Module, got {describe(model)}")
    for name, value in (("step", step), ("epoch", epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    config_json = None
    if config is not None:
        try:
            config_json = json.dumps(dict(config), sort_keys=True)
        except (TypeError, ValueError) as err:
            raise ValueError(f"config: must be a JSON-serialisable dict ({err})") from None
    extra = dict(extra or {})
    _check_plain("extra", extra)
    if rng is True:
        rng_state = capture_rng()
    elif rng is False or rng is None:
        rng_state = None
    elif isinstance(rng, Mapping):
        rng_state = dict(rng)
        _check_plain("rng", rng_state)
    else:
        raise ValueError(f"rng: expected True, False or a capture_rng() dict, got {rng!r}")

    cls = type(model)
    payload = {
        "format": _MAGIC,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "model_class": f"{cls.__module__}.{cls.__qualname__}",
        "config": config_json,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "step": int(step),
        "epoch": int(epoch),
        "rng": rng_state,
        "extra": extra,
    }

    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    # The writer's PID in the name lets a later save tell a dead writer's leftover from a
    # write still in progress in another process.
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        # Also on KeyboardInterrupt: never leave a half-written temporary behind.
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    fsync_path(directory, directory=True)
    return path


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device | None = "cpu"
) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Always loads with ``torch.load(weights_only=True)``: a file holding arbitrary pickled
    objects is refused rather than executed.

    Parameters
    ----------
    path : path-like
        File to read.
    map_location : str or torch.device, optional
        Where tensors go (as in ``torch.load``).

    Raises
    ------
    CheckpointError
        If the file is missing, truncated or corrupt, not a safe sciml checkpoint, or of an
        unsupported format version.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        raw = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{path}: not a safe sciml checkpoint; it holds objects that only an unsafe "
            f"(code-executing) unpickler could load, so it was refused ({err})"
        ) from None
    except Exception as err:  # torch raises RuntimeError, EOFError, ... for damaged files
        raise CheckpointError(
            f"{path}: cannot be read as a checkpoint; the file is truncated or corrupt "
            f"({type(err).__name__}: {err})"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != _MAGIC:
        raise CheckpointError(
            f"{path}: loads safely but is not a sciml checkpoint (no format marker)"
        )
    version = raw.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version!r} is not supported; this sciml "
            f"reads format version {FORMAT_VERSION}"
        )
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise CheckpointError(f"{path}: checkpoint is missing entries {missing}")
    try:
        config = json.loads(raw["config"]) if raw.get("config") is not None else None
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: stored config is not valid JSON ({err})") from None
    return Checkpoint(
        path=str(path),
        format_version=int(version),
        library_version=str(raw.get("library_version", "unknown")),
        model_class=str(raw["model_class"]),
        config=config,
        model_state=raw["model"],
        optimizer_state=raw.get("optimizer"),
        scheduler_state=raw.get("scheduler"),
        step=int(raw["step"]),
        epoch=int(raw["epoch"]),
        rng=raw.get("rng"),
        extra=dict(raw.get("extra") or {}),
    )
