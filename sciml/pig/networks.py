"""Networks of the physics-informed solvers: the PIG model (Gaussian embedding + small MLP) and
the PINN baseline (MLP, optional random Fourier features).

Both take points in physical coordinates ``(n, dim)`` and map them affinely onto ``[-1, 1]``
first, so widths and frequencies are relative to the domain; autograd derivatives with respect
to the physical coordinates include that scaling automatically.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from sciml.core.validation import describe
from sciml.pig.embedding import GaussianEmbedding
from sciml.pig.jet import Jet

__all__ = ["MLP", "FourierFeatures", "PIGNetwork", "PINNNetwork"]


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {describe(value)}")
    return value


class MLP(nn.Module):
    """Fully connected tanh network ``in_dim -> width (x depth) -> out_dim``, Xavier init.

    Parameters
    ----------
    in_dim, out_dim : int
        Input and output sizes.
    width : int
        Hidden size.
    depth : int
        Number of hidden layers (0 gives a linear map).
    seed : int
        Seed of the initialisation.
    """

    def __init__(self, in_dim: int, out_dim: int, width: int, depth: int, seed: int = 0) -> None:
        super().__init__()
        _check_int("in_dim", in_dim, 1)
        _check_int("out_dim", out_dim, 1)
        _check_int("width", width, 1)
        _check_int("depth", depth, 0)
        gen = torch.Generator().manual_seed(int(seed))
        sizes = [in_dim] + [width] * depth + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        for layer in self.layers:
            bound = math.sqrt(6.0 / (layer.in_features + layer.out_features))
            with torch.no_grad():
                layer.weight.copy_((torch.rand(layer.weight.shape, generator=gen) * 2 - 1) * bound)
                layer.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, in_dim) -> (n, out_dim)``."""
        for layer in self.layers[:-1]:
            x = torch.tanh(layer(x))
        return self.layers[-1](x)

    def jet(self, x: Jet) -> Jet:
        """Propagate a :class:`~sciml.pig.jet.Jet` of the inputs ``(n, in_dim)``."""
        for layer in self.layers[:-1]:
            x = x.linear(layer).tanh()
        return x.linear(self.layers[-1])


