"""Time and peak memory of one training step: sciml's FNO/TFNO against neuraloperator 2.0's.

One step is forward, mean-squared-error loss, backward and an Adam update, on a batch of
``--batch`` samples with one input and one output channel. Both libraries build the same
configuration: ``n_modes=(16, 16)``, ``hidden_channels=64``, ``n_layers=4``, each library's
default positional embedding (two grid channels), and for TFNO a Tucker factorization keeping
a fraction 0.1 of the dense parameters (``rank=0.1``); the parameter counts agree (printed).

Time: for each model and resolution, after ``--warmup`` untimed rounds, the two libraries
are timed alternately, one step each per round (the order flips every round), so drifts in
machine load hit both alike. The table gives the median and interquartile range over the
rounds and the ratio of medians (sciml / neuralop; below 1 means sciml is faster).

Peak memory: one further step of each library, measured as the peak of the bytes torch
holds during the step above what it held before it (parameters, Adam state and the batch
are not counted; the gradients of the step are): ``torch.cuda.max_memory_allocated`` on
CUDA, the running sum of ``torch.profiler`` allocation events on the CPU (see
``benchmarks/_memory.py``).

``--amp bf16`` runs forward and loss under ``torch.autocast(dtype=torch.bfloat16)`` (meant
for GPUs; sciml's spectral layers keep their FFTs in float32). A library whose step fails
(for example under autocast) is reported as failed instead of aborting the run.

Usage::

    python benchmarks/fno_speed.py [--device auto] [--models fno tfno]
        [--resolutions 64 128] [--rounds 10] [--warmup 2] [--batch 16] [--amp none|bf16]
        [--threads N] [--no-memory]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from sciml.core.device import resolve_device, seed_everything
from sciml.neural.fno import FNO, TFNO
from sciml.neural.spectral import count_parameters

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the helper is a sibling module; the path entry also serves runs via importlib
from _machine import cpu_model
from _memory import peak_memory

MODES = (16, 16)
HIDDEN = 64
LAYERS = 4
RANK = 0.1
MODELS = ("fno", "tfno")
LIBRARIES = ("sciml", "neuralop")
MiB = 2.0**20


def build(library: str, model: str) -> torch.nn.Module:
    """The benchmark configuration of ``model`` ("fno" or "tfno") in ``library``."""
    if library == "sciml":
        if model == "tfno":
            return TFNO(1, 1, MODES, hidden_channels=HIDDEN, n_layers=LAYERS,
                        factorization="tucker", rank=RANK)
        return FNO(1, 1, MODES, hidden_channels=HIDDEN, n_layers=LAYERS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from neuralop.models import FNO as NeuralopFNO

    kwargs = {}
    if model == "tfno":
        kwargs = {"factorization": "tucker", "rank": RANK}
    return NeuralopFNO(n_modes=MODES, in_channels=1, out_channels=1, hidden_channels=HIDDEN,
                       n_layers=LAYERS, **kwargs)


def make_step(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, amp: str
) -> Callable[[], None]:
    """A closure running one training step of ``model`` on ``(x, y)``.

    ``step.optimizer`` is its Adam optimizer.
    """
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    device_type = x.device.type

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        ctx = (torch.autocast(device_type=device_type, dtype=torch.bfloat16)
               if amp == "bf16" else contextlib.nullcontext())
        with ctx:
            loss = torch.nn.functional.mse_loss(model(x).float(), y)
        loss.backward()
        opt.step()

    step.optimizer = opt  # type: ignore[attr-defined]
    return step


def timed(step: Callable[[], None], device: torch.device) -> float:
    """Wall-clock seconds of one call of ``step``, synchronising CUDA around it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """Lower quartile, median and upper quartile."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def run_config(model_name: str, resolution: int, args: argparse.Namespace,
               device: torch.device) -> list[dict]:
    """Time (alternately) and measure both libraries on one model and resolution."""
    x = torch.randn(args.batch, 1, resolution, resolution, device=device)
    y = torch.randn(args.batch, 1, resolution, resolution, device=device)
    models, steps, errors = {}, {}, {}
    for library in LIBRARIES:
        seed_everything(args.seed)
        try:
            model = build(library, model_name).to(device).train()
            step = make_step(model, x, y, args.amp)
            step()  # first warm-up step; fails here if the library cannot run this setting
        except Exception as exc:  # report and go on with the other library
            errors[library] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
            continue
        models[library], steps[library] = model, step

    for _ in range(max(args.warmup - 1, 0)):
        for step in steps.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(args.rounds):
        # alternate which library goes first so neither always follows the other
        order = list(steps) if r % 2 == 0 else list(steps)[::-1]
        for name in order:
            times[name].append(timed(steps[name], device))

    peaks = {}
    if not args.no_memory:
        for name, step in steps.items():
            # free last step's gradients first: tensors allocated before the profiler starts
            # have untracked frees, which would make the CPU total overshoot
            step.optimizer.zero_grad(set_to_none=True)
            gc.collect()
            peaks[name] = peak_memory(step, device)

    rows = []
    for library in LIBRARIES:
        row = {"model": model_name, "resolution": resolution, "library": library}
        if library in errors:
            row["error"] = errors[library]
        else:
            row["params"] = count_parameters(models[library])
            row["quartiles_ms"] = quartiles([1e3 * t for t in times[library]])
            row["peak_bytes"] = peaks.get(library)
        rows.append(row)
    del models, steps
    gc.collect()
    return rows


def print_table(rows: list[dict]) -> None:
    print("| model | grid | library | params | median ms | IQR ms | time ratio | peak MiB | "
          "memory ratio |\n|---|---|---|---:|---:|---:|---:|---:|---:|")
    by = {(r["model"], r["resolution"], r["library"]): r for r in rows}
    for r in rows:
        grid = f"{r['resolution']}x{r['resolution']}"
        if "error" in r:
            print(f"| {r['model']} | {grid} | {r['library']} | | failed: {r['error']} | | | | |")
            continue
        ref = by[(r["model"], r["resolution"], "neuralop")]
        q1, q2, q3 = r["quartiles_ms"]
        ratio = mem_ratio = "n/a"
        if "error" not in ref:
            ratio = f"{q2 / ref['quartiles_ms'][1]:.2f}"
            if r["peak_bytes"] is not None and ref["peak_bytes"]:
                mem_ratio = f"{r['peak_bytes'] / ref['peak_bytes']:.2f}"
        peak = "" if r["peak_bytes"] is None else f"{r['peak_bytes'] / MiB:.0f}"
        print(f"| {r['model']} | {grid} | {r['library']} | {r['params']} | {q2:.1f} | "
              f"{q1:.1f}-{q3:.1f} | {ratio} | {peak} | {mem_ratio} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda', 'cuda:N'")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--resolutions", nargs="+", type=int, default=[64, 128])
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds (default 2)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (default 16)")
    parser.add_argument("--amp", default="none", choices=["none", "bf16"],
                        help="autocast forward and loss to bfloat16 (meant for GPUs)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory step")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.batch < 1 or args.warmup < 1:
        parser.error("--rounds, --warmup and --batch must be positive")
    if any(r < 8 for r in args.resolutions):
        parser.error("--resolutions must be at least 8")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import neuralop
    except ImportError:
        print(
            "error: neuralop is not installed; install the bench extra "
            "(pip install 'sciml[bench]') to compare against neuraloperator",
            file=sys.stderr,
        )
        return 1

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    device_name = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    )
    print(
        f"training step: n_modes={MODES}, hidden={HIDDEN}, layers={LAYERS}, TFNO Tucker "
        f"rank={RANK}, batch={args.batch}, amp={args.amp}, {args.rounds} rounds after "
        f"{args.warmup} warm-up"
    )
    print(
        f"machine: {cpu_model()} | device: {device} ({device_name}) | torch "
        f"{torch.__version__} | threads {torch.get_num_threads()} | neuralop "
        f"{getattr(neuralop, '__version__', '?')} | python {platform.python_version()}",
        flush=True,
    )
    rows = []
    for model_name in args.models:
        for resolution in args.resolutions:
            start = time.perf_counter()
            rows.extend(run_config(model_name, resolution, args, device))
            print(f"  {model_name} {resolution}x{resolution} done in "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
