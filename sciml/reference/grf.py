r"""Gaussian random fields on the unit cube through their Karhunen–Loève expansion.

A field :math:`u` on :math:`[0, 1]^d` is drawn from the centred Gaussian measure

.. math::

    u \sim \mathcal{N}\bigl(0,\ \sigma^2 (-\Delta + \tau^2 I)^{-\alpha}\bigr),

where the Laplacian carries homogeneous Neumann conditions (``boundary="neumann"``),
homogeneous Dirichlet conditions (``boundary="dirichlet"``) or periodic ones
(``boundary="periodic"``). The covariance operator is diagonal in the
eigenbasis of the Laplacian, so a sample is

.. math::

    u(x) = \sum_k \sqrt{\mu_k}\, \xi_k\, \phi_k(x), \qquad
    \mu_k = \sigma^2 (\lambda_k + \tau^2)^{-\alpha}, \qquad \xi_k \sim \mathcal{N}(0, 1),

with :math:`L^2`-orthonormal eigenfunctions :math:`\phi_k` and eigenvalues :math:`\lambda_k`
of :math:`-\Delta`:

* Neumann: :math:`\phi_k(x) = \prod_j c_{k_j} \cos(\pi k_j x_j)`, :math:`c_0 = 1`,
  :math:`c_{m>0} = \sqrt 2`, :math:`\lambda_k = \pi^2 |k|^2`, :math:`k_j \ge 0`.
* Dirichlet: :math:`\phi_k(x) = \prod_j \sqrt 2 \sin(\pi k_j x_j)`,
  :math:`\lambda_k = \pi^2 |k|^2`, :math:`k_j \ge 1`.
* Periodic: :math:`\phi_k(x) = e^{2\pi i k\cdot x}`, :math:`\lambda_k = 4\pi^2 |k|^2`,
  :math:`k_j \in \mathbb{Z}`.

The sum is truncated to the modes a grid can represent: ``n`` modes ``0..n-1`` per axis for
Neumann, ``n - 2`` modes ``1..n-2`` (one per interior point) for Dirichlet and the ``n`` FFT
frequencies for periodic. Sampling then costs one DCT-I, one DST-I or one FFT.

Two helpers serve the time-dependent generators, whose sample ``i`` must depend only on
``(seed, i)`` so that a batch of any composition, or a resumed run, gives the same numbers:
:func:`sample_generator` gives sample ``i`` its own random stream, and
:func:`nested_periodic_grf` draws a periodic field from a fixed box of Fourier modes, so that
grids of different resolution sample the *same* field (each keeps the modes it can resolve).

Conventions
-----------
* The constant mode :math:`k = 0` is dropped by default (``keep_mean=False``), as in the FNO
  data generators, so every sample has zero spatial mean (exactly, in the discrete sense of
  the grid's quadrature); pass ``keep_mean=True`` for the full measure.
* ``sigma=None`` means :math:`\sigma = \tau^{\alpha - d/2}` (the FNO normalisation), which keeps
  the pointwise variance of order one as ``tau`` changes.
* Neumann and Dirichlet grids are vertex-centred and include both ends: ``x_i = i / (n - 1)``
  (Dirichlet samples are exactly zero on the boundary). Periodic grids
  omit the repeated end point: ``x_i = i / n``. These are :meth:`sciml.core.grid.Grid.uniform`
  without and with ``periodic=True``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.fft

from sciml.core.validation import check_choice, check_positive, describe

__all__ = [
    "BOUNDARIES",
    "as_generator",
    "gaussian_random_field",
    "grf_spectrum",
    "nested_periodic_grf",
    "random_sines",
    "sample_generator",
]

BOUNDARIES = ("neumann", "periodic", "dirichlet")


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
    if boundary == "dirichlet":
        return [np.arange(1, n - 1, dtype=np.float64) for n in shape]
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
    numpy.ndarray, float64, shape ``(*shape)`` (``(*(n - 2 for n in shape))`` for Dirichlet)
        Entry ``k`` is the variance of the coefficient of the orthonormal eigenfunction
        :math:`\phi_k`; for ``"neumann"`` index ``k`` is the cosine index, for ``"dirichlet"``
        it is the sine index minus one, for ``"periodic"`` it is the FFT index (frequency
        ``np.fft.fftfreq(n, 1/n)[k]``). The constant mode (entry ``0`` of Neumann and
        periodic) is zero unless ``keep_mean``; Dirichlet has no constant mode.
    """
    shape = _parse_shape(resolution, ndim)
    check_choice("boundary", boundary, BOUNDARIES)
    if boundary == "dirichlet" and min(shape) < 3:
        raise ValueError(
            f"resolution: a Dirichlet field needs at least 3 points per axis (one interior "
            f"point), got {shape}"
        )
    check_positive("alpha", alpha)
    check_positive("tau", tau)
    d = len(shape)
    if sigma is None:
        sigma = float(tau) ** (float(alpha) - d / 2.0)
    check_positive("sigma", sigma)
    scale = 4.0 * math.pi**2 if boundary == "periodic" else math.pi**2
    ks = _wavenumbers(shape, boundary)
    k2 = sum(np.meshgrid(*[k**2 for k in ks], indexing="ij", sparse=True))
    mu = float(sigma) ** 2 * (scale * k2 + float(tau) ** 2) ** (-float(alpha))
    mu = np.broadcast_to(mu, tuple(len(k) for k in ks)).copy()
    if not keep_mean and boundary != "dirichlet":
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

    for ``"dirichlet"`` the same sum over sine modes :math:`k \in \{1, \dots, n_j - 2\}^d`,
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
    boundary : {"neumann", "dirichlet", "periodic"}
        Boundary condition of the Laplacian, which fixes the eigenbasis and the grid.
    rng : numpy.random.Generator, int or None
        Source of randomness. Draws are made sample after sample from one stream, so the first
        ``m`` of ``n`` samples equal ``m`` samples drawn from the same seed.
    ndim : int, optional
        Number of axes when ``resolution`` is an int.
    keep_mean : bool
        Keep the constant mode (default: drop it, giving zero-mean samples). Dirichlet fields
        have no constant mode and ignore it.

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

    if boundary == "dirichlet":
        # scipy's unnormalised DST-I is 2 sum_m a_m sin(pi m i / (N + 1)) at the N interior
        # points; sqrt(2) / 2 per axis turns it into sum_m a_m sqrt(2) sin(pi m x_i).
        d = len(shape)
        xi = gen.standard_normal((n_samples, *mu.shape))
        inner = scipy.fft.dstn(np.sqrt(mu) * xi * (math.sqrt(2.0) / 2.0) ** d, type=1,
                               axes=axes)
        out = np.zeros((n_samples, *shape))
        out[(slice(None),) + (slice(1, -1),) * d] = inner
        return out

    # Periodic: Re(sum_k s_k (A_k + i B_k) e^{2 pi i k x}) has covariance sum_k s_k^2 cos(...),
    # which is the target because mu is even in k; no Hermitian bookkeeping needed.
    noise = gen.standard_normal((n_samples, 2, *shape))
    coeff = np.sqrt(mu) * (noise[:, 0] + 1j * noise[:, 1])
    return np.ascontiguousarray(scipy.fft.ifftn(coeff, axes=axes, norm="forward").real)


