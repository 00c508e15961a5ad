"""The ``sciml`` command: quickstart, data generation and environment info."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "quickstart"]

#: Settings of ``sciml quickstart``: a 32x32 Darcy problem an FNO learns to a few percent
#: relative L2 in about two minutes on two CPU cores.
QUICKSTART = {
    "n_train": 500,
    "n_test": 100,
    "resolution": 32,
    "seed": 0,
    "model": {"n_modes": (12, 12), "hidden_channels": 32, "n_layers": 4},
    "trainer": {"epochs": 60, "batch_size": 20, "lr": 5e-3, "weight_decay": 1e-4,
                "scheduler": "cosine", "loss": "l2"},
}


def quickstart(
    out: str | os.PathLike[str] = "sciml-quickstart",
    n_train: int = QUICKSTART["n_train"],
    n_test: int = QUICKSTART["n_test"],
    resolution: int = QUICKSTART["resolution"],
    epochs: int = QUICKSTART["trainer"]["epochs"],
    device: str = "auto",
    seed: int = QUICKSTART["seed"],
    progress: bool = True,
) -> dict[str, object]:
    """Generate Darcy data, train an FNO, evaluate, plot and save; return the artefacts.

    Writes ``darcy.h5``, ``model.pt`` (checkpoint), ``report.json``, ``compare.png`` and
    ``history.png`` to ``out``.

    Returns
    -------
    dict with ``report`` (the :class:`~sciml.core.report.Report`), ``solver`` and the paths.
    """
    import torch

    from sciml.core.device import resolve_device, seed_everything
    from sciml.core.problem import OperatorProblem
    from sciml.data.generate import generate
    from sciml.neural.fno import FNO
    from sciml.neural.solver import NeuralOperatorSolver
    from sciml.neural.spectral import count_parameters
    from sciml.plot import compare, history
    from sciml.train.trainer import Trainer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data_path = out / "darcy.h5"
    total = n_train + n_test
    print(f"[1/4] generating {total} Darcy samples at {resolution}x{resolution} -> {data_path}")
    start = time.perf_counter()
    generate("darcy", data_path, n=total, resolution=resolution, seed=seed, progress=progress)
    t_data = time.perf_counter() - start

    problem = OperatorProblem.from_file(
        data_path, inputs="coefficient", outputs="solution", n_train=n_train, n_test=n_test
    )
    seed_everything(seed)
    model = FNO(in_channels=1, out_channels=1, **QUICKSTART["model"])
    trainer = Trainer(
        **{**QUICKSTART["trainer"], "epochs": epochs},
        device=device,
        seed=seed,
        progress=progress,
        checkpoint_dir=out / "checkpoints",
        checkpoint_every=max(1, epochs // 5),
    )
    n_threads = torch.get_num_threads()
    print(
        f"[2/4] training FNO({count_parameters(model):,} real parameters) "
        f"for {epochs} epochs on {resolve_device(device)} ({n_threads} threads)"
    )
    solver = NeuralOperatorSolver(model, trainer).fit(problem)

    print("[3/4] evaluating")
    report = problem.evaluate(solver)
    report.timings["generate"] = t_data
    report.info.update(quickstart={k: v for k, v in QUICKSTART.items() if k != "model"})
    report.info["model"] = solver.model_.model.config
    print()
    print(report.table())
    print()
    rel_l2 = report.metric("rel_l2", "test")
    print(f"test relative L2 = {rel_l2:.4f}")

    print(f"[4/4] saving to {out}/")
    solver.save(out / "model.pt")
    report.to_json(out / "report.json")
    x, y = problem.tests["test"][0]
    pred = solver.predict(x)
    compare(y[0], pred[0], grid=problem.grid, path=out / "compare.png",
            suptitle="Darcy flow, test sample 0: solution u")
    history(report, path=out / "history.png")
    for name in ("model.pt", "report.json", "compare.png", "history.png"):
        print(f"  {out / name}")
    return {"report": report, "solver": solver, "out": out}


def _info() -> None:
    import h5py
    import matplotlib
    import numpy
    import scipy
    import torch

    import sciml

    print(f"sciml       {sciml.__version__}")
    print(f"python      {platform.python_version()} ({sys.executable})")
    for mod in (torch, numpy, scipy, h5py, matplotlib):
        print(f"{mod.__name__:<11} {mod.__version__}")
    cuda = torch.cuda.is_available()
    print(f"device      {'cuda: ' + torch.cuda.get_device_name(0) if cuda else 'cpu'}")
    print(f"threads     {torch.get_num_threads()} (cpu cores: {os.cpu_count()})")
    print(f"platform    {platform.platform()}")


def _parser() -> argparse.ArgumentParser:
    from sciml.core.registry import GENERATORS
    from sciml.data import generate as _  # noqa: F401  (registers the generators)

    parser = argparse.ArgumentParser(
        prog="sciml", description="Scientific machine learning for PDEs."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    q = sub.add_parser("quickstart", help="generate Darcy data, train an FNO, report and plot")
    q.add_argument("--out", default="sciml-quickstart", help="output folder (%(default)s)")
    q.add_argument("--n-train", type=int, default=QUICKSTART["n_train"])
    q.add_argument("--n-test", type=int, default=QUICKSTART["n_test"])
    q.add_argument("--resolution", type=int, default=QUICKSTART["resolution"])
    q.add_argument("--epochs", type=int, default=QUICKSTART["trainer"]["epochs"])
    q.add_argument("--device", default="auto", help="auto, cpu or cuda (%(default)s)")
    q.add_argument("--seed", type=int, default=QUICKSTART["seed"])
    q.add_argument("--no-progress", action="store_true", help="hide progress bars")

    sub.add_parser("info", help="versions, device and thread count")

    d = sub.add_parser("data", help="data sets")
    dsub = d.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    g = dsub.add_parser("generate", help="run a reference solver and write an HDF5 file")
    g.add_argument("name", choices=GENERATORS.names(), help="which PDE family")
    g.add_argument("--n", type=int, required=True, help="number of samples")
    g.add_argument("--resolution", type=int, required=True, help="grid points per axis")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("-o", "--output", required=True, help="HDF5 file to write")
    g.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sciml`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "quickstart":
            quickstart(
                out=args.out, n_train=args.n_train, n_test=args.n_test,
                resolution=args.resolution, epochs=args.epochs, device=args.device,
                seed=args.seed, progress=not args.no_progress,
            )
        elif args.command == "info":
            _info()
        elif args.command == "data" and args.data_command == "generate":
            from sciml.data.generate import generate

            path = generate(args.name, args.output, n=args.n, resolution=args.resolution,
                            seed=args.seed, progress=not args.no_progress)
            print(f"wrote {path}")
    except ValueError as err:
        print(f"sciml: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sciml: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
