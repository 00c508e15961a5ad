r"""One-dimensional stationary kernels with closed-form derivatives in both arguments.

A stationary kernel is a function of the difference :math:`d = x - y`, :math:`k(x, y) =
\kappa(d)`, so every derivative is a derivative of the profile :math:`\kappa`:

.. math::

    \partial_x^p \partial_y^q k(x, y) = (-1)^q \kappa^{(p + q)}(x - y).

Each kernel implements :meth:`StationaryKernel.profile` ``(d, order)`` in closed form. Never
differentiate :math:`|x - y|` with autograd: its derivative at ``d = 0`` is undefined and
autograd returns a wrong diagonal for the second derivative.

Kernels
-------
- :class:`SquaredExponential`: :math:`s\, e^{-d^2 / (2 \ell^2)}` (orders up to 4).
- :class:`Matern52`: :math:`s\,(1 + a + a^2/3)\, e^{-a}`, :math:`a = \sqrt5 |d| / \ell`
  (twice differentiable: orders up to 2).
- :class:`SpectralMixture`: :math:`\sum_q w_q\, e^{-\rho_q^2 d^2} \cos(2\pi\mu_q d)`, a
  Gaussian mixture spectrum (orders up to 4).
- :class:`StudentTMixture`: :math:`\sum_q w_q\, \mathrm{Matern}_{5/2}(d; \rho_q)
  \cos(2\pi\mu_q d)`, a Student-t mixture spectrum (orders up to 2).

Mixture weights live in log space (``log_weights``), so a Jeffreys prior
:math:`p(w) \propto 1/w` adds :math:`\sum_q \log w_q` to the negative log joint
(:meth:`neg_log_prior`) and prunes unused components; frequencies :math:`\mu_q` (cycles per
unit length) start on a uniform grid up to ``max_frequency``.

A product kernel across dimensions is one 1-D kernel per axis (:class:`ProductKernel`); its
Gram matrix on a tensor grid is the Kronecker product of the per-axis Gram matrices.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from sciml.core.validation import check_positive, describe

__all__ = [
    "KERNELS",
    "Matern52",
    "ProductKernel",
    "SpectralMixture",
    "SquaredExponential",
    "StationaryKernel",
    "StudentTMixture",
    "make_kernel",
]


def _hermite(order: int, z: torch.Tensor) -> torch.Tensor:
    """Probabilists' Hermite polynomial He_order(z), orders 0 to 4."""
    if order == 0:
        return torch.ones_like(z)
    if order == 1:
        return z
    z2 = z * z
    if order == 2:
        return z2 - 1
    if order == 3:
        return z * (z2 - 3)
    return z2 * (z2 - 6) + 3


def _gaussian_derivative(d: torch.Tensor, rho: torch.Tensor, order: int) -> torch.Tensor:
    """``d^order/dd^order exp(-rho^2 d^2)`` in closed form (Hermite polynomials)."""
    scale = math.sqrt(2.0) * rho
    z = scale * d
    return (-scale) ** order * _hermite(order, z) * torch.exp(-0.5 * z * z)


def _matern52_derivative(d: torch.Tensor, rho: torch.Tensor, order: int) -> torch.Tensor:
    """``d^order/dd^order`` of the unit Matérn-5/2 profile with inverse length ``rho``.

    Written with ``|d|`` only inside ``a = sqrt(5) rho |d|``, where every formula is smooth in
    ``d`` up to order 2 (the odd powers of ``|d|`` cancel).
    """
    c = math.sqrt(5.0) * rho
    a = c * d.abs()
    e = torch.exp(-a)
    if order == 0:
        return (1 + a + a * a / 3) * e
    if order == 1:
        return -(c * c / 3) * d * (1 + a) * e
    return -(c * c / 3) * (1 + a - a * a) * e


