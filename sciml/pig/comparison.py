"""PIG against a PINN on the same space-time problem and wall time, with the standard figures.

The space-time PIG examples all do the same thing with different settings: fit a
:class:`~sciml.pig.PIGSolver` (recording the error on held-out points), fit a
:class:`~sciml.pig.PINNSolver` with the same options stopped at the PIG's measured fit time,
report both relative L2 errors on an evaluation grid and save the figures. This module is
that procedure once; an example only supplies a :class:`Setup` per mode.

Figures written by :func:`run_comparison` to ``--out``, prefixed with the example's name:

- ``<name>_slices.png``: exact (or reference) solution, PIG, PINN and both errors at four
  times (:func:`sciml.plot.slices.time_slices`);
- ``<name>_gaussians_xy.png``, ``<name>_gaussians_xt.png``: the Gaussians (1-sigma ellipses
  of their ``x``-``y`` and ``x``-``t`` marginals) at the start and end of training;
- ``<name>_losses.png``: the PIG loss terms and the held-out error.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sciml.core.grid import Grid
from sciml.core.problem import PDEProblem
from sciml.pig.monitors import HELD_OUT_KEY, held_out_error
from sciml.pig.pinn import PINNSolver
from sciml.pig.solver import PIGSolver
from sciml.pig.training import Training

__all__ = ["QUICK_TRAINING", "Comparison", "Setup", "fit_same_time", "run_comparison",
           "save_figures"]

#: Training options of the examples' ``--quick`` mode: seconds on a CPU.
QUICK_TRAINING = Training(
    adam_steps=30, lr=1e-2, n_collocation=256, n_boundary=128, n_initial=64,
    lbfgs_steps=10, time_budget=4.0, log_every=5,
)


@dataclass
class Setup:
    """Everything problem-specific of one comparison.

    Parameters
    ----------
    problem : PDEProblem
        A problem on ``(x, y, t)`` with an exact or reference solution.
    pig_options, pinn_options : dict
        Keyword arguments of :class:`PIGSolver` and :class:`PINNSolver` (not ``training``,
        ``seed`` or ``progress``).
    training : Training
        Options of the PIG fit; the PINN gets the same with the PIG's fit time as budget.
    grid : Grid
        Evaluation grid of the reported errors.
    n_plot : int
        Points per space axis of the slice figure.
    n_held_out : int
        Points of the held-out error recorded during the PIG fit.
    exact_label : str
        Name of the exact solution in figure titles (e.g. ``"reference"``).
    loss_keys : sequence of str
        Loss terms to plot (the held-out error is added).
    """

    problem: PDEProblem
    pig_options: dict[str, Any]
    pinn_options: dict[str, Any]
    training: Training
    grid: Grid
    n_plot: int = 65
    n_held_out: int = 4096
    exact_label: str = "exact"
    loss_keys: Sequence[str] = field(default=("loss", "residual", "boundary", "initial"))


@dataclass
class Comparison:
    """Fitted PIG and PINN with their relative L2 errors on the evaluation grid."""

    pig: PIGSolver
    pinn: PINNSolver
    pig_error: float
    pinn_error: float


def fit_same_time(setup: Setup, seed: int = 0) -> Comparison:
    """Fit the PIG, then the PINN with the same options capped at the PIG's fit time.

    Both start from ``seed``. The PIG records :func:`held_out_error` (seed ``seed + 1``) in
    its history; the errors are measured on ``setup.grid`` at the final iterate.
    """
    problem = setup.problem
    monitor = held_out_error(problem, setup.n_held_out, seed=seed + 1)
    pig = PIGSolver(**setup.pig_options, training=setup.training, seed=seed, progress=False)
    pig.fit(problem, monitor=monitor)
    pig_error = problem.evaluate(pig, setup.grid).metrics["exact"]["rel_l2"]
    print(f"PIG : rel L2 {pig_error:.3e} after a {pig.timings_['fit']:.1f} s fit")

    same_time = Training(**{**setup.training.to_dict(), "time_budget": pig.timings_["fit"]})
    pinn = PINNSolver(**setup.pinn_options, training=same_time, seed=seed, progress=False)
    pinn.fit(problem)
    pinn_error = problem.evaluate(pinn, setup.grid).metrics["exact"]["rel_l2"]
    print(f"PINN: rel L2 {pinn_error:.3e} after a {pinn.timings_['fit']:.1f} s fit")
    return Comparison(pig, pinn, float(pig_error), float(pinn_error))


def save_figures(setup: Setup, result: Comparison, out: Path, name: str) -> None:
    """The slice, Gaussian and loss figures of a comparison, as ``out / f"{name}_*.png"``."""
    # imported here so that fitting does not need matplotlib
    import sciml.plot
    from sciml.plot.slices import time_slices

    problem = setup.problem
    times = np.linspace(*problem.domain[problem.time_axis], 4)
    time_slices(
        problem, {"PIG": result.pig.predict, "PINN": result.pinn.predict}, times,
        n=setup.n_plot, exact_label=setup.exact_label, path=out / f"{name}_slices.png",
        title=f"rel L2: PIG {result.pig_error:.2e}, PINN {result.pinn_error:.2e} "
        f"(same fit time)",
    )
    for axes, plane in (((0, 1), "xy"), ((0, 2), "xt")):
        path = out / f"{name}_gaussians_{plane}.png"
        sciml.plot.gaussians_before_after(result.pig, axes=axes, path=path)
    sciml.plot.history(
        result.pig.history_, keys=[*setup.loss_keys, HELD_OUT_KEY],
        path=out / f"{name}_losses.png",
    )


def run_comparison(
    name: str, setup: Callable[[bool, float | None], Setup], description: str
) -> Comparison:
    """Command-line driver of a PIG example: parse arguments, fit both, save the figures.

    Parameters
    ----------
    name : str
        Prefix of the figure files.
    setup : callable
        ``setup(quick, budget) -> Setup``: the settings of ``--quick`` or the full run, with
        ``budget`` the optional ``--budget`` cap on the PIG fit (wall seconds).
    description : str
        Help text (the example's docstring; its first line is used).
    """
    start = time.perf_counter()
    parser = argparse.ArgumentParser(description=description.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, finishes in seconds")
    parser.add_argument("--out", default="examples/output", help="folder for the figures")
    parser.add_argument(
        "--budget", type=float, default=None, help="optional cap on the PIG fit, wall seconds"
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = setup(args.quick, args.budget)
    result = fit_same_time(chosen)
    save_figures(chosen, result, out, name)
    # CPU seconds summed over threads: the measure that matters on a shared machine.
    print(
        f"figures written to {out}/; {time.perf_counter() - start:.0f} s wall (after imports), "
        f"{time.process_time():.0f} s CPU"
    )
    return result
