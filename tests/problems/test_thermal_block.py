import numpy as np
import pytest
import scipy.sparse.linalg as spla

from sciml.core.registry import PROBLEMS
from sciml.problems.thermal_block import block_index, thermal_block
from sciml.reference.fem import assemble_load, assemble_stiffness


def test_affine_operator_matches_direct_assembly():
    p = thermal_block(blocks=3, n=9)
    mesh = p.model.mesh
    mu = np.linspace(0.1, 0.9, 9)
    kappa = mu[block_index(mesh.centroids, 3)]
    dofs = mesh.interior_nodes
    direct = assemble_stiffness(mesh, kappa)[dofs][:, dofs]
    np.testing.assert_allclose(p.model.operator(mu).toarray(), direct.toarray(), atol=1e-12)
    u = p.solve(mu)
    oracle = spla.spsolve(direct.tocsc(), assemble_load(mesh, 1.0)[dofs])
    np.testing.assert_allclose(u, oracle, rtol=1e-10)


def test_constant_conductivity_scales_solution():
    p = thermal_block(blocks=2, n=8)
    u1 = p.solve(np.full(4, 1.0))
    u2 = p.solve(np.full(4, 0.5))
    np.testing.assert_allclose(u2, 2 * u1, rtol=1e-12)
    # The max of -Laplace u = 1 on the unit square is about 0.0737.
    assert u1.max() == pytest.approx(0.0737, abs=0.003)


def test_registered_and_validates():
    assert PROBLEMS.get("thermal_block") is thermal_block
    p = thermal_block(blocks=2, n=4)
    assert p.space.names == ("k0", "k1", "k2", "k3")
    assert p.recipe == ("thermal_block", {"blocks": 2, "n": 4, "k_range": [0.1, 1.0]})
    with pytest.raises(ValueError, match="n: expected"):
        thermal_block(blocks=3, n=4)
    with pytest.raises(ValueError, match="k_range"):
        thermal_block(k_range=(0.0, 1.0))
