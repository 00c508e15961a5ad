"""Physics-informed Gaussians on the (2+1)-D Klein–Gordon equation, with a PINN side by side.

Solves ``u_tt - Laplacian(u) + u^2 = f`` on ``[-1, 1]^2 x [0, 10]`` with the exact solution ``u
= (x + y) cos 2t + x y sin 2t``, initial value and velocity at ``t = 0`` and Dirichlet data on
the four sides, all imposed as penalties. PIG: 100 space-time Gaussians and a ``4 -> 16 -> 1``
MLP, 400 Adam steps on points redrawn every 10 steps, then 600 L-BFGS steps; PINN: tanh MLP 4 x
64 with the same options, stopped at the PIG's fit time (see :mod:`sciml.pig.comparison` for
the procedure and the figures, ``klein_gordon_*.png``). Errors are relative L2 on the problem's
51^3 evaluation grid, at the final iterate.

Usage::

    python examples/pig_klein_gordon.py            # ~2.5 CPU minutes, see below
    python examples/pig_klein_gordon.py --quick    # tiny sizes, seconds

Measured on a 2-core AMD EPYC shared with other jobs (load average ~6), with
``OMP_NUM_THREADS=1``: PIG rel L2 7.1e-2, PINN 1.6e-1; 341 s wall, 130 CPU seconds (user +
sys). ``--quick``: 7 to 15 s wall on the loaded machine. ``--budget SECONDS`` caps the PIG's
wall time. Both errors are far from the paper's (~5e4 Adam steps on a GPU; see
``benchmarks/pig.py``)."""

from __future__ import annotations

from sciml.core.grid import Grid
from sciml.pig import Training
from sciml.pig.comparison import QUICK_TRAINING, Setup, run_comparison
from sciml.problems.klein_gordon import klein_gordon_3d


def setup(quick: bool, budget: float | None) -> Setup:
    problem = klein_gordon_3d()
    if quick:
        return Setup(problem, {"n_gaussians": 32, "sigma_init": 0.5}, {"width": 16, "depth": 2},
                     QUICK_TRAINING, Grid.uniform(problem.domain, 15), n_plot=33, n_held_out=512)
    # A short Adam phase on points redrawn every 10 steps finds the basin; L-BFGS on a fixed
    # sample then cuts the error far faster per second on a CPU (benchmarks/pig.py).
    training = Training(
        adam_steps=400, lr=1e-2, lr_decay=0.995, n_collocation=2048, n_boundary=1024,
        n_initial=512, resample_every=10, lbfgs_steps=600, time_budget=budget, log_every=20,
    )
    return Setup(problem, {"n_gaussians": 100, "sigma_init": 0.5}, {"width": 64, "depth": 4},
                 training, problem.default_grid())


if __name__ == "__main__":
    run_comparison("klein_gordon", setup, __doc__)
