"""P1 finite elements on structured triangulations of the unit square (and on intervals).

The weak form of ``-div(k grad u) = f`` with homogeneous Dirichlet conditions is
``sum_e k_e int_e grad u . grad v = int f v``, with ``k`` constant per element. Element
matrices are computed for all triangles at once and assembled with ``scipy.sparse``.

:class:`StiffnessAssembler` precomputes the sparsity pattern and the linear map from element
coefficients to the nonzero values, so that assembling for a new coefficient (or for a batch
of coefficients) is one sparse matrix product, and a few entries cost only the elements that
touch them -- what the online stage of an empirical interpolation needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

__all__ = [
    "IntervalMesh",
    "StiffnessAssembler",
    "TriangleMesh",
    "assemble_load",
    "assemble_mass",
    "assemble_stiffness",
    "interval_mesh",
    "unit_square_mesh",
]


@dataclass(frozen=True)
class TriangleMesh:
    """A triangulation: node coordinates ``(n_nodes, 2)`` and triangles ``(n_triangles, 3)``.

    Attributes
    ----------
    points : ndarray ``(n_nodes, 2)``
    triangles : ndarray of int ``(n_triangles, 3)``, counter-clockwise
    n : int
        Cells per side of the structured square mesh it came from.
    """

    points: np.ndarray
    triangles: np.ndarray
    n: int

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.points.shape[0])

    @cached_property
    def centroids(self) -> np.ndarray:
        """Triangle centroids ``(n_triangles, 2)``."""
        return self.points[self.triangles].mean(axis=1)

    @cached_property
    def areas(self) -> np.ndarray:
        """Triangle areas ``(n_triangles,)``."""
        p = self.points[self.triangles]
        d1, d2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
        return 0.5 * np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0])

    @cached_property
    def boundary_nodes(self) -> np.ndarray:
        """Indices of nodes on the boundary of the unit square."""
        x, y = self.points[:, 0], self.points[:, 1]
        tol = 1e-12
        on = (x < tol) | (x > 1 - tol) | (y < tol) | (y > 1 - tol)
        return np.flatnonzero(on)

    @cached_property
    def interior_nodes(self) -> np.ndarray:
        """Indices of nodes off the boundary: the degrees of freedom with Dirichlet conditions."""
        mask = np.ones(self.n_nodes, dtype=bool)
        mask[self.boundary_nodes] = False
        return np.flatnonzero(mask)

    def extend(self, values: np.ndarray) -> np.ndarray:
        """Interior values ``(..., n_interior)`` to nodal values ``(..., n_nodes)`` (zero on the
        boundary)."""
        values = np.asarray(values)
        out = np.zeros((*values.shape[:-1], self.n_nodes), dtype=values.dtype)
        out[..., self.interior_nodes] = values
        return out


def unit_square_mesh(n: int) -> TriangleMesh:
    """The unit square cut into ``n x n`` squares, each split along its rising diagonal.

    Nodes are numbered row by row (``x`` fastest): node ``(i, j)`` at ``(i/n, j/n)`` is
    ``j * (n + 1) + i``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive number of cells per side, got {n!r}")
    n = int(n)
    t = np.linspace(0.0, 1.0, n + 1)
    xx, yy = np.meshgrid(t, t, indexing="xy")
    points = np.column_stack([xx.ravel(), yy.ravel()])
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="xy")
    ll = (j * (n + 1) + i).ravel()
    lr, ul, ur = ll + 1, ll + n + 1, ll + n + 2
    lower = np.column_stack([ll, lr, ur])
    upper = np.column_stack([ll, ur, ul])
    triangles = np.stack([lower, upper], axis=1).reshape(-1, 3)
    return TriangleMesh(points=points, triangles=triangles, n=n)


def _gradients(mesh: TriangleMesh) -> np.ndarray:
    """Gradients of the three barycentric functions on each triangle, ``(n_tri, 3, 2)``."""
    p = mesh.points[mesh.triangles]
    d1, d2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    det = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    # Rows of the inverse Jacobian transpose give grad(lambda_1), grad(lambda_2).
    g1 = np.column_stack([d2[:, 1], -d2[:, 0]]) / det[:, None]
    g2 = np.column_stack([-d1[:, 1], d1[:, 0]]) / det[:, None]
    return np.stack([-(g1 + g2), g1, g2], axis=1)


