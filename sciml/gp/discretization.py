r"""Per-axis matrices of the Kronecker GP collocation for fixed kernel hyperparameters.

On a tensor grid with a product kernel the Gram matrix is :math:`K = \otimes_a K_a`. Each
axis stores the eigendecomposition :math:`K_a + \epsilon_a I = Q_a \Lambda_a Q_a^\top` and the
whitening :math:`U = (\otimes_a R_a) V` with :math:`R_a = Q_a \Lambda_a^{1/2}`, under which the
GP prior is :math:`\tfrac12 \|V\|^2`. The GP conditional mean gives the derivative of order
:math:`k` along axis :math:`a` as :math:`K_a^{(k)} (K_a + \epsilon_a I)^{-1} U`, so in whitened
coordinates a derivative with orders :math:`(k_1, \dots, k_d)` is the Kronecker product of
:math:`F_{k_a, a} = K_a^{(k_a)} Q_a \Lambda_a^{-1/2}` (and :math:`F_{0, a} = R_a`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from sciml.gp.kernels import StationaryKernel
from sciml.linalg.batched import symmetric_eigh
from sciml.linalg.kronecker import kron_matvec

__all__ = ["AxisFactors", "Discretization"]

Counts = tuple[int, ...]


class AxisFactors:
    """Whitening and derivative matrices of one axis.

    Parameters
    ----------
    kernel : StationaryKernel
    coords : tensor, shape ``(n,)``
    jitter : float
        Relative nugget: ``epsilon = jitter * k(0)``.
    rank_tol : float
        Keep the eigenpairs with ``lambda >= rank_tol * max(lambda)``. Directions below carry
        almost no prior mass but make the whitened least-squares problem ill-conditioned;
        dropping them is a spectral cut-off regularisation. ``0`` keeps all.
    """

    def __init__(
        self, kernel: StationaryKernel, coords: torch.Tensor, jitter: float, rank_tol: float = 0.0
    ) -> None:
        with torch.no_grad():
            gram = kernel(coords, coords)
            scale = float(kernel.variance())
            self.epsilon = jitter * scale
            lam, q = symmetric_eigh(gram, self.epsilon)
            # Round-off can leave eigenvalues of a PSD kernel slightly below the nugget.
            lam = lam.clamp_min(self.epsilon)
            if rank_tol > 0:
                keep = lam >= rank_tol * lam.max()
                lam, q = lam[keep], q[:, keep]
        self.kernel = kernel
        self.coords = coords
        self.eigenvalues = lam
        self.eigenvectors = q
        self.sqrt = q * lam.sqrt()
        self.inv_sqrt = q / lam.sqrt()
        self._cache: dict[int, torch.Tensor] = {0: self.sqrt}

    def factor(self, order: int) -> torch.Tensor:
        """``F_k``: maps whitened coordinates to the ``k``-th derivative on the grid, ``(n, m)``."""
        if order not in self._cache:
            with torch.no_grad():
                self._cache[order] = self.kernel(self.coords, self.coords, dx=order) @ self.inv_sqrt
        return self._cache[order]

    def kinv(self) -> torch.Tensor:
        """``(K + epsilon I)^{-1}``, shape ``(n, n)``."""
        return self.inv_sqrt @ self.inv_sqrt.mT


class Discretization:
    """The per-axis factors of every axis of a grid.

    Parameters
    ----------
    kernels : sequence of StationaryKernel
        One kernel per axis.
    coords : sequence of tensors, each ``(n_a,)``
        Grid coordinates per axis.
    jitter : float
        Relative nugget of each axis Gram matrix.
    rank_tol : float
        Spectral cut-off. Per axis, eigenpairs with ``lambda < rank_tol * max(lambda)`` are
        dropped (this shrinks the tensors). The eigenvalues of the full Gram matrix
        ``K = ⊗ K_a`` are the products ``prod_a lambda_{i_a}``, and a per-axis cut alone keeps
        products down to ``rank_tol**d`` relative to the largest. Directions with such tiny
        products are almost invisible in the grid values (``sqrt(lambda) v``) but their
        derivatives on the grid and their values between grid points are not, so a
        collocation fit with a high residual precision loads them with huge weights: on 3-D
        grids this left the grid values right and the prediction between them wrong by O(1).
        So the products are also cut at ``rank_tol**2`` (the floor the per-axis cut already
        gives on 2-D grids, where the joint cut removes nothing) through the boolean
        :attr:`mask` on the whitened tensor; ``mask`` is ``None`` when it keeps everything.
    """

    def __init__(
        self,
        kernels: Sequence[StationaryKernel],
        coords: Sequence[torch.Tensor],
        jitter: float,
        rank_tol: float = 0.0,
    ) -> None:
        self.axes = [AxisFactors(k, c, jitter, rank_tol) for k, c in zip(kernels, coords)]
        self.mask: torch.Tensor | None = None
        if rank_tol > 0 and len(self.axes) > 1:
            rel = _outer_product([a.eigenvalues / a.eigenvalues.max() for a in self.axes])
            # The slack keeps 2-D products exactly at the floor despite round-off.
            keep = rel >= rank_tol**2 * (1.0 - 1e-9)
            if not bool(keep.all()):
                self.mask = keep

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape ``(n_1, ..., n_d)``."""
        return tuple(a.coords.numel() for a in self.axes)

    @property
    def rank(self) -> tuple[int, ...]:
        """Whitened shape ``(m_1, ..., m_d)`` (eigenpairs kept per axis)."""
        return tuple(a.eigenvalues.numel() for a in self.axes)

    @property
    def n_unknowns(self) -> int:
        """Number of whitened unknowns left after the joint cut-off."""
        if self.mask is None:
            return math.prod(self.rank)
        return int(self.mask.sum())

    def project(self, v: torch.Tensor) -> torch.Tensor:
        """Zero the whitened directions removed by the joint cut-off."""
        return v if self.mask is None else v * self.mask

    def zeros(self) -> torch.Tensor:
        """Whitened coordinates of ``U = 0``."""
        first = self.axes[0].sqrt
        return torch.zeros(self.rank, dtype=first.dtype, device=first.device)

    def apply(self, counts: Counts, v: torch.Tensor) -> torch.Tensor:
        """``F_s v`` for derivative orders ``counts``; ``v`` and the result are grid-shaped."""
        return kron_matvec([a.factor(k) for a, k in zip(self.axes, counts)], self.project(v))

    def apply_t(self, counts: Counts, w: torch.Tensor) -> torch.Tensor:
        """``F_s^T w`` (zero on the directions removed by the joint cut-off)."""
        return self.project(kron_matvec([a.factor(k).mT for a, k in zip(self.axes, counts)], w))

    def values(self, v: torch.Tensor) -> torch.Tensor:
        """Grid values ``U = (⊗ R_a) V``."""
        return self.apply((0,) * len(self.axes), v)

    def whiten(self, u: torch.Tensor) -> torch.Tensor:
        """``V = (⊗ R_a)^+ U`` (the projection onto the kept eigenpairs)."""
        return self.project(kron_matvec([a.inv_sqrt.mT for a in self.axes], u))

    def alpha(self, v: torch.Tensor) -> torch.Tensor:
        """Kernel weights ``(K + epsilon)^{-1} U = (⊗ Q_a Lambda_a^{-1/2}) V``."""
        return kron_matvec([a.inv_sqrt for a in self.axes], self.project(v))

    def dense(self, counts: Counts) -> torch.Tensor:
        """Dense ``F_s`` for a single axis (1-D problems only)."""
        if len(self.axes) != 1:
            raise ValueError("dense: only for 1-D grids; n-D grids stay in Kronecker form")
        return self.axes[0].factor(counts[0])


def _outer_product(vectors: Sequence[torch.Tensor]) -> torch.Tensor:
    """``v_1 ⊗ ... ⊗ v_d`` as a tensor ``(n_1, ..., n_d)``."""
    out = vectors[0]
    for v in vectors[1:]:
        out = out.unsqueeze(-1) * v
    return out
