"""Nonlinear stationary Allen–Cahn in 1-D and 2-D with the Kronecker GP solver.

Solves ``Laplacian(u) + u (u^2 - 1) = f`` with ``f`` manufactured from a high-frequency exact
solution and ``u`` = exact on the boundary (the GP-HM cases of
``sciml.problems.allen_cahn``):

- 1-D ``u = sin(6x) cos(100x)`` on ``[0, 2 pi]``, 600 grid points (dense QR solves);
- 2-D ``u = sin(6x) cos(20x) + sin(6y) cos(20y)`` on ``[0, 2 pi]^2``, 300 x 300 grid points
  (conjugate gradients with Kronecker matvecs).

The cubic term makes the residual nonlinear: each fit is Gauss–Newton on the GP's log joint
(one exact solve of the initial spectrum, ``outer_iterations=1``). Errors are measured on an
equispaced test grid (off the collocation grid) against the exact solution. Saves

- ``gp_allen_cahn_1d.png``: exact and GP solution, and the pointwise error;
- ``gp_allen_cahn_2d.png``: truth | GP | error.

The time-dependent benchmark ``sciml.problems.allen_cahn.allen_cahn()`` (periodic in ``x``)
is not shown: ``KroneckerGPSolver`` imposes only Dirichlet and initial data, not
``Periodic``; the PIG examples solve that one.

Measured on a loaded 2-core machine: 30 s wall (14 CPU seconds; 1-D fit 3.7 s, rel L2 2.4e-5;
2-D fit 10 s, rel L2 5.1e-5); ``--quick`` 14 s wall (8 CPU seconds).

    python examples/gp_allen_cahn.py [--out examples/output] [--quick]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sciml
from sciml.core.grid import Grid
from sciml.gp import KroneckerGPSolver
from sciml.problems.allen_cahn import allen_cahn_1d, allen_cahn_2d


def fit_and_report(problem, n_points: int, n_test: int, quick: bool):
    """Fit one problem, print its errors and return the solver and the test grid."""
    solver = KroneckerGPSolver(n_points=n_points, outer_iterations=1, hyper_steps=0,
                               progress=not quick).fit(problem)
    grid = Grid.uniform(problem.domain, n_test)
    report = problem.evaluate(solver, grid)
    newton = sum(h.get("newton_steps", 0) for h in solver.history_)
    cg = sum(h.get("cg_iterations", 0) for h in solver.history_)
    print(f"{problem.name:<28} grid {n_points}^{problem.domain.ndim}  "
          f"rel L2 {report.metrics['exact']['rel_l2']:.2e}  "
          f"max {report.metrics['exact']['max_abs']:.1e}  Gauss-Newton steps {newton}  "
          f"CG iterations {cg}  fit {solver.timings_['fit']:.1f} s")
    return solver, grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples/output", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # At least ~6 grid points per period of the highest frequency (see docs/gp.md): 100 / (2 pi)
    # cycles per unit need ~600 points on [0, 2 pi]; 26 / (2 pi) in 2-D need ~160 per axis.
    n_1d, n_2d = (400, 160) if args.quick else (600, 300)
    problem = allen_cahn_1d("sin6cos100")
    solver, grid = fit_and_report(problem, n_1d, 2001, args.quick)
    sciml.plot.compare(problem.exact_values(grid.points()), solver.predict(grid.points()),
                       grid=grid, titles=("exact", "GP", "|error|"),
                       path=out / "gp_allen_cahn_1d.png",
                       suptitle=f"Allen–Cahn 1-D, u = sin(6x) cos(100x), {n_1d} points")

    problem = allen_cahn_2d("sin6cos20")
    solver, grid = fit_and_report(problem, n_2d, 200 if args.quick else 300, args.quick)
    shape = grid.shape
    sciml.plot.compare(problem.exact_values(grid.points()).reshape(shape),
                       solver.predict(grid.points()).reshape(shape), grid=grid,
                       titles=("exact", "GP", "|error|"), path=out / "gp_allen_cahn_2d.png",
                       suptitle=f"Allen–Cahn 2-D, u = sin(6x)cos(20x) + sin(6y)cos(20y), "
                                f"{n_2d}x{n_2d} points")
    print(f"figures in {out}/")


if __name__ == "__main__":
    main()
