"""Physics-informed Gaussians on (2+1)-D flow mixing, with a PINN side by side.

Solves the advection ``u_t + a u_x + b u_y = 0`` of a scalar by a rotating vortex (radial
angular speed ``omega(r) = sech^2(r) tanh(r) / (0.385 r)``) on ``[-4, 4]^2 x [0, 4]``, from
``u(x, y, 0) = -tanh(y / 2)``, with the exact solution ``u = -tanh(y/2 cos(omega t) - x/2
sin(omega t))`` giving the Dirichlet data on the four sides (imposed as penalties). The front
winds up into a spiral near the centre, where the PIG's Gaussians are most needed. The PIG (400
space-time Gaussians, a ``4 -> 16 -> 1`` MLP) is fitted by a short Adam phase on points redrawn
every 10 steps, then a fixed number of L-BFGS steps; the PINN baseline (tanh MLP 4 x 64) then
runs the same options, stopped early if it exceeds the PIG's measured fit time. Errors are
relative L2 on the problem's 51^3 evaluation grid, at the final iterate. Saves to ``--out``:

- ``flow_mixing_gaussians_xy.png``, ``flow_mixing_gaussians_xt.png``: the Gaussians
  (1-sigma ellipses of their ``x``-``y`` and ``x``-``t`` marginals) at the start and end;
- ``flow_mixing_exact.png``, ``flow_mixing_pig.png``: the solution at four times;
- ``flow_mixing_pig_error.png``, ``flow_mixing_pinn_error.png``: ``|u - u_exact|`` there;
- ``flow_mixing_losses.png``: the PIG loss terms and the error on held-out points.

Usage::

    python examples/pig_flow_mixing.py            # ~2.5 CPU minutes, see below
    python examples/pig_flow_mixing.py --quick    # tiny sizes, seconds

Measured on a 2-core AMD EPYC shared with other jobs (load average ~6), with
``OMP_NUM_THREADS=1``: PIG rel L2 1.2e-1, PINN 6.2e-2 (at this small budget the PINN wins); 241
s wall, 150 CPU seconds (user + sys), so about 2.5 minutes on an idle core and well inside 5
minutes on 2 cores. ``--quick``: 10 to 17 s wall on the loaded machine. The PIG's error does
not depend on the load (fixed step counts; ``--budget SECONDS`` caps its wall time instead).
Both errors are far from the paper's (~5e4 Adam steps on a GPU; see ``benchmarks/pig.py``)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import sciml.plot
from sciml.core.grid import Box, Grid
from sciml.core.problem import PDEProblem
from sciml.pig import PIGSolver, PINNSolver, Training
from sciml.problems.flow_mixing import flow_mixing_3d

START = time.perf_counter()
NAME = "flow_mixing"


def slice_points(problem: PDEProblem, n: int, times: np.ndarray) -> tuple[Grid, np.ndarray]:
    """A 2-D ``(x, y)`` grid and the space-time points ``(len(times) * n * n, 3)`` on it."""
    box = problem.domain
    plane = Grid.uniform(Box(x=box["x"], y=box["y"]), n)
    xy = plane.points()
    pts = np.concatenate([np.column_stack([xy, np.full(len(xy), t)]) for t in times])
    return plane, pts


def held_out_error(
    problem: PDEProblem, n: int, seed: int
) -> Callable[[Callable[[np.ndarray], np.ndarray]], dict[str, float]]:
    """A ``monitor`` for ``fit``: relative L2 error on fixed random points of the domain."""
    rng = np.random.default_rng(seed)
    box = problem.domain
    pts = box.lower + rng.random((n, box.ndim)) * box.lengths
    truth = problem.exact_values(pts)

    def monitor(u: Callable[[np.ndarray], np.ndarray]) -> dict[str, float]:
        return {"held-out rel L2": float(np.linalg.norm(u(pts) - truth) / np.linalg.norm(truth))}

    return monitor


def gaussians_xt(pig: PIGSolver, path: Path) -> None:
    """Start and end Gaussians in the ``x``-``t`` plane, stretched to fill the panels."""
    fig = Figure(figsize=(10.0, 4.6), layout="constrained")
    box = pig.domain_
    states = {"start of training": pig.initial_gaussians_, "end of training": pig.gaussians()}
    for ax, (title, (mu, cov)) in zip(fig.subplots(1, 2), states.items()):
        sciml.plot.gaussians(mu, cov, ax=ax, box=box, axes=(0, 2), title=title)
        # Same scale for space and time would make a strip of most space-time domains.
        ax.set_aspect("auto")
    fig.savefig(path, dpi=150, bbox_inches="tight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, finishes in seconds")
    parser.add_argument("--out", default="examples/output", help="folder for the figures")
    parser.add_argument(
        "--budget", type=float, default=None, help="optional cap on the PIG fit, wall seconds"
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    problem = flow_mixing_3d()
    if args.quick:
        pig_options = {"n_gaussians": 64, "sigma_init": 0.3}
        pinn_options = {"width": 16, "depth": 2}
        training = Training(
            adam_steps=30, lr=1e-2, n_collocation=256, n_boundary=128, n_initial=64,
            lbfgs_steps=10, time_budget=4.0, log_every=5,
        )
        grid, n_plot, n_held_out = Grid.uniform(problem.domain, 15), 33, 512
    else:
        # Fewer Gaussians than the paper's 4000 (a GPU setting); the cutoff skips far ones.
        pig_options = {"n_gaussians": 400, "sigma_init": 0.15, "cutoff": 4.0, "chunk_size": 1024}
        pinn_options = {"width": 64, "depth": 4}
        # A short Adam phase on points redrawn every 10 steps finds the basin; L-BFGS on a
        # fixed sample then cuts the error far faster per second on a CPU (benchmarks/pig.py).
        training = Training(
            adam_steps=400, lr=1e-2, lr_decay=0.995, n_collocation=2048, n_boundary=1024,
            n_initial=512, resample_every=10, lbfgs_steps=800, time_budget=args.budget,
            log_every=20,
        )
        grid, n_plot, n_held_out = problem.default_grid(), 65, 4096
    monitor = held_out_error(problem, n_held_out, seed=1)

    pig = PIGSolver(**pig_options, training=training, seed=0, progress=False)
    pig.fit(problem, monitor=monitor)
    pig_error = problem.evaluate(pig, grid).metrics["exact"]["rel_l2"]
    print(f"PIG : rel L2 {pig_error:.3e} after a {pig.timings_['fit']:.1f} s fit")

    # The baseline gets the same options, stopped at the PIG's measured fit time: one line.
    same_time = Training(**{**training.to_dict(), "time_budget": pig.timings_["fit"]})
    pinn = PINNSolver(**pinn_options, training=same_time, seed=0, progress=False).fit(problem)
    pinn_error = problem.evaluate(pinn, grid).metrics["exact"]["rel_l2"]
    print(f"PINN: rel L2 {pinn_error:.3e} after a {pinn.timings_['fit']:.1f} s fit")

    times = np.linspace(0.0, problem.domain["t"][1], 4)
    plane, pts = slice_points(problem, n_plot, times)
    shape = (len(times), *plane.shape)
    exact = problem.exact_values(pts).reshape(shape)
    pig_u = pig.predict(pts).reshape(shape)
    pinn_u = pinn.predict(pts).reshape(shape)
    scale = {"vmin": float(exact.min()), "vmax": float(exact.max())}
    sciml.plot.frames(exact, plane, times, title="exact solution", path=out / f"{NAME}_exact.png",
                      **scale)
    sciml.plot.frames(pig_u, plane, times, title=f"PIG (rel L2 {pig_error:.2e})",
                      path=out / f"{NAME}_pig.png", **scale)
    sciml.plot.frames(np.abs(pig_u - exact), plane, times, title="|PIG - exact|",
                      cmap="magma", path=out / f"{NAME}_pig_error.png")
    sciml.plot.frames(np.abs(pinn_u - exact), plane, times,
                      title=f"|PINN - exact|, same fit time (rel L2 {pinn_error:.2e})",
                      cmap="magma", path=out / f"{NAME}_pinn_error.png")
    sciml.plot.gaussians_before_after(pig, axes=(0, 1), path=out / f"{NAME}_gaussians_xy.png")
    gaussians_xt(pig, out / f"{NAME}_gaussians_xt.png")
    sciml.plot.history(
        pig.history_,
        keys=["loss", "residual", "boundary", "initial", "held-out rel L2"],
        path=out / f"{NAME}_losses.png",
    )

    # CPU seconds summed over threads: the measure that matters on a shared machine.
    print(
        f"figures written to {out}/; {time.perf_counter() - START:.0f} s wall (after imports), "
        f"{time.process_time():.0f} s CPU"
    )


if __name__ == "__main__":
    main()
