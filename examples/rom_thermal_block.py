"""Certified reduced basis for the 2x2 thermal block, and matrix EIM for non-affine diffusion.

Builds the thermal block (-div(kappa(mu) grad u) = 1, four conductivities in [0.1, 1]), runs
the weak greedy to a relative error bound of 1e-6, compares the reduced model with full-order
solves on test parameters, and interpolates the non-affine 1-D diffusion matrices
A(mu) ~ sum_m c_m(mu) Q_m from assembled matrices only. Saves to the output folder:

- ``rom_error_decay.png``: max error and bound against basis size (log scale);
- ``rom_singular_values.png``: POD singular values of the greedy snapshots;
- ``rom_error_map.png``: error bound over (k0, k1) with the greedy picks;
- ``rom_magic_points.png``: the EIM magic entries on the 1-D mesh.

About a minute on two CPU cores; ``--quick`` runs a small version in seconds.

    python examples/rom_thermal_block.py [--out examples/output] [--quick]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import sciml.plot.rom as rom_plot
from sciml.problems.nonaffine_diffusion import nonaffine_diffusion_1d
from sciml.problems.thermal_block import thermal_block
from sciml.rom import MatrixEIM, ReducedBasisSolver, pod


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples/output", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    n_cells, n_train, n_test = (16, 100, 10) if args.quick else (100, 500, 50)
    problem = thermal_block(blocks=2, n=n_cells)
    model = problem.model
    solver = ReducedBasisSolver(tol=1e-6, max_basis=40, n_train=n_train,
                                progress=not args.quick).fit(problem)
    print(f"thermal block: {model.n_dofs} unknowns, basis size {solver.n_basis}")
    print(problem.evaluate(solver, n_test=n_test))

    # Error and bound of the nested reduced models N = 1..N_max on the test parameters.
    test = problem.sample(n_test, seed=1)
    truths = model.solve_batch(test)
    x = model.product
    norms = np.sqrt(np.einsum("bi,bi->b", truths, (x @ truths.T).T))
    errors, bounds = [], []
    for n in range(1, solver.n_basis + 1):
        coeffs, bound = solver.solve_reduced(test, n_basis=n)
        diff = truths - solver.reconstruct(coeffs)
        err = np.sqrt(np.einsum("bi,bi->b", diff, (x @ diff.T).T))
        errors.append(np.max(err / norms))
        bounds.append(np.max(bound.cpu().numpy() / norms))
    rom_plot.error_decay({"max relative error": errors, "max relative bound": bounds},
                         sizes=range(1, solver.n_basis + 1), path=out / "rom_error_decay.png")

    snapshots = model.solve_batch(problem.sample(40 if args.quick else 200, seed=2))
    sv = pod(snapshots.T, product=x, n_modes=snapshots.shape[0]).singular_values
    rom_plot.singular_values(sv, path=out / "rom_singular_values.png")

    grid = problem.space.uniform([25, 25, 1, 1])
    grid[:, 2:] = 0.5
    _, grid_bounds = solver.predict(grid, return_bound=True)
    rom_plot.error_map(grid[:, :2], grid_bounds, names=("k0", "k1"),
                       selected=solver.selected_[:, :2], path=out / "rom_error_map.png",
                       title="Error bound over (k0, k1), k2 = k3 = 0.5")

    diffusion = nonaffine_diffusion_1d(n=201 if args.quick else 1001)
    dmodel = diffusion.model
    eim = MatrixEIM(max_terms=25, tol=1e-14, progress=False).fit(
        dmodel._operator, np.linspace(0, 1, 100 if args.quick else 400)[:, None],
        entries=dmodel.operator_entries,
    )
    mu = np.array([0.37])
    u = dmodel.solve(mu)
    nodes = dmodel.mesh.nodes[1:-1]
    print(f"MatrixEIM: {eim.n_terms} terms, relative max-entry error "
          f"{eim.errors_[-1] / eim.errors_[0]:.1e}")
    rom_plot.magic_points(nodes, eim.magic_rows_, values=u, path=out / "rom_magic_points.png",
                          title="EIM magic entries (row of each) over u(x; mu=0.37)")
    print(f"figures in {out}/")


if __name__ == "__main__":
    main()
