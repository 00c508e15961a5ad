"""Physics-informed Gaussians on the 2-D Helmholtz equation, with a PINN side by side.

Solves ``Laplacian(u) + u = f`` on ``[-1, 1]^2`` with the exact solution
``u = sin(4 pi y) sin(pi x)`` and saves four figures to ``--out``:

- ``pig_gaussians.png``: the Gaussians (1-sigma ellipses) at the start and end of training;
- ``pig_compare.png``: exact | PIG | pointwise error;
- ``pinn_compare.png``: exact | PINN | pointwise error, after the same wall time;
- ``pig_losses.png``: the PIG loss curves (total and residual; the boundary is exact).

Usage::

    python examples/pig_helmholtz.py            # a few minutes on a CPU
    python examples/pig_helmholtz.py --quick    # tiny sizes, seconds

Measured on a 2-core AMD EPYC with ``OMP_NUM_THREADS=1``: PIG rel L2 1.8e-4 after a 122 s fit,
PINN 4.5e-3 after the same time; 248 s wall in all.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sciml.plot
from sciml.core.grid import Grid
from sciml.pig import PIGSolver, PINNSolver, Training
from sciml.plot.gaussians import gaussians_before_after
from sciml.problems.helmholtz import helmholtz_2d


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, finishes in seconds")
    parser.add_argument("--out", default="examples/output", help="folder for the figures")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    problem = helmholtz_2d()
    if args.quick:
        n_gaussians = 100
        training = Training(
            adam_steps=40,
            lr=2e-2,
            n_collocation=512,
            n_boundary=256,
            lbfgs_steps=10,
            weights={"residual": 1e-4},
        )
    else:
        # The benchmark's recipe (benchmarks/pig.py): L-BFGS from the start on a fixed
        # Sobol sample; about 1e-4 after two minutes on one core.
        n_gaussians = 800
        training = Training(
            adam_steps=0,
            n_collocation=4096,
            lbfgs_steps=100_000,
            weights={"residual": 1e-4},
            time_budget=120.0,
        )
    pig = PIGSolver(
        n_gaussians=n_gaussians, sigma_init=0.1, hard_dirichlet=True, training=training, seed=0
    )
    pig.fit(problem)
    grid = Grid.uniform(problem.domain, 101)
    pig_report = problem.evaluate(pig, grid)
    print(pig_report)

    # The baseline gets the same wall time as the PIG fit.
    same_time = Training(**{**training.to_dict(), "time_budget": pig.timings_["fit"]})
    pinn = PINNSolver(width=64, depth=4, hard_dirichlet=True, training=same_time, seed=0)
    pinn.fit(problem)
    print(problem.evaluate(pinn, grid))

    truth = problem.exact_values(grid.points()).reshape(grid.shape)
    gaussians_before_after(pig, path=out / "pig_gaussians.png")
    sciml.plot.compare(
        truth,
        pig.predict(grid.points()).reshape(grid.shape),
        grid,
        path=out / "pig_compare.png",
        suptitle="PIG, Helmholtz 2-D",
    )
    sciml.plot.compare(
        truth,
        pinn.predict(grid.points()).reshape(grid.shape),
        grid,
        path=out / "pinn_compare.png",
        suptitle="PINN, same wall time",
    )
    sciml.plot.history(pig.history_, keys=["loss", "residual"], path=out / "pig_losses.png")
    print(f"figures written to {out}/")


if __name__ == "__main__":
    main()
