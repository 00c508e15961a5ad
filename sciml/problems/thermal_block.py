"""The thermal block: heat conduction with piecewise-constant conductivities.

On the unit square cut into ``B x B`` blocks ``Omega_b``,

    -div(kappa(x; mu) grad u) = 1   in (0, 1)^2,     u = 0 on the boundary,

with ``kappa = mu_b`` on block ``b`` (blocks numbered row by row from the lower left).
The P1 discretisation is affine in ``mu``: ``A(mu) = sum_b mu_b A_b`` with ``A_b`` the
stiffness matrix restricted to block ``b``. The error norm is the energy norm at
``mu_bar = (1, ..., 1)`` (``X = sum_b A_b``, the H1_0 seminorm), for which
``alpha(mu) >= min_b mu_b`` (the min-theta bound).
"""

from __future__ import annotations

import numpy as np

from sciml.core.parameters import ParameterSpace
from sciml.core.problem import ParametricProblem
from sciml.core.registry import PROBLEMS
from sciml.reference.fem import StiffnessAssembler, assemble_load, unit_square_mesh
from sciml.rom.coercivity import MinThetaBound
from sciml.rom.models import AffineModel

__all__ = ["block_index", "thermal_block", "thermal_block_theta"]


def block_index(centroids: np.ndarray, blocks: int) -> np.ndarray:
    """Block number ``(n_elements,)`` of each element centroid ``(n_elements, 2)``."""
    ij = np.clip(np.floor(centroids * blocks).astype(int), 0, blocks - 1)
    return ij[:, 1] * blocks + ij[:, 0]


def thermal_block_theta(mus: np.ndarray) -> np.ndarray:
    """The affine coefficients are the conductivities themselves: ``(B, p) -> (B, p)``."""
    return np.atleast_2d(np.asarray(mus, dtype=float))


@PROBLEMS.register("thermal_block")
def thermal_block(
    blocks: int = 2, n: int = 142, k_range: tuple[float, float] = (0.1, 1.0)
) -> ParametricProblem:
    """The ``blocks x blocks`` thermal block on an ``n x n``-cell P1 mesh.

    Parameters
    ----------
    blocks : int
        Blocks per side ``B`` (``B^2`` parameters ``k0, k1, ...``).
    n : int
        Cells per side; ``(n - 1)^2`` unknowns (``n = 142``: 19,881).
    k_range : (float, float)
        Range of each conductivity.

    Returns
    -------
    ParametricProblem
        With ``model`` an :class:`~sciml.rom.AffineModel` and ``model.mesh`` the mesh
        (solutions live on ``mesh.interior_nodes``).
    """
    if isinstance(blocks, bool) or not isinstance(blocks, (int, np.integer)) or blocks < 1:
        raise ValueError(f"blocks: expected a positive integer, got {blocks!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2 * blocks:
        raise ValueError(f"n: expected an integer >= 2 * blocks = {2 * blocks}, got {n!r}")
    lo, hi = (float(v) for v in k_range)
    if not 0 < lo < hi:
        raise ValueError(f"k_range: expected 0 < low < high, got {k_range!r}")
    mesh = unit_square_mesh(int(n))
    assembler = StiffnessAssembler(mesh)
    which = block_index(mesh.centroids, blocks)
    operators = [assembler.matrix((which == b).astype(float)) for b in range(blocks**2)]
    product = assembler.matrix(np.ones(mesh.triangles.shape[0]))
    rhs = assemble_load(mesh, 1.0)[mesh.interior_nodes]
    space = ParameterSpace({f"k{b}": (lo, hi) for b in range(blocks**2)})
    model = AffineModel(
        space,
        operators,
        thermal_block_theta,
        rhs[None],
        product,
        coercivity=MinThetaBound(thermal_block_theta, np.ones(blocks**2)),
    )
    model.mesh = mesh
    return ParametricProblem(
        space,
        model=model,
        name=f"thermal_block_{blocks}x{blocks}",
        recipe=("thermal_block", {"blocks": int(blocks), "n": int(n), "k_range": [lo, hi]}),
    )