class StationaryKernel(nn.Module, ABC):
    """Abstract base class of 1-D stationary kernels ``k(x, y) = profile(x - y)``.

    Subclasses implement :meth:`profile` in closed form and set :attr:`max_order`, the
    highest derivative order of the profile they provide.
    """

    #: Highest total derivative order ``p + q`` available.
    max_order: ClassVar[int] = 2

    @abstractmethod
    def profile(self, d: torch.Tensor, order: int = 0) -> torch.Tensor:
        """The ``order``-th derivative of the profile at differences ``d`` (any shape)."""

    @property
    @abstractmethod
    def config(self) -> dict[str, Any]:
        """JSON-serialisable constructor arguments (with the class name under ``"kind"``)."""

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, dx: int = 0, dy: int = 0
    ) -> torch.Tensor:
        """``d^dx/dx^dx d^dy/dy^dy k(x_i, y_j)``.

        Parameters
        ----------
        x : tensor, shape ``(n,)``
        y : tensor, shape ``(m,)``
        dx, dy : int
            Derivative orders in the first and second argument.

        Returns
        -------
        tensor, shape ``(n, m)``
        """
        order = int(dx) + int(dy)
        if dx < 0 or dy < 0 or order > self.max_order:
            raise ValueError(
                f"dx, dy: got ({dx}, {dy}); {type(self).__name__} provides derivatives of "
                f"total order 0 to {self.max_order}"
            )
        d = x.reshape(-1, 1) - y.reshape(1, -1)
        out = self.profile(d, order)
        return -out if dy % 2 else out

    def variance(self) -> torch.Tensor:
        """``k(x, x)``, a scalar tensor."""
        p = next(iter(self.parameters()))
        return self.profile(torch.zeros((), dtype=p.dtype, device=p.device), 0)

    def neg_log_prior(self) -> torch.Tensor:
        """Negative log prior of the hyperparameters (zero unless a subclass sets one)."""
        p = next(iter(self.parameters()))
        return torch.zeros((), dtype=p.dtype, device=p.device)


def _param(value: float, name: str) -> nn.Parameter:
    check_positive(name, value)
    return nn.Parameter(torch.tensor(math.log(value), dtype=torch.float64))


class _LengthscaleVariance(StationaryKernel):
    """Shared parameters of the one-lengthscale kernels: ``log_lengthscale``, ``log_variance``."""

    kind: ClassVar[str] = ""

    def __init__(self, lengthscale: float = 1.0, variance: float = 1.0) -> None:
        super().__init__()
        self.log_lengthscale = _param(lengthscale, "lengthscale")
        self.log_variance = _param(variance, "variance")

    @property
    def config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lengthscale": float(self.log_lengthscale.exp()),
            "variance": float(self.log_variance.exp()),
        }


class SquaredExponential(_LengthscaleVariance):
    """``s exp(-d^2 / (2 l^2))``; parameters ``log_lengthscale``, ``log_variance``.

    Parameters
    ----------
    lengthscale : float
        ``l > 0``.
    variance : float
        ``s > 0``.
    """

    kind = "squared_exponential"
    max_order = 4

    def profile(self, d: torch.Tensor, order: int = 0) -> torch.Tensor:
        rho = 1.0 / (math.sqrt(2.0) * self.log_lengthscale.exp())
        return self.log_variance.exp() * _gaussian_derivative(d, rho, order)


class Matern52(_LengthscaleVariance):
    """Matérn-5/2: ``s (1 + a + a^2/3) exp(-a)``, ``a = sqrt(5) |d| / l``.

    Twice differentiable, so derivatives up to total order 2 (enough for second-order PDEs).

    Parameters
    ----------
    lengthscale : float
        ``l > 0``.
    variance : float
        ``s > 0``.
    """

    kind = "matern52"
    max_order = 2

    def profile(self, d: torch.Tensor, order: int = 0) -> torch.Tensor:
        rho = 1.0 / self.log_lengthscale.exp()
        return self.log_variance.exp() * _matern52_derivative(d, rho, order)


