r"""Allen–Cahn problems: the time-dependent 1-D benchmark and stationary manufactured cases.

Time-dependent (the PINN / PIG benchmark)
-----------------------------------------

.. math::

    u_t - \varepsilon u_{xx} + a u^3 - a u = 0, \qquad x \in [-1, 1],\ t \in [0, 1],

    u(x, 0) = x^2 \cos(\pi x), \qquad u(-1, t) = u(1, t), \quad u_x(-1, t) = u_x(1, t),

with :math:`\varepsilon = 10^{-4}` and :math:`a = 5`. :func:`allen_cahn` returns it as a
:class:`~sciml.core.problem.PDEProblem` on ``Box(x=(-1, 1), t=(0, 1))`` (axes in that order).
There is no closed form; the reference comes from :func:`solve_allen_cahn`, a Fourier
pseudo-spectral discretisation in ``x`` integrated in time with ETDRK4 (Cox & Matthews 2002,
with the contour-integral coefficients of Kassam & Trefethen 2005). The reference is exact in
``x`` (trigonometric interpolation) and cubic Hermite in ``t`` between stored snapshots, using
``u_t`` from the equation.

Stationary (the GP-HM high-frequency cases)
-------------------------------------------

.. math::

    \Delta u + u (u^2 - 1) = f \quad \text{in } \Omega, \qquad u = u^\ast \text{ on }
    \partial\Omega,

with ``f`` manufactured from the exact solution :math:`u^\ast` in closed form. The residual is
``Laplacian(u) + u (u^2 - 1) - f``. Cases (:data:`CASES_1D`, :data:`CASES_2D`):

=================  ================================================  ===============
case               exact solution                                    domain
=================  ================================================  ===============
``"sin100"``       sin(100x)                                         [0, 2 pi]
``"xsin200"``      x sin(200x)                                       [0, 2 pi]
``"sin6cos100"``   sin(6x) cos(100x)                                 [0, 2 pi]
``"multiscale"``   sin(x) + 0.1 sin(20x) + 0.05 cos(100x)            [0, 1]
``"sin500"``       sin(500x) - 2 (x - 0.5)^2                         [0, 1]
``"sin100"`` (2-D) sin(100x) sin(100y)                               [0, 2 pi]^2
``"sin6cos20"``    sin(6x) cos(20x) + sin(6y) cos(20y)               [0, 2 pi]^2
=================  ================================================  ===============

:func:`manufactured_1d` and :func:`manufactured_2d` return the exact solution and its
Laplacian for a case, so other families (Poisson) can share them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sciml.core.conditions import Dirichlet, Initial, Periodic
from sciml.core.grid import Box
from sciml.core.problem import PDEProblem
from sciml.core.registry import PROBLEMS
from sciml.core.residual import Coordinates

__all__ = [
    "CASES_1D",
    "CASES_2D",
    "AllenCahnReference",
    "Manufactured",
    "allen_cahn",
    "allen_cahn_1d",
    "allen_cahn_2d",
    "manufactured_1d",
    "manufactured_2d",
    "solve_allen_cahn",
]

TWO_PI = 2.0 * math.pi


# -- stationary manufactured cases -------------------------------------------------------------
@dataclass(frozen=True)
class Manufactured:
    """An exact solution with its Laplacian in closed form.

    Attributes
    ----------
    name : str
        Case name.
    formula : str
        The solution as text, for reports.
    domain : Box
        Where the case is posed.
    u : callable ``u(x: Coordinates) -> (n,)``
        The exact solution (torch operations, so any dtype/device and autograd work).
    laplacian : callable ``laplacian(x: Coordinates) -> (n,)``
        Its Laplacian, in closed form.
    """

    name: str
    formula: str
    domain: Box
    u: Callable[[Coordinates], Any]
    laplacian: Callable[[Coordinates], Any]


def _g_sin6cos(x: Any, k: float) -> Any:
    return torch.sin(6 * x) * torch.cos(k * x)


def _g_sin6cos_xx(x: Any, k: float) -> Any:
    # (sin 6x cos kx)'' = -(36 + k^2) sin 6x cos kx - 12 k cos 6x sin kx
    return -(36 + k * k) * torch.sin(6 * x) * torch.cos(k * x) - 12 * k * torch.cos(
        6 * x
    ) * torch.sin(k * x)


_CASES_1D: dict[str, Manufactured] = {
    "sin100": Manufactured(
        "sin100",
        "sin(100x)",
        Box(x=(0.0, TWO_PI)),
        lambda c: torch.sin(100 * c.x),
        lambda c: -1e4 * torch.sin(100 * c.x),
    ),
    "xsin200": Manufactured(
        "xsin200",
        "x sin(200x)",
        Box(x=(0.0, TWO_PI)),
        lambda c: c.x * torch.sin(200 * c.x),
        lambda c: 400 * torch.cos(200 * c.x) - 4e4 * c.x * torch.sin(200 * c.x),
    ),
    "sin6cos100": Manufactured(
        "sin6cos100",
        "sin(6x) cos(100x)",
        Box(x=(0.0, TWO_PI)),
        lambda c: _g_sin6cos(c.x, 100.0),
        lambda c: _g_sin6cos_xx(c.x, 100.0),
    ),
    "multiscale": Manufactured(
        "multiscale",
        "sin(x) + 0.1 sin(20x) + 0.05 cos(100x)",
        Box(x=(0.0, 1.0)),
        lambda c: torch.sin(c.x) + 0.1 * torch.sin(20 * c.x) + 0.05 * torch.cos(100 * c.x),
        lambda c: -torch.sin(c.x) - 40 * torch.sin(20 * c.x) - 500 * torch.cos(100 * c.x),
    ),
    "sin500": Manufactured(
        "sin500",
        "sin(500x) - 2 (x - 0.5)^2",
        Box(x=(0.0, 1.0)),
        lambda c: torch.sin(500 * c.x) - 2 * (c.x - 0.5) ** 2,
        lambda c: -2.5e5 * torch.sin(500 * c.x) - 4.0,
    ),
}

_CASES_2D: dict[str, Manufactured] = {
    "sin100": Manufactured(
        "sin100",
        "sin(100x) sin(100y)",
        Box(x=(0.0, TWO_PI), y=(0.0, TWO_PI)),
        lambda c: torch.sin(100 * c.x) * torch.sin(100 * c.y),
        lambda c: -2e4 * torch.sin(100 * c.x) * torch.sin(100 * c.y),
    ),
    "sin6cos20": Manufactured(
        "sin6cos20",
        "sin(6x) cos(20x) + sin(6y) cos(20y)",
        Box(x=(0.0, TWO_PI), y=(0.0, TWO_PI)),
        lambda c: _g_sin6cos(c.x, 20.0) + _g_sin6cos(c.y, 20.0),
        lambda c: _g_sin6cos_xx(c.x, 20.0) + _g_sin6cos_xx(c.y, 20.0),
    ),
}

#: Names of the 1-D stationary cases.
CASES_1D: tuple[str, ...] = tuple(_CASES_1D)
#: Names of the 2-D stationary cases.
CASES_2D: tuple[str, ...] = tuple(_CASES_2D)


def _case(table: dict[str, Manufactured], case: str, dim: str) -> Manufactured:
    if case not in table:
        raise ValueError(f"case: got {case!r}; allowed {dim} cases are {list(table)}")
    return table[case]


def manufactured_1d(case: str) -> Manufactured:
    """The exact solution, Laplacian and domain of a 1-D case (see :data:`CASES_1D`)."""
    return _case(_CASES_1D, case, "1-D")


def manufactured_2d(case: str) -> Manufactured:
    """The exact solution, Laplacian and domain of a 2-D case (see :data:`CASES_2D`)."""
    return _case(_CASES_2D, case, "2-D")


def manufactured_problem(
    m: Manufactured, residual: Callable[[Any, Coordinates], Any], family: str, dim: str
) -> PDEProblem:
    """A Dirichlet problem on ``m.domain`` whose boundary data and exact solution are ``m.u``.

    Shared by every family built on the manufactured cases (Allen–Cahn, Poisson); the problem
    is named ``"<family>_<dim>_<case>"``.
    """
    return PDEProblem(
        m.domain,
        residual,
        conditions=[Dirichlet(m.u)],
        exact=m.u,
        name=f"{family}_{dim}_{m.name}",
        params={"case": m.name, "solution": m.formula},
    )


def _stationary(m: Manufactured, dim: str) -> PDEProblem:
    axes = m.domain.names

    def source(x: Coordinates) -> Any:
        u = m.u(x)
        return m.laplacian(x) + u * (u * u - 1)

    def residual(u: Any, x: Coordinates) -> Any:
        lap = sum(u.d(a + a) for a in axes)
        v = u.value
        return lap + v * (v * v - 1) - source(x)

    return manufactured_problem(m, residual, "allen_cahn", dim)


@PROBLEMS.register("allen_cahn_1d")
def allen_cahn_1d(case: str) -> PDEProblem:
    """Stationary 1-D Allen–Cahn ``u_xx + u (u^2 - 1) = f`` with a manufactured solution.

    Parameters
    ----------
    case : str
        One of :data:`CASES_1D` (``"sin100"``, ``"xsin200"``, ``"sin6cos100"``,
        ``"multiscale"``, ``"sin500"``).

    Returns
    -------
    PDEProblem
        Residual ``u.d("xx") + u (u^2 - 1) - f``, Dirichlet data from the exact solution.
    """
    return _stationary(manufactured_1d(case), "1d")


@PROBLEMS.register("allen_cahn_2d")
def allen_cahn_2d(case: str) -> PDEProblem:
    """Stationary 2-D Allen–Cahn ``u_xx + u_yy + u (u^2 - 1) = f`` with a manufactured solution.

    Parameters
    ----------
    case : str
        One of :data:`CASES_2D` (``"sin100"``, ``"sin6cos20"``).
    """
    return _stationary(manufactured_2d(case), "2d")


# -- time-dependent benchmark: ETDRK4 reference -------------------------------------------------
class AllenCahnReference:
    """Reference solution of the periodic 1-D Allen–Cahn equation from stored snapshots.

    Evaluation is exact trigonometric interpolation in ``x`` and cubic Hermite interpolation
    in ``t`` (values and ``u_t`` at the snapshots).

    Parameters
    ----------
    times : array, shape ``(n_t,)``
        Increasing snapshot times.
    coeffs : complex array, shape ``(n_t, n_x // 2 + 1)``
        ``rfft`` of the solution on ``n_x`` periodic points at each snapshot.
    dcoeffs : complex array, shape ``(n_t, n_x // 2 + 1)``
        ``rfft`` of ``u_t`` at each snapshot.
    n_x : int
        Number of periodic grid points.
    lower, period : float
        Spatial domain ``[lower, lower + period)``.
    """

    def __init__(
        self,
        times: np.ndarray,
        coeffs: np.ndarray,
        dcoeffs: np.ndarray,
        n_x: int,
        lower: float,
        period: float,
    ) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        self.n_x = int(n_x)
        self.lower = float(lower)
        self.period = float(period)
        # Fold rfft normalisation and the half-spectrum doubling into the coefficients once.
        scale = np.full(coeffs.shape[1], 2.0 / self.n_x)
        scale[0] = 1.0 / self.n_x
        if self.n_x % 2 == 0:
            scale[-1] = 1.0 / self.n_x
        self._raw = np.asarray(coeffs)
        self._c = coeffs * scale
        self._dc = dcoeffs * scale
        self._k = TWO_PI / self.period * np.arange(coeffs.shape[1])

    def grid_values(self) -> np.ndarray:
        """The solution on its own grid, shape ``(n_t, n_x)`` (``x`` from ``lower``)."""
        return np.fft.irfft(self._raw, n=self.n_x, axis=1)

    def _series(self, c: np.ndarray, x: np.ndarray) -> np.ndarray:
        phase = np.exp(1j * np.outer(x - self.lower, self._k))
        return np.real(np.sum(phase * c, axis=1))

    def __call__(self, x: np.ndarray, t: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """Evaluate at points; ``x`` and ``t`` of shape ``(n,)``; returns ``(n,)``."""
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        t = np.asarray(t, dtype=np.float64).reshape(-1)
        if x.shape != t.shape:
            raise ValueError(f"x, t: need the same shape, got {x.shape} and {t.shape}")
        ts = self.times
        t = np.clip(t, ts[0], ts[-1])
        j = np.clip(np.searchsorted(ts, t, side="right") - 1, 0, len(ts) - 2)
        h = ts[j + 1] - ts[j]
        s = (t - ts[j]) / h
        # Cubic Hermite basis on [0, 1].
        h00 = (1 + 2 * s) * (1 - s) ** 2
        h10 = s * (1 - s) ** 2
        h01 = s * s * (3 - 2 * s)
        h11 = s * s * (s - 1)
        out = np.empty_like(x)
        for start in range(0, x.size, chunk):
            sl = slice(start, start + chunk)
            js = j[sl]
            c = (
                h00[sl, None] * self._c[js]
                + (h10[sl] * h[sl])[:, None] * self._dc[js]
                + h01[sl, None] * self._c[js + 1]
                + (h11[sl] * h[sl])[:, None] * self._dc[js + 1]
            )
            out[sl] = self._series(c, x[sl])
        return out


def _etdrk4_coefficients(lin: np.ndarray, dt: float, n_contour: int = 32) -> tuple[np.ndarray, ...]:
    """ETDRK4 scalar coefficients by contour averages (Kassam & Trefethen), per mode."""
    r = np.exp(1j * np.pi * (np.arange(1, n_contour + 1) - 0.5) / n_contour)
    lr = dt * lin[:, None] + r[None, :]
    e = np.exp(dt * lin)
    e2 = np.exp(dt * lin / 2)
    q = dt * np.real(np.mean((np.exp(lr / 2) - 1) / lr, axis=1))
    f1 = dt * np.real(np.mean((-4 - lr + np.exp(lr) * (4 - 3 * lr + lr**2)) / lr**3, axis=1))
    f2 = dt * np.real(np.mean((2 + lr + np.exp(lr) * (-2 + lr)) / lr**3, axis=1))
    f3 = dt * np.real(np.mean((-4 - 3 * lr - lr**2 + np.exp(lr) * (4 - lr)) / lr**3, axis=1))
    return e, e2, q, f1, f2, f3


def solve_allen_cahn(
    eps: float = 1e-4,
    a: float = 5.0,
    n_x: int = 512,
    dt: float = 1e-4,
    t_end: float = 1.0,
    n_save: int = 1001,
    initial: Callable[[np.ndarray], np.ndarray] | None = None,
) -> AllenCahnReference:
    """Solve ``u_t = eps u_xx + a (u - u^3)`` on the periodic interval ``[-1, 1)`` by ETDRK4.

    Parameters
    ----------
    eps, a : float
        Diffusion and reaction coefficients (positive).
    n_x : int
        Fourier grid points (even, at least 16).
    dt : float
        Time step; ``t_end / (n_save - 1)`` must be a whole multiple of it (it is rounded).
    t_end : float
        Final time.
    n_save : int
        Snapshots stored, equispaced in ``[0, t_end]`` (at least 2).
    initial : callable, optional
        ``u0(x)`` on numpy arrays; default ``x^2 cos(pi x)``.

    Returns
    -------
    AllenCahnReference
        Callable ``ref(x, t)``.
    """
    for name, value in (("eps", eps), ("a", a), ("dt", dt), ("t_end", t_end)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    if not isinstance(n_x, int) or n_x < 16 or n_x % 2:
        raise ValueError(f"n_x: expected an even integer >= 16, got {n_x!r}")
    if not isinstance(n_save, int) or n_save < 2:
        raise ValueError(f"n_save: expected an integer >= 2, got {n_save!r}")
    lower, period = -1.0, 2.0
    x = lower + period * np.arange(n_x) / n_x
    u0 = initial(x) if initial is not None else x**2 * np.cos(np.pi * x)
    k = TWO_PI / period * np.arange(n_x // 2 + 1)
    lin = -eps * k**2
    save_every = max(1, round(t_end / (n_save - 1) / dt))
    dt = t_end / (n_save - 1) / save_every
    e, e2, q, f1, f2, f3 = _etdrk4_coefficients(lin, dt)

    def nonlinear(v: np.ndarray) -> np.ndarray:
        w = np.fft.irfft(v, n=n_x)
        return np.fft.rfft(a * (w - w**3))

    v = np.fft.rfft(u0)
    coeffs = np.empty((n_save, k.size), dtype=np.complex128)
    dcoeffs = np.empty_like(coeffs)
    coeffs[0] = v
    dcoeffs[0] = lin * v + nonlinear(v)
    for i in range(1, n_save):
        for _ in range(save_every):
            nv = nonlinear(v)
            av = e2 * v + q * nv
            na = nonlinear(av)
            bv = e2 * v + q * na
            nb = nonlinear(bv)
            cv = e2 * av + q * (2 * nb - nv)
            nc = nonlinear(cv)
            v = e * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nc
        coeffs[i] = v
        dcoeffs[i] = lin * v + nonlinear(v)
    times = np.linspace(0.0, t_end, n_save)
    return AllenCahnReference(times, coeffs, dcoeffs, n_x, lower, period)


_REFERENCE_CACHE: dict[tuple[float, ...], AllenCahnReference] = {}


@PROBLEMS.register("allen_cahn")
def allen_cahn(
    eps: float = 1e-4,
    a: float = 5.0,
    reference_n_x: int = 512,
    reference_dt: float = 1e-4,
) -> PDEProblem:
    r"""The 1-D time-dependent Allen–Cahn benchmark of PINN and PIG papers.

    .. math::

        u_t - \varepsilon u_{xx} + a u^3 - a u = 0, \quad x \in [-1, 1],\ t \in [0, 1],
        \quad u(x, 0) = x^2 \cos(\pi x), \quad \text{periodic in } x.

    Parameters
    ----------
    eps, a : float
        Diffusion (default ``1e-4``) and reaction (default ``5``) coefficients.
    reference_n_x, reference_dt : int, float
        Resolution of the ETDRK4 reference (computed lazily on first use, then cached).

    Returns
    -------
    PDEProblem
        On ``Box(x=(-1, 1), t=(0, 1))``; conditions ``Initial(x^2 cos(pi x))`` and
        ``Periodic(("x",))``; ``exact`` interpolates the reference.
    """
    key = (float(eps), float(a), float(reference_n_x), float(reference_dt))

    def reference() -> AllenCahnReference:
        if key not in _REFERENCE_CACHE:
            _REFERENCE_CACHE[key] = solve_allen_cahn(eps, a, int(reference_n_x), reference_dt)
        return _REFERENCE_CACHE[key]

    def residual(u: Any, x: Coordinates) -> Any:
        v = u.value
        return u.d("t") - eps * u.d("xx") + a * v**3 - a * v

    def exact(x: Coordinates) -> Any:
        xs = torch.as_tensor(x.x)
        ts = torch.as_tensor(x.t)
        values = reference()(xs.detach().cpu().numpy(), ts.detach().cpu().numpy())
        return torch.as_tensor(values, dtype=xs.dtype, device=xs.device)

    return PDEProblem(
        Box(x=(-1.0, 1.0), t=(0.0, 1.0)),
        residual,
        conditions=[Initial(lambda c: c.x**2 * torch.cos(math.pi * c.x)), Periodic(("x",))],
        exact=exact,
        name="allen_cahn",
        params={"eps": eps, "a": a},
    )