def _element_indices(mesh: TriangleMesh) -> tuple[np.ndarray, np.ndarray]:
    tri = mesh.triangles
    rows = np.repeat(tri, 3, axis=1).ravel()
    cols = np.tile(tri, (1, 3)).ravel()
    return rows, cols


def _coefficient(mesh: TriangleMesh, coefficient: float | np.ndarray | None) -> np.ndarray:
    n_tri = mesh.triangles.shape[0]
    if coefficient is None:
        return np.ones(n_tri)
    c = np.asarray(coefficient, dtype=float)
    if c.ndim == 0:
        return np.full(n_tri, float(c))
    if c.shape != (n_tri,):
        raise ValueError(
            f"coefficient: expected a scalar or one value per triangle ({n_tri},), got {c.shape}"
        )
    return c


def _local_stiffness(mesh: TriangleMesh) -> np.ndarray:
    """Element stiffness matrices for unit coefficient, ``(n_tri, 3, 3)``."""
    g = _gradients(mesh)
    return mesh.areas[:, None, None] * np.einsum("eid,ejd->eij", g, g)


def assemble_stiffness(
    mesh: TriangleMesh, coefficient: float | np.ndarray | None = None
) -> sp.csr_matrix:
    """Stiffness matrix ``K_ij = int k grad phi_j . grad phi_i`` on all nodes.

    Parameters
    ----------
    mesh : TriangleMesh
    coefficient : float or ndarray ``(n_triangles,)``, optional
        Conductivity, constant per triangle (default 1).

    Returns
    -------
    scipy.sparse.csr_matrix ``(n_nodes, n_nodes)``
    """
    c = _coefficient(mesh, coefficient)
    rows, cols = _element_indices(mesh)
    data = (c[:, None, None] * _local_stiffness(mesh)).ravel()
    return sp.csr_matrix((data, (rows, cols)), shape=(mesh.n_nodes, mesh.n_nodes))


def assemble_mass(mesh: TriangleMesh) -> sp.csr_matrix:
    """P1 mass matrix ``M_ij = int phi_j phi_i`` (exact), ``(n_nodes, n_nodes)``."""
    local = (np.ones((3, 3)) + np.eye(3)) / 12.0
    rows, cols = _element_indices(mesh)
    data = (mesh.areas[:, None, None] * local[None]).ravel()
    return sp.csr_matrix((data, (rows, cols)), shape=(mesh.n_nodes, mesh.n_nodes))


def assemble_load(mesh: TriangleMesh, f: float | np.ndarray = 1.0) -> np.ndarray:
    """Load vector ``b_i = int f phi_i`` for ``f`` constant per triangle (one-point rule).

    Parameters
    ----------
    f : float or ndarray ``(n_triangles,)``

    Returns
    -------
    ndarray ``(n_nodes,)``
    """
    values = _coefficient(mesh, f)
    contrib = np.repeat((values * mesh.areas / 3.0)[:, None], 3, axis=1)
    return np.bincount(mesh.triangles.ravel(), weights=contrib.ravel(), minlength=mesh.n_nodes)


