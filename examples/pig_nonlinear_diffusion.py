"""Physics-informed Gaussians on (2+1)-D nonlinear diffusion, with a PINN side by side.

Solves the porous-medium equation ``u_t = 0.05 (|grad u|^2 + u Laplacian(u))`` on ``[-1, 1]^2 x
[0, 1]`` from three Gaussian bumps, with ``u = 0`` on the four sides. There is no closed form:
the reference is the library's finite-difference solution (201 x 201 grid, RK4). The zero
boundary data is imposed exactly (``u = D(x) N(x)``) for both models, the initial data as a
penalty. PIG: 200 space-time Gaussians and a ``4 -> 16 -> 1`` MLP, 300 Adam steps, then 500
L-BFGS steps; PINN: tanh MLP 4 x 64 with the same options, stopped at the PIG's fit time (see
:mod:`sciml.pig.comparison` for the procedure and the figures, ``nonlinear_diffusion_*.png``;
"exact" there is the reference).

Usage::

    python examples/pig_nonlinear_diffusion.py            # ~40 s on one core, see below
    python examples/pig_nonlinear_diffusion.py --quick    # tiny sizes, seconds

Measured on a 2-core AMD EPYC with ``OMP_NUM_THREADS=1`` (the other core busy), 2026-11-23:
PIG rel L2 1.38e-2 after a 16.5 s fit, PINN 4.6e-1 after the same time (too short for it);
40 s wall in all."""

from __future__ import annotations

from sciml.core.grid import Grid
from sciml.pig import Training
from sciml.pig.comparison import QUICK_TRAINING, Setup, run_comparison
from sciml.problems.nonlinear_diffusion import nonlinear_diffusion_3d

# The boundary data is exact, so there is no boundary loss to plot.
LOSSES = ("loss", "residual", "initial")


def setup(quick: bool, budget: float | None) -> Setup:
    # A coarser reference in --quick mode: it is interpolated onto the (coarser) test grid.
    problem = nonlinear_diffusion_3d(**({"n_ref": 51, "n_save": 21} if quick else {}))
    hard = {"hard_dirichlet": True}
    if quick:
        return Setup(problem, {"n_gaussians": 32, "sigma_init": 0.3, **hard},
                     {"width": 16, "depth": 2, **hard}, QUICK_TRAINING,
                     Grid.uniform(problem.domain, 15), n_plot=33, n_held_out=512,
                     exact_label="reference", loss_keys=LOSSES)
    training = Training(
        adam_steps=300, lr=1e-2, lr_decay=0.995, n_collocation=2048, n_boundary=1024,
        n_initial=1024, resample_every=10, lbfgs_steps=500, time_budget=budget, log_every=20,
    )
    return Setup(problem, {"n_gaussians": 200, "sigma_init": 0.15, **hard},
                 {"width": 64, "depth": 4, **hard}, training, problem.default_grid(),
                 exact_label="reference", loss_keys=LOSSES)


if __name__ == "__main__":
    run_comparison("nonlinear_diffusion", setup, __doc__)