class FourierFeatures(nn.Module):
    """Fixed random Fourier features ``[cos(2 pi B x), sin(2 pi B x)]``, ``B ~ N(0, scale^2)``.

    Parameters
    ----------
    in_dim : int
        Input size.
    n_features : int
        Number of frequencies (the output has ``2 n_features`` columns).
    scale : float
        Standard deviation of the frequencies (in cycles per unit of the normalised input).
    seed : int
        Seed of the frequencies.
    """

    def __init__(self, in_dim: int, n_features: int, scale: float = 1.0, seed: int = 0) -> None:
        super().__init__()
        _check_int("n_features", n_features, 1)
        if not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(f"scale: expected a positive number, got {describe(scale)}")
        gen = torch.Generator().manual_seed(int(seed))
        self.register_buffer("freqs", torch.randn(in_dim, n_features, generator=gen) * scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, in_dim) -> (n, 2 n_features)``."""
        proj = 2 * math.pi * x @ self.freqs
        return torch.cat([torch.cos(proj), torch.sin(proj)], dim=-1)

    def jet(self, x: Jet) -> Jet:
        """Propagate a :class:`~sciml.pig.jet.Jet` of the inputs ``(n, in_dim)``."""
        proj = Jet(
            2 * math.pi * x.value @ self.freqs,
            2 * math.pi * x.grad @ self.freqs,
            None if x.hess is None else 2 * math.pi * x.hess @ self.freqs,
        )
        # cos' = -sin, cos'' = -cos; sin' = cos, sin'' = -sin.
        cos = proj.map(torch.cos, lambda v, c: (-torch.sin(v), -c))
        sin = proj.map(torch.sin, lambda v, s: (torch.cos(v), -s))
        return Jet(
            torch.cat([cos.value, sin.value], -1),
            torch.cat([cos.grad, sin.grad], -1),
            None if x.hess is None else torch.cat([cos.hess, sin.hess], -1),
        )


class _Normalised(nn.Module):
    """Base: stores the box and maps physical points onto ``[-1, 1]^dim``."""

    def __init__(self, lower: Sequence[float], upper: Sequence[float]) -> None:
        super().__init__()
        lo = torch.as_tensor(list(lower), dtype=torch.float64)
        hi = torch.as_tensor(list(upper), dtype=torch.float64)
        self.register_buffer("lower", lo)
        self.register_buffer("upper", hi)
        # Subclasses add their own options: the whole dict rebuilds the network.
        self.config: dict[str, Any] = {
            "lower": [float(v) for v in lower],
            "upper": [float(v) for v in upper],
        }

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * (x - self.lower) / (self.upper - self.lower) - 1

    def jet(self, x: torch.Tensor, order: int = 2) -> Jet:
        """Value ``(n,)``, derivatives ``(dim, n)`` and (``order=2``) pure second derivatives
        ``(dim, n)`` at physical points ``x`` ``(n, dim)``, in one forward pass (see
        :mod:`sciml.pig.jet`).
        """
        out = self._jet(self.normalise(x), order)
        return out.squeeze(-1).scale_axes(2 / (self.upper - self.lower))

    def has_jet(self) -> bool:
        """Whether :meth:`jet` is available (it is for both networks)."""
        return True

    def _jet(self, z: torch.Tensor, order: int) -> Jet:
        raise NotImplementedError


class PIGNetwork(_Normalised):
    """Gaussian embedding followed by a small tanh MLP: ``u(x) = MLP(FE(x))``.

    Parameters
    ----------
    lower, upper : sequence of float
        The domain box (physical units).
    n_gaussians, features, covariance, sigma_init, centres, feature_init, cutoff, chunk_size
        Passed to :class:`~sciml.pig.embedding.GaussianEmbedding` (``sigma_init`` is relative
        to the normalised box ``[-1, 1]^dim``).
    width, depth : int
        Hidden size and hidden layers of the MLP (default ``4 -> 16 -> 1``).
    seed : int
        Seed of the initialisation.
    """

    def __init__(
        self,
        lower: Sequence[float],
        upper: Sequence[float],
        n_gaussians: int = 800,
        features: int = 4,
        covariance: str = "diagonal",
        sigma_init: float = 0.1,
        centres: str = "uniform",
        feature_init: float = 0.01,
        cutoff: float | None = None,
        chunk_size: int | None = None,
        width: int = 16,
        depth: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__(lower, upper)
        dim = len(list(lower))
        self.config.update(
            n_gaussians=n_gaussians, features=features, covariance=covariance,
            sigma_init=sigma_init, centres=centres, feature_init=feature_init, cutoff=cutoff,
            chunk_size=chunk_size, width=width, depth=depth, seed=seed,
        )
        self.embedding = GaussianEmbedding(
            n_gaussians,
            dim,
            features=features,
            covariance=covariance,
            sigma_init=sigma_init,
            centres=centres,
            feature_init=feature_init,
            cutoff=cutoff,
            chunk_size=chunk_size,
            seed=seed,
        )
        self.mlp = MLP(features, 1, width, depth, seed=seed + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, dim) -> (n,)``."""
        return self.mlp(self.embedding(self.normalise(x))).squeeze(-1)

    def _jet(self, z: torch.Tensor, order: int) -> Jet:
        return self.mlp.jet(self.embedding.jet(z, order))

    def physical_gaussians(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Centres ``(N, dim)`` and covariances ``(N, dim, dim)`` in physical coordinates."""
        scale = (self.upper - self.lower) / 2
        mu = self.lower + (self.embedding.mu + 1) * scale
        cov = self.embedding.covariances() * scale[:, None] * scale[None, :]
        return mu.detach(), cov.detach()


class PINNNetwork(_Normalised):
    """Plain physics-informed network: ``u(x) = MLP([FF](x))``.

    Parameters
    ----------
    lower, upper : sequence of float
        The domain box.
    width, depth : int
        Hidden size and number of hidden layers.
    fourier_features : int
        Number of random Fourier frequencies (0: none).
    fourier_scale : float
        Their standard deviation.
    seed : int
        Seed of the initialisation.
    """

    def __init__(
        self,
        lower: Sequence[float],
        upper: Sequence[float],
        width: int = 64,
        depth: int = 4,
        fourier_features: int = 0,
        fourier_scale: float = 1.0,
        seed: int = 0,
    ) -> None:
        super().__init__(lower, upper)
        dim = len(list(lower))
        _check_int("fourier_features", fourier_features, 0)
        self.config.update(
            width=width, depth=depth, fourier_features=fourier_features,
            fourier_scale=fourier_scale, seed=seed,
        )
        self.features = (
            FourierFeatures(dim, fourier_features, fourier_scale, seed=seed + 2)
            if fourier_features
            else None
        )
        in_dim = 2 * fourier_features if fourier_features else dim
        self.mlp = MLP(in_dim, 1, width, depth, seed=seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, dim) -> (n,)``."""
        h = self.normalise(x)
        if self.features is not None:
            h = self.features(h)
        return self.mlp(h).squeeze(-1)

    def _jet(self, z: torch.Tensor, order: int) -> Jet:
        h = Jet.identity(z, order)
        if self.features is not None:
            h = self.features.jet(h)
        return self.mlp.jet(h)
