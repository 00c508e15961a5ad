"""Small helpers for data-parallel training under ``torchrun``.

``torchrun --nproc_per_node=N script.py`` starts ``N`` copies of ``script.py`` and tells
each who it is through environment variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``, ``MASTER_PORT``). :func:`init_distributed` turns those into a
``torch.distributed`` process group; the other helpers ask about it. Every helper is a
no-op, or returns the single-process answer, when no process group is initialised, so the
same script runs unchanged with ``python script.py``.

Example
-------
::

    from sciml.train import distributed as dist
    dist.init_distributed()          # False (and nothing happens) without torchrun
    ...                              # build data and model identically on every rank
    history = Trainer(...).fit(model, train)   # DDP when a process group exists
    if dist.is_main_process():
        print(history[-1])
    dist.cleanup()
"""

from __future__ import annotations

import datetime
import gc
import os
from collections.abc import Sequence

import torch
import torch.distributed as torch_dist
from torch import nn

from sciml.core.validation import check_choice, describe

__all__ = [
    "BACKENDS",
    "all_reduce_mean",
    "all_reduce_sum",
    "barrier",
    "cleanup",
    "init_distributed",
    "is_distributed",
    "is_main_process",
    "local_rank",
    "rank",
    "shard_batch",
    "unwrap_model",
    "world_size",
]

BACKENDS = ("auto", "gloo", "nccl")


def is_distributed() -> bool:
    """Whether a ``torch.distributed`` process group is initialised in this process."""
    return torch_dist.is_available() and torch_dist.is_initialized()


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"environment variable {name}: expected an integer, got {raw!r}"
        ) from None


def init_distributed(
    backend: str = "auto", timeout: float | datetime.timedelta | None = None
) -> bool:
    """Initialise the default process group from the ``torchrun`` environment.

    Parameters
    ----------
    backend : {"auto", "gloo", "nccl"}
        ``"auto"`` is NCCL when CUDA is available and gloo otherwise.
    timeout : float (seconds) or timedelta, optional
        How long collectives wait for the other ranks (torch's default when None).

    Returns
    -------
    bool
        True when a process group is initialised (now or before), False when the process
        was not launched by ``torchrun`` (``RANK``/``WORLD_SIZE`` unset): then nothing
        happens and training runs on one process.

    Raises
    ------
    ValueError
        On an unknown backend, NCCL without CUDA, malformed environment variables, or a
        ``LOCAL_RANK`` without a matching GPU.

    Notes
    -----
    When CUDA is available the current device becomes ``cuda:LOCAL_RANK``, so that
    ``"cuda"`` and ``device="auto"`` mean this rank's own GPU.
    """
    check_choice("backend", backend, BACKENDS)
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        if not timeout > 0:
            raise ValueError(f"timeout: expected a positive number of seconds, got {timeout!r}")
        timeout = datetime.timedelta(seconds=float(timeout))
    elif timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise ValueError(
            f"timeout: expected None, seconds or a datetime.timedelta, got {describe(timeout)}"
        )
    if is_distributed():
        return True
    if not torch_dist.is_available():
        return False
    global_rank, size = _env_int("RANK"), _env_int("WORLD_SIZE")
    if global_rank is None or size is None:
        return False
    if size < 1 or not 0 <= global_rank < size:
        raise ValueError(
            f"environment: RANK={global_rank} and WORLD_SIZE={size} are inconsistent; "
            f"need 0 <= RANK < WORLD_SIZE"
        )
    cuda = torch.cuda.is_available()
    if backend == "auto":
        backend = "nccl" if cuda and torch_dist.is_nccl_available() else "gloo"
    if backend == "nccl" and not cuda:
        raise ValueError("backend: got 'nccl' but CUDA is not available; use 'gloo' or 'auto'")
    if cuda:
        local = _env_int("LOCAL_RANK") or 0
        if not 0 <= local < torch.cuda.device_count():
            raise ValueError(
                f"environment: LOCAL_RANK={local} but only {torch.cuda.device_count()} CUDA "
                f"devices are visible; start at most that many processes per node"
            )
        torch.cuda.set_device(local)
    kwargs = {} if timeout is None else {"timeout": timeout}
    torch_dist.init_process_group(
        backend=backend, init_method="env://", rank=global_rank, world_size=size, **kwargs
    )
    return True


