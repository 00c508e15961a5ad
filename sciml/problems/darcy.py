r"""Darcy flow on the unit square with a two-phase random permeability (the FNO benchmark).

Equation
--------

.. math::

    -\nabla \cdot \bigl(a(x, y) \nabla u(x, y)\bigr) = f \quad \text{on } (0, 1)^2,
    \qquad u = 0 \text{ on } \partial (0, 1)^2, \qquad f \equiv 1,

with the piecewise constant coefficient

.. math::

    a(x, y) = \begin{cases} 12 & \psi(x, y) \ge 0, \\ 3 & \psi(x, y) < 0, \end{cases}
    \qquad \psi \sim \mathcal{N}\bigl(0,\ \tau^{2\alpha - 2} (-\Delta + \tau^2 I)^{-\alpha}\bigr),
    \quad \alpha = 2,\ \tau = 3,

where the Laplacian in the covariance has Neumann boundary conditions and the constant mode is
dropped (see :mod:`sciml.reference.grf`). The operator to learn is :math:`a \mapsto u`.

Grid
----
Vertex-centred, ``resolution`` points per axis including both boundaries:
``x_i = i / (resolution - 1)``, ``y_j = j / (resolution - 1)``, arrays indexed ``[i, j]``
(``indexing="ij"``); :func:`darcy_grid` returns it as a :class:`sciml.core.grid.Grid`.
The solution comes from the conservative second-order five-point scheme of
:mod:`sciml.reference.finite_difference` with arithmetic face averages.
"""

from __future__ import annotations

import numpy as np

from sciml.core.grid import Box, Grid
from sciml.core.progress import progress_bar
from sciml.core.validation import check_choice, check_finite, check_positive, describe
from sciml.reference.finite_difference import AVERAGING, solve_darcy
from sciml.reference.grf import as_generator, gaussian_random_field

__all__ = ["darcy_coefficient", "darcy_grid", "generate_darcy"]


def darcy_grid(resolution: int) -> Grid:
    """The vertex-centred grid of :func:`generate_darcy`: axes ``x``, ``y`` on ``[0, 1]``.

    Parameters
    ----------
    resolution : int
        Points per axis, boundaries included (at least 3).
    """
    _check_resolution(resolution)
    return Grid.uniform(Box(x=(0.0, 1.0), y=(0.0, 1.0)), int(resolution))


def _check_resolution(resolution: object) -> None:
    if (
        not isinstance(resolution, (int, np.integer))
        or isinstance(resolution, bool)
        or resolution < 3
    ):
        raise ValueError(
            f"resolution: expected an integer >= 3 (points per axis, boundaries included), "
            f"got {describe(resolution)}"
        )


def darcy_coefficient(
    field: np.ndarray, high: float = 12.0, low: float = 3.0, threshold: float = 0.0
) -> np.ndarray:
    """Two-phase coefficient: ``high`` where ``field >= threshold``, ``low`` elsewhere.

    Parameters
    ----------
    field : array, shape ``(*any)``
        Finite values, typically Gaussian random fields ``(n_samples, n, n)``.
    high, low : float
        Positive coefficient values of the two phases.
    threshold : float
        Finite level that separates the phases.

    Returns
    -------
    numpy.ndarray, float64, same shape as ``field``
    """
    arr = np.asarray(field, dtype=np.float64)
    check_finite("field", arr)
    check_positive("high", high)
    check_positive("low", low)
    if not np.isfinite(threshold):
        raise ValueError(f"threshold: expected a finite number, got {threshold!r}")
    return np.where(arr >= threshold, float(high), float(low))


def generate_darcy(
    n_samples: int,
    resolution: int,
    seed: int | np.random.Generator = 0,
    alpha: float = 2.0,
    tau: float = 3.0,
    progress: bool = True,
    *,
    high: float = 12.0,
    low: float = 3.0,
    threshold: float = 0.0,
    forcing: float = 1.0,
    averaging: str = "arithmetic",
    dtype: str | type = np.float64,
) -> dict[str, np.ndarray]:
    r"""Sample coefficient/solution pairs of the Darcy problem in the module docstring.

    Parameters
    ----------
    n_samples : int
        Number of pairs, at least 1.
    resolution : int
        Points per axis including the boundary (at least 3); ``x_i = i / (resolution - 1)``.
    seed : int or numpy.random.Generator
        Seed for ``numpy.random.default_rng``. The same seed and arguments give bitwise
        identical arrays, and the first ``m`` samples do not depend on ``n_samples``. Fields
        at different resolutions are different fields: the random coefficients are laid out
        per resolution, so a sample is *not* a subsampling of the same seed at a finer grid.
    alpha, tau : float
        Parameters of the Gaussian random field (see :mod:`sciml.reference.grf`).
    progress : bool
        Show a tqdm progress bar over samples.
    high, low, threshold : float
        Phase values and level of :func:`darcy_coefficient`.
    forcing : float
        Constant right-hand side ``f``.
    averaging : {"arithmetic", "harmonic"}
        Face averaging of the finite-difference scheme.
    dtype : {"float64", "float32"}
        Precision of the returned arrays; the computation is always float64.

    Returns
    -------
    dict
        ``"coefficient"`` and ``"solution"``, each of shape
        ``(n_samples, resolution, resolution)`` and the requested dtype; the solution is zero
        on the boundary nodes.

    Raises
    ------
    ValueError
        On a non-positive ``n_samples``, a resolution below 3, an invalid seed or field
        parameter, or an unknown ``averaging`` or ``dtype``.
    """
    if (
        not isinstance(n_samples, (int, np.integer))
        or isinstance(n_samples, bool)
        or n_samples < 1
    ):
        raise ValueError(f"n_samples: expected a positive integer, got {describe(n_samples)}")
    _check_resolution(resolution)
    check_choice("averaging", averaging, AVERAGING)
    out_dtype = _float_dtype(dtype)
    if not np.isfinite(forcing):
        raise ValueError(f"forcing: expected a finite number, got {forcing!r}")
    rng = as_generator(seed)
    shape = (int(n_samples), int(resolution), int(resolution))
    coefficient = np.empty(shape, dtype=out_dtype)
    solution = np.empty(shape, dtype=out_dtype)
    for s in progress_bar(range(shape[0]), desc="darcy", unit="sample", enabled=progress):
        # One field at a time from one stream: same draws as a single batched call, without
        # holding every float64 field in memory.
        field = gaussian_random_field(
            1, (shape[1], shape[2]), alpha=alpha, tau=tau, boundary="neumann", rng=rng
        )[0]
        a = darcy_coefficient(field, high=high, low=low, threshold=threshold)
        coefficient[s] = a
        solution[s] = solve_darcy(a, forcing, averaging=averaging)
    return {"coefficient": coefficient, "solution": solution}


def _float_dtype(value: object) -> np.dtype:
    """``float64`` or ``float32`` as a numpy dtype, else a ValueError."""
    try:
        dtype = np.dtype(value)  # type: ignore[call-overload]
    except TypeError:
        dtype = None
    # Compare names: a numpy dtype compares equal to None (None means float64 to numpy).
    if value is None or dtype is None or dtype.name not in ("float64", "float32"):
        raise ValueError(f"dtype: got {value!r}; allowed values are ['float64', 'float32']")
    return dtype
