"""Diffusion with a non-affine parametric coefficient, in 1-D and 2-D.

1-D, on ``(0, 1)`` with ``u(0) = u(1) = 0``:

    -(k(x; mu) u')' = 1,        k(x; mu) = 1 + 10 exp(-(x - mu)^2 / 0.02),   mu in [0, 1].

2-D, on the unit square with ``u = 0`` on the boundary:

    -div(k(x; mu) grad u) = 1,  k(x; mu) = 1 + 10 exp(-|x - (mu_1, mu_2)|^2 / 0.02).

P1 elements with ``k`` taken at element midpoints (centroids). ``A(mu)`` depends on ``mu``
through a Gaussian bump: there is no affine decomposition, so reduced bases need empirical
interpolation. The models are black boxes (:class:`~sciml.rom.LinearModel`) that assemble
matrices, plus a reduced assembly of a few entries (only the elements touching them) for the
online stage of :class:`~sciml.rom.MatrixEIM`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from sciml.core.parameters import ParameterSpace
from sciml.core.problem import ParametricProblem
from sciml.core.registry import PROBLEMS
from sciml.reference.fem import (
    StiffnessAssembler,
    assemble_load,
    interval_mesh,
    unit_square_mesh,
)
from sciml.rom.models import LinearModel

__all__ = ["bump_coefficient", "nonaffine_diffusion_1d", "nonaffine_diffusion_2d"]

WIDTH = 0.02
AMPLITUDE = 10.0


def bump_coefficient(points: np.ndarray, mus: np.ndarray) -> np.ndarray:
    """``k(x; mu) = 1 + 10 exp(-|x - mu|^2 / 0.02)`` at points ``(n, d)`` for ``(B, d)``
    parameters; returns ``(B, n)``."""
    pts = np.asarray(points, dtype=float).reshape(len(points), -1)
    mus = np.atleast_2d(np.asarray(mus, dtype=float))
    d2 = ((pts[None, :, :] - mus[:, None, :]) ** 2).sum(-1)
    return 1.0 + AMPLITUDE * np.exp(-d2 / WIDTH)


class _EntryEvaluator:
    """Entries ``A(mu)[rows, cols]`` from the coefficient on the elements that touch them."""

    def __init__(self, assembler: StiffnessAssembler, points: np.ndarray) -> None:
        self.assembler = assembler
        self.points = points
        self._cache: dict[tuple[bytes, bytes], tuple[sp.csr_matrix, np.ndarray]] = {}

    def __call__(self, mus: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        key = (np.asarray(rows).tobytes(), np.asarray(cols).tobytes())
        if key not in self._cache:
            self._cache[key] = self.assembler.entries_map(rows, cols)
        sub, used = self._cache[key]
        k = bump_coefficient(self.points[used], mus)
        return (sub @ k.T).T


def _model(
    assembler: StiffnessAssembler, points: np.ndarray, load: np.ndarray, space: ParameterSpace
) -> LinearModel:
    def operator(mu: np.ndarray) -> sp.csr_matrix:
        return assembler.matrix(bump_coefficient(points, mu)[0])

    def rhs(mu: np.ndarray) -> np.ndarray:
        return load

    def rhs_entries(mus: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return np.broadcast_to(load[rows], (np.atleast_2d(mus).shape[0], len(rows))).copy()

    product = assembler.matrix(np.ones(points.shape[0]))
    return LinearModel(
        space,
        operator,
        rhs,
        product,
        operator_entries=_EntryEvaluator(assembler, points),
        rhs_entries=rhs_entries,
    )


@PROBLEMS.register("nonaffine_diffusion_1d")
def nonaffine_diffusion_1d(n: int = 1001) -> ParametricProblem:
    """The 1-D problem with ``n`` elements (``n - 1`` unknowns; default 1000), ``mu`` in [0, 1].

    The model's ``mesh`` is the interval mesh; solutions live on its interior nodes.
    """
    mesh = interval_mesh(n)
    assembler = StiffnessAssembler(mesh)
    space = ParameterSpace({"mu": (0.0, 1.0)})
    model = _model(assembler, mesh.midpoints[:, None], mesh.load(1.0), space)
    model.mesh = mesh
    return ParametricProblem(
        space,
        model=model,
        name="nonaffine_diffusion_1d",
        recipe=("nonaffine_diffusion_1d", {"n": int(n)}),
    )


@PROBLEMS.register("nonaffine_diffusion_2d")
def nonaffine_diffusion_2d(
    n: int = 40, center_range: tuple[float, float] = (0.25, 0.75)
) -> ParametricProblem:
    """The 2-D problem on an ``n x n``-cell mesh, the bump centre ``(mu1, mu2)`` in a box."""
    mesh = unit_square_mesh(n)
    assembler = StiffnessAssembler(mesh)
    lo, hi = (float(v) for v in center_range)
    space = ParameterSpace({"mu1": (lo, hi), "mu2": (lo, hi)})
    load = assemble_load(mesh, 1.0)[mesh.interior_nodes]
    model = _model(assembler, mesh.centroids, load, space)
    model.mesh = mesh
    return ParametricProblem(
        space,
        model=model,
        name="nonaffine_diffusion_2d",
        recipe=("nonaffine_diffusion_2d", {"n": int(n), "center_range": [lo, hi]}),
    )