def rank() -> int:
    """Global rank of this process (0 when not distributed)."""
    return torch_dist.get_rank() if is_distributed() else 0


def local_rank() -> int:
    """Rank on this node: ``LOCAL_RANK`` under torchrun, else 0."""
    if not is_distributed():
        return 0
    value = _env_int("LOCAL_RANK")
    return 0 if value is None else value


def world_size() -> int:
    """Number of processes (1 when not distributed)."""
    return torch_dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """True on rank 0, and always when not distributed."""
    return rank() == 0


def barrier() -> None:
    """Wait until every rank gets here (no-op when not distributed)."""
    if is_distributed():
        torch_dist.barrier()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum of ``tensor`` over all ranks, as a new tensor (``tensor`` is left unchanged).

    Every rank must call it with a tensor of the same shape and dtype. Without a process
    group it returns a copy of ``tensor``.
    """
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"tensor: expected a torch.Tensor, got {describe(tensor)}")
    out = tensor.detach().clone()
    if is_distributed():
        torch_dist.all_reduce(out, op=torch_dist.ReduceOp.SUM)
    return out


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """Mean of ``tensor`` over all ranks, as a new tensor (``tensor`` is left unchanged).

    Parameters
    ----------
    tensor : torch.Tensor
        Floating or complex tensor of the same shape and dtype on every rank.

    Returns
    -------
    torch.Tensor
        The element-wise mean; a copy of ``tensor`` without a process group.
    """
    if isinstance(tensor, torch.Tensor) and not (
        tensor.is_floating_point() or tensor.is_complex()
    ):
        raise ValueError(
            f"tensor: expected a floating-point or complex tensor (a mean of integers is not "
            f"an integer), got dtype {tensor.dtype}"
        )
    out = all_reduce_sum(tensor)
    size = world_size()
    return out / size if size > 1 else out


def shard_batch(batch: Sequence[int], rank: int, world_size: int) -> list[int]:
    """This rank's share of one global batch of sample indices: ``batch[rank::world_size]``.

    The shares of all ranks are disjoint and together are exactly ``batch`` (no padding,
    no dropping), so a data-parallel step sees the same samples as a one-process step.
    A rank may get an empty share when ``len(batch) < world_size``.

    Parameters
    ----------
    batch : sequence of int
        Global batch.
    rank, world_size : int
        ``0 <= rank < world_size``.
    """
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size: expected an integer >= 1, got {world_size!r}")
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < world_size:
        raise ValueError(
            f"rank: expected an integer in [0, {world_size - 1}], got {rank!r}"
        )
    return list(batch[rank::world_size])


def cleanup() -> None:
    """Destroy the default process group (no-op when none is initialised)."""
    if is_distributed():
        # Reference cycles left by training (autograd graphs, DDP internals) can hold gloo
        # work objects; freed after the group is gone, at interpreter exit, they abort the
        # process ("terminate called without an active exception") in about 1 run in 4.
        gc.collect()
        torch_dist.destroy_process_group()


def unwrap_model(model: nn.Module) -> nn.Module:
    """The user's module inside DistributedDataParallel and ``torch.compile`` wrappers.

    Its ``state_dict`` has none of the wrappers' ``module.`` or ``_orig_mod.`` prefixes.
    """
    while True:
        if isinstance(model, torch.nn.parallel.DistributedDataParallel):
            model = model.module
        elif isinstance(getattr(model, "_orig_mod", None), nn.Module):
            # torch.compile's OptimizedModule keeps the original as ``_orig_mod``.
            model = model._orig_mod
        else:
            return model
