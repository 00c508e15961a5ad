import numpy as np
import pytest
import scipy.sparse.linalg as spla

from sciml.reference.fem import (
    StiffnessAssembler,
    assemble_load,
    assemble_mass,
    assemble_stiffness,
    interval_mesh,
    unit_square_mesh,
)


def test_mesh_counts_and_areas():
    mesh = unit_square_mesh(4)
    assert mesh.n_nodes == 25 and mesh.triangles.shape == (32, 3)
    assert mesh.areas.sum() == pytest.approx(1.0)
    assert mesh.interior_nodes.size == 9 and mesh.boundary_nodes.size == 16


def test_stiffness_and_mass_against_hand_values():
    mesh = unit_square_mesh(3)
    k = assemble_stiffness(mesh).toarray()
    m = assemble_mass(mesh).toarray()
    np.testing.assert_allclose(k, k.T, atol=1e-14)
    np.testing.assert_allclose(k.sum(1), 0.0, atol=1e-12)  # constants are in the kernel
    assert m.sum() == pytest.approx(1.0)  # int 1 * 1
    x, y = mesh.points.T
    # a(x, x) = int |grad x|^2 = 1 and int x y = 1/4 are exact for P1 fields.
    assert x @ k @ x == pytest.approx(1.0)
    assert x @ m @ y == pytest.approx(0.25)
    # The interior 5-point stencil of the P1 Laplacian on this mesh: 4 on the diagonal.
    centre = mesh.interior_nodes[0]
    assert k[centre, centre] == pytest.approx(4.0)


def test_poisson_converges_at_second_order():
    # -Laplace u = 2 pi^2 sin(pi x) sin(pi y): nodal max error decays like h^2.
    errors = []
    for n in (8, 16, 32):
        mesh = unit_square_mesh(n)
        x, y = mesh.centroids.T
        f = 2 * np.pi**2 * np.sin(np.pi * x) * np.sin(np.pi * y)
        dofs = mesh.interior_nodes
        a = assemble_stiffness(mesh)[dofs][:, dofs]
        # a consistent P1 load: mass matrix times the nodal interpolant
        px, py = mesh.points.T
        b = (assemble_mass(mesh) @ (2 * np.pi**2 * np.sin(np.pi * px) * np.sin(np.pi * py)))
        u = spla.spsolve(a.tocsc(), b[dofs])
        exact = np.sin(np.pi * px[dofs]) * np.sin(np.pi * py[dofs])
        errors.append(np.max(np.abs(u - exact)))
        assert assemble_load(mesh, f).sum() == pytest.approx(f @ mesh.areas)
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 1.8)


def test_assembler_matches_direct_assembly_and_entries():
    mesh = unit_square_mesh(6)
    rng = np.random.default_rng(0)
    coeff = rng.uniform(0.5, 2.0, mesh.triangles.shape[0])
    asm = StiffnessAssembler(mesh)
    dofs = mesh.interior_nodes
    direct = assemble_stiffness(mesh, coeff)[dofs][:, dofs].toarray()
    np.testing.assert_allclose(asm.matrix(coeff).toarray(), direct, atol=1e-13)
    batch = asm.data(np.stack([coeff, 2 * coeff]))
    np.testing.assert_allclose(batch[1], 2 * batch[0])
    rows, cols = np.array([0, 3, 7]), np.array([0, 4, 7])
    sub, used = asm.entries_map(rows, cols)
    np.testing.assert_allclose(sub @ coeff[used], direct[rows, cols], atol=1e-13)
    assert used.size <= 6 + 6 + 2  # only the elements around the entries
    with pytest.raises(ValueError, match="not in the sparsity pattern"):
        asm.slots(np.array([0]), np.array([20]))


def test_interval_mesh_assembler():
    mesh = interval_mesh(5)
    asm = StiffnessAssembler(mesh)
    a = asm.matrix(np.ones(5)).toarray()
    h = 0.2
    expected = (2 * np.eye(4) - np.eye(4, k=1) - np.eye(4, k=-1)) / h
    np.testing.assert_allclose(a, expected)
    np.testing.assert_allclose(mesh.load(1.0), h)
    with pytest.raises(ValueError, match="n: expected"):
        unit_square_mesh(0)
