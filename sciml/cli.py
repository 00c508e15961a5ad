"""The ``sciml`` command: quickstart, configuration-driven training and solving, evaluation and
prediction from checkpoints, data generation and inspection, plots, environment info."""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "data_info",
    "evaluate",
    "main",
    "parse_param",
    "plot_compare",
    "plot_file",
    "plot_history",
    "plot_rollout_file",
    "predict",
    "quickstart",
    "solve",
    "train",
]

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
    from sciml.core.environment import dependency_report

    print("optional dependencies:")
    print(dependency_report(indent=2))


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


# -- sciml train / solve: configuration files ----------------------------------------------------
#: Key of the resolved run configuration in a checkpoint's ``extra``.
RUN_CONFIG_KEY = "run_config"


def _write_config(config: Any, out: Path) -> Path:
    path = out / "config.toml"
    path.write_text(
        "# Resolved configuration of this run (defaults filled in); "
        "`sciml train` or `sciml solve` reruns it.\n" + config.to_toml()
    )
    return path


def _window_layout(data: Any) -> dict[str, int]:
    """``channels`` and ``static_channels`` of the windows a ``[data]`` section cuts."""
    from sciml.config import _dataset
    from sciml.data import open_dataset

    with open_dataset(data.path) as source:
        ds = _dataset(data, source, [0], {"stride": None})
        return {"channels": ds.channels,
                "static_channels": ds.in_channels - data.k_in * ds.channels}


def _add_to_checkpoint(path: Path, model: Any, extra: dict[str, Any]) -> None:
    """Rewrite a saved checkpoint with more entries in its ``extra`` (atomically)."""
    from sciml.train.checkpoint import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(path)
    save_checkpoint(path, model=model, config=ckpt.config, extra=ckpt.extra | extra,
                    step=ckpt.step, epoch=ckpt.epoch, rng=False)


