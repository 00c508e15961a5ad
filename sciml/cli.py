"""The ``sciml`` command: quickstart, data generation and inspection, plots, environment info."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["data_info", "main", "parse_param", "plot_file", "quickstart"]

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


# -- sciml data info -----------------------------------------------------------------------
#: Longest attribute text `sciml data info` prints before cutting it with "...".
_ATTR_WIDTH = 160


def _range_text(values: Any) -> str:
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    return f"[{v.min():.6g}, {v.max():.6g}]"


def data_info(path: str | os.PathLike[str]) -> str:
    """Text describing a data file: layout, samples, grid, times, fields, parameters, attributes.

    Reads metadata only (through :func:`sciml.data.open`), never the field values.
    """
    from sciml.data import open_dataset

    with open_dataset(path) as ds:
        lines = [f"file        {ds.path}", f"layout      {ds.layout}",
                 f"samples     {ds.n_samples}"]
        grid = ds.grid
        lines.append(f"grid        {len(grid.names)}-D, axes {', '.join(grid.names)}")
        periodic = grid.periodic_axes
        for axis in grid.names:
            coord = grid[axis]
            kind = "periodic" if periodic.get(axis) else "not periodic"
            lines.append(f"  {axis:<9} {coord.size} points in {_range_text(coord)} ({kind})")
        times = ds.times
        if times is None:
            lines.append("time        none (static fields or no time coordinates)")
        else:
            lines.append(f"time        {times.size} steps in {_range_text(times)}")
        lines.append("fields      (sample, time, *space, channel)")
        width = max(len(n) for n in ds.fields)
        for name in ds.fields:
            arr = ds.field(name)
            lines.append(f"  {name:<{width}}  {arr.shape}  {arr.dtype}")
        params = ds.params
        if params:
            lines.append("parameters  per sample")
            width = max(len(n) for n in params)
            for name, arr in params.items():
                lines.append(f"  {name:<{width}}  {arr.shape}  {arr.dtype}")
        attrs = ds.attrs
        if attrs:
            lines.append("attributes")
            width = max(len(k) for k in attrs)
            for key, value in attrs.items():
                text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
                if len(text) > _ATTR_WIDTH:
                    text = text[: _ATTR_WIDTH - 3] + "..."
                lines.append(f"  {key:<{width}}  {text}")
    return "\n".join(lines)


# -- sciml plot ----------------------------------------------------------------------------
def _index(argument: str, value: int, size: int, what: str) -> int:
    if not -size <= value < size:
        raise ValueError(
            f"{argument}: got {value}; the file has {size} {what} (allowed {-size}..{size - 1})"
        )
    return value % size


def plot_file(
    path: str | os.PathLike[str],
    field: str,
    *,
    sample: int = 0,
    time: int | None = None,
    channel: int = 0,
    output: str | os.PathLike[str] | None = None,
    animation: str | os.PathLike[str] | None = None,
    fps: float = 10.0,
) -> list[Path]:
    """Draw one sample of a field from a data file; return the files written.

    ``output`` (PNG): a 2-D or 3-D field is drawn at time index ``time`` (default: the last
    step), a 1-D field with several time steps as a space-time image (or as a curve at
    ``time`` when given). ``animation`` (GIF): every time step of a 1-D or 2-D field.
    Only the requested sample is read.
    """
    from sciml.data import open_dataset
    from sciml.plot import animate, spacetime
    from sciml.plot import field as draw_field

    if output is None and animation is None:
        raise ValueError("output: give -o FILE.png, --animate FILE.gif, or both")
    with open_dataset(path) as ds:
        arr = ds.field(field)
        n_samples, n_times, n_channels = arr.shape[0], arr.shape[1], arr.shape[-1]
        s = _index("--sample", sample, n_samples, "samples")
        c = _index("--channel", channel, n_channels, "channels")
        series = arr[s, :, ..., c]  # (time, *space)
        grid, times = ds.grid, ds.times
    if times is not None and times.size != n_times:
        times = None  # a static field in a file with time coordinates
    label = f"{field}, sample {s}" + (f", channel {c}" if n_channels > 1 else "")
    written = []
    if output is not None:
        if grid.ndim == 1 and n_times > 1 and time is None:
            fig = spacetime(series, grid, times, title=label)
        else:
            k = _index("--time", -1 if time is None else time, n_times, "time steps")
            when = f"t = {times[k]:.4g}" if times is not None else f"step {k}"
            fig = draw_field(series[k], grid, title=f"{label}, {when}")
        fig.savefig(output, dpi=150, bbox_inches="tight")
        written.append(Path(output))
    if animation is not None:
        if grid.ndim > 2:
            raise ValueError(
                f"--animate: animations are for 1-D and 2-D fields; {field!r} has "
                f"{grid.ndim} spatial axes"
            )
        if n_times < 2:
            raise ValueError(f"--animate: {field!r} has a single time step; nothing to animate")
        animate(series, grid, animation, fps=fps, times=times, title=label)
        written.append(Path(animation))
    return written


# -- sciml data generate --param -------------------------------------------------------------
#: Options of ``generate`` that have their own flags and may not be given as --param.
_RESERVED_PARAMS = ("n", "resolution", "seed", "progress", "path")


def parse_param(text: str) -> tuple[str, int | float | bool | str]:
    """Split ``KEY=VALUE`` and convert the value to int, float, bool or (else) str.

    ``true``/``false`` (any case) are bools; ``3`` is an int; ``1e-3`` and ``0.5`` are
    floats; anything else stays a string.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ValueError(
            f"--param: got {text!r}; expected KEY=VALUE with KEY a Python identifier"
        )
    raw = raw.strip()
    value: int | float | bool | str
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                value = raw
    return key, value


