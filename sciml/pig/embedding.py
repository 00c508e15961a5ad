r"""Gaussian feature embedding: the adaptive parametric mesh of physics-informed Gaussians.

.. math::

    \mathrm{FE}(x) = \sum_{i=1}^{N} f_i \exp\!\Bigl(-\tfrac12 (x - \mu_i)^\top \Sigma_i^{-1}
    (x - \mu_i)\Bigr), \qquad f_i \in \mathbb{R}^k,

with learnable centres :math:`\mu_i`, covariances :math:`\Sigma_i` and features :math:`f_i`
(Kang et al., "PIG: Physics-Informed Gaussians as Adaptive Parametric Mesh Representations",
ICLR 2025). A covariance is diagonal, :math:`\Sigma_i = \mathrm{diag}(\sigma_i)^2`, or full,
:math:`\Sigma_i = L_i L_i^\top` with :math:`L_i` lower triangular; the diagonal of
:math:`L_i` (and :math:`\sigma_i`) is stored as a logarithm, so every covariance stays
symmetric positive definite under any optimiser step.

Evaluation is exact by default. Large point batches are split into chunks (``chunk_size``);
with ``cutoff = c`` the points are sorted into spatially coherent chunks and each chunk only
sums the Gaussians whose centre lies within ``c`` marginal standard deviations of the chunk's
bounding box. A dropped Gaussian contributes at most ``exp(-c^2 / 2) |f_i|`` at any point of
the chunk (``c = 5`` gives ``3.7e-6``), so the truncation error is controlled by ``c``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from sciml.core.validation import describe
from sciml.pig.jet import Jet, check_order

__all__ = ["CENTRES", "COVARIANCES", "GaussianEmbedding"]

#: Allowed covariance parameterisations.
COVARIANCES = ("diagonal", "full")
#: Allowed initial layouts of the centres.
CENTRES = ("uniform", "sobol")


def _check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {describe(value)}")
    return int(value)


class _GaussianSum(torch.autograd.Function):
    """``exp(min(Z @ W, 0)) @ M`` with a hand-written backward pass.

    The ``(n, N)`` matrix of Gaussian values is the only large object: written by autograd from
    elementary operations, the forward and backward passes sweep it about twenty times
    (subtractions, scalings, the clamp, the exponential and their derivatives), which costs
    more than the matrix products. Here the forward pass sweeps it twice (clamp and exponential
    in place) and the backward pass once (the product with ``G``), around the matrix products.
    ``min(., 0)`` guards against the rounding of the expanded quadratic form (``q >= 0``); its
    gradient is passed through, which is exact where ``q > 0`` and changes nothing at ``q = 0``
    (a minimum of ``q``).

    Under ``create_graph`` (a derivative of a derivative, as for mixed partials) the backward
    pass is written with differentiable operations on a recomputed ``G``, so it can be
    differentiated again.
    """

    @staticmethod
    def forward(ctx: Any, Z: torch.Tensor, W: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
        G = (Z @ W).clamp_max_(0.0).exp_()
        ctx.save_for_backward(Z, W, M, G)
        return G @ M

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        Z, W, M, G = ctx.saved_tensors
        need_z, need_w, need_m = ctx.needs_input_grad
        if torch.is_grad_enabled():
            G = torch.exp((Z @ W).clamp_max(0.0))
            dS = (grad @ M.T) * G if need_z or need_w else None
        else:
            dS = (grad @ M.T).mul_(G) if need_z or need_w else None
        dZ = dS @ W.T if need_z else None
        dW = Z.T @ dS if need_w else None
        dM = G.T @ grad if need_m else None
        return dZ, dW, dM


class GaussianEmbedding(nn.Module):
    """``N`` learnable Gaussians mapping points ``(n, dim)`` to features ``(n, features)``.

    Parameters
    ----------
    n_gaussians : int
        Number of Gaussians ``N``.
    dim : int
        Dimension of the input points.
    features : int
        Feature size ``k`` of each Gaussian.
    covariance : {"diagonal", "full"}
        Axis-aligned widths, or a full covariance through a Cholesky factor.
    sigma_init : float
        Initial standard deviation along every axis (in the units of the inputs).
    lower, upper : float or sequence of float
        Box in which the centres are placed at initialisation.
    centres : {"uniform", "sobol"}
        Initial layout of the centres: i.i.d. uniform in the box, or the first ``N`` points of
        a scrambled Sobol sequence, which covers the box evenly for any ``N`` (no clusters or
        holes, so less spread between seeds).
    feature_init : float
        Standard deviation of the normal initialisation of the features.
    cutoff : float or None
        Truncation radius in standard deviations (see the module notes); ``None`` is exact.
    chunk_size : int or None
        Points per chunk; ``None`` evaluates all points at once (unless ``cutoff`` is set,
        which chunks by 4096).
    seed : int
        Seed of the initialisation.
    """

    def __init__(
        self,
        n_gaussians: int,
        dim: int,
        features: int = 4,
        covariance: str = "diagonal",
        sigma_init: float = 0.1,
        lower: float | list[float] = -1.0,
        upper: float | list[float] = 1.0,
        centres: str = "uniform",
        feature_init: float = 0.01,
        cutoff: float | None = None,
        chunk_size: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        n_gaussians = _check_positive_int("n_gaussians", n_gaussians)
        dim = _check_positive_int("dim", dim)
        features = _check_positive_int("features", features)
        if covariance not in COVARIANCES:
            raise ValueError(f"covariance: got {covariance!r}; allowed {COVARIANCES}")
        if centres not in CENTRES:
            raise ValueError(f"centres: got {centres!r}; allowed {CENTRES}")
        for name, value in (("sigma_init", sigma_init), ("feature_init", feature_init)):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name}: expected a positive number, got {describe(value)}")
        if cutoff is not None and (not isinstance(cutoff, (int, float)) or cutoff <= 0):
            raise ValueError(f"cutoff: expected a positive number or None, got {describe(cutoff)}")
        if chunk_size is not None:
            chunk_size = _check_positive_int("chunk_size", chunk_size)
        gen = torch.Generator().manual_seed(int(seed))
        lo = torch.as_tensor(lower, dtype=torch.float64).expand(dim)
        hi = torch.as_tensor(upper, dtype=torch.float64).expand(dim)
        if not bool(torch.all(hi > lo)):
            raise ValueError(
                f"lower, upper: need lower < upper on every axis, got {lower}, {upper}"
            )
        self.n_gaussians = n_gaussians
        self.dim = dim
        self.features = features
        self.covariance = covariance
        self.cutoff = None if cutoff is None else float(cutoff)
        self.chunk_size = chunk_size
        self.config = {
            "n_gaussians": n_gaussians,
            "dim": dim,
            "features": features,
            "covariance": covariance,
            "sigma_init": float(sigma_init),
            "lower": lo.tolist(),
            "upper": hi.tolist(),
            "centres": centres,
            "feature_init": float(feature_init),
            "cutoff": self.cutoff,
            "chunk_size": chunk_size,
            "seed": int(seed),
        }
        if centres == "sobol":
            engine = torch.quasirandom.SobolEngine(dim, scramble=True, seed=int(seed))
            unit = engine.draw(n_gaussians, dtype=torch.float64)
        else:
            unit = torch.rand(n_gaussians, dim, generator=gen, dtype=torch.float64)
        mu = lo + (hi - lo) * unit
        self.mu = nn.Parameter(mu.float())
        self.log_sigma = nn.Parameter(torch.full((n_gaussians, dim), math.log(sigma_init)))
        if covariance == "full":
            n_off = dim * (dim - 1) // 2
            self.offdiag = nn.Parameter(torch.zeros(n_gaussians, n_off))
            rows, cols = torch.tril_indices(dim, dim, offset=-1)
            self.register_buffer("_rows", rows, persistent=False)
            self.register_buffer("_cols", cols, persistent=False)
        feats = torch.randn(n_gaussians, features, generator=gen, dtype=torch.float64)
        self.weight = nn.Parameter((feature_init * feats).float())

    # -- geometry ------------------------------------------------------------------------------
    def cholesky(self) -> torch.Tensor:
        """Cholesky factors ``L`` with ``Sigma = L L^T``, shape ``(N, dim, dim)``."""
        L = torch.diag_embed(self.log_sigma.exp())
        if self.covariance == "full":
            off = L.new_zeros(L.shape)
            off[:, self._rows, self._cols] = self.offdiag
            L = L + off
        return L

    def covariances(self) -> torch.Tensor:
        """Covariance matrices ``Sigma_i``, shape ``(N, dim, dim)``."""
        L = self.cholesky()
        return L @ L.transpose(-1, -2)

    def marginal_std(self) -> torch.Tensor:
        """Standard deviation of each Gaussian along each axis, shape ``(N, dim)``."""
        if self.covariance == "diagonal":
            return self.log_sigma.exp()
        return self.cholesky().pow(2).sum(-1).sqrt()

    # -- evaluation ----------------------------------------------------------------------------
    def precisions(self) -> torch.Tensor:
        """Precision matrices ``Sigma_i^-1 = L_i^-T L_i^-1``, shape ``(N, dim, dim)``."""
        L = self.cholesky()
        eye = torch.eye(self.dim, dtype=L.dtype, device=L.device).expand_as(L)
        inv = torch.linalg.solve_triangular(L, eye, upper=False)
        return inv.transpose(-1, -2) @ inv

    def _exponent(
        self, x: torch.Tensor, index: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Factors ``Z`` ``(n, K)`` and ``W`` ``(K, N')`` with ``Z @ W = -q / 2``, where
        ``q_pi = (x_p - mu_i)^T Sigma_i^-1 (x_p - mu_i)``.

        The quadratic form is expanded as ``x^T P x - 2 x^T P mu + mu^T P mu``: ``Z`` holds the
        monomials of ``x`` (``x_a^2`` or ``x_a x_b``, ``x_a``, 1) and ``W`` their coefficients,
        so the ``(n, N)`` exponent is one thin matrix product (:class:`_GaussianSum`). The
        cancellation error is about ``eps |x|^2 / sigma^2``, harmless in float64 (and in float32
        for widths above about 1e-2 of the domain).
        """
        mu = self.mu if index is None else self.mu[index]
        ones = x.new_ones(x.shape[0], 1)
        if self.covariance == "diagonal":
            prec = torch.exp(-2 * self.log_sigma)
            prec = prec if index is None else prec[index]
            pmu = mu * prec
            Z = torch.cat([x * x, x, ones], dim=1)
            W = torch.cat([prec.T, -2 * pmu.T, (mu * pmu).sum(-1)[None, :]], dim=0)
        else:
            P = self.precisions() if index is None else self.precisions()[index]
            pmu = (P @ mu[:, :, None]).squeeze(-1)
            outer = (x[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)
            Z = torch.cat([outer, x, ones], dim=1)
            W = torch.cat(
                [P.reshape(P.shape[0], -1).T, -2 * pmu.T, (mu * pmu).sum(-1)[None, :]], dim=0
            )
        return Z, -0.5 * W

    def _dense(
        self, x: torch.Tensor, weight: torch.Tensor, index: torch.Tensor | None = None
    ) -> torch.Tensor:
        Z, W = self._exponent(x, index)
        return _GaussianSum.apply(Z, W, weight if index is None else weight[index])

    def _evaluate(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """``sum_i weight_i g_i(x)`` for any per-Gaussian ``weight`` ``(N, m)``: ``(n, m)``."""
        if self.cutoff is None:
            if self.chunk_size is None or x.shape[0] <= self.chunk_size:
                return self._dense(x, weight)
            return torch.cat([self._dense(c, weight) for c in x.split(self.chunk_size)])
        return self._truncated(x, weight, self.chunk_size or 4096)

    def _check_points(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x: expected shape (n, {self.dim}), got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features at ``x`` of shape ``(n, dim)``; returns ``(n, features)``."""
        self._check_points(x)
        return self._evaluate(x, self.weight)

    def jet(self, x: torch.Tensor, order: int = 2) -> Jet:
        r"""Features and their first and pure second derivatives at ``x`` ``(n, dim)``.

        With :math:`r_i = \Sigma_i^{-1}(x - \mu_i) = P_i x - m_i` and
        :math:`g_i = \exp(-\tfrac12 (x-\mu_i)^\top r_i)`, the derivatives are
        :math:`\partial_a g_i = -r_{ia} g_i` and
        :math:`\partial_a^2 g_i = (r_{ia}^2 - P_{i,aa}) g_i`. Both are polynomials in ``x``
        times :math:`g_i`, so every derivative is ``sum`` over monomials of ``x`` times one
        column block of a single product ``G @ M`` with ``G = [g_i(x_p)]`` ``(n, N)``: the
        cost is one embedding evaluation with ``k (1 + 5 dim)`` feature columns (diagonal
        covariances) instead of a double backward pass. Like :meth:`forward` the expansion
        trades a cancellation error of about ``eps |x|^2 / sigma^4`` for speed: use float64
        for widths below about 1e-2 of the domain.

        Parameters
        ----------
        x : tensor, shape ``(n, dim)``
        order : {1, 2}
            ``1`` skips the second derivatives (``k (1 + 2 dim)`` columns).

        Returns
        -------
        Jet
            ``value`` ``(n, features)``, ``grad`` and ``hess`` ``(dim, n, features)``
            (``hess`` is None for ``order=1``).
        """
        self._check_points(x)
        check_order(order)
        d, w = self.dim, self.weight
        if self.covariance == "diagonal":
            P = torch.diag_embed(torch.exp(-2 * self.log_sigma))
        else:
            P = self.precisions()
        m = (P @ self.mu[:, :, None]).squeeze(-1)
        # (coefficient (N,), monomial) per column block; a monomial is a tuple of axes.
        blocks: list[tuple[torch.Tensor, tuple[int, ...]]] = []
        diagonal = self.covariance == "diagonal"

        def add(coef: torch.Tensor, monomial: tuple[int, ...]) -> int:
            blocks.append((coef, monomial))
            return len(blocks) - 1

        grad_blocks: list[list[int]] = []
        hess_blocks: list[list[int]] = []
        for a in range(d):
            axes = [a] if diagonal else list(range(d))
            grad_blocks.append(
                [add(m[:, a], ())] + [add(-P[:, a, c], (c,)) for c in axes]
            )
            if order == 1:
                continue
            hb = [add(m[:, a] ** 2 - P[:, a, a], ())]
            hb += [add(-2 * P[:, a, c] * m[:, a], (c,)) for c in axes]
            hb += [
                add((1.0 if c == e else 2.0) * P[:, a, c] * P[:, a, e], (c, e))
                for i, c in enumerate(axes)
                for e in axes[i:]
            ]
            hess_blocks.append(hb)
        k = self.features
        M = torch.cat([w] + [coef[:, None] * w for coef, _ in blocks], dim=1)
        Y = self._evaluate(x, M)
        value = Y[:, :k]

        def combine(indices: list[int]) -> torch.Tensor:
            out = None
            for b in indices:
                _, monomial = blocks[b]
                part = Y[:, k * (b + 1) : k * (b + 2)]
                for c in monomial:
                    part = x[:, c : c + 1] * part
                out = part if out is None else out + part
            return out

        grad = torch.stack([combine(idx) for idx in grad_blocks])
        hess = torch.stack([combine(idx) for idx in hess_blocks]) if hess_blocks else None
        return Jet(value, grad, hess)

    def has_jet(self) -> bool:
        """Every covariance type has a closed-form jet (:meth:`jet`)."""
        return True

    def _truncated(self, x: torch.Tensor, weight: torch.Tensor, chunk: int) -> torch.Tensor:
        order = self._spatial_order(x.detach(), chunk)
        xs = x[order]
        reach = self.cutoff * self.marginal_std().detach()
        mu = self.mu.detach()
        parts = []
        for c in xs.split(chunk):
            lo = c.detach().min(0).values
            hi = c.detach().max(0).values
            near = torch.all((mu > lo - reach) & (mu < hi + reach), dim=1)
            index = near.nonzero().squeeze(1)
            if index.numel() == 0:
                parts.append(c.new_zeros(c.shape[0], weight.shape[1]) + 0 * c.sum())
            else:
                parts.append(self._dense(c, weight, index))
        out = torch.cat(parts)
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(order.numel(), device=order.device)
        return out[inverse]

    @staticmethod
    def _spatial_order(x: torch.Tensor, chunk: int) -> torch.Tensor:
        """A permutation that groups nearby points: sort by cell of a coarse grid."""
        n, dim = x.shape
        per_axis = max(1, math.ceil((n / chunk) ** (1.0 / dim)))
        lo = x.min(0).values
        span = (x.max(0).values - lo).clamp_min(1e-12)
        cells = ((x - lo) / span * per_axis).long().clamp_(0, per_axis - 1)
        key = torch.zeros(n, dtype=torch.long, device=x.device)
        for a in range(dim):
            key = key * per_axis + cells[:, a]
        return torch.argsort(key, stable=True)

    def extra_repr(self) -> str:
        return (
            f"n_gaussians={self.n_gaussians}, dim={self.dim}, features={self.features}, "
            f"covariance={self.covariance!r}, cutoff={self.cutoff}"
        )
