"""Time one training step of sciml's FNO against neuraloperator 2.0's FNO.

One step is forward, mean-squared-error loss, backward and an Adam update. Both models use
``n_modes=(16, 16)``, ``hidden_channels=64``, ``n_layers=4``, one input and one output channel
and each library's default positional embedding (two grid channels), on ``batch`` samples of
64 x 64. After a warm-up the two libraries are timed alternately, one step each per round, so
that drifts in machine load hit both alike; the table reports the median and interquartile
range over the rounds and the ratio of medians (sciml / neuralop; below 1 means sciml is
faster).

Usage::

    python benchmarks/fno_speed.py [--device auto] [--rounds 20] [--batch 16] [--threads N]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable

import torch

from sciml.core.device import resolve_device, seed_everything
from sciml.neural.fno import FNO
from sciml.neural.spectral import count_parameters

MODES = (16, 16)
HIDDEN = 64
LAYERS = 4
RESOLUTION = 64


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo, falling back to :func:`platform.processor`."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_step(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor
) -> Callable[[], None]:
    """A closure running one training step of ``model`` on ``(x, y)``."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda', 'cuda:N'")
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds (default 3)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (default 16)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.batch < 1 or args.warmup < 0:
        parser.error("--rounds and --batch must be positive and --warmup non-negative")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import neuralop
            from neuralop.models import FNO as NeuralopFNO
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
    seed_everything(args.seed)

    models = {
        "sciml": FNO(1, 1, MODES, hidden_channels=HIDDEN, n_layers=LAYERS),
        "neuralop": NeuralopFNO(
            n_modes=MODES,
            in_channels=1,
            out_channels=1,
            hidden_channels=HIDDEN,
            n_layers=LAYERS,
        ),
    }
    x = torch.randn(args.batch, 1, RESOLUTION, RESOLUTION, device=device)
    y = torch.randn(args.batch, 1, RESOLUTION, RESOLUTION, device=device)
    steps = {}
    for name, model in models.items():
        model.to(device).train()
        steps[name] = make_step(model, x, y)

    for _ in range(args.warmup):
        for step in steps.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(args.rounds):
        # alternate which library goes first so neither always follows the other
        order = list(steps) if r % 2 == 0 else list(steps)[::-1]
        for name in order:
            times[name].append(timed(steps[name], device))

    device_name = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    )
    print(
        f"FNO training step: n_modes={MODES}, hidden={HIDDEN}, layers={LAYERS}, "
        f"batch={args.batch}, {RESOLUTION}x{RESOLUTION}, {args.rounds} rounds "
        f"after {args.warmup} warm-up"
    )
    print(
        f"machine: {cpu_model()} | device: {device} ({device_name}) | torch "
        f"{torch.__version__} | threads {torch.get_num_threads()} | neuralop "
        f"{getattr(neuralop, '__version__', '?')} | python {platform.python_version()}"
    )
    ref = quartiles([1e3 * t for t in times["neuralop"]])[1]
    print(f"{'library':<10} {'params':>10} {'median ms':>10} {'IQR ms':>16} {'ratio':>7}")
    for name, model in models.items():
        q1, q2, q3 = quartiles([1e3 * t for t in times[name]])
        print(
            f"{name:<10} {count_parameters(model):>10d} {q2:>10.1f} "
            f"{f'{q1:.1f}-{q3:.1f}':>16} {q2 / ref:>7.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