def sample_generator(seed: int, index: int) -> np.random.Generator:
    """The random stream of sample ``index`` of a data set drawn with ``seed``.

    Streams come from ``numpy.random.SeedSequence([seed, index])``, so they are independent
    across samples and sample ``index`` is the same whatever batch it is generated in, which
    makes generation order-free and resumable.
    """
    for name, value in (("seed", seed), ("index", index)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name}: expected a non-negative integer, got {describe(value)}")
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))


#: Default size of the Fourier mode box of :func:`nested_periodic_grf`, per dimension.
NESTED_MODES = {1: 8192, 2: 256, 3: 64}


def nested_periodic_grf(
    rngs: Sequence[np.random.Generator],
    resolution: int | Sequence[int],
    alpha: float = 2.0,
    tau: float = 3.0,
    sigma: float | None = None,
    *,
    ndim: int | None = None,
    length: float = 1.0,
    modes: int | None = None,
    keep_mean: bool = False,
) -> np.ndarray:
    r"""Periodic GRF samples that are the same field whatever the grid resolution.

    Each sample draws complex coefficients :math:`c_k = \sqrt{\mu_k}(A_k + i B_k)` for every
    frequency of a fixed box of ``modes`` FFT frequencies per axis, from its own generator,
    and the field is :math:`u(x) = \operatorname{Re} \sum_k c_k e^{2\pi i k \cdot x / L}` with
    :math:`\mu_k = \sigma^2 (4\pi^2|k|^2 / L^2 + \tau^2)^{-\alpha}` (the covariance
    :math:`\sigma^2(-\Delta + \tau^2 I)^{-\alpha}` on the torus of side ``length``). A grid
    with ``n`` points per axis keeps the frequencies :math:`|k_j| < n / 2` (no Nyquist mode),
    so the values on a coarse grid are the fine field with its unresolved modes removed:
    a 64x64 and a 256x256 grid share the initial condition up to the spectral tail.

    Parameters
    ----------
    rngs : sequence of numpy.random.Generator
        One generator per sample, e.g. ``[sample_generator(seed, i) for i in indices]``.
    resolution : int or tuple of int
        Points per axis; an int gives ``ndim`` axes (default 2).
    alpha, tau, sigma
        As in :func:`gaussian_random_field` (``sigma=None`` means ``tau ** (alpha - d / 2)``).
    length : float
        Side of the periodic box (``L``).
    modes : int, optional
        Frequencies drawn per axis; default :data:`NESTED_MODES` for the dimension (8192 in
        1-D, 256 in 2-D, 64 in 3-D). Grids finer than ``modes`` see a band-limited field.
    keep_mean : bool
        Keep the constant mode.

    Returns
    -------
    numpy.ndarray, float64, shape ``(len(rngs), *shape)``
    """
    shape = _parse_shape(resolution, ndim)
    d = len(shape)
    check_positive("length", length)
    if modes is None:
        modes = NESTED_MODES.get(d, 32)
    if isinstance(modes, bool) or not isinstance(modes, (int, np.integer)) or modes < 2:
        raise ValueError(f"modes: expected an integer >= 2, got {describe(modes)}")
    if len(rngs) < 1:
        raise ValueError("rngs: expected at least one generator")
    mu = grf_spectrum((int(modes),) * d, alpha, tau, sigma, "periodic", keep_mean=keep_mean)
    # grf_spectrum assumes the unit box: rescale the eigenvalues 4 pi^2 |k|^2 to length L.
    if float(length) != 1.0:
        if sigma is None:
            sigma = float(tau) ** (float(alpha) - d / 2.0)
        k = np.fft.fftfreq(int(modes), d=1.0 / int(modes))
        k2 = sum(np.meshgrid(*[k**2] * d, indexing="ij", sparse=True))
        lam = 4.0 * math.pi**2 * k2 / float(length) ** 2
        mu = np.broadcast_to(float(sigma) ** 2 * (lam + float(tau) ** 2) ** (-float(alpha)),
                             mu.shape).copy()
        if not keep_mean:
            mu[(0,) * d] = 0.0
    # Frequencies the target grid keeps, as indices into the mode box (FFT order both).
    keep = []
    for n in shape:
        kmax = min((n - 1) // 2, (int(modes) - 1) // 2)
        freqs = np.concatenate([np.arange(0, kmax + 1), np.arange(-kmax, 0)])
        keep.append((freqs % int(modes), freqs % n))
    coeff = np.zeros((len(rngs), *shape), dtype=np.complex128)
    src = np.ix_(*[k[0] for k in keep])
    dst = (slice(None), *np.ix_(*[k[1] for k in keep]))
    scale = np.sqrt(mu)[src]
    block = np.empty((len(rngs), *scale.shape), dtype=np.complex128)
    for b, gen in enumerate(rngs):
        noise = as_generator(gen).standard_normal((2, *mu.shape))
        block[b] = scale * (noise[0][src] + 1j * noise[1][src])
    coeff[dst] = block
    axes = tuple(range(1, d + 1))
    return np.ascontiguousarray(scipy.fft.ifftn(coeff, axes=axes, norm="forward").real)


def random_sines(
    rngs: Sequence[np.random.Generator],
    resolution: int,
    n_waves: int = 2,
    max_frequency: int = 8,
) -> np.ndarray:
    r"""Superpositions of sine waves on a periodic 1-D grid (PDEBench's initial conditions).

    :math:`u(x) = \sum_{j=1}^{N} A_j \sin(2\pi k_j x / L + \varphi_j)` on a box of any side
    :math:`L` (the grid values do not depend on it), with
    :math:`A_j \sim U(0, 1)`, integer :math:`k_j` uniform in ``1..max_frequency`` and
    :math:`\varphi_j \sim U(0, 2\pi)`, each sample from its own generator.

    Returns
    -------
    numpy.ndarray, float64, shape ``(len(rngs), resolution)`` on ``x_i = i L / resolution``.
    """
    for name, value, low in (("resolution", resolution, 2), ("n_waves", n_waves, 1),
                             ("max_frequency", max_frequency, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got {describe(value)}")
    x = np.arange(resolution) / resolution * 2.0 * math.pi
    out = np.empty((len(rngs), resolution))
    for b, gen in enumerate(rngs):
        gen = as_generator(gen)
        amp = gen.uniform(0.0, 1.0, n_waves)
        k = gen.integers(1, max_frequency + 1, n_waves)
        phase = gen.uniform(0.0, 2.0 * math.pi, n_waves)
        out[b] = (amp[:, None] * np.sin(k[:, None] * x[None, :] + phase[:, None])).sum(0)
    return out
