"""``PIGSolver``: physics-informed Gaussians (Gaussian embedding + small MLP) on a PDE residual.

The solution is ``u(x) = MLP(FE(x))`` with ``FE`` the :class:`~sciml.pig.GaussianEmbedding` of
``N`` Gaussians whose centres, covariances and features are trained together with the MLP
(default ``k = 4 -> 16 -> 1``, tanh) by the physics-informed loss of
:mod:`sciml.pig.training` (Kang et al., ICLR 2025).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.core.grid import Box
from sciml.core.registry import SOLVERS
from sciml.pig.networks import PIGNetwork
from sciml.pig.training import PhysicsInformedSolver, Training

__all__ = ["PIGSolver"]


@SOLVERS.register()
class PIGSolver(PhysicsInformedSolver):
    """Physics-informed Gaussians.

    Parameters
    ----------
    n_gaussians : int
        Number of Gaussians ``N``.
    features : int
        Feature size ``k`` of each Gaussian (the MLP input).
    covariance : {"diagonal", "full"}
        Covariance parameterisation.
    sigma_init : float
        Initial width, relative to the domain mapped onto ``[-1, 1]^dim``.
    centres : {"uniform", "sobol"}
        Initial layout of the centres (see :class:`~sciml.pig.GaussianEmbedding`).
    feature_init : float
        Standard deviation of the initial features.
    cutoff : float or None
        Truncation radius in standard deviations for large ``N`` (``None``: exact).
    chunk_size : int or None
        Points per chunk in the embedding.
    width, depth : int
        Hidden size and hidden layers of the MLP.
    training : Training, optional
        Optimisation options.
    hard_dirichlet, dtype, device, seed, progress
        See :class:`~sciml.pig.training.PhysicsInformedSolver`.

    Attributes
    ----------
    model_ : nn.Module
        The trained model (``(n, dim) -> (n,)``).
    initial_gaussians_ : tuple of arrays
        Centres ``(N, dim)`` and covariances ``(N, dim, dim)`` at initialisation, physical
        units (for plots of the adaptive mesh).
    history_ : list of dict
        Losses during training.

    Examples
    --------
    >>> from sciml.problems.helmholtz import helmholtz_2d
    >>> from sciml.pig import PIGSolver, Training
    >>> problem = helmholtz_2d(a1=1, a2=1)
    >>> solver = PIGSolver(n_gaussians=64, training=Training(adam_steps=5), progress=False)
    >>> report = problem.evaluate(solver.fit(problem))
    """

    def __init__(
        self,
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
        training: Training | None = None,
        hard_dirichlet: bool = False,
        dtype: str = "float64",
        device: str = "auto",
        seed: int = 0,
        progress: bool = True,
    ) -> None:
        super().__init__(training, hard_dirichlet, dtype, device, seed, progress)
        self._store_options(
            n_gaussians=n_gaussians, features=features, covariance=covariance,
            sigma_init=sigma_init, centres=centres, feature_init=feature_init, cutoff=cutoff,
            chunk_size=chunk_size, width=width, depth=depth,
        )
        # Validate the options now (constructing a throwaway network is cheap).
        PIGNetwork([0.0], [1.0], **self._options(), seed=0)

    def _build_network(self, domain: Box) -> nn.Module:
        return PIGNetwork(
            domain.lower.tolist(),
            domain.upper.tolist(),
            **self._options(),
            seed=self.seed,
        )

    @classmethod
    def _network_from_config(cls, config: Mapping[str, Any]) -> nn.Module:
        return PIGNetwork(**config)

    def _on_fit_start(self, network: nn.Module) -> None:
        mu, cov = network.physical_gaussians()
        self.initial_gaussians_ = (mu.cpu().double().numpy(), cov.cpu().double().numpy())

    def gaussians(self) -> tuple[np.ndarray, np.ndarray]:
        """Current centres ``(N, dim)`` and covariances ``(N, dim, dim)``, physical units."""
        self._check_fitted("gaussians")
        mu, cov = self.network_.physical_gaussians()
        return mu.cpu().double().numpy(), cov.cpu().double().numpy()

    def _extra_state(self) -> dict[str, Any]:
        mu, cov = self.initial_gaussians_
        return {"initial_mu": torch.as_tensor(mu), "initial_cov": torch.as_tensor(cov)}

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        if "initial_mu" in extra:
            self.initial_gaussians_ = (
                extra["initial_mu"].numpy(),
                extra["initial_cov"].numpy(),
            )