class _Mixture(StationaryKernel):
    """Shared parameters of the mixture kernels: log weights, frequencies, log bandwidths."""

    kind: ClassVar[str] = ""

    def __init__(
        self,
        n_components: int = 30,
        max_frequency: float = 10.0,
        min_frequency: float = 0.0,
        bandwidth: float | None = None,
        variance: float = 1.0,
    ) -> None:
        super().__init__()
        if isinstance(n_components, bool) or not isinstance(n_components, int) or n_components < 1:
            raise ValueError(f"n_components: expected a positive integer, got {n_components!r}")
        check_positive("max_frequency", max_frequency)
        check_positive("min_frequency", min_frequency, allow_zero=True)
        check_positive("variance", variance)
        if min_frequency >= max_frequency:
            raise ValueError(
                f"min_frequency: got {min_frequency}, must be below max_frequency={max_frequency}"
            )
        q = n_components
        step = (max_frequency - min_frequency) / max(q - 1, 1)
        if bandwidth is None:
            # Neighbouring components overlap: the spectral std of exp(-rho^2 d^2) in cycles
            # per unit is rho / (sqrt(2) pi); set it to the grid step.
            bandwidth = math.sqrt(2.0) * math.pi * step
        check_positive("bandwidth", bandwidth)
        self.n_components = q
        self.max_frequency = float(max_frequency)
        self.min_frequency = float(min_frequency)
        self.log_weights = nn.Parameter(
            torch.full((q,), math.log(variance / q), dtype=torch.float64)
        )
        self.frequencies = nn.Parameter(
            torch.linspace(min_frequency, max_frequency, q, dtype=torch.float64)
        )
        self.log_rho = nn.Parameter(torch.full((q,), math.log(bandwidth), dtype=torch.float64))

    @property
    def weights(self) -> torch.Tensor:
        """Component weights ``w_q``, shape ``(Q,)``."""
        return self.log_weights.exp()

    @property
    def config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "n_components": self.n_components,
            "max_frequency": self.max_frequency,
            "min_frequency": self.min_frequency,
        }

    def neg_log_prior(self) -> torch.Tensor:
        """Jeffreys prior ``p(w) ∝ 1/w``: ``sum_q log w_q``."""
        return self.log_weights.sum()

    @abstractmethod
    def _envelopes(self, d: torch.Tensor, rho: torch.Tensor, order: int) -> list[torch.Tensor]:
        """Derivatives 0..order of the envelope of one component (sharing one exponential)."""

    def profile(self, d: torch.Tensor, order: int = 0) -> torch.Tensor:
        if order > self.max_order:
            raise ValueError(
                f"order: got {order}; {type(self).__name__} provides orders 0 to {self.max_order}"
            )
        weights = self.weights
        rhos = self.log_rho.exp()
        omegas = 2 * math.pi * self.frequencies
        out = torch.zeros_like(d)
        # One component at a time keeps memory at a few (n, m) arrays; each component costs
        # one exponential, one cosine and (for derivatives) one sine.
        for q in range(self.n_components):
            env = self._envelopes(d, rhos[q], order)
            phase = omegas[q] * d
            cos = torch.cos(phase)
            sin = torch.sin(phase) if order else None
            cyc = [cos, None, None, None]
            if order:
                cyc = [cos, -sin, -cos, sin]
            term = torch.zeros_like(d)
            for k in range(order + 1):
                j = order - k
                term = term + math.comb(order, k) * env[k] * (omegas[q] ** j * cyc[j % 4])
            out = out + weights[q] * term
        return out


def _gaussian_envelopes(d: torch.Tensor, rho: torch.Tensor, order: int) -> list[torch.Tensor]:
    scale = math.sqrt(2.0) * rho
    z = scale * d
    e = torch.exp(-0.5 * z * z)
    return [(-scale) ** k * _hermite(k, z) * e for k in range(order + 1)]


def _matern52_envelopes(d: torch.Tensor, rho: torch.Tensor, order: int) -> list[torch.Tensor]:
    c = math.sqrt(5.0) * rho
    a = c * d.abs()
    e = torch.exp(-a)
    out = [(1 + a + a * a / 3) * e]
    if order >= 1:
        out.append(-(c * c / 3) * d * (1 + a) * e)
    if order >= 2:
        out.append(-(c * c / 3) * (1 + a - a * a) * e)
    return out