def _params(items: Sequence[str] | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in items or ():
        key, value = parse_param(item)
        if key in _RESERVED_PARAMS:
            raise ValueError(f"--param: {key!r} has its own option; use --{key} instead")
        if key in options:
            raise ValueError(f"--param: {key!r} is given twice")
        options[key] = value
    return options


def _generator_options(name: str) -> list[str] | None:
    """Keyword options of a generator, or None when it takes any (``**options``)."""
    from sciml.core.registry import GENERATORS

    params = inspect.signature(GENERATORS.get(name)).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.name not in _RESERVED_PARAMS]


def _generate(args: argparse.Namespace) -> None:
    from sciml.data.generate import generate

    options = _params(args.param)
    known = _generator_options(args.name)
    unknown = [] if known is None else sorted(set(options) - set(known))
    if unknown:
        raise ValueError(
            f"--param: generator {args.name!r} has no option {unknown[0]!r}; "
            f"its options are {known}"
        )
    path = generate(args.name, args.output, n=args.n, resolution=args.resolution,
                    seed=args.seed, progress=not args.no_progress, **options)
    print(f"wrote {path}")



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
    g.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="generator option (repeatable); value parsed as int, float, bool or str")
    i = dsub.add_parser("info", help="layout, fields, shapes, grid, times and attributes")
    i.add_argument("file", help="HDF5 data file (PDEBench, The Well or sciml layout)")

    p = sub.add_parser("plot", help="draw one sample of a field from a data file")
    p.add_argument("file", help="HDF5 data file")
    p.add_argument("--field", required=True, help="field name (see sciml data info)")
    p.add_argument("--sample", type=int, default=0, help="sample index (%(default)s)")
    p.add_argument("--time", type=int, default=None,
                   help="time index (default: last; 1-D series: space-time image)")
    p.add_argument("--channel", type=int, default=0, help="channel index (%(default)s)")
    p.add_argument("-o", "--output", help="PNG file to write")
    p.add_argument("--animate", metavar="GIF", help="also write a GIF over all time steps")
    p.add_argument("--fps", type=float, default=10.0, help="GIF frames per second (%(default)s)")
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
            _generate(args)
        elif args.command == "data" and args.data_command == "info":
            print(data_info(args.file))
        elif args.command == "plot":
            for path in plot_file(args.file, args.field, sample=args.sample, time=args.time,
                                  channel=args.channel, output=args.output,
                                  animation=args.animate, fps=args.fps):
                print(f"wrote {path}")
    except (ValueError, FileNotFoundError) as err:
        print(f"sciml: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sciml: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