class StiffnessAssembler:
    """Stiffness matrices on the interior nodes of a mesh for many coefficients.

    The nonzero values are a linear function of the per-element coefficient:
    ``data = P @ k`` with ``P`` sparse ``(nnz, n_elements)``. Matrices share one CSR pattern.

    Parameters
    ----------
    mesh : TriangleMesh or IntervalMesh
    """

    def __init__(self, mesh: TriangleMesh | IntervalMesh) -> None:
        self.mesh = mesh
        dofs = mesh.interior_nodes
        n_el = mesh.n_elements if isinstance(mesh, IntervalMesh) else mesh.triangles.shape[0]
        local = _local_stiffness(mesh) if isinstance(mesh, TriangleMesh) else mesh.local_stiffness()
        cells = mesh.triangles if isinstance(mesh, TriangleMesh) else mesh.cells
        k = cells.shape[1]
        rows = np.repeat(cells, k, axis=1).ravel()
        cols = np.tile(cells, (1, k)).ravel()
        elems = np.repeat(np.arange(n_el), k * k)
        new = -np.ones(mesh.n_nodes, dtype=np.int64)
        new[dofs] = np.arange(dofs.size)
        keep = (new[rows] >= 0) & (new[cols] >= 0)
        r, c, e, v = new[rows[keep]], new[cols[keep]], elems[keep], local.ravel()[keep]
        n = dofs.size
        # One CSR pattern; ``slot`` says where each element contribution lands in ``data``.
        pattern = sp.csr_matrix((np.ones_like(v), (r, c)), shape=(n, n))
        pattern.sum_duplicates()
        pattern.sort_indices()
        self.indptr, self.indices = pattern.indptr, pattern.indices
        row_of_slot = np.repeat(np.arange(n), np.diff(self.indptr))
        key = row_of_slot.astype(np.int64) * n + self.indices
        slot = np.searchsorted(key, r.astype(np.int64) * n + c)
        self.map = sp.csr_matrix((v, (slot, e)), shape=(key.size, n_el))
        self.rows, self.cols = row_of_slot, self.indices.copy()
        self.shape = (n, n)

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return int(self.indices.size)

    def data(self, coefficients: np.ndarray) -> np.ndarray:
        """Nonzero values for coefficients ``(n_elements,)`` or ``(batch, n_elements)``;
        returns ``(nnz,)`` or ``(batch, nnz)``."""
        c = np.asarray(coefficients, dtype=float)
        return (self.map @ c.T).T

    def matrix(self, coefficient: np.ndarray) -> sp.csr_matrix:
        """The interior stiffness matrix ``(n_dofs, n_dofs)`` for one coefficient."""
        return sp.csr_matrix(
            (self.data(coefficient), self.indices.copy(), self.indptr.copy()), shape=self.shape
        )

    def slots(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Positions in ``data`` of entries ``(rows[i], cols[i])`` (which must be stored)."""
        n = self.shape[0]
        key = self.rows.astype(np.int64) * n + self.cols
        want = np.asarray(rows, dtype=np.int64) * n + np.asarray(cols, dtype=np.int64)
        pos = np.searchsorted(key, want)
        pos = np.minimum(pos, key.size - 1)
        if np.any(key[pos] != want):
            raise ValueError("rows, cols: some requested entries are not in the sparsity pattern")
        return pos

    def entries_map(self, rows: np.ndarray, cols: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """For entries ``(rows, cols)``: the restricted map ``(n_entries, n_used)`` and the
        indices ``(n_used,)`` of the only elements those entries depend on."""
        sub = self.map[self.slots(rows, cols)]
        used = np.unique(sub.indices)
        return sp.csr_matrix(sub[:, used]), used


@dataclass(frozen=True)
class IntervalMesh:
    """Nodes ``(n + 1,)`` of a mesh of ``[0, 1]`` with ``n`` elements; the ends are boundary."""

    nodes: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.nodes.size)

    @property
    def n_elements(self) -> int:
        """Number of elements."""
        return self.n_nodes - 1

    @cached_property
    def cells(self) -> np.ndarray:
        """Node indices of each element ``(n_elements, 2)``."""
        i = np.arange(self.n_elements)
        return np.column_stack([i, i + 1])

    @cached_property
    def midpoints(self) -> np.ndarray:
        """Element midpoints ``(n_elements,)``."""
        return 0.5 * (self.nodes[1:] + self.nodes[:-1])

    @cached_property
    def interior_nodes(self) -> np.ndarray:
        """Indices of the interior nodes (the degrees of freedom)."""
        return np.arange(1, self.n_nodes - 1)

    def local_stiffness(self) -> np.ndarray:
        """Element stiffness matrices for unit coefficient ``(n_elements, 2, 2)``."""
        h = np.diff(self.nodes)
        return np.array([[1.0, -1.0], [-1.0, 1.0]])[None] / h[:, None, None]

    def load(self, f: float = 1.0) -> np.ndarray:
        """Load vector of a constant ``f`` on the interior nodes ``(n_nodes - 2,)``."""
        h = np.diff(self.nodes)
        full = np.zeros(self.n_nodes)
        full[:-1] += 0.5 * f * h
        full[1:] += 0.5 * f * h
        return full[1:-1]


def interval_mesh(n: int) -> IntervalMesh:
    """A uniform mesh of ``[0, 1]`` with ``n`` elements."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected at least 2 elements, got {n!r}")
    return IntervalMesh(nodes=np.linspace(0.0, 1.0, int(n) + 1))
