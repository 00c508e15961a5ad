"""Neural operators compared at equal epochs: FNO, TFNO, MgNO and FactFormer.

Every model is trained by the same loop on the same data in the same order: a
:class:`~sciml.neural.NeuralOperatorSolver` (per-channel unit-Gaussian normalisation fitted
on the training split), Adam with weight decay 1e-4, a cosine learning-rate schedule, the
relative-L2 loss, the same batch size, learning rate, epochs and seed. The models are sized to
about 0.6-0.7 M parameters each (the table reports the exact counts):

- ``fno``: FNO, 12 x 12 modes, 32 hidden channels, 4 layers;
- ``tfno``: TFNO, 16 x 16 modes, 48 hidden channels, 4 layers, Tucker rank 0.25;
- ``mgno``: MgNO, 32 hidden channels, 4 layers, V-cycles over 4 grids; zero padding (the
  Dirichlet condition) on Darcy, circular padding on the periodic flows;
- ``factformer``: FactFormer, 96 hidden channels, 3 encoder blocks + 1 propagator block,
  4 heads;
- ``baseline``: no model, the error a trained model has to beat: the mean training solution
  on Darcy (bilinearly interpolated to the 2x grid), persistence (every predicted frame
  equals the initial one) on the flows.

Problems (data from sciml's reference solvers, generated once into ``--data-dir``):

- ``darcy``: coefficient -> pressure of ``-div(a grad u) = 1``, ``u = 0`` on the boundary.
  Generated on the 127 x 127 vertex grid (both boundaries included), so stride 2 is the
  64 x 64 grid of the same domain; trained at 64, tested at 64 and 127.
- ``navier_stokes``: 2-D vorticity on the unit torus, nu = 1e-3, frames every time unit up to
  t = 10. Generated at 128 x 128, trained at 64 x 64 (stride 2) on one-step pairs
  (``w(t) -> w(t + 1)``); tested by 5-step autoregressive rollouts at 64 and 128.
- ``kolmogorov`` (only with a CUDA device): Kolmogorov flow on the ``2 pi`` torus, nu = 1e-3,
  drag 0.1, frames every 0.5 up to t = 10; generated at 256, trained at 128 on one-step pairs,
  5-step rollouts tested at 128 and 256.

For the time-dependent problems ``--n-train`` counts one-step training pairs (trajectories
are generated until there are that many) and ``--n-test`` counts test rollouts.

Columns: ``params`` (real parameters, a complex one counts twice); ``s/epoch`` (mean wall
time of a training epoch, evaluation excluded); ``peak MiB`` (peak memory of one training
step, forward and backward of one batch, above what was held before it: on the CPU the
running total of torch's allocations recorded by ``torch.profiler``, on CUDA
``torch.cuda.max_memory_allocated``); ``act MiB`` (bytes autograd saves for backward in that
step: the activation memory, counted deterministically); ``err@train`` and ``err@2x`` (mean
test relative L2 at the training resolution and at twice it; for the time-dependent
problems the error of the whole 5-step rollout).

Usage::

    python benchmarks/operators.py [--problems darcy navier_stokes kolmogorov]
        [--models fno tfno mgno factformer baseline] [--epochs 10] [--n-train 100] [--n-test 20]
        [--batch-size 10] [--lr 1e-3] [--threads 1] [--device auto] [--plot PATH]
        [--json PATH] [--data-dir benchmarks/data] [--quick]
    python benchmarks/operators.py --from-json results.json --plot operators.png
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from sciml.core.device import resolve_device, seed_everything
from sciml.core.problem import OperatorProblem
from sciml.data import OperatorDataset, WindowDataset, generate, split_indices
from sciml.data import open as open_data
from sciml.neural import NeuralOperatorSolver
from sciml.neural.factformer import FactFormer
from sciml.neural.fno import FNO, TFNO
from sciml.neural.mgno import MgNO
from sciml.neural.patching import activation_bytes
from sciml.neural.spectral import count_parameters
from sciml.train import AutoregressiveTrainer, Trainer, evaluate_rollout
from sciml.train.losses import LpLoss
from sciml.train.metrics import relative_l2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model
from _memory import peak_memory

MiB = 2.0**20
MODEL_NAMES = ("fno", "tfno", "mgno", "factformer")
BASELINE = "baseline"


@dataclass(frozen=True)
class ProblemSpec:
    """One benchmark problem: how to generate it and at which resolutions to train and test.

    ``fine`` is the generated grid, ``train`` the training grid (``fine`` subsampled by a
    stride of 2); the time-dependent problems also give their generator options, the number
    of stored frames after ``t = 0`` and the rollout length of the tests.
    """

    generator: str
    fine: int
    train: int
    periodic: bool
    options: dict[str, Any]
    frames: int = 0  # 0: a static operator problem (Darcy)
    rollout: int = 5
    cuda_only: bool = False


PROBLEMS = {
    "darcy": ProblemSpec("darcy", fine=127, train=64, periodic=False, options={}),
    "navier_stokes": ProblemSpec(
        "navier_stokes", fine=128, train=64, periodic=True,
        options={"nu": 1e-3, "t_end": 10.0, "dt_out": 1.0}, frames=10,
    ),
    "kolmogorov": ProblemSpec(
        "kolmogorov", fine=256, train=128, periodic=True,
        options={"nu": 1e-3, "drag": 0.1, "t_end": 10.0, "dt_out": 0.5}, frames=20,
        cuda_only=True,
    ),
}

#: The problems at toy sizes, for ``--quick``.
QUICK_PROBLEMS = {
    "darcy": ProblemSpec("darcy", fine=33, train=17, periodic=False, options={}),
    "navier_stokes": ProblemSpec(
        "navier_stokes", fine=32, train=16, periodic=True,
        options={"nu": 1e-3, "t_end": 4.0, "dt_out": 1.0}, frames=4, rollout=2,
    ),
    "kolmogorov": ProblemSpec(
        "kolmogorov", fine=32, train=16, periodic=True,
        options={"nu": 1e-3, "drag": 0.1, "t_end": 2.0, "dt_out": 0.5}, frames=4, rollout=2,
        cuda_only=True,
    ),
}


def build_model(name: str, periodic: bool, quick: bool = False) -> nn.Module:
    """One of the compared models, one input and one output channel, 2-D.

    Parameters
    ----------
    name : {"fno", "tfno", "mgno", "factformer"}
    periodic : bool
        Boundary condition of MgNO's convolutions: circular padding if true, else zero
        padding (homogeneous Dirichlet).
    quick : bool
        Toy widths for a smoke run.
    """
    if name == "fno":
        return FNO(1, 1, (4, 4) if quick else (12, 12), hidden_channels=8 if quick else 32,
                   n_layers=4)
    if name == "tfno":
        return TFNO(1, 1, (4, 4) if quick else (16, 16), hidden_channels=8 if quick else 48,
                    n_layers=4, factorization="tucker", rank=0.25)
    if name == "mgno":
        return MgNO(1, 1, dim=2, hidden_channels=8 if quick else 32, n_layers=4,
                    n_levels=3 if quick else 4,
                    padding_mode="circular" if periodic else "zeros")
    if name == "factformer":
        if quick:
            return FactFormer(1, 1, dim=2, hidden_channels=16, n_layers=1, n_heads=2,
                              norm_groups=4, fourier_features=4)
        return FactFormer(1, 1, dim=2, hidden_channels=96, n_layers=3, n_heads=4)
    raise ValueError(f"name: got {name!r}; allowed models are {list(MODEL_NAMES)}")


# -- data ---------------------------------------------------------------------------------
@dataclass
class ProblemData:
    """In-memory training pairs and test sets by resolution (pairs, or rollout windows)."""

    train: TensorDataset
    tests: dict[str, TensorDataset]
    rollout: int  # 0: tests are pairs (x, y); else windows of `rollout` frames
    description: str


def _tensors(dataset: Dataset) -> TensorDataset:
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return TensorDataset(torch.stack(xs), torch.stack(ys))


def load_problem(name: str, spec: ProblemSpec, n_train: int, n_test: int, data_dir: Path,
                 device: torch.device) -> ProblemData:
    """Generate (once, cached in ``data_dir``) and load one problem."""
    if spec.frames:
        per_trajectory = spec.frames  # one-step pairs
        rollouts = spec.frames // spec.rollout  # non-overlapping test windows
        n_train_traj = math.ceil(n_train / per_trajectory)
        n_test_traj = math.ceil(n_test / rollouts)
        n = n_train_traj + n_test_traj
    else:
        n = n_train + n_test
    options = "_".join(f"{k}{v:g}" for k, v in spec.options.items())
    path = data_dir / f"{name}_{spec.fine}_n{n}{'_' + options if options else ''}.h5"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        extra = {} if spec.generator == "darcy" else {"device": str(device)}
        generate(spec.generator, path, n=n, resolution=spec.fine, seed=0, progress=False,
                 **spec.options, **extra)
        print(f"generated {path} in {time.perf_counter() - start:.0f} s", flush=True)
    source = open_data(path)
    resolutions = {"train": spec.train, "2x": spec.fine}
    if not spec.frames:
        train_idx, test_idx = split_indices(source.n_samples, n_train, n_test)
        train = _tensors(OperatorDataset(source, "coefficient", "solution", indices=train_idx,
                                         resolution=spec.train))
        tests = {key: _tensors(OperatorDataset(source, "coefficient", "solution",
                                               indices=test_idx, resolution=r))
                 for key, r in resolutions.items()}
        return ProblemData(train, tests, 0, f"{n_train} train / {n_test} test samples")
    train_idx, test_idx = split_indices(source.n_samples, n_train_traj, n_test_traj)
    pairs = WindowDataset(source, "vorticity", k_in=1, m_out=1, indices=train_idx,
                          resolution=spec.train)
    train = _tensors(torch.utils.data.Subset(pairs, range(n_train)))
    tests = {}
    for key, r in resolutions.items():
        windows = WindowDataset(source, "vorticity", k_in=1, m_out=spec.rollout,
                                hop=spec.rollout, indices=test_idx, resolution=r)
        tests[key] = _tensors(torch.utils.data.Subset(windows, range(n_test)))
    return ProblemData(train, tests, spec.rollout,
                       f"{n_train} one-step train pairs / {n_test} test rollouts of "
                       f"{spec.rollout} steps")


# -- one run ------------------------------------------------------------------------------
@dataclass
class Result:
    """One row of the table."""

    problem: str
    model: str
    params: int
    seconds_per_epoch: float
    peak_mib: float
    activation_mib: float
    error_train: float
    error_2x: float
    train_resolution: int
    test_resolution: int
    status: str = "ok"


def _peak_of_one_step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor],
                      device: torch.device) -> tuple[float, float]:
    """Peak and saved-for-backward bytes of one forward + backward on ``batch``."""
    model = model.to(device).train()
    x, y = (t.to(device) for t in batch)
    loss_fn = LpLoss()

    def step() -> None:
        loss_fn(model(x), y).backward()

    step()  # warm-up: lazily built buffers and caches are not the step's memory
    model.zero_grad(set_to_none=True)
    peak = peak_memory(step, device)
    model.zero_grad(set_to_none=True)
    saved = activation_bytes(lambda: loss_fn(model(x), y), exclude=model)
    return peak, float(saved)


def _test_error(solver: NeuralOperatorSolver, test: TensorDataset, rollout: int,
                trainer: Trainer) -> float:
    if rollout:
        layout = trainer.layout if isinstance(trainer, AutoregressiveTrainer) else {
            "channels": 1}
        return evaluate_rollout(solver.model_, test, rollout, batch_size=trainer.batch_size,
                                **layout).total
    x, y = test.tensors
    pred = solver.predict(x)
    return float(relative_l2(pred, y).mean())


def baseline_error(data: ProblemData, key: str) -> float:
    """Error of the trivial predictor on test set ``key``: persistence for rollouts, else the
    mean training output, interpolated (bilinear, ends aligned: vertex grids) to the test
    grid."""
    x, y = data.tests[key].tensors
    if data.rollout:
        pred = x.repeat(1, y.shape[1] // x.shape[1], *([1] * (x.ndim - 2)))
    else:
        mean = data.train.tensors[1].mean(dim=0, keepdim=True)
        if mean.shape[2:] != y.shape[2:]:
            mean = torch.nn.functional.interpolate(mean, size=y.shape[2:], mode="bilinear",
                                                   align_corners=True)
        pred = mean.expand_as(y)
    return float(relative_l2(pred, y).mean())


def run_one(problem: str, data: ProblemData, spec: ProblemSpec, model_name: str,
            args: argparse.Namespace, device: torch.device) -> Result:
    """Train one model on one problem and measure it (``"baseline"``: no training)."""
    if model_name == BASELINE:
        return Result(problem, model_name, 0, 0.0, 0.0, 0.0, baseline_error(data, "train"),
                      baseline_error(data, "2x"), spec.train, spec.fine)
    seed_everything(args.seed)
    model = build_model(model_name, spec.periodic, quick=args.quick)
    params = count_parameters(model)
    batch = tuple(t[: args.batch_size] for t in data.train.tensors)
    peak, saved = _peak_of_one_step(model, batch, device)
    # a fresh copy with the same initial weights trains: the probe stepped nothing, but it
    # left gradients and autograd state behind
    seed_everything(args.seed)
    model = build_model(model_name, spec.periodic, quick=args.quick)
    options = dict(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=1e-4,
        scheduler="cosine", loss="l2", eval_every=args.epochs, device=str(device),
        seed=args.seed, amp="none", progress=False,
    )
    trainer: Trainer
    if data.rollout:
        trainer = AutoregressiveTrainer(channels=1, mode="teacher_forcing", **options)
        first_test = TensorDataset(*(t[:, :1] if i else t
                                     for i, t in enumerate(data.tests["train"].tensors)))
    else:
        trainer = Trainer(**options)
        first_test = data.tests["train"]
    # the trainer's own end-of-training evaluation: one-step error at the training grid
    operator_problem = OperatorProblem(data.train, {"test": first_test}, name=problem)
    status = "ok"
    try:
        solver = NeuralOperatorSolver(model, trainer).fit(operator_problem)
    except Exception as exc:  # a diverged run is a result too; keep the others going
        print(f"  {problem} {model_name}: training failed: {exc}", flush=True)
        return Result(problem, model_name, params, math.nan, peak / MiB, saved / MiB,
                      math.nan, math.nan, spec.train, spec.fine, status=f"failed: {exc}")
    times = [rec["time"] for rec in solver.history_]
    # record["time"] is the epoch's wall time; the last epoch's also holds the evaluation
    per_epoch = sum(times[:-1]) / (len(times) - 1) if len(times) > 1 else times[0]
    errors = {key: _test_error(solver, test, data.rollout, trainer)
              for key, test in data.tests.items()}
    return Result(problem, model_name, params, per_epoch, peak / MiB, saved / MiB,
                  errors["train"], errors["2x"], spec.train, spec.fine, status)


# -- report -------------------------------------------------------------------------------
def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "?"


def format_table(results: list[Result]) -> str:
    """The results as a markdown table."""
    lines = [
        "| problem | model | params | s/epoch | peak MiB | act MiB | err@train | err@2x |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        res = f"{r.train_resolution}", f"{r.test_resolution}"
        lines.append(
            f"| {r.problem} | {r.model} | {r.params:,} | {r.seconds_per_epoch:.3g} | "
            f"{r.peak_mib:.0f} | {r.activation_mib:.0f} | {r.error_train:.4f} ({res[0]}) | "
            f"{r.error_2x:.4f} ({res[1]}) |"
        )
    return "\n".join(lines)


def plot_results(results: list[Result], path: str | os.PathLike[str]) -> None:
    """Test error against training time per epoch, one panel per problem; marker area grows
    with the parameter count, filled markers at the training grid, open ones at 2x."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    problems = list(dict.fromkeys(r.problem for r in results))
    fig = Figure(figsize=(5.2 * len(problems), 4.4), layout="constrained")
    axes = fig.subplots(1, len(problems), squeeze=False)[0]
    biggest = max((r.params for r in results), default=1)
    for ax, problem in zip(axes, problems):
        rows = [r for r in results if r.problem == problem and r.status == "ok"
                and r.model != BASELINE]
        for r in results:
            if r.problem == problem and r.model == BASELINE:
                ax.axhline(r.error_train, color="0.4", linestyle="--", linewidth=1,
                           label="baseline (mean / persistence)")
        for r in rows:
            color = f"C{MODEL_NAMES.index(r.model) if r.model in MODEL_NAMES else 9}"
            size = 40 + 400 * r.params / biggest
            ax.scatter(r.seconds_per_epoch, r.error_train, s=size, color=color, alpha=0.8,
                       label=f"{r.model} ({r.params / 1e3:,.0f} k params)")
            ax.scatter(r.seconds_per_epoch, r.error_2x, s=size, facecolors="none",
                       edgecolors=color, linewidths=1.5)
            ax.plot([r.seconds_per_epoch] * 2, [r.error_train, r.error_2x], color=color,
                    linewidth=0.8, alpha=0.6)
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):
            # plain numbers: the decades are few, and 3x10^0 labels collide
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel("training time per epoch (s)")
        ax.set_ylabel("test relative L2")
        if rows:
            ax.set_title(f"{problem}: filled {rows[0].train_resolution}, open "
                         f"{rows[0].test_resolution}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, markerscale=0.5)
    fig.savefig(path, dpi=150)


# -- main ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--models", nargs="+", default=[*MODEL_NAMES, BASELINE],
                        choices=[*MODEL_NAMES, BASELINE])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--n-train", type=int, default=100)
    parser.add_argument("--n-test", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data-dir", type=Path, default=Path("benchmarks/data"))
    parser.add_argument("--plot", default=None, help="write the error/time plot (PNG) here")
    parser.add_argument("--json", default=None, help="write the results as JSON here")
    parser.add_argument("--from-json", default=None,
                        help="print and plot the results of an earlier --json run, train nothing")
    parser.add_argument("--quick", action="store_true",
                        help="toy grids, models and sizes: a smoke run of the whole script")
    args = parser.parse_args(argv)
    if args.from_json:
        results = [Result(**row) for row in json.loads(Path(args.from_json).read_text())]
        print(format_table(results))
        if args.plot:
            plot_results(results, args.plot)
        return 0
    if args.quick:
        args.epochs, args.n_train, args.n_test = 2, 8, 2
        args.batch_size = min(args.batch_size, 4)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    specs = QUICK_PROBLEMS if args.quick else PROBLEMS

    print(f"machine: {cpu_model()} | torch {torch.__version__} | device {device} | threads "
          f"{torch.get_num_threads()} | load average {_load()}")
    print(f"epochs {args.epochs}, batch {args.batch_size}, lr {args.lr:g}, seed {args.seed}")
    results: list[Result] = []
    started = time.perf_counter()
    for problem in args.problems:
        spec = specs[problem]
        if spec.cuda_only and device.type != "cuda":
            print(f"skipping {problem}: {spec.train}x{spec.train} training on "
                  f"{spec.fine}x{spec.fine} data is sized for a GPU; run with --device cuda")
            continue
        data = load_problem(problem, spec, args.n_train, args.n_test, args.data_dir, device)
        print(f"{problem}: trained at {spec.train}x{spec.train}, tested at {spec.train} and "
              f"{spec.fine}; {data.description}", flush=True)
        for model_name in args.models:
            start = time.perf_counter()
            result = run_one(problem, data, spec, model_name, args, device)
            results.append(result)
            print(f"  {model_name:<10} params {result.params:>8,}  "
                  f"{result.seconds_per_epoch:6.1f} s/epoch  peak {result.peak_mib:7.1f} MiB  "
                  f"err {result.error_train:.4f} @{spec.train}  {result.error_2x:.4f} "
                  f"@{spec.fine}  ({time.perf_counter() - start:.0f} s, load {_load()})",
                  flush=True)
    print(f"\ntotal {time.perf_counter() - started:.0f} s, load average {_load()}\n")
    print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=1))
    if args.plot and results:
        plot_results(results, args.plot)
        print(f"plot written to {args.plot}")
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