class SpectralMixture(_Mixture):
    """Spectral mixture ``sum_q w_q exp(-rho_q^2 d^2) cos(2 pi mu_q d)`` (Gaussian spectrum).

    Parameters
    ----------
    n_components : int
        Number of components ``Q``.
    max_frequency, min_frequency : float
        Initial frequencies ``mu_q`` (cycles per unit length) are ``linspace(min, max, Q)``.
    bandwidth : float, optional
        Initial ``rho_q``; default ``sqrt(2) pi`` times the frequency step, so neighbouring
        spectral Gaussians overlap.
    variance : float
        Initial total weight ``sum_q w_q``.
    """

    kind = "spectral_mixture"
    max_order = 4

    def _envelopes(self, d: torch.Tensor, rho: torch.Tensor, order: int) -> list[torch.Tensor]:
        return _gaussian_envelopes(d, rho, order)


class StudentTMixture(_Mixture):
    """Student-t mixture ``sum_q w_q Matern52(d; rho_q) cos(2 pi mu_q d)``.

    The Matérn-5/2 envelope has a Student-t spectrum with heavier tails than the Gaussian.
    Derivatives up to total order 2. Parameters as in :class:`SpectralMixture`.
    """

    kind = "student_t_mixture"
    max_order = 2

    def _envelopes(self, d: torch.Tensor, rho: torch.Tensor, order: int) -> list[torch.Tensor]:
        return _matern52_envelopes(d, rho, order)


KERNELS: dict[str, type[StationaryKernel]] = {
    "squared_exponential": SquaredExponential,
    "matern52": Matern52,
    "spectral_mixture": SpectralMixture,
    "student_t_mixture": StudentTMixture,
}


def make_kernel(kind: str, **options: Any) -> StationaryKernel:
    """Build a kernel by name (a key of :data:`KERNELS`) with constructor ``options``."""
    if kind not in KERNELS:
        raise ValueError(f"kernel: got {kind!r}; allowed kernels are {sorted(KERNELS)}")
    return KERNELS[kind](**options)


class ProductKernel(nn.Module):
    """A product of 1-D kernels, one per named axis: ``k(x, y) = prod_a k_a(x_a, y_a)``.

    Parameters
    ----------
    kernels : mapping of axis name to StationaryKernel
    """

    def __init__(self, kernels: Mapping[str, StationaryKernel]) -> None:
        super().__init__()
        if not kernels:
            raise ValueError("kernels: need one kernel per axis, got none")
        for name, k in kernels.items():
            if not isinstance(k, StationaryKernel):
                raise ValueError(
                    f"kernels[{name!r}]: expected a StationaryKernel, got {describe(k)}"
                )
        self.names = tuple(kernels)
        self.kernels = nn.ModuleDict(dict(kernels))

    def __getitem__(self, name: str) -> StationaryKernel:
        return self.kernels[name]  # type: ignore[return-value]

    def factors(
        self, coords: Sequence[torch.Tensor], orders: Sequence[int] | None = None
    ) -> list[torch.Tensor]:
        """Per-axis matrices ``d^{o_a} k_a / dx^{o_a}`` on ``coords[a]`` x ``coords[a]``."""
        orders = orders or [0] * len(self.names)
        return [
            self.kernels[a](c, c, dx=o) for a, c, o in zip(self.names, coords, orders)
        ]

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, dx: Sequence[int] | None = None
    ) -> torch.Tensor:
        """Gram matrix between point sets ``x (n, d)`` and ``y (m, d)``, with derivative
        orders ``dx`` per axis in the first argument; shape ``(n, m)``."""
        dx = dx or [0] * len(self.names)
        out = None
        for k, (a, o) in enumerate(zip(self.names, dx)):
            m = self.kernels[a](x[:, k], y[:, k], dx=o)
            out = m if out is None else out * m
        return out
