"""``PINNSolver``: the plain physics-informed neural network baseline.

Same interface, loss and optimisers as :class:`~sciml.pig.PIGSolver` (see
:mod:`sciml.pig.training`); the model is a tanh MLP on the normalised coordinates, optionally
preceded by random Fourier features (Tancik et al. 2020), so any comparison is one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from sciml.core.grid import Box
from sciml.core.registry import SOLVERS
from sciml.pig.networks import PINNNetwork
from sciml.pig.training import PhysicsInformedSolver, Training

__all__ = ["PINNSolver"]


@SOLVERS.register()
class PINNSolver(PhysicsInformedSolver):
    """Physics-informed neural network.

    Parameters
    ----------
    width, depth : int
        Hidden size and number of hidden layers of the tanh MLP.
    fourier_features : int
        Number of random Fourier frequencies in front of the MLP (0: none).
    fourier_scale : float
        Standard deviation of those frequencies (cycles per unit of ``[-1, 1]``).
    training : Training, optional
        Optimisation options.
    hard_dirichlet, dtype, device, seed, progress
        See :class:`~sciml.pig.training.PhysicsInformedSolver`.
    """

    def __init__(
        self,
        width: int = 64,
        depth: int = 4,
        fourier_features: int = 0,
        fourier_scale: float = 1.0,
        training: Training | None = None,
        hard_dirichlet: bool = False,
        dtype: str = "float64",
        device: str = "auto",
        seed: int = 0,
        progress: bool = True,
    ) -> None:
        super().__init__(training, hard_dirichlet, dtype, device, seed, progress)
        self._store_options(
            width=width, depth=depth, fourier_features=fourier_features,
            fourier_scale=fourier_scale,
        )
        PINNNetwork([0.0], [1.0], **self._options(), seed=0)

    def _build_network(self, domain: Box) -> nn.Module:
        return PINNNetwork(
            domain.lower.tolist(), domain.upper.tolist(), **self._options(), seed=self.seed
        )

    @classmethod
    def _network_from_config(cls, config: Mapping[str, Any]) -> nn.Module:
        return PINNNetwork(**config)
