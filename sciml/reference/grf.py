r"""Gaussian random fields on the unit cube through their Karhunen–Loève expansion.

A field :math:`u` on :math:`[0, 1]^d` is drawn from the centred Gaussian measure

.. math::

    u \sim \mathcal{N}\bigl(0,\ \sigma^2 (-\Delta + \tau^2 I)^{-\alpha}\bigr),

where the Laplacian carries either homogeneous Neumann conditions (``boundary="neumann"``)
or periodic ones (``boundary="periodic"``). The covariance operator is diagonal in the
eigenbasis of the Laplacian, so a sample is

.. math::

    u(x) = \sum_k \sqrt{\mu_k}\, \xi_k\, \phi_k(x), \qquad
    \mu_k = \sigma^2 (\lambda_k + \tau^2)^{-\alpha}, \qquad \xi_k \sim \mathcal{N}(0, 1),

with :math:`L^2`-orthonormal eigenfunctions :math:`\phi_k` and eigenvalues :math:`\lambda_k`
of :math:`-\Delta`:

* Neumann: :math:`\phi_k(x) = \prod_j c_{k_j} \cos(\pi k_j x_j)`, :math:`c_0 = 1`,
  :math:`c_{m>0} = \sqrt 2`, :math:`\lambda_k = \pi^2 |k|^2`, :math:`k_j \ge 0`.
* Periodic: :math:`\phi_k(x) = e^{2\pi i k\cdot x}`, :math:`\lambda_k = 4\pi^2 |k|^2`,
  :math:`k_j \in \mathbb{Z}`.

The sum is truncated to the modes a grid can represent: ``n`` modes ``0..n-1`` per axis for
Neumann and the ``n`` FFT frequencies for periodic. Sampling then costs one DCT-I or one FFT.

Conventions
-----------
* The constant mode :math:`k = 0` is dropped by default (``keep_mean=False``), as in the FNO
  data generators, so every sample has zero spatial mean (exactly, in the discrete sense of
  the grid's quadrature); pass ``keep_mean=True`` for the full measure.
* ``sigma=None`` means :math:`\sigma = \tau^{\alpha - d/2}` (the FNO normalisation), which keeps
  the pointwise variance of order one as ``tau`` changes.
* Neumann grids are vertex-centred and include both ends: ``x_i = i / (n - 1)``. Periodic grids
  omit the repeated end point: ``x_i = i / n``. These are :meth:`sciml.core.grid.Grid.uniform`
  without and with ``periodic=True``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.fft

from sciml.core.validation import check_choice, check_positive, describe

__all__ = ["BOUNDARIES", "as_generator", "gaussian_random_field", "grf_spectrum"]

BOUNDARIES = ("neumann", "periodic")


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Turn a seed, a generator or ``None`` into a :class:`numpy.random.Generator`.

    A generator is returned as is (so successive calls continue its stream); an integer seeds
    ``np.random.default_rng``; ``None`` gives a fresh, unpredictable generator.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(
        f"rng: got {describe(rng)}; expected a numpy Generator, a non-negative integer seed "
        f"or None"
    )


def _parse_shape(resolution: int | Sequence[int], ndim: int | None) -> tuple[int, ...]:
    """Grid shape from an int (``ndim`` axes, default 2) or a tuple of per-axis counts."""
    if isinstance(resolution, (int, np.integer)) and not isinstance(resolution, bool):
        if ndim is None:
            ndim = 2
        if not isinstance(ndim, (int, np.integer)) or isinstance(ndim, bool) or ndim < 1:
            raise ValueError(f"ndim: expected a positive integer, got {ndim!r}")
        shape = (int(resolution),) * int(ndim)
    elif isinstance(resolution, (Sequence, np.ndarray)) and not isinstance(resolution, str):
        items = list(resolution)
        if not items or not all(
            isinstance(r, (int, np.integer)) and not isinstance(r, bool) for r in items
        ):
            raise ValueError(
                f"resolution: expected an int or a non-empty tuple of ints, got {resolution!r}"
            )
        shape = tuple(int(r) for r in items)
        if ndim is not None and ndim != len(shape):
            raise ValueError(
                f"ndim: got {ndim!r} but resolution {resolution!r} has {len(shape)} axes"
            )
    else:
        raise ValueError(
            f"resolution: expected an int or a tuple of ints, got {describe(resolution)}"
        )
    if min(shape) < 2:
        raise ValueError(f"resolution: need at least 2 points per axis, got {shape}")
    return shape


def _wavenumbers(shape: tuple[int, ...], boundary: str) -> list[np.ndarray]:
    """Integer mode indices per axis: ``0..n-1`` (cosines) or the FFT frequencies."""
    if boundary == "neumann":
        return [np.arange(n, dtype=np.float64) for n in shape]
    return [np.fft.fftfreq(n, d=1.0 / n) for n in shape]


def grf_spectrum(
    resolution: int | Sequence[int],
    alpha: float = 2.0,
    tau: float = 3.0,
    sigma: float | None = None,
    boundary: str = "neumann",
    *,
    ndim: int | None = None,
    keep_mean: bool = False,
) -> np.ndarray:
    r"""KL variances :math:`\mu_k = \sigma^2 (\lambda_k + \tau^2)^{-\alpha}` of every grid mode.

    Parameters
    ----------
    resolution, alpha, tau, sigma, boundary, ndim, keep_mean
        As in :func:`gaussian_random_field`.

    Returns
    -------
    numpy.ndarray, float64, shape ``(*shape)``
        Entry ``k`` is the variance of the coefficient of the orthonormal eigenfunction
        :math:`\phi_k`; for ``"neumann"`` index ``k`` is the cosine index, for ``"periodic"``
        it is the FFT index (frequency ``np.fft.fftfreq(n, 1/n)[k]``). Entry ``0`` is zero
        unless ``keep_mean``.
    """
    shape = _parse_shape(resolution, ndim)
    check_choice("boundary", boundary, BOUNDARIES)
    check_positive("alpha", alpha)
    check_positive("tau", tau)
    d = len(shape)
    if sigma is None:
        sigma = float(tau) ** (float(alpha) - d / 2.0)
    check_positive("sigma", sigma)
    scale = math.pi**2 if boundary == "neumann" else 4.0 * math.pi**2
    ks = _wavenumbers(shape, boundary)
    k2 = sum(np.meshgrid(*[k**2 for k in ks], indexing="ij", sparse=True))
    mu = float(sigma) ** 2 * (scale * k2 + float(tau) ** 2) ** (-float(alpha))
    mu = np.broadcast_to(mu, shape).copy()
    if not keep_mean:
        mu[(0,) * d] = 0.0
    return mu


def gaussian_random_field(
    n_samples: int,
    resolution: int | Sequence[int],
    alpha: float = 2.0,
    tau: float = 3.0,
    sigma: float | None = None,
    boundary: str = "neumann",
    rng: np.random.Generator | int | None = None,
    *,
    ndim: int | None = None,
    keep_mean: bool = False,
) -> np.ndarray:
    r"""Samples of :math:`\mathcal{N}(0, \sigma^2(-\Delta + \tau^2 I)^{-\alpha})` on a grid.

    See the module docstring for the expansion and the grids. The covariance of the returned
    values is, for ``"neumann"``,

    .. math::

        \operatorname{Cov}(u(x), u(y)) = \sum_{k} \mu_k \phi_k(x) \phi_k(y),
        \qquad k \in \{0, \dots, n_1 - 1\} \times \dots \times \{0, \dots, n_d - 1\},

    and for ``"periodic"`` :math:`\sum_k \mu_k \cos(2\pi k \cdot (x - y))` over the FFT
    frequencies of the grid, with :math:`\mu_k` from :func:`grf_spectrum`.

    Parameters
    ----------
    n_samples : int
        Number of independent fields, at least 1.
    resolution : int or tuple of int
        Points per axis (at least 2). An int gives a cube with ``ndim`` axes (default 2).
    alpha : float
        Smoothness exponent, positive. Samples are continuous when ``alpha > d / 2``.
    tau : float
        Inverse length scale, positive.
    sigma : float, optional
        Amplitude; ``None`` means ``tau ** (alpha - d / 2)``.
    boundary : {"neumann", "periodic"}
        Boundary condition of the Laplacian, which fixes the eigenbasis and the grid.
    rng : numpy.random.Generator, int or None
        Source of randomness. Draws are made sample after sample from one stream, so the first
        ``m`` of ``n`` samples equal ``m`` samples drawn from the same seed.
    ndim : int, optional
        Number of axes when ``resolution`` is an int.
    keep_mean : bool
        Keep the constant mode (default: drop it, giving zero-mean samples).

    Returns
    -------
    numpy.ndarray, float64, shape ``(n_samples, *shape)``

    Raises
    ------
    ValueError
        On a non-positive ``n_samples``, ``alpha``, ``tau`` or ``sigma``, a resolution below
        2, an unknown ``boundary`` or an invalid ``rng``.
    """
    if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool):
        raise ValueError(f"n_samples: expected a positive integer, got {describe(n_samples)}")
    if n_samples < 1:
        raise ValueError(f"n_samples: expected a positive integer, got {n_samples!r}")
    shape = _parse_shape(resolution, ndim)
    mu = grf_spectrum(
        shape, alpha, tau, sigma, boundary, keep_mean=keep_mean
    )  # validates alpha, tau, sigma and boundary
    gen = as_generator(rng)
    axes = tuple(range(1, len(shape) + 1))

    if boundary == "neumann":
        # scipy's backward DCT-I evaluates (y_0 + (-1)^i y_{n-1} + 2 sum y_k cos(pi k i/(n-1)))
        # / (2(n-1)); the weights below turn it into the plain sum_k a_k cos(pi k x_i), and
        # also carry the sqrt(2) normalisation of the non-constant cosines.
        factors = []
        for n in shape:
            w = np.full(n, (n - 1) * math.sqrt(2.0))
            w[0] = 2.0 * (n - 1)
            w[-1] = 2.0 * (n - 1) * math.sqrt(2.0)
            factors.append(w)
        weight = np.sqrt(mu)
        for j, w in enumerate(factors):
            weight = weight * w.reshape((-1,) + (1,) * (len(shape) - 1 - j))
        xi = gen.standard_normal((n_samples, *shape))
        return scipy.fft.idctn(weight * xi, type=1, axes=axes)

    # Periodic: Re(sum_k s_k (A_k + i B_k) e^{2 pi i k x}) has covariance sum_k s_k^2 cos(...),
    # which is the target because mu is even in k; no Hermitian bookkeeping needed.
    noise = gen.standard_normal((n_samples, 2, *shape))
    coeff = np.sqrt(mu) * (noise[:, 0] + 1j * noise[:, 1])
    return np.ascontiguousarray(scipy.fft.ifftn(coeff, axes=axes, norm="forward").real)
