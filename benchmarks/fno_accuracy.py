"""Accuracy at equal budget: sciml's FNO and TFNO against neuraloperator 2.0's, same training.

Both libraries' models are trained by the same loop (:class:`sciml.train.Trainer`) on the
same data, in the same order, with the same normalisation (per-channel unit Gaussian fitted
on the training split, folded into the model), optimiser (Adam, weight decay 1e-4), learning
rate schedule (halved every quarter of the epochs), batch size and relative-L2 loss, so the
only difference is the model: architecture details and initialisation. Each model is
initialised from the same global seed.

Problems:

- ``darcy``: 2-D Darcy flow at 64x64 (coefficient -> pressure), ``n_modes=(12, 12)``, 32
  hidden channels (the FNO paper's Darcy model);
- ``burgers``: 1-D Burgers, nu = 0.1, u(t=0) -> u(t=1) at 256 points, ``n_modes=16``, 64 hidden
  channels (the FNO paper's Burgers model).

Data is generated once by sciml's reference solvers into ``--data-dir`` and reused.

Usage::

    python benchmarks/fno_accuracy.py [--problems darcy burgers] [--models fno tfno]
        [--epochs 50] [--n-train 1000] [--n-test 100] [--seeds 1] [--first-seed 0]
        [--threads N] [--json out.json] [--libraries sciml neuralop]
    python benchmarks/fno_accuracy.py --merge a.json b.json   # one table from several runs
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from sciml.core.device import seed_everything
from sciml.data import OperatorDataset, WindowDataset, generate, split_indices
from sciml.data import open as open_data
from sciml.data.normalize import fit_normalizers
from sciml.neural.solver import NormalizedOperator
from sciml.neural.spectral import count_parameters
from sciml.train import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model

PROBLEMS = {
    "darcy": {"modes": (12, 12), "hidden": 32, "resolution": 64, "batch": 20, "lr": 1e-3},
    "burgers": {"modes": (16,), "hidden": 64, "resolution": 256, "batch": 20, "lr": 1e-3},
}


def load_problem(name: str, data_dir: Path, n_train: int, n_test: int, seed: int):
    """In-memory ``(train, test)`` TensorDatasets for one problem."""
    spec = PROBLEMS[name]
    n = n_train + n_test
    path = data_dir / f"{name}_{spec['resolution']}_n{n}_s{seed}.h5"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        if name == "darcy":
            generate("darcy", path, n=n, resolution=spec["resolution"], seed=seed)
        else:
            generate("burgers", path, n=n, resolution=spec["resolution"], seed=seed,
                     n_times=2, t_end=1.0)
        print(f"generated {path} in {time.perf_counter() - start:.0f} s", flush=True)
    source = open_data(path)
    train_idx, test_idx = split_indices(source.n_samples, n_train, n_test)

    def load(indices):
        if name == "darcy":
            ds = OperatorDataset(source, "coefficient", "solution", indices=indices)
        else:
            ds = WindowDataset(source, "u", k_in=1, m_out=1, indices=indices)
        xs, ys = zip(*(ds[i] for i in range(len(ds))))
        return TensorDataset(torch.stack(xs), torch.stack(ys))

    return load(train_idx), load(test_idx)


def build(library: str, model: str, spec: dict) -> torch.nn.Module:
    modes, hidden = spec["modes"], spec["hidden"]
    if library == "sciml":
        from sciml.neural.fno import FNO, TFNO

        cls = TFNO if model == "tfno" else FNO
        return cls(1, 1, modes, hidden_channels=hidden, n_layers=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from neuralop.models import FNO as NFNO
        from neuralop.models import TFNO as NTFNO
    cls = NTFNO if model == "tfno" else NFNO
    return cls(n_modes=modes, in_channels=1, out_channels=1, hidden_channels=hidden,
               n_layers=4)


def summarize(values: list[float]) -> tuple[float, float]:
    """Mean and its standard error (zero for a single value)."""
    if len(values) < 2:
        return values[0], 0.0
    return statistics.mean(values), statistics.stdev(values) / len(values) ** 0.5


def print_table(raw: list[dict]) -> None:
    """Per problem and model: both libraries' mean error, and sciml's ratio with a 95% band.

    The band is the delta-method interval of the ratio of two independent means
    (``ratio * (1 +- 1.96 sqrt(se_s^2 / m_s^2 + se_n^2 / m_n^2))``); "sciml <= neuralop" counts
    the seeds where sciml's error is not higher than neuraloperator's at the same seed.
    """
    print(f"\n{'problem':<8} {'model':<5} {'seeds':>5} {'sciml':>15} {'neuralop':>15} "
          f"{'ratio':>6} {'95% band':>13} {'sciml <= nop':>12} {'fit s':>11}")
    keys = list(dict.fromkeys((r["problem"], r["model"]) for r in raw))
    for problem, model_name in keys:
        by = {lib: {r["seed"]: r for r in raw if (r["problem"], r["model"], r["library"])
                    == (problem, model_name, lib)} for lib in ("sciml", "neuralop")}
        seeds = sorted(set(by["sciml"]) & set(by["neuralop"]))
        if not seeds:
            continue
        errs = {lib: [by[lib][s]["rel_l2"] for s in seeds] for lib in by}
        (ms, ss), (mn, sn) = summarize(errs["sciml"]), summarize(errs["neuralop"])
        ratio = ms / mn
        half = 1.96 * ((ss / ms) ** 2 + (sn / mn) ** 2) ** 0.5
        wins = sum(a <= b for a, b in zip(errs["sciml"], errs["neuralop"]))
        secs = [sum(by[lib][s]["fit_s"] for s in seeds) / len(seeds) for lib in by]
        print(f"{problem:<8} {model_name:<5} {len(seeds):>5} {ms:>8.4f}+-{ss:.4f} "
              f"{mn:>8.4f}+-{sn:.4f} {ratio:>6.3f} {ratio * (1 - half):>6.3f}-"
              f"{ratio * (1 + half):<6.3f} {wins:>5} of {len(seeds):<3} "
              f"{secs[0]:>5.0f}/{secs[1]:<5.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--models", nargs="+", default=["fno", "tfno"], choices=["fno", "tfno"])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=1, help="number of model seeds")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds run are first-seed .. first-seed+seeds-1")
    parser.add_argument("--libraries", nargs="+", default=["sciml", "neuralop"],
                        choices=["sciml", "neuralop"],
                        help="run one library only (e.g. after a change), then --merge with an "
                             "earlier --json of the other")
    parser.add_argument("--data-dir", type=Path, default=Path("benchmarks/data"))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write the per-seed results here (for --merge)")
    parser.add_argument("--merge", nargs="+", type=Path, default=None,
                        help="print the table of --json files from separate runs, then exit")
    args = parser.parse_args(argv)
    if args.merge:
        print_table([r for path in args.merge for r in json.loads(path.read_text())])
        return 0
    if args.seeds < 1 or args.first_seed < 0:
        parser.error("--seeds must be >= 1 and --first-seed >= 0")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import neuralop
    except ImportError:
        print("error: install the bench extra (pip install 'sciml[bench]')", file=sys.stderr)
        return 1
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    print(f"machine: {cpu_model()} | torch {torch.__version__} | threads "
          f"{torch.get_num_threads()} | neuralop {getattr(neuralop, '__version__', '?')}")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"epochs {args.epochs}, n_train {args.n_train}, n_test {args.n_test}, "
          f"seeds {seeds.start}..{seeds.stop - 1}")
    raw: list[dict] = []
    for problem in args.problems:
        spec = PROBLEMS[problem]
        train, test = load_problem(problem, args.data_dir, args.n_train, args.n_test, 0)
        in_norm, out_norm = fit_normalizers(train)
        for model_name in args.models:
            # the libraries alternate seed by seed, so a partial run still gives pairs
            for seed in seeds:
                for library in args.libraries:
                    seed_everything(seed)
                    net = build(library, model_name, spec)
                    params = count_parameters(net)
                    wrapped = NormalizedOperator(net, in_norm, out_norm)
                    trainer = Trainer(
                        epochs=args.epochs, batch_size=spec["batch"], lr=spec["lr"],
                        weight_decay=1e-4, scheduler="step",
                        scheduler_kwargs={"step_size": max(1, args.epochs // 4),
                                          "gamma": 0.5},
                        loss="l2", eval_every=args.epochs, device=args.device, seed=seed,
                        progress=False,
                    )
                    start = time.perf_counter()
                    history = trainer.fit(wrapped, train, {"test": test})
                    raw.append({"problem": problem, "model": model_name, "library": library,
                                "seed": seed, "params": params,
                                "rel_l2": history[-1]["test/rel_l2"],
                                "fit_s": time.perf_counter() - start})
                    print(f"  {problem:<8} {model_name:<5} {library:<9} seed {seed}: "
                          f"test rel L2 {raw[-1]['rel_l2']:.4f} in {raw[-1]['fit_s']:.0f} s "
                          f"({params} params)", flush=True)
                if args.json:
                    args.json.write_text(json.dumps(raw, indent=1))
    print_table(raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
