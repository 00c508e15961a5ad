"""Fast transport in space-time, ``u_t + 200 u_x = 0``, with the Kronecker GP solver.

The problem (``sciml.problems.advection.advection_problem``) is posed on the space-time box
``(x, t) in [0, 1]^2`` with the exact solution ``u = sin(x - 200 t)``, initial data at
``t = 0`` and inflow data at ``x = 0``. The GP treats time as one more axis of its tensor
grid: one exact solve (conjugate gradients with Kronecker matvecs) of the whole space-time
field at once, with the initial mixture frequencies up to 2 cycles per unit in ``x`` and 40
in ``t`` (the solution oscillates at 200 / (2 pi) ~ 32 cycles per unit in time). Then the time
grid is refined to show the error against the number of points along ``t``. Saves

- ``gp_advection_spacetime.png``: truth | GP | error as space-time images (x across, t up);
- ``gp_advection_refinement.png``: relative L2 error and fit time against the time points.

Measured on a loaded 2-core machine: 16 s wall (8 CPU seconds; 32 x 256 grid, rel L2 8.0e-5,
the first fit 2.6 s including warm-up, later ones 0.05-0.3 s); ``--quick`` 12 s wall (6 CPU
seconds).

    python examples/gp_advection.py [--out examples/output] [--quick]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import sciml
from sciml.core.grid import Box, Grid
from sciml.gp import KroneckerGPSolver
from sciml.problems.advection import advection_problem

# Frequencies per axis (cycles per unit) chosen from the equation, not from test errors.
MAX_FREQUENCY = {"x": 2.0, "t": 40.0}


def fit(problem, n_x: int, n_t: int) -> KroneckerGPSolver:
    return KroneckerGPSolver(n_points={"x": n_x, "t": n_t}, max_frequency=MAX_FREQUENCY,
                             outer_iterations=1, hyper_steps=0, progress=False).fit(problem)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples/output", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    problem = advection_problem(200.0)
    n_x, n_t = (24, 200) if args.quick else (32, 256)
    solver = fit(problem, n_x, n_t)
    # A fine test grid: 200 points in x, 800 in t (~25 per period of the wave in time).
    grid = Grid.uniform(problem.domain, {"x": 200, "t": 400 if args.quick else 800})
    report = problem.evaluate(solver, grid)
    err = report.metrics["exact"]
    print(f"{problem.name}: grid {n_x} x {n_t}, rel L2 {err['rel_l2']:.2e}, "
          f"max {err['max_abs']:.1e}, CG iterations "
          f"{sum(h.get('cg_iterations', 0) for h in solver.history_)}, "
          f"fit {solver.timings_['fit']:.2f} s")

    # Grid points are ordered (x, t) with t fastest; the space-time plot wants (time, x).
    truth = problem.exact_values(grid.points()).reshape(grid.shape).T
    pred = solver.predict(grid.points()).reshape(grid.shape).T
    space = Grid.uniform(Box(x=problem.domain["x"]), grid.shape[0])
    times = grid["t"]
    fig = Figure(figsize=(14, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, values, title, cmap in (
        (axes[0], truth, "exact sin(x - 200 t)", "viridis"),
        (axes[1], pred, "GP", "viridis"),
        (axes[2], np.abs(pred - truth), "|error|", "magma"),
    ):
        sciml.plot.spacetime(values, space, times, ax=ax, title=title, cmap=cmap)
    fig.suptitle(f"Advection u_t + 200 u_x = 0, GP on a {n_x} x {n_t} space-time grid, "
                 f"relative L2 error {err['rel_l2']:.1e}")
    fig.savefig(out / "gp_advection_spacetime.png", dpi=150, bbox_inches="tight")

    # Refinement in time: the wave sets the resolution needed along t, not along x.
    counts = [64, 96, 128, 192] if args.quick else [64, 96, 128, 192, 256, 384]
    errors, seconds = [], []
    for m in counts:
        s = fit(problem, n_x, m)
        errors.append(problem.evaluate(s, grid).metrics["exact"]["rel_l2"])
        seconds.append(s.timings_["fit"])
        print(f"  n_t = {m:4d}: rel L2 {errors[-1]:.2e}, fit {seconds[-1]:.2f} s")
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.semilogy(counts, errors, marker="o", label="relative L2 error")
    ax.set_xlabel(f"grid points along t (x: {n_x})")
    ax.set_ylabel("relative L2 error")
    ax.grid(True, which="both", alpha=0.3)
    twin = ax.twinx()
    twin.plot(counts, seconds, marker="s", color="C1", label="fit seconds")
    twin.set_ylabel("fit seconds")
    ax.legend(loc="upper center")
    twin.legend(loc="center right")
    ax.set_title("Space-time GP: error against time resolution")
    fig.savefig(out / "gp_advection_refinement.png", dpi=150, bbox_inches="tight")
    print(f"figures in {out}/")


if __name__ == "__main__":
    main()