def train(config: Any, *, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train the ``[model]`` on the ``[data]`` of a configuration with its ``[trainer]``.

    Writes to ``output.dir``: ``config.toml`` (the resolved configuration, written before
    training starts), ``last.pt`` (the trainer's checkpoint, every ``checkpoint_every``
    epochs), ``model.pt`` (the trained solver, with the resolved configuration in its
    ``extra["run_config"]``) and ``report.json``.

    Parameters
    ----------
    config : Config or path-like
        A :class:`sciml.config.Config`, or a file for :func:`sciml.config.load_config`.
    resume : bool
        Continue from ``output.dir/last.pt``.
    progress : bool
        Progress bars (unless the configuration sets ``trainer.progress``).

    Returns
    -------
    dict with ``report``, ``solver``, ``out`` (folder), ``checkpoint`` (``model.pt``) and
    ``config`` (the resolved :class:`~sciml.config.Config`).
    """
    from sciml.config import Config, build_datasets, build_model, build_trainer, load_config
    from sciml.core.device import seed_everything
    from sciml.core.problem import OperatorProblem
    from sciml.neural.solver import NeuralOperatorSolver

    if not isinstance(config, Config):
        config = load_config(config)
    config.require("train", "data", "model")
    out = Path(config.output.dir)
    last = out / "last.pt"
    if resume and not last.is_file():
        raise ValueError(f"--resume: no checkpoint {last} to resume from")
    fixed: dict[str, Any] = {"checkpoint_dir": str(out), "seed": config.seed,
                             "progress": progress}
    if config.trainer.kind == "autoregressive":
        if config.data.kind != "window":
            raise ValueError("trainer.kind: 'autoregressive' needs data.kind = 'window'")
    # The trainer is cheap to build: its option errors come before any data is read.
    trainer = build_trainer(config.trainer, **fixed)
    train_set, tests, grid = build_datasets(config.data, progress=progress)
    if config.trainer.kind == "autoregressive":
        fixed |= _window_layout(config.data)
        trainer = build_trainer(config.trainer, **fixed)
    x, y = train_set[0]
    out_channels = y.shape[0]
    if hasattr(trainer, "frames_per_call") and hasattr(trainer, "channels"):
        out_channels = trainer.frames_per_call * trainer.channels
    seed_everything(config.seed)
    model = build_model(config.model, int(x.shape[0]), int(out_channels))
    used = {k: v for k, v in fixed.items() if k != "checkpoint_dir"}
    resolved = config.with_defaults(model=model.config, trainer=used)
    out.mkdir(parents=True, exist_ok=True)
    config_path = _write_config(resolved, out)
    print(f"resolved configuration -> {config_path}")

    problem = OperatorProblem(train_set, tests, name=Path(config.data.path).stem, grid=grid)
    solver = NeuralOperatorSolver(model, trainer, normalize=config.data.normalize)
    if resume:
        # NeuralOperatorSolver.fit has no resume argument; hand it to the trainer's fit.
        trainer.fit = functools.partial(trainer.fit, resume=last)
        print(f"resuming from {last}")
    solver.fit(problem)
    report = _metrics_report(solver, tests, problem.name)
    report.history = list(solver.history_)
    report.timings.update(solver.timings_)
    report.info["config"] = resolved.to_dict()
    print()
    print(report.table())
    checkpoint = out / "model.pt"
    solver.save(checkpoint)
    _add_to_checkpoint(checkpoint, solver.model_, {RUN_CONFIG_KEY: resolved.to_dict()})
    report.to_json(out / "report.json")
    print(f"\nwrote {checkpoint}, {out / 'report.json'}")
    return {"report": report, "solver": solver, "out": out, "checkpoint": checkpoint,
            "config": resolved}


def _to_numpy(values: Any) -> Any:
    import numpy as np
    import torch

    return np.asarray(torch.as_tensor(values).detach().cpu(), dtype=np.float64)


def _solution_figure(problem: Any, solver: Any, path: Path) -> Path | None:
    """Exact vs predicted solution of a PDE problem, or the fit history of another solver."""
    from sciml.core.problem import PDEProblem
    from sciml.plot import compare, field, history

    if isinstance(problem, PDEProblem):
        grid = problem.default_grid()
        points = grid.points()
        pred = _to_numpy(solver.predict(points)).reshape(grid.shape)
        title = f"{problem.name}, {type(solver).__name__}"
        if problem.exact is not None:
            truth = problem.exact_values(points).reshape(grid.shape)
            compare(truth, pred, grid=grid, path=path, suptitle=title)
        else:
            field(pred, grid, title=title, path=path)
        return path
    records = getattr(solver, "history_", None)
    if records:
        history(records, path=path)
        return path
    return None


def solve(config: Any, *, progress: bool = True) -> dict[str, Any]:
    """Fit the ``[solver]`` to the ``[problem]`` of a configuration and evaluate it.

    Writes to ``output.dir``: ``config.toml`` (resolved), ``solver.pt`` (``solver.save``),
    ``report.json`` and ``solution.png`` (exact | prediction | error for PDE problems; the fit
    history for others, when the solver records one).

    Returns
    -------
    dict with ``report``, ``solver``, ``problem``, ``out`` and ``config``.
    """
    from sciml.config import Config, build_problem, build_solver, load_config

    if not isinstance(config, Config):
        config = load_config(config)
    config.require("solve", "problem", "solver")
    solver = build_solver(config.solver, progress=progress, seed=config.seed)
    problem = build_problem(config.problem)
    resolved = config.with_defaults()
    out = Path(config.output.dir)
    out.mkdir(parents=True, exist_ok=True)
    print(f"resolved configuration -> {_write_config(resolved, out)}")
    print(f"fitting {type(solver).__name__} to {getattr(problem, 'name', 'the problem')}")
    solver.fit(problem)
    report = problem.evaluate(solver)
    report.info["config"] = resolved.to_dict()
    print()
    print(report.table())
    solver.save(out / "solver.pt")
    report.to_json(out / "report.json")
    written = [out / "solver.pt", out / "report.json"]
    figure = _solution_figure(problem, solver, out / "solution.png")
    if figure is not None:
        written.append(figure)
    print("\nwrote " + ", ".join(str(p) for p in written))
    return {"report": report, "solver": solver, "problem": problem, "out": out,
            "config": resolved}


# -- sciml evaluate / predict / plot history|compare: trained checkpoints ------------------------
def _checkpoint_data(
    extra: dict[str, Any],
    data: str | os.PathLike[str],
    inputs: Sequence[str] | None,
    outputs: Sequence[str] | None,
) -> tuple[Any, bool]:
    """The ``[data]`` section to read ``data`` with, from the checkpoint's run configuration
    (``inputs``/``outputs`` override it), and whether the checkpoint had one."""
    import dataclasses

    from sciml.config import DataConfig, parse_config

    run = extra.get(RUN_CONFIG_KEY) or {}
    if "data" in run:
        section = parse_config({"data": run["data"]}).data
        had = True
    else:
        if not inputs or not outputs:
            raise ValueError(
                "--inputs/--outputs: the checkpoint holds no run configuration (it was not "
                "written by `sciml train`); name the input and output fields"
            )
        section = DataConfig(path=str(data), n_train=1, n_test=1, inputs=tuple(inputs),
                             outputs=tuple(outputs))
        had = False
    changes: dict[str, Any] = {"path": str(data), "generate": None, "in_memory": False}
    if inputs or outputs:
        if section.kind != "operator":
            raise ValueError("--inputs/--outputs: only for operator data, not time windows")
        changes["inputs"] = tuple(inputs or section.inputs)
        changes["outputs"] = tuple(outputs or section.outputs)
    return dataclasses.replace(section, **changes), had


def _load_for_data(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    resolutions: Sequence[int | None] | None = None,
    n_test: int | None = None,
    indices: Sequence[int] | None = None,
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    device: str = "auto",
) -> tuple[Any, Any, dict[str, Any]]:
    """The solver of a checkpoint, its ``[data]`` section for ``data``, and the named sets."""
    from sciml.config import build_datasets
    from sciml.data import open_dataset
    from sciml.neural.solver import NeuralOperatorSolver
    from sciml.train.checkpoint import load_checkpoint

    extra = load_checkpoint(checkpoint).extra
    solver = NeuralOperatorSolver.load(checkpoint, device=device)
    section, had_config = _checkpoint_data(extra, data, inputs, outputs)
    if n_test is None and indices is None and not had_config:
        with open_dataset(data) as ds:
            n_test = ds.n_samples
    _, sets, _ = build_datasets(section, path=data, n_test=n_test, indices=indices,
                                test_resolutions=resolutions, train=False)
    return solver, section, sets


def _outputs(solver: Any, x: Any, target_channels: int, batch_size: int | None) -> Any:
    """What the solver predicts for targets of ``target_channels`` channels: one call, or
    for an autoregressive solver the rollout over all the target's frames."""
    if getattr(solver, "autoregressive", False):
        frames = target_channels // solver.rollout_layout()["channels"]
        return solver.rollout(x, frames, batch_size=batch_size)
    return solver.predict(x, batch_size=batch_size)


def _predict_set(solver: Any, dataset: Any, batch_size: int | None) -> tuple[Any, Any]:
    """Predictions and targets ``(n, C_out, *space)`` of a whole dataset, on the CPU."""
    import torch
    from torch.utils.data import DataLoader

    batches = (dataset.iter_batches(batch_size) if hasattr(dataset, "iter_batches")
               else DataLoader(dataset, batch_size=batch_size or 32, shuffle=False))
    preds, targets = [], []
    for x, y in batches:
        pred = _outputs(solver, x, y.shape[1], batch_size)
        preds.append(torch.as_tensor(pred).float().cpu())
        targets.append(y.float())
    return torch.cat(preds), torch.cat(targets)


def _metrics_report(
    solver: Any, sets: dict[str, Any], name: str, batch_size: int | None = None
) -> Any:
    """Relative L2 (mean and max over samples) and the PDEBench metrics on each set."""
    from sciml.core.report import Report
    from sciml.train.metrics import pdebench_metrics, relative_l2

    report = Report(problem=name, solver=type(solver.model_.model).__name__)
    for key, dataset in sets.items():
        pred, target = _predict_set(solver, dataset, batch_size)
        rel = relative_l2(pred, target)
        grid = getattr(dataset, "grid", None)
        lengths = grid.box.lengths.tolist() if grid is not None else 1.0
        report.add(key, n=len(rel), rel_l2=float(rel.mean()), rel_l2_max=float(rel.max()),
                   **pdebench_metrics(pred, target, lengths=lengths))
    return report


def evaluate(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    resolutions: Sequence[int] | None = None,
    n_test: int | None = None,
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    device: str = "auto",
    batch_size: int | None = None,
) -> Any:
    """Metrics of a trained checkpoint on the last ``n_test`` samples of a data file.

    Fields, time windows and the default resolution come from the run configuration
    stored in the checkpoint (``sciml train`` writes it); ``inputs``/``outputs`` name the
    fields for checkpoints without one.

    Parameters
    ----------
    checkpoint : path-like
        ``model.pt`` or ``last.pt`` of a run.
    data : path-like
        Any file :func:`sciml.data.open` reads.
    resolutions : sequence of int, optional
        Evaluate at each of these resolutions (one test set ``test@<r>`` each); default the
        run's test sets (``data.test_resolutions``, else the training resolution, named
        ``test``).
    n_test : int, optional
        Samples, from the end of the file; default the run's ``data.n_test`` (or every
        sample when the checkpoint has no run configuration).

    Returns
    -------
    Report
        Per test set: ``n``, ``rel_l2`` (mean over samples), ``rel_l2_max`` and the PDEBench
        metrics of :func:`sciml.train.metrics.pdebench_metrics` (``rmse``, ``nrmse``,
        ``crmse``, ``max_error``, ``brmse``, ``frmse_low``/``mid``/``high``).
    """
    solver, _, sets = _load_for_data(
        checkpoint, data, resolutions=resolutions or None, n_test=n_test, inputs=inputs,
        outputs=outputs, device=device)
    report = _metrics_report(solver, sets, Path(data).stem, batch_size)
    report.info.update(checkpoint=str(checkpoint), data=str(data))
    return report


def predict(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    resolution: int | None = None,
    n_test: int | None = None,
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    device: str = "auto",
    batch_size: int | None = None,
) -> Path:
    """Write a trained checkpoint's predictions for the samples of a data file.

    The file is in the native sciml layout (:func:`sciml.data.write`): one field per output
    field of the run, named like it, ``(sample, 1, *space, channel)``, on the grid of the
    inputs (subsampled to ``resolution``), with per-sample parameter ``sample`` (the
    sample's index in ``data``) and attributes ``pde``, ``params``, ``source``,
    ``checkpoint``.

    ``n_test`` takes the last samples of the file; default all of them.

    For a checkpoint trained on time windows (``trainer.kind = "autoregressive"``) each
    sample is rolled out from its first ``k_in`` frames to the end of the file: the fields are
    ``(sample, time, *space, channel)`` with the ``k_in`` given frames followed by the
    predicted ones, ``stride_t`` steps apart (with the matching ``times``), and attribute
    ``rollout_from_frames = k_in``.
    """
    import numpy as np

    from sciml.data import open_dataset
    from sciml.data import write as write_data

    with open_dataset(data) as ds:
        n_samples, attrs, times = ds.n_samples, ds.attrs, ds.times
        channels = {name: ds.field(name).shape[-1] for name in ds.fields}
    solver, section, sets = _load_for_data(
        checkpoint, data, resolutions=[resolution], n_test=n_test or n_samples,
        inputs=inputs, outputs=outputs, device=device)
    meta = {"pde": str(attrs.get("pde", "prediction")), "params": attrs.get("params", {}),
            "source": str(data), "checkpoint": str(checkpoint)}
    if section.kind != "operator":
        return _predict_rollouts(solver, section, data, output, n_test or n_samples,
                                 n_samples, channels, times, resolution, meta)
    (dataset,) = sets.values()
    pred, _ = _predict_set(solver, dataset, batch_size)
    values = pred.numpy().astype(np.float32)
    fields, start = {}, 0
    for name in section.outputs:
        c = channels[name]
        fields[name] = np.moveaxis(values[:, start:start + c], 1, -1)[:, None]
        start += c
    return write_data(output, fields, dataset.grid, attrs=meta,
                      params={"sample": dataset.indices})


def _predict_rollouts(
    solver: Any,
    section: Any,
    data: str | os.PathLike[str],
    output: str | os.PathLike[str],
    n: int,
    n_samples: int,
    channels: dict[str, int],
    times: Any,
    resolution: int | None,
    meta: dict[str, Any],
) -> Path:
    """``sciml predict`` for an autoregressive checkpoint: each of the last ``n`` samples
    rolled out from its first ``k_in`` frames to the end; the file holds those frames and
    the predicted ones, on the run's frame spacing."""
    import numpy as np

    from sciml.data import write as write_data

    indices = list(range(n_samples - n, n_samples))
    window, x, _, pred = _full_rollouts(solver, section, data, indices, None, resolution)
    c_frame, k_in = window.channels, section.k_in
    frames = np.concatenate([x[:, : k_in * c_frame].numpy(), pred.float().cpu().numpy()], 1)
    frames = frames.reshape(n, -1, c_frame, *frames.shape[2:])  # (n, time, C, *space)
    n_frames = frames.shape[1]
    kept = np.arange(n_frames) * section.stride_t
    fields, start = {}, 0
    for name in section.fields:
        c = channels[name]
        fields[name] = np.moveaxis(frames[:, :, start:start + c], 2, -1).astype(np.float32)
        start += c
    meta = {**meta, "rollout_from_frames": int(k_in)}
    return write_data(output, fields, window.grid, attrs=meta,
                      params={"sample": np.asarray(indices)},
                      times=None if times is None else np.asarray(times)[kept])


def plot_history(
    checkpoint: str | os.PathLike[str],
    output: str | os.PathLike[str],
    keys: Sequence[str] | None = None,
) -> Path:
    """Training curves (losses, test metrics, learning rate) of a checkpoint's history."""
    from sciml.plot import history
    from sciml.train.checkpoint import load_checkpoint

    records = load_checkpoint(checkpoint).extra.get("history") or []
    if not records:
        raise ValueError(f"checkpoint: {checkpoint} holds no training history")
    history(records, keys=keys, path=output)
    return Path(output)


def plot_compare(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    sample: int = 0,
    channel: int = 0,
    resolution: int | None = None,
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    device: str = "auto",
) -> Path:
    """Truth | prediction | error of one output channel of one sample of a data file
    (``sample`` is its index in the file, negative from the end; for time windows, the
    sample's first window)."""
    from sciml.plot import compare

    solver, _, sets = _load_for_data(
        checkpoint, data, resolutions=[resolution], indices=[sample], inputs=inputs,
        outputs=outputs, device=device)
    (dataset,) = sets.values()
    x, y = dataset[0]
    pred = _outputs(solver, x[None], y.shape[0], None)[0]
    c = _index("--channel", channel, y.shape[0], "output channels")
    compare(y[c], pred[c], grid=dataset.grid, path=output,
            suptitle=f"{Path(data).stem}, sample {sample}, channel {c}")
    return Path(output)


def _full_rollouts(
    solver: Any,
    section: Any,
    data: str | os.PathLike[str],
    indices: Sequence[int],
    steps: int | None,
    resolution: int | None,
) -> tuple[Any, Any, Any, int]:
    """Roll an autoregressive solver out from the first ``k_in`` frames of each sample.

    Returns the :class:`~sciml.data.WindowDataset` (one window per sample, ``steps`` frames
    out), the initial windows ``(n, k_in * C + S, *space)``, the true and the predicted frames
    ``(n, steps * C, *space)``; ``steps`` defaults to every frame after the first window.
    """
    import torch

    from sciml.data import WindowDataset, open_dataset

    with open_dataset(data) as ds:
        n_time = ds.field(section.fields[0]).shape[1]
    available = (n_time - 1) // section.stride_t - section.k_in + 1
    if steps is None:
        steps = available
    elif not 1 <= steps <= available:
        raise ValueError(
            f"--steps: got {steps}; {Path(data).name} has room for 1 to {available} steps "
            f"after the first {section.k_in} frames (stride_t={section.stride_t})"
        )
    sampling = ({"resolution": resolution} if resolution is not None
                else {"resolution": section.resolution, "stride": section.stride})
    window = WindowDataset(data, section.fields, k_in=section.k_in, m_out=steps,
                           stride_t=section.stride_t, hop=n_time, static=section.static or None,
                           indices=list(indices), **sampling)
    pairs = [window[i] for i in range(len(window))]
    x = torch.stack([p[0] for p in pairs])
    truth = torch.stack([p[1] for p in pairs])
    return window, x, truth, solver.rollout(x, steps)


def plot_rollout_file(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    sample: int = 0,
    steps: int | None = None,
    channel: int = 0,
    resolution: int | None = None,
    device: str = "auto",
) -> list[Path]:
    """Roll an autoregressive checkpoint out from the first frames of one sample of ``data``.

    Writes ``output``: a GIF of truth | prediction | error over the rollout when it ends in
    ``.gif``, else a PNG of a few steps; and next to it ``<stem>_error.png``, the relative L2
    error against the step. ``steps`` defaults to every frame the sample has after the
    model's ``k_in`` input frames.
    """
    from sciml.data import open_dataset
    from sciml.neural.solver import NeuralOperatorSolver
    from sciml.plot.rollout import animate_rollout, plot_rollout, plot_rollout_error
    from sciml.train.autoregressive import rollout_errors
    from sciml.train.checkpoint import load_checkpoint

    solver = NeuralOperatorSolver.load(checkpoint, device=device)
    if not getattr(solver, "autoregressive", False):
        raise ValueError(
            f"{checkpoint}: not trained on time windows; `sciml plot rollout` needs a model "
            "trained with trainer.kind = \"autoregressive\" (use `sciml plot compare` instead)"
        )
    section, _ = _checkpoint_data(load_checkpoint(checkpoint).extra, data, None, None)
    with open_dataset(data) as ds:
        n_samples = ds.n_samples
    index = _index("--sample", sample, n_samples, "samples")
    window, _, truths, preds = _full_rollouts(solver, section, data, [index], steps, resolution)
    truth, pred = truths[0], preds[0]
    steps = truth.shape[0] // window.channels
    channels = window.channels
    c = _index("--channel", channel, channels, "channels per frame")
    errors = rollout_errors(pred[None].float().cpu(), truth[None].float(), channels)[0]
    output = Path(output)
    title = f"{Path(data).stem}, sample {sample}, channel {c}"
    if output.suffix.lower() == ".gif":
        animate_rollout(truth, pred, output, window.grid, channels=channels, channel=c,
                        title=title)
    else:
        shown = sorted({1, max(1, steps // 3), max(1, 2 * steps // 3), steps})
        plot_rollout(truth, pred, steps=shown, grid=window.grid, channels=channels, channel=c,
                     title=title, path=output)
    curve = output.with_name(f"{output.stem}_error.png")
    plot_rollout_error(errors.numpy(), title=f"rollout error, {title}", path=curve)
    return [output, curve]


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



def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                        dest="overrides",
                        help="override a configuration key (repeatable), e.g. trainer.lr=1e-3; "
                             "the value is read as TOML, else as a string")


def _add_checkpoint_options(parser: argparse.ArgumentParser, batch: bool = True) -> None:
    parser.add_argument("--inputs", nargs="+", metavar="FIELD",
                        help="input fields (default: those of the run configuration)")
    parser.add_argument("--outputs", nargs="+", metavar="FIELD",
                        help="output fields (default: those of the run configuration)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (%(default)s)")
    if batch:
        parser.add_argument("--batch-size", type=int, help="samples per forward pass")


#: ``sciml plot WORD ...`` forms that are commands, not data files.
_PLOT_COMMANDS = ("history", "compare", "rollout")


#: Names of the registered data generators, spelled out so that building the parser does
#: not import torch (``sciml --help`` stays fast); a test checks it against the registry.
GENERATOR_NAMES = (
    "advection", "burgers", "darcy", "diffusion_reaction", "grf", "kolmogorov", "navier_stokes",
)


def _parser() -> argparse.ArgumentParser:
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
    g.add_argument("name", choices=GENERATOR_NAMES, help="which PDE family")
    g.add_argument("--n", type=int, required=True, help="number of samples")
    g.add_argument("--resolution", type=int, required=True, help="grid points per axis")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("-o", "--output", required=True, help="HDF5 file to write")
    g.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    g.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="generator option (repeatable); value parsed as int, float, bool or str")
    i = dsub.add_parser("info", help="layout, fields, shapes, grid, times and attributes")
    i.add_argument("file", help="HDF5 data file (PDEBench, The Well or sciml layout)")

    t = sub.add_parser(
        "train", help="train a neural operator from a configuration file",
        description="Train the [model] on the [data] of a configuration with its [trainer]; "
                    "writes config.toml, last.pt, model.pt and report.json to output.dir.")
    t.add_argument("config", help="TOML (or YAML) configuration file")
    _add_set(t)
    t.add_argument("--resume", action="store_true", help="continue from output.dir/last.pt")
    t.add_argument("--no-progress", action="store_true", help="hide progress bars")

    s = sub.add_parser(
        "solve", help="fit a PDE/parametric solver from a configuration file",
        description="Fit the [solver] to the [problem] of a configuration and evaluate it; "
                    "writes config.toml, solver.pt, report.json and solution.png to output.dir.")
    s.add_argument("config", help="TOML (or YAML) configuration file")
    _add_set(s)
    s.add_argument("--no-progress", action="store_true", help="hide progress bars")

    e = sub.add_parser("evaluate", help="metrics of a trained checkpoint on a data file")
    e.add_argument("checkpoint", help="model.pt or last.pt written by sciml train")
    e.add_argument("data", help="HDF5 data file")
    e.add_argument("--resolution", type=int, nargs="+", metavar="N",
                   help="evaluate at these resolutions (default: the run's test resolutions)")
    e.add_argument("--n-test", type=int, help="last N samples (default: the run's n_test)")
    e.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    _add_checkpoint_options(e)

    r = sub.add_parser("predict", help="write a trained checkpoint's predictions to HDF5")
    r.add_argument("checkpoint", help="model.pt or last.pt written by sciml train")
    r.add_argument("data", help="HDF5 data file with the input fields")
    r.add_argument("-o", "--output", required=True, help="HDF5 file to write (sciml layout)")
    r.add_argument("--resolution", type=int, help="subsample the inputs to N points per axis")
    r.add_argument("--n-test", type=int, help="last N samples (default: all)")
    _add_checkpoint_options(r)

    ph = sub.add_parser("plot-history", prog="sciml plot history",
                        description="Training curves of a checkpoint.")
    ph.add_argument("checkpoint", help="model.pt or last.pt")
    ph.add_argument("-o", "--output", default="history.png", help="PNG file (%(default)s)")
    ph.add_argument("--keys", nargs="+", help="quantities to draw (default: all)")
    pc = sub.add_parser("plot-compare", prog="sciml plot compare",
                        description="Truth | prediction | error of one sample.")
    pc.add_argument("checkpoint", help="model.pt or last.pt")
    pc.add_argument("data", help="HDF5 data file")
    pc.add_argument("--sample", type=int, default=0, help="sample index in the file (%(default)s)")
    pc.add_argument("--channel", type=int, default=0, help="output channel (%(default)s)")
    pc.add_argument("--resolution", type=int, help="subsample to N points per axis")
    pc.add_argument("-o", "--output", default="compare.png", help="PNG file (%(default)s)")
    _add_checkpoint_options(pc, batch=False)

    pr = sub.add_parser("plot-rollout", prog="sciml plot rollout",
                        description="Autoregressive rollout of one sample from its first "
                                    "frames: truth | prediction | error (PNG, or GIF with "
                                    "-o NAME.gif) and the error against the step.")
    pr.add_argument("checkpoint", help="model.pt or last.pt of an autoregressive run")
    pr.add_argument("data", help="HDF5 data file with the time-dependent fields")
    pr.add_argument("--sample", type=int, default=0, help="sample index in the file (%(default)s)")
    pr.add_argument("--steps", type=int, help="frames to predict (default: all that remain)")
    pr.add_argument("--channel", type=int, default=0, help="channel of a frame (%(default)s)")
    pr.add_argument("--resolution", type=int, help="subsample to N points per axis")
    pr.add_argument("-o", "--output", default="rollout.png", help="PNG or GIF (%(default)s)")
    pr.add_argument("--device", default="auto", help="auto, cpu or cuda (%(default)s)")

    p = sub.add_parser(
        "plot", help="draw a field of a data file; `plot history|compare|rollout CHECKPOINT ...`",
        description="Draw one sample of a field from a data file. Also: `sciml plot history "
                    "CHECKPOINT [-o FILE]` (training curves) and `sciml plot compare CHECKPOINT "
                    "DATA --sample I [-o FILE]` (truth | prediction | error) and `sciml plot "
                    "rollout CHECKPOINT DATA [-o FILE.gif]` (autoregressive rollout).")
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
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) > 1 and argv[0] == "plot" and argv[1] in _PLOT_COMMANDS:
        # `sciml plot history|compare ...` next to `sciml plot FILE --field ...`; a data file
        # literally named "history" or "compare" is reached as ./history.
        argv = [f"plot-{argv[1]}", *argv[2:]]
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
        elif args.command in ("train", "solve"):
            from sciml.config import load_config

            config = load_config(args.config, args.overrides)
            if args.command == "train":
                train(config, resume=args.resume, progress=not args.no_progress)
            else:
                solve(config, progress=not args.no_progress)
        elif args.command == "evaluate":
            report = evaluate(args.checkpoint, args.data, resolutions=args.resolution,
                              n_test=args.n_test, inputs=args.inputs, outputs=args.outputs,
                              device=args.device, batch_size=args.batch_size)
            print(report.table())
            if args.json:
                report.to_json(args.json)
                print(f"wrote {args.json}")
        elif args.command == "predict":
            path = predict(args.checkpoint, args.data, args.output, resolution=args.resolution,
                           n_test=args.n_test, inputs=args.inputs, outputs=args.outputs,
                           device=args.device, batch_size=args.batch_size)
            print(f"wrote {path}")
        elif args.command == "plot-history":
            print(f"wrote {plot_history(args.checkpoint, args.output, keys=args.keys)}")
        elif args.command == "plot-compare":
            path = plot_compare(args.checkpoint, args.data, args.output, sample=args.sample,
                                channel=args.channel, resolution=args.resolution,
                                inputs=args.inputs, outputs=args.outputs, device=args.device)
            print(f"wrote {path}")
        elif args.command == "plot-rollout":
            for path in plot_rollout_file(args.checkpoint, args.data, args.output,
                                          sample=args.sample, steps=args.steps,
                                          channel=args.channel, resolution=args.resolution,
                                          device=args.device):
                print(f"wrote {path}")
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
