"""High-frequency 1-D Poisson, u = sin(100 x) on [0, 2 pi], with the Kronecker GP solver.

Fits ``KroneckerGPSolver`` (exact solves alternating with spectrum-learning steps) and, for
comparison, the paper's plain Adam for a short run; prints both errors and saves

- ``gp_poisson_compare.png``: the solution against the exact one and the pointwise error,
- ``gp_poisson_spectrum.png``: learned mixture weights against frequencies (the pruning),
- ``gp_poisson_convergence.png``: error and residual against wall time for both methods.

About a minute on two CPU cores; ``--quick`` runs a reduced version in seconds.

    python examples/gp_poisson.py [--out examples/output] [--quick]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sciml
from sciml.core.grid import Grid
from sciml.gp import KroneckerGPSolver
from sciml.plot.gp import convergence, spectrum
from sciml.problems.poisson import poisson_1d


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples/output", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    n, outer, hyper, adam_steps = (400, 2, 2, 10) if args.quick else (600, 3, 15, 400)
    problem = poisson_1d("sin100")
    solver = KroneckerGPSolver(n_points=n, outer_iterations=outer, hyper_steps=hyper,
                               track_error=True, progress=not args.quick)
    initial = {"x": solver._make_kernels(problem)[2][0]}
    initial = {"x": (initial["x"].frequencies.detach().numpy(),
                     initial["x"].weights.detach().numpy())}
    solver.fit(problem)
    adam = KroneckerGPSolver(n_points=n, method="adam", adam_steps=adam_steps, adam_lr=0.01,
                             track_error=True, progress=not args.quick).fit(problem)

    grid = Grid.uniform(problem.domain, 2001)
    truth = problem.exact_values(grid.points())
    for name, s in (("alternating (exact solves)", solver), ("plain Adam", adam)):
        report = problem.evaluate(s, Grid.uniform(problem.domain, 300))
        print(f"{name:<28} rel L2 {report.metrics['exact']['rel_l2']:.2e}  "
              f"fit {s.timings_['fit']:.1f} s")

    sciml.plot.compare(truth, solver.predict(grid.points()), grid=grid,
                       path=out / "gp_poisson_compare.png",
                       suptitle=f"Kronecker GP, Poisson u = sin(100x), {n} points")
    spectrum(solver, initial=initial, path=out / "gp_poisson_spectrum.png")
    convergence({"alternating": solver.history_, "adam": adam.history_},
                path=out / "gp_poisson_convergence.png")
    print(f"figures in {out}/")


if __name__ == "__main__":
    main()
