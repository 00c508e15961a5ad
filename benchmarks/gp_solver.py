"""Accuracy and time of KroneckerGPSolver on every GP-HM problem, beside a Chebyshev baseline.

For each problem of issue 6 (1-D and 2-D Poisson, 1-D and 2-D stationary Allen–Cahn, and
advection ``u_t + 200 u_x = 0``), plus a 3-D Poisson problem, the GP solver is fitted once
with the settings in ``SETTINGS`` (grid size and the upper end of the initial frequency grid,
chosen a priori from the equation's frequency scale, never from test errors) and the *final
iterate* is evaluated on an equispaced test grid of 300 (1-D), 300 x 300 (2-D) or
60 x 60 x 60 (3-D) points. The table reports the
relative L2 error, the wall time of ``fit``, the number of solves (outer iterations),
Gauss–Newton steps and conjugate-gradient iterations. For the Poisson problems the Chebyshev
collocation baseline (:mod:`sciml.reference.spectral`) is timed at the smallest grid of a
doubling sequence that reaches the GP's error (time-to-accuracy, side by side).

``--memory`` also fits the 2-D sin(100x) sin(100y) Poisson problem on a 400 x 400 grid in a
fresh subprocess and reports its peak resident memory.

Usage::

    python benchmarks/gp_solver.py [--quick] [--memory] [--outer 1] [--hyper-steps 0]
                                   [--threads N] [--only poisson_1d/sin100 ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np
import torch

from sciml.core.conditions import Dirichlet
from sciml.core.grid import Box, Grid
from sciml.core.problem import PDEProblem
from sciml.gp.solver import KroneckerGPSolver
from sciml.problems.advection import advection_problem
from sciml.problems.allen_cahn import allen_cahn_1d, allen_cahn_2d, manufactured_1d, manufactured_2d
from sciml.problems.poisson import poisson_1d, poisson_2d
from sciml.reference.spectral import solve_poisson_chebyshev

#: Grid points per axis and initial maximum frequency (cycles per unit) per problem case.
SETTINGS: dict[str, dict[str, Any]] = {
    "1d/sin100": {"n_points": 600},
    "1d/xsin200": {"n_points": 1200},
    "1d/sin6cos100": {"n_points": 600},
    "1d/multiscale": {"n_points": 300},
    "1d/sin500": {"n_points": 600},
    "2d/sin100": {"n_points": 400, "max_frequency": 20.0},
    "2d/sin6cos20": {"n_points": 300},
}
QUICK: dict[str, dict[str, Any]] = {
    "1d/sin100": {"n_points": 400},
    "2d/sin6cos20": {"n_points": 160},
}
ADVECTION = {"n_points": {"x": 32, "t": 256}, "max_frequency": {"x": 2.0, "t": 40.0}}
#: 3-D Poisson: the solution's highest frequency is 3 / (2 pi) ~ 0.48 cycles per unit.
POISSON_3D = {"n_points": 24, "max_frequency": 1.0}


def poisson_3d() -> PDEProblem:
    """Laplacian(u) = -14 sin(2x) sin(3y) sin(z) on [0,3]x[0,2]x[0,3], u = exact on the faces."""

    def exact(x: Any) -> Any:
        return torch.sin(2 * x.x) * torch.sin(3 * x.y) * torch.sin(x.z)

    def residual(u: Any, x: Any) -> Any:
        return u.d("xx") + u.d("yy") + u.d("zz") + 14 * exact(x)

    box = Box(x=(0.0, 3.0), y=(0.0, 2.0), z=(0.0, 3.0))
    return PDEProblem(box, residual, [Dirichlet(exact)], exact=exact, name="poisson_3d")


def problems(quick: bool) -> list[tuple[str, Any, dict[str, Any], str | None]]:
    """``(name, problem, solver options, poisson case for the baseline)`` for every row."""
    table = QUICK if quick else SETTINGS
    rows = []
    for case, opts in table.items():
        dim, name = case.split("/")
        maker = poisson_1d if dim == "1d" else poisson_2d
        rows.append((f"poisson_{case}", maker(name), opts, case))
    for case, opts in table.items():
        dim, name = case.split("/")
        maker = allen_cahn_1d if dim == "1d" else allen_cahn_2d
        rows.append((f"allen_cahn_{case}", maker(name), opts, None))
    rows.append(("advection_200", advection_problem(200.0),
                 {**ADVECTION, "n_points": {"x": 24, "t": 200}} if quick else ADVECTION, None))
    rows.append(("poisson_3d/sin2sin3sin1", poisson_3d(),
                 {**POISSON_3D, "n_points": 16} if quick else POISSON_3D, None))
    return rows


def test_grid(problem: Any) -> Grid:
    return Grid.uniform(problem.domain, 300 if problem.domain.ndim <= 2 else 60)


def rel_l2(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(pred - truth) / np.linalg.norm(truth))


def chebyshev_time_to_accuracy(case: str, target: float, points: np.ndarray,
                               truth: np.ndarray) -> tuple[int, float, float]:
    """Smallest grid of 32, 64, 128, ... (up to 2048 in 1-D, 512 in 2-D) reaching ``target``."""
    dim, name = case.split("/")
    m = manufactured_1d(name) if dim == "1d" else manufactured_2d(name)
    limit = 2048 if dim == "1d" else 512
    n = 32
    while True:
        start = time.perf_counter()
        sol = solve_poisson_chebyshev(m.laplacian, m.u, m.domain, n)
        pred = sol(points)
        elapsed = time.perf_counter() - start
        err = rel_l2(pred, truth)
        if err <= target or n >= limit:
            return n, elapsed, err
        n *= 2


def memory_run() -> None:
    """Fit 2-D Poisson sin(100x) sin(100y) on 400 x 400 and print a JSON line."""
    start = time.perf_counter()
    problem = poisson_2d("sin100")
    solver = KroneckerGPSolver(n_points=400, max_frequency=20.0, outer_iterations=1,
                               progress=False).fit(problem)
    fit = time.perf_counter() - start
    grid = test_grid(problem)
    err = rel_l2(solver.predict(grid.points()), problem.exact_values(grid.points()))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    print(json.dumps({"rel_l2": err, "fit_s": fit, "peak_rss_gib": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two small cases per family")
    parser.add_argument("--memory", action="store_true", help="also the 400x400 memory run")
    parser.add_argument("--outer", type=int, default=1, help="solves (outer iterations)")
    parser.add_argument("--hyper-steps", type=int, default=0, help="Adam steps between solves")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--only", nargs="*", default=None, help="row names to run")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_child:
        memory_run()
        return
    header = (f"{'problem':<28}{'rel L2':>10}{'fit s':>8}{'solves':>7}{'GN':>4}{'CG':>6}"
              f"{'cheb n':>8}{'cheb s':>8}{'cheb L2':>10}")
    print(f"KroneckerGPSolver (outer={args.outer}, hyper_steps={args.hyper_steps}), "
          f"{torch.get_num_threads()} threads")
    print(header)
    for name, problem, opts, case in problems(args.quick):
        if args.only and name not in args.only:
            continue
        grid = test_grid(problem)
        pts = grid.points()
        truth = problem.exact_values(pts)
        solver = KroneckerGPSolver(outer_iterations=args.outer, hyper_steps=args.hyper_steps,
                                   progress=False, **opts)
        start = time.perf_counter()
        solver.fit(problem)
        fit = time.perf_counter() - start
        err = rel_l2(solver.predict(pts), truth)
        gn = sum(h.get("newton_steps", 0) for h in solver.history_)
        cg = sum(h.get("cg_iterations", 0) for h in solver.history_)
        row = f"{name:<28}{err:>10.2e}{fit:>8.2f}{len(solver.history_):>7}{gn:>4}{cg:>6}"
        if case is not None:
            n, t, e = chebyshev_time_to_accuracy(case, err, pts, truth)
            row += f"{n:>8}{t:>8.2f}{e:>10.2e}"
        print(row, flush=True)
    if args.memory:
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child"]
            + (["--threads", str(args.threads)] if args.threads else []),
            capture_output=True, text=True, check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"2-D Poisson sin100 on 400x400 (160,000 unknowns): rel L2 {result['rel_l2']:.2e}, "
              f"fit {result['fit_s']:.1f} s, peak RSS {result['peak_rss_gib']:.2f} GiB")


if __name__ == "__main__":
    main()
