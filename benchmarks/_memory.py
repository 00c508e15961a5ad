"""Peak memory of one call, on the CPU and on CUDA, shared by the benchmark scripts.

What is measured is the peak of the bytes *torch* holds during the call, above what it held
when the call started (tensors alive before the call, such as parameters and optimizer
state, are not counted; tensors they free during the call lower the running total):

- CUDA: ``torch.cuda.max_memory_allocated`` minus ``torch.cuda.memory_allocated`` before the
  call (the caching allocator's live tensors; its reserved-but-free cache is not counted).
- CPU: ``torch.profiler`` with ``profile_memory=True`` records one ``[memory]`` event per
  allocation (positive bytes) and per free (negative bytes) of torch's CPU allocator; the
  peak is the maximum of their running sum. This is exact for every tensor torch allocates,
  deterministic, and insensitive to other processes, unlike resident-set sizes (which also
  count the interpreter, libraries and glibc's retained heap). It does not see memory that
  libraries allocate behind torch's back (MKL/oneDNN scratch buffers, FFT plans), which is
  small and alike for libraries built on the same torch kernels. Frees of blocks allocated
  before the profiler started are not recorded (torch warns about them), so free what the
  call would free (old gradients, say) before calling, or the total overshoots.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable

import torch

__all__ = ["peak_cpu", "peak_cuda", "peak_memory"]


def peak_cpu(fn: Callable[[], object]) -> float:
    """Peak bytes torch's CPU allocator holds while ``fn()`` runs, above the level at its start.

    Parameters
    ----------
    fn : callable
        Called once, under ``torch.profiler`` (so it runs slower than usual).

    Returns
    -------
    float
        Bytes (``>= 0``).
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    # the chrome trace is the public way to get the raw allocation events in time order
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.json")
        prof.export_chrome_trace(path)
        with open(path) as fh:
            events = json.load(fh)["traceEvents"]
    memory = [
        e for e in events
        if e.get("name") == "[memory]" and e.get("args", {}).get("Device Type", 0) == 0
    ]
    memory.sort(key=lambda e: float(e.get("ts", 0.0)))
    total = peak = 0
    for event in memory:
        total += event["args"]["Bytes"]
        peak = max(peak, total)
    return float(peak)


def peak_cuda(fn: Callable[[], object], device: torch.device) -> float:
    """Peak bytes of live CUDA tensors while ``fn()`` runs, above the level at its start."""
    torch.cuda.synchronize(device)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return float(torch.cuda.max_memory_allocated(device) - base)


def peak_memory(fn: Callable[[], object], device: torch.device | str) -> float:
    """:func:`peak_cuda` on a CUDA device, else :func:`peak_cpu`."""
    device = torch.device(device)
    if device.type == "cuda":
        return peak_cuda(fn, device)
    return peak_cpu(fn)
