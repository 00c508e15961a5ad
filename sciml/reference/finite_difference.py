r"""Second-order finite differences for the 2-D Darcy (variable-coefficient Poisson) equation.

.. math::

    -\nabla \cdot \bigl(a(x, y) \nabla u(x, y)\bigr) = f(x, y) \quad \text{on } (0, 1)^2,
    \qquad u = 0 \text{ on the boundary}.

The grid is vertex-centred with ``n`` points per axis including both boundaries,
``x_i = i h``, ``h = 1 / (n - 1)``; arrays are indexed ``[i, j]`` with ``i`` along ``x`` and
``j`` along ``y`` (``indexing="ij"``). The conservative five-point scheme is

.. math::

    \frac{1}{h^2}\Bigl[a_{i+\frac12,j}(u_{i,j} - u_{i+1,j}) + a_{i-\frac12,j}(u_{i,j} - u_{i-1,j})
    + a_{i,j+\frac12}(u_{i,j} - u_{i,j+1}) + a_{i,j-\frac12}(u_{i,j} - u_{i,j-1})\Bigr]
    = f_{i,j},

for the interior nodes, with the face coefficients the arithmetic mean of the two nodes they
join, ``a_{i+1/2,j} = (a_{i,j} + a_{i+1,j}) / 2`` (as in the FNO Darcy data), or optionally
their harmonic mean ``2 a_{i,j} a_{i+1,j} / (a_{i,j} + a_{i+1,j})``, which is the flux-exact
choice across a jump. The matrix is symmetric positive definite and is solved with SuperLU.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from sciml.core.progress import progress_bar
from sciml.core.validation import check_choice, check_finite, describe

__all__ = [
    "AVERAGING",
    "assemble_darcy",
    "solve_darcy",
    "solve_darcy_batch",
    "solve_nonlinear_diffusion",
]

AVERAGING = ("arithmetic", "harmonic")


def _check_coefficients(argument: str, coefficient: np.ndarray) -> None:
    """Finite and strictly positive, else a ValueError naming the first offender."""
    check_finite(argument, coefficient)
    bad = coefficient <= 0
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{argument}: {int(bad.sum())} non-positive value(s), first {coefficient[first]!r} "
            f"at index {first}; the coefficient must be strictly positive"
        )


def _as_coefficients(argument: str, coefficient: object, batched: bool) -> np.ndarray:
    """float64 array of shape ``(n, n)`` (or ``(b, n, n)``) with ``n >= 3``, validated."""
    try:
        arr = np.asarray(coefficient, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{argument}: expected a real array, got {describe(coefficient)}"
        ) from None
    want = "(batch, n, n)" if batched else "(n, n)"
    ndim = 3 if batched else 2
    if arr.ndim != ndim or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(
            f"{argument}: expected a square grid of shape {want}, got shape {arr.shape}"
        )
    if arr.shape[-1] < 3:
        raise ValueError(
            f"{argument}: need at least 3 points per axis (one interior node), "
            f"got shape {arr.shape}"
        )
    if batched and arr.shape[0] < 1:
        raise ValueError(f"{argument}: the batch is empty, got shape {arr.shape}")
    _check_coefficients(argument, arr)
    return arr


def _face_coefficients(a: np.ndarray, averaging: str) -> tuple[np.ndarray, np.ndarray]:
    """Face values between x-neighbours ``(..., n-1, n)`` and y-neighbours ``(..., n, n-1)``."""
    lo_x, hi_x = a[..., :-1, :], a[..., 1:, :]
    lo_y, hi_y = a[..., :, :-1], a[..., :, 1:]
    if averaging == "arithmetic":
        return 0.5 * (lo_x + hi_x), 0.5 * (lo_y + hi_y)
    return 2.0 * lo_x * hi_x / (lo_x + hi_x), 2.0 * lo_y * hi_y / (lo_y + hi_y)


def _assemble(a: np.ndarray, averaging: str) -> sp.csr_matrix:
    """Operator on the interior nodes of one validated ``(n, n)`` coefficient."""
    n = a.shape[0]
    m = n - 2
    inv_h2 = float(n - 1) ** 2
    ax, ay = _face_coefficients(a, averaging)
    # ax[i, j] sits between nodes (i, j) and (i+1, j); ay[i, j] between (i, j) and (i, j+1).
    east = ax[1:, 1:-1]  # face (i+1/2, j) of interior node (i, j), 1 <= i, j <= n-2
    west = ax[:-1, 1:-1]
    north = ay[1:-1, 1:]
    south = ay[1:-1, :-1]
    diagonals = [(east + west + north + south).ravel()]
    offsets = [0]
    if m > 1:
        # Unknowns are numbered p = (i-1) m + (j-1): y-neighbours are +-1 apart, except across
        # the end of a row, where the coupling must vanish; x-neighbours are +-m apart.
        along_y = -north.copy()
        along_y[:, -1] = 0.0
        along_y = along_y.ravel()[:-1]
        along_x = -east[:-1, :].ravel()
        diagonals += [along_y, along_y, along_x, along_x]
        offsets += [1, -1, m, -m]
    matrix = sp.diags(diagonals, offsets, shape=(m * m, m * m), format="csr")
    return matrix * inv_h2


def assemble_darcy(coefficient: np.ndarray, *, averaging: str = "arithmetic") -> sp.csr_matrix:
    r"""Matrix of :math:`-\nabla\cdot(a\nabla\,\cdot)` on the interior nodes, Dirichlet ``u = 0``.

    Parameters
    ----------
    coefficient : array, shape ``(n, n)``, ``n >= 3``
        Positive, finite values of ``a`` at every grid node, boundary nodes included
        (they enter through the face averages).
    averaging : {"arithmetic", "harmonic"}
        How face coefficients are formed from the two neighbouring nodes.

    Returns
    -------
    scipy.sparse.csr_matrix, shape ``((n-2)**2, (n-2)**2)``
        Symmetric positive definite, scaled by ``1 / h**2``. Interior node ``(i, j)``,
        ``1 <= i, j <= n-2``, is unknown ``(i-1) * (n-2) + (j-1)``, i.e. ``u[1:-1, 1:-1].ravel()``.

    Raises
    ------
    ValueError
        If the grid is not square, has fewer than 3 points per axis, or the coefficient is
        non-finite or not strictly positive; or on an unknown ``averaging``.
    """
    check_choice("averaging", averaging, AVERAGING)
    a = _as_coefficients("coefficient", coefficient, batched=False)
    return _assemble(a, averaging)


def _interior_forcing(argument: str, forcing: object, shape: tuple[int, ...]) -> np.ndarray:
    """Forcing broadcast to ``shape`` (the grid, or the batch of grids) and validated."""
    if np.isscalar(forcing) and not isinstance(forcing, (str, bytes)):
        value = float(forcing)  # type: ignore[arg-type]
        check_finite(argument, np.array(value))
        return np.full(shape, value)
    try:
        f = np.asarray(forcing, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{argument}: expected a number or an array, got {describe(forcing)}"
        ) from None
    if f.ndim == 0:
        check_finite(argument, f)
        return np.full(shape, float(f))
    allowed = [shape[-2:], shape]
    if f.shape not in allowed:
        spelled = " or ".join(str(s) for s in dict.fromkeys(allowed))
        raise ValueError(f"{argument}: expected a scalar or shape {spelled}, got {f.shape}")
    check_finite(argument, f)
    return np.broadcast_to(f, shape)


def _solve_one(matrix: sp.csr_matrix, rhs: np.ndarray, n: int) -> np.ndarray:
    """Solve on the interior and pad with the zero boundary values."""
    # Minimum-degree on A + A^T suits a symmetric matrix; it is about 1.4x faster than the
    # COLAMD default at n = 64, where the factorisation dominates the cost of a sample.
    lu = spla.splu(matrix.tocsc(), permc_spec="MMD_AT_PLUS_A")
    u = np.zeros((n, n))
    u[1:-1, 1:-1] = lu.solve(rhs.ravel()).reshape(n - 2, n - 2)
    return u


def solve_darcy(
    coefficient: np.ndarray,
    forcing: float | np.ndarray = 1.0,
    *,
    averaging: str = "arithmetic",
) -> np.ndarray:
    r"""Solve :math:`-\nabla\cdot(a\nabla u) = f` on the unit square with ``u = 0`` on the boundary.

    Parameters
    ----------
    coefficient : array, shape ``(n, n)``, ``n >= 3``
        Positive, finite ``a`` at the nodes ``(i h, j h)``, ``h = 1/(n-1)``, boundary included.
    forcing : float or array of shape ``(n, n)``
        Right-hand side ``f``, constant or at the nodes (boundary values are ignored).
    averaging : {"arithmetic", "harmonic"}
        Face averaging; see the module docstring.

    Returns
    -------
    numpy.ndarray, float64, shape ``(n, n)``
        The discrete solution, exactly zero on the boundary nodes.

    Raises
    ------
    ValueError
        On a non-square or too small grid, a non-finite or non-positive coefficient, a forcing
        of the wrong shape or with non-finite values, or an unknown ``averaging``.
    """
    check_choice("averaging", averaging, AVERAGING)
    a = _as_coefficients("coefficient", coefficient, batched=False)
    n = a.shape[0]
    f = _interior_forcing("forcing", forcing, a.shape)
    return _solve_one(_assemble(a, averaging), f[1:-1, 1:-1], n)


def solve_darcy_batch(
    coefficients: np.ndarray,
    forcing: float | np.ndarray = 1.0,
    *,
    averaging: str = "arithmetic",
    progress: bool = False,
) -> np.ndarray:
    r"""Solve the Darcy problem of :func:`solve_darcy` for a batch of coefficients.

    Each sample is factorised with SuperLU (about 5 ms at ``n = 64`` on one core), so a
    thousand samples take a few seconds.

    Parameters
    ----------
    coefficients : array, shape ``(batch, n, n)``
        Positive, finite coefficients on the vertex grid, boundary included.
    forcing : float or array of shape ``(n, n)`` or ``(batch, n, n)``
        One right-hand side for all samples, or one per sample.
    averaging : {"arithmetic", "harmonic"}
        Face averaging; see the module docstring.
    progress : bool
        Show a tqdm progress bar over the samples.

    Returns
    -------
    numpy.ndarray, float64, shape ``(batch, n, n)``

    Raises
    ------
    ValueError
        As :func:`solve_darcy`, checked for the whole batch before any solve.
    """
    check_choice("averaging", averaging, AVERAGING)
    a = _as_coefficients("coefficients", coefficients, batched=True)
    b, n, _ = a.shape
    f = _interior_forcing("forcing", forcing, a.shape)
    out = np.empty((b, n, n))
    for s in progress_bar(range(b), desc="darcy", unit="sample", enabled=progress):
        out[s] = _solve_one(_assemble(a[s], averaging), f[s, 1:-1, 1:-1], n)
    return out


# -- nonlinear (porous-medium) diffusion in 2-D -----------------------------------------------
def solve_nonlinear_diffusion(
    initial: np.ndarray,
    alpha: float = 0.05,
    t_end: float = 1.0,
    n_save: int = 101,
    cfl: float = 0.2,
    lower: float = -1.0,
    upper: float = 1.0,
) -> np.ndarray:
    r"""Solve ``u_t = alpha (|grad u|^2 + u Laplacian(u))`` with ``u = 0`` on the boundary.

    The right-hand side is ``(alpha / 2) Laplacian(u^2)``, discretised by the five-point
    Laplacian of ``u^2`` on the vertex-centred square grid of ``initial`` (second order in
    space, conservative); time integration is classical RK4 with the explicit step
    ``dt <= cfl h^2 / (alpha max|u|)``, so the time error is far below the spatial one.

    Parameters
    ----------
    initial : array, shape ``(n, n)``
        ``u(x, y, 0)`` on the grid ``x_i = lower + i h``, ``h = (upper - lower) / (n - 1)``,
        indexed ``[i, j]`` (``indexing="ij"``); the boundary rows are set to 0.
    alpha : float
        Diffusivity (positive).
    t_end : float
        Final time (positive).
    n_save : int
        Snapshots returned, equispaced in ``[0, t_end]`` (at least 2).
    cfl : float
        Step safety factor (at most 0.25).
    lower, upper : float
        The square ``[lower, upper]^2``.

    Returns
    -------
    array, shape ``(n_save, n, n)``
        The solution at ``t_k = k t_end / (n_save - 1)``.
    """
    u = np.array(initial, dtype=np.float64)
    if u.ndim != 2 or u.shape[0] != u.shape[1] or u.shape[0] < 3:
        raise ValueError(f"initial: expected a square array (n, n) with n >= 3, got {u.shape}")
    check_finite("initial", u)
    for name, value in (("alpha", alpha), ("t_end", t_end), ("cfl", cfl)):
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
            raise ValueError(f"{name}: expected a positive number, got {describe(value)}")
    if cfl > 0.25:
        raise ValueError(f"cfl: the explicit scheme needs cfl <= 0.25, got {cfl}")
    if isinstance(n_save, bool) or not isinstance(n_save, int) or n_save < 2:
        raise ValueError(f"n_save: expected an integer >= 2, got {describe(n_save)}")
    n = u.shape[0]
    h = (upper - lower) / (n - 1)
    u[0, :] = u[-1, :] = u[:, 0] = u[:, -1] = 0.0

    def rhs(v: np.ndarray) -> np.ndarray:
        w = v * v
        out = np.zeros_like(v)
        out[1:-1, 1:-1] = (
            w[2:, 1:-1] + w[:-2, 1:-1] + w[1:-1, 2:] + w[1:-1, :-2] - 4 * w[1:-1, 1:-1]
        ) * (alpha / (2 * h * h))
        return out

    interval = t_end / (n_save - 1)
    # The effective diffusivity alpha u is largest at t = 0 (maximum principle).
    dt_max = cfl * h * h / (alpha * max(float(np.abs(u).max()), 1e-12))
    steps = max(1, int(np.ceil(interval / dt_max)))
    dt = interval / steps
    out = np.empty((n_save, n, n))
    out[0] = u
    for k in range(1, n_save):
        for _ in range(steps):
            k1 = rhs(u)
            k2 = rhs(u + dt / 2 * k1)
            k3 = rhs(u + dt / 2 * k2)
            k4 = rhs(u + dt * k3)
            u = u + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out[k] = u
    return out
