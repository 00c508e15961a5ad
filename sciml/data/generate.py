"""Reference data generators: classical solvers writing the native HDF5 layout.

Each generator is registered by name in :data:`sciml.core.registry.GENERATORS` and called
through :func:`generate` (or ``sciml data generate NAME``): ``darcy``, ``grf``,
``advection``, ``burgers``, ``diffusion_reaction``, ``navier_stokes`` and ``kolmogorov``.
Generators stream samples into a :class:`~sciml.data.hdf5.Writer` block by block, so memory
stays bounded, the progress bar moves, and an interrupted run leaves no half-written file
behind.

All generators except ``darcy`` seed each sample on its own: sample ``i`` depends only on
``(seed, i)`` (:func:`sciml.reference.grf.sample_generator`), and each sample's time step is
chosen from that sample alone. With ``resume=True`` (their default) the writer keeps
``<path>.partial`` when interrupted, and running the same command again computes only the
samples still missing; the finished file equals that of an uninterrupted run.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sciml.core.grid import Box, Grid
from sciml.core.progress import progress_bar
from sciml.core.registry import GENERATORS
from sciml.core.validation import check_int
from sciml.data.hdf5 import Writer
from sciml.reference.advection import solve_advection
from sciml.reference.burgers import solve_burgers
from sciml.reference.diffusion_reaction import solve_diffusion_reaction
from sciml.reference.grf import (
    gaussian_random_field,
    grf_spectrum,
    nested_periodic_grf,
    random_sines,
    sample_generator,
)
from sciml.reference.navier_stokes import fno_forcing, kolmogorov_forcing, solve_vorticity
from sciml.reference.time_stepping import output_times

__all__ = [
    "NAVIER_STOKES_T_END",
    "generate",
    "generate_advection_file",
    "generate_burgers_file",
    "generate_darcy_file",
    "generate_diffusion_reaction_file",
    "generate_grf_file",
    "generate_kolmogorov_file",
    "generate_navier_stokes_file",
]

#: Samples generated and written per block.
BLOCK = 64


@GENERATORS.register("darcy")
def generate_darcy_file(
    path: str | os.PathLike[str],
    n: int,
    resolution: int,
    seed: int = 0,
    progress: bool = True,
    alpha: float = 2.0,
    tau: float = 3.0,
) -> Path:
    """2-D Darcy flow ``-div(a grad u) = 1`` on the unit square, ``u = 0`` on the boundary.

    Writes fields ``coefficient`` (``a``: 12 where a Gaussian random field with covariance
    ``(-Laplacian + tau^2 I)^-alpha`` is >= 0, else 3) and ``solution`` (``u``), both
    ``(n, 1, resolution, resolution, 1)`` float32 on the vertex grid ``x_i = i/(resolution-1)``.
    The samples equal those of one call to :func:`sciml.problems.darcy.generate_darcy` with
    the same seed: blocks continue one random stream.
    """
    from sciml.problems.darcy import darcy_grid, generate_darcy

    n = check_int("n", n, 1)
    resolution = check_int("resolution", resolution, 3)
    grid = darcy_grid(resolution)
    rng = np.random.default_rng(seed)
    spec = (1, resolution, resolution, 1)
    attrs = {
        "pde": "darcy",
        "params": {"alpha": alpha, "tau": tau, "high": 12.0, "low": 3.0, "forcing": 1.0,
                   "seed": int(seed), "equation": "-div(a grad u) = 1, u = 0 on the boundary"},
    }
    bar = progress_bar(total=n, desc=f"darcy {resolution}x{resolution}", unit="sample",
                       enabled=progress)
    with bar, Writer(path, grid, {"coefficient": spec, "solution": spec}, n, attrs) as writer:
        for start in range(0, n, BLOCK):
            k = min(BLOCK, n - start)
            block = generate_darcy(k, resolution, seed=rng, alpha=alpha, tau=tau,
                                   progress=False)
            writer.write_samples(
                start,
                {name: block[name][:, None, :, :, None].astype(np.float32)
                 for name in ("coefficient", "solution")},
            )
            bar.update(k)
    return Path(path)


# ---------------------------------------------------------------------------------------
# per-sample-seeded generators: sample i depends only on (seed, i)
# ---------------------------------------------------------------------------------------
def _check_float(argument: str, value: Any, *, positive: bool = False,
                 allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{argument}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or (positive and not (value > 0 or (allow_zero and value == 0))):
        need = "a finite number" if not positive else (
            "a non-negative number" if allow_zero else "a positive number")
        raise ValueError(f"{argument}: expected {need}, got {value!r}")
    return value


def _check_dtype(dtype: Any) -> np.dtype:
    if str(dtype) not in ("float32", "float64"):
        raise ValueError(f"dtype: got {dtype!r}; allowed are 'float32' and 'float64'")
    return np.dtype(str(dtype))


def _runs(indices: np.ndarray, size: int) -> list[np.ndarray]:
    """Split sorted indices into consecutive runs of at most ``size`` (one write each)."""
    blocks = []
    if indices.size == 0:
        return blocks
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    for run in np.split(indices, breaks):
        blocks.extend(run[i : i + size] for i in range(0, run.size, size))
    return blocks


def _generate_blocks(
    path: str | os.PathLike[str],
    *,
    n: int,
    grid: Grid,
    field: str,
    sample_shape: tuple[int, ...],
    attrs: dict[str, Any],
    times: np.ndarray | None,
    solve: Callable[[np.ndarray, Callable[[int, int], None]], np.ndarray],
    batch_size: int,
    dtype: np.dtype,
    progress: bool,
    resume: bool,
    desc: str,
) -> Path:
    """Drive a generator: pick the missing samples, solve them in blocks, write, show progress.

    ``solve(indices, report)`` returns the block ``(k, *sample_shape)`` for the sample
    indices given and may call ``report(output_index, samples)`` as its samples reach each
    output time, which moves the bar by fractions of a sample.
    """
    frames = 1 if times is None else max(1, times.size - 1)
    with Writer(path, grid, {field: (sample_shape, dtype)}, n, attrs, times=times,
                resume=resume) as writer:
        missing = np.asarray(writer.missing)
        bar = progress_bar(total=n, initial=n - missing.size, desc=desc, unit="sample",
                           enabled=progress, fractional=frames > 1)
        with bar:
            done = n - missing.size
            for block in _runs(missing, batch_size):

                def report(_index: int, samples: int) -> None:
                    bar.update(samples / frames)

                values = np.asarray(solve(block, report))
                writer.write_samples(int(block[0]), {field: values.astype(dtype)})
                done += block.size
                bar.n = done  # exact count after the fractional updates
                bar.refresh()
    return Path(path)


def _axes(ndim: int) -> tuple[str, ...]:
    if ndim not in (1, 2, 3):
        raise ValueError(f"ndim: expected 1, 2 or 3, got {ndim!r}")
    return ("x", "y", "z")[:ndim]


def _initial_1d(initial: str, indices: np.ndarray, seed: int, resolution: int,
                options: dict[str, Any]) -> np.ndarray:
    """``(k, resolution)`` initial conditions: ``"sines"`` or a nested periodic ``"grf"``."""
    rngs = [sample_generator(seed, int(i)) for i in indices]
    if initial == "sines":
        return random_sines(rngs, resolution, options["n_waves"], options["max_frequency"])
    return nested_periodic_grf(rngs, resolution, options["alpha"], options["tau"],
                               options["sigma"], ndim=1)


def _times(t_end: float, n_times: int) -> np.ndarray:
    _check_float("t_end", t_end, positive=True)
    return output_times(t_end, check_int("n_times", n_times, 2))


@GENERATORS.register("grf")
def generate_grf_file(
    path: str | os.PathLike[str],
    n: int,
    resolution: int,
    seed: int = 0,
    progress: bool = True,
    *,
    boundary: str = "periodic",
    ndim: int = 2,
    alpha: float = 2.0,
    tau: float = 3.0,
    sigma: float | None = None,
    keep_mean: bool = False,
    batch_size: int = 256,
    dtype: str = "float32",
    resume: bool = True,
) -> Path:
    """Gaussian random fields ``N(0, sigma^2 (-Laplacian + tau^2 I)^-alpha)`` on ``[0, 1]^d``.

    Writes field ``u`` ``(n, 1, *space, 1)``; ``boundary`` is ``"periodic"`` (grid
    ``i / n``), ``"dirichlet"`` or ``"neumann"`` (grid ``i / (n - 1)``). See
    :func:`sciml.reference.grf.gaussian_random_field`.
    """
    n = check_int("n", n, 1)
    resolution = check_int("resolution", resolution, 3)
    names = _axes(ndim)
    dt = _check_dtype(dtype)
    box = Box(**{a: (0.0, 1.0) for a in names})
    grid = Grid.uniform(box, resolution, periodic=boundary == "periodic")
    # validates alpha, tau, sigma and boundary before any work
    grf_spectrum((resolution,) * ndim, alpha, tau, sigma, boundary, keep_mean=keep_mean)
    attrs = {"pde": "grf", "params": {
        "equation": "u ~ N(0, sigma^2 (-Laplacian + tau^2 I)^-alpha)", "boundary": boundary,
        "alpha": alpha, "tau": tau, "sigma": sigma, "keep_mean": keep_mean, "ndim": ndim,
        "seed": int(seed), "seeding": "sample i uses SeedSequence([seed, i])"}}

    def solve(indices: np.ndarray, report: Callable[[int, int], None]) -> np.ndarray:
        u = np.stack([
            gaussian_random_field(1, (resolution,) * ndim, alpha, tau, sigma, boundary,
                                  rng=sample_generator(seed, int(i)), keep_mean=keep_mean)[0]
            for i in indices
        ])
        return u[:, None, ..., None]

    return _generate_blocks(
        path, n=n, grid=grid, field="u", sample_shape=(1, *grid.shape, 1), attrs=attrs,
        times=None, solve=solve, batch_size=check_int("batch_size", batch_size, 1),
        dtype=dt, progress=progress, resume=resume, desc=f"grf {boundary} {resolution}^{ndim}",
    )


_IC_DOC = """initial : {"sines", "grf"}
        Initial condition: PDEBench-style superpositions of ``n_waves`` sines with integer
        frequencies up to ``max_frequency``, or a periodic Gaussian random field with
        ``alpha``, ``tau``, ``sigma`` drawn on a fixed mode box (so resolutions nest)."""


def _ic_options(initial: str, n_waves: int, max_frequency: int, alpha: float, tau: float,
                sigma: float | None) -> dict[str, Any]:
    if initial not in ("sines", "grf"):
        raise ValueError(f"initial: got {initial!r}; allowed are 'sines' and 'grf'")
    options = {"initial": initial}
    if initial == "sines":
        options.update(n_waves=check_int("n_waves", n_waves, 1),
                       max_frequency=check_int("max_frequency", max_frequency, 1))
    else:
        options.update(alpha=_check_float("alpha", alpha, positive=True),
                       tau=_check_float("tau", tau, positive=True),
                       sigma=None if sigma is None else _check_float("sigma", sigma,
                                                                     positive=True))
    return options


def _line_grid(resolution: int) -> Grid:
    return Grid.periodic(Box(x=(0.0, 1.0)), resolution)


@GENERATORS.register("advection")
def generate_advection_file(
    path: str | os.PathLike[str],
    n: int,
    resolution: int,
    seed: int = 0,
    progress: bool = True,
    *,
    beta: float = 1.0,
    t_end: float = 2.0,
    n_times: int = 201,
    initial: str = "sines",
    n_waves: int = 2,
    max_frequency: int = 8,
    alpha: float = 2.0,
    tau: float = 5.0,
    sigma: float | None = None,
    batch_size: int = 256,
    device: str = "auto",
    dtype: str = "float32",
    resume: bool = True,
) -> Path:
    """1-D advection ``u_t + beta u_x = 0`` on ``[0, 1)`` periodic, exact spectral shift.

    Writes field ``u`` ``(n, n_times, resolution, 1)`` at times ``linspace(0, t_end,
    n_times)``. See :func:`sciml.reference.advection.solve_advection`.
    """
    n = check_int("n", n, 1)
    resolution = check_int("resolution", resolution, 4)
    beta = _check_float("beta", beta)
    times = _times(t_end, n_times)
    ic = _ic_options(initial, n_waves, max_frequency, alpha, tau, sigma)
    attrs = {"pde": "advection", "params": {
        "equation": "u_t + beta u_x = 0, x in [0, 1) periodic", "beta": beta,
        "t_end": float(t_end), "seed": int(seed), "solver": "exact spectral shift", **ic}}

    def solve(indices: np.ndarray, report: Callable[[int, int], None]) -> np.ndarray:
        u0 = _initial_1d(initial, indices, seed, resolution, ic)
        u = solve_advection(u0, times, beta, device=device)
        report(times.size - 1, indices.size * (times.size - 1))
        return u.cpu().numpy()[..., None]

    return _generate_blocks(
        path, n=n, grid=_line_grid(resolution), field="u",
        sample_shape=(times.size, resolution, 1), attrs=attrs, times=times, solve=solve,
        batch_size=check_int("batch_size", batch_size, 1), dtype=_check_dtype(dtype),
        progress=progress, resume=resume, desc=f"advection {resolution}",
    )


@GENERATORS.register("burgers")
def generate_burgers_file(
    path: str | os.PathLike[str],
    n: int,
    resolution: int,
    seed: int = 0,
    progress: bool = True,
    *,
    nu: float = 0.1,
    t_end: float = 1.0,
    n_times: int = 101,
    initial: str = "grf",
    n_waves: int = 2,
    max_frequency: int = 8,
    alpha: float = 2.0,
    tau: float = 5.0,
    sigma: float | None = 25.0,
    cfl: float = 0.5,
    batch_size: int = 256,
    device: str = "auto",
    dtype: str = "float32",
    resume: bool = True,
) -> Path:
    """1-D Burgers ``u_t + u u_x = nu u_xx`` on ``[0, 1)`` periodic, ETDRK4 pseudo-spectral.

    Writes field ``u`` ``(n, n_times, resolution, 1)``. The default initial condition is
    the FNO benchmark's ``N(0, 625 (-Laplacian + 25 I)^-2)``. See
    :func:`sciml.reference.burgers.solve_burgers`.
    """
    n = check_int("n", n, 1)
    resolution = check_int("resolution", resolution, 4)
    nu = _check_float("nu", nu, positive=True)
    times = _times(t_end, n_times)
    ic = _ic_options(initial, n_waves, max_frequency, alpha, tau, sigma)
    attrs = {"pde": "burgers", "params": {
        "equation": "u_t + u u_x = nu u_xx, x in [0, 1) periodic", "nu": nu,
        "t_end": float(t_end), "cfl": float(cfl), "seed": int(seed),
        "solver": "Fourier pseudo-spectral, 2/3 dealiasing, ETDRK4", **ic}}

    def solve(indices: np.ndarray, report: Callable[[int, int], None]) -> np.ndarray:
        u0 = _initial_1d(initial, indices, seed, resolution, ic)
        u = solve_burgers(u0, times, nu, cfl=cfl, device=device,
                          callback=report)
        return u.cpu().numpy()[..., None]

    return _generate_blocks(
        path, n=n, grid=_line_grid(resolution), field="u",
        sample_shape=(times.size, resolution, 1), attrs=attrs, times=times, solve=solve,
        batch_size=check_int("batch_size", batch_size, 1), dtype=_check_dtype(dtype),
        progress=progress, resume=resume, desc=f"burgers {resolution}",
    )


@GENERATORS.register("diffusion_reaction")
def generate_diffusion_reaction_file(
    path: str | os.PathLike[str],
    n: int,
    resolution: int,
    seed: int = 0,
    progress: bool = True,
    *,
    nu: float = 0.5,
    rho: float = 1.0,
    t_end: float = 1.0,
    n_times: int = 101,
    initial: str = "sines",
    n_waves: int = 2,
    max_frequency: int = 8,
    alpha: float = 2.0,
    tau: float = 5.0,
    sigma: float | None = None,
    batch_size: int = 256,
    device: str = "auto",
    dtype: str = "float32",
    resume: bool = True,
) -> Path:
    """1-D Fisher ``u_t = nu u_xx + rho u (1 - u)`` on ``[0, 1)`` periodic, ETDRK4.

    Writes field ``u`` ``(n, n_times, resolution, 1)``. Initial conditions are rescaled into
    ``[0, 1]`` as in PDEBench: ``|u0| / max |u0|``. See
    :func:`sciml.reference.diffusion_reaction.solve_diffusion_reaction`.
    """
    n = check_int("n", n, 1)
    resolution = check_int("resolution", resolution, 4)
    nu = _check_float("nu", nu, positive=True)
    rho = _check_float("rho", rho, positive=True, allow_zero=True)
    times = _times(t_end, n_times)
    ic = _ic_options(initial, n_waves, max_frequency, alpha, tau, sigma)
    attrs = {"pde": "diffusion_reaction", "params": {
        "equation": "u_t = nu u_xx + rho u (1 - u), x in [0, 1) periodic", "nu": nu,
        "rho": rho, "t_end": float(t_end), "seed": int(seed),
        "initial_scaling": "|u0| / max|u0|",
        "solver": "Fourier pseudo-spectral, 2/3 dealiasing, ETDRK4", **ic}}

    def solve(indices: np.ndarray, report: Callable[[int, int], None]) -> np.ndarray:
        u0 = np.abs(_initial_1d(initial, indices, seed, resolution, ic))
        u0 = u0 / u0.max(axis=1, keepdims=True)
        u = solve_diffusion_reaction(u0, times, nu, rho, device=device,
                                     callback=report)
        return u.cpu().numpy()[..., None]

    return _generate_blocks(
        path, n=n, grid=_line_grid(resolution), field="u",
        sample_shape=(times.size, resolution, 1), attrs=attrs, times=times, solve=solve,
        batch_size=check_int("batch_size", batch_size, 1), dtype=_check_dtype(dtype),
        progress=progress, resume=resume, desc=f"diffusion_reaction {resolution}",
    )


#: Final times of the FNO Navier–Stokes data sets by viscosity.
NAVIER_STOKES_T_END = {1e-3: 50.0, 1e-4: 30.0, 1e-5: 20.0}


def _vorticity_blocks(
    path: str | os.PathLike[str], *, n: int, resolution: int, seed: int, progress: bool,
    box_length: float, nu: float, drag: float, forcing: np.ndarray, times: np.ndarray,
    alpha: float, tau: float, sigma: float | None, ic_modes: int | None, cfl: float,
    dt_max: float, batch_size: int, device: str, dtype: str, resume: bool,
    attrs: dict[str, Any], desc: str,
) -> Path:
    grid = Grid.periodic(Box(x=(0.0, box_length), y=(0.0, box_length)), resolution)

    def solve(indices: np.ndarray, report: Callable[[int, int], None]) -> np.ndarray:
        rngs = [sample_generator(seed, int(i)) for i in indices]
        w0 = nested_periodic_grf(rngs, resolution, alpha, tau, sigma, length=box_length,
                                 modes=ic_modes)
        w = solve_vorticity(w0, times, nu, forcing=forcing, drag=drag, length=box_length,
                            cfl=cfl, dt_max=dt_max, device=device,
                            callback=report)
        return w.cpu().numpy()[..., None]

    return _generate_blocks(
        path, n=n, grid=grid, field="vorticity",
        sample_shape=(times.size, resolution, resolution, 1), attrs=attrs, times=times,
        solve=solve, batch_size=check_int("batch_size", batch_size, 1),
        dtype=_check_dtype(dtype), progress=progress, resume=resume, desc=desc,
    )


@GENERATORS.register("navier_stokes")
def generate_navier_stokes_file(
    path: str | os.PathLike[str],
    n: int,
    resolution: int,
    seed: int = 0,
    progress: bool = True,
    *,
    nu: float = 1e-3,
    t_end: float | None = None,
    dt_out: float = 1.0,
    alpha: float = 2.5,
    tau: float = 7.0,
    sigma: float = 7.0**1.5,
    ic_modes: int | None = None,
    cfl: float = 0.25,
    dt_max: float = 0.01,
    batch_size: int = 100,
    device: str = "auto",
    dtype: str = "float32",
    resume: bool = True,
) -> Path:
    """2-D Navier–Stokes (vorticity) on the unit torus, the FNO benchmark.

    ``w_t + u . grad w = nu Laplacian w + 0.1 (sin 2 pi (x + y) + cos 2 pi (x + y))``, initial
    vorticity ``N(0, sigma^2 (-Laplacian + tau^2 I)^-alpha)`` drawn on a fixed mode box
    (``ic_modes`` per axis, default 256) so every resolution shares it. Writes field
    ``vorticity`` ``(n, T, resolution, resolution, 1)`` at ``t = 0, dt_out, ..., t_end``
    (``t_end`` defaults to 50, 30, 20 for ``nu`` = 1e-3, 1e-4, 1e-5, else 20). Samples are
    solved ``batch_size`` at a time; a batch holds its trajectory in float64, about
    ``batch_size * T * resolution**2 * 8`` bytes (1000 samples at 64x64 with 51 frames: 1.7
    GB, plus about 1 GB of work arrays; the default 100 needs about 0.4 GB).
    See :func:`sciml.reference.navier_stokes.solve_vorticity`.
    """
    n = check_int("n", n, 1)
    resolution = check_int("resolution", resolution, 8)
    nu = _check_float("nu", nu, positive=True)
    if t_end is None:
        t_end = next((v for k, v in NAVIER_STOKES_T_END.items() if math.isclose(k, nu)), 20.0)
    times = _steps_times(t_end, dt_out)
    attrs = {"pde": "navier_stokes", "params": {
        "equation": "w_t + u . grad w = nu Laplacian w + f, -Laplacian psi = w, "
                    "u = (psi_y, -psi_x), (x, y) in [0, 1)^2 periodic",
        "forcing": "0.1 (sin(2 pi (x + y)) + cos(2 pi (x + y)))", "nu": nu,
        "t_end": float(t_end), "dt_out": float(dt_out),
        "initial": "N(0, sigma^2 (-Laplacian + tau^2 I)^-alpha), zero mean",
        "alpha": float(alpha), "tau": float(tau), "sigma": float(sigma),
        "ic_modes": ic_modes, "cfl": float(cfl), "dt_max": float(dt_max), "seed": int(seed),
        "solver": "Fourier pseudo-spectral, 2/3 dealiasing, Crank-Nicolson (viscous) + "
                  "Heun (advection, forcing), CFL step per sample"}}
    return _vorticity_blocks(
        path, n=n, resolution=resolution, seed=seed, progress=progress, box_length=1.0,
        nu=nu, drag=0.0, forcing=fno_forcing(resolution), times=times, alpha=alpha, tau=tau,
        sigma=sigma, ic_modes=ic_modes, cfl=cfl, dt_max=dt_max, batch_size=batch_size,
        device=device, dtype=dtype, resume=resume, attrs=attrs,
        desc=f"navier_stokes nu={nu:g} {resolution}x{resolution}",
    )


@GENERATORS.register("kolmogorov")
def generate_kolmogorov_file(
    path: str | os.PathLike[str],
    n: int,
    resolution: int,
    seed: int = 0,
    progress: bool = True,
    *,
    nu: float = 1e-3,
    drag: float = 0.1,
    wavenumber: int = 4,
    amplitude: float = 1.0,
    t_end: float = 20.0,
    dt_out: float = 0.5,
    alpha: float = 2.5,
    tau: float = 7.0,
    sigma: float | None = None,
    ic_modes: int | None = None,
    cfl: float = 0.25,
    dt_max: float = 0.01,
    batch_size: int = 50,
    device: str = "auto",
    dtype: str = "float32",
    resume: bool = True,
) -> Path:
    """2-D Kolmogorov flow on ``[0, 2 pi)^2``: forcing ``sin(4 y)`` in ``u``, linear drag.

    ``w_t + u . grad w = nu Laplacian w - drag w - amplitude k cos(k y)`` with
    ``k = wavenumber``; initial vorticity ``N(0, sigma^2 (-Laplacian + tau^2 I)^-alpha)`` on
    the ``2 pi`` torus. Writes field ``vorticity`` ``(n, T, resolution, resolution, 1)`` at
    ``t = 0, dt_out, ..., t_end``. For turbulence at ``nu = 1e-3`` use 256x256 or finer.
    """
    n = check_int("n", n, 1)
    resolution = check_int("resolution", resolution, 8)
    nu = _check_float("nu", nu, positive=True)
    drag = _check_float("drag", drag, positive=True, allow_zero=True)
    wavenumber = check_int("wavenumber", wavenumber, 1)
    times = _steps_times(t_end, dt_out)
    length = 2.0 * math.pi
    attrs = {"pde": "kolmogorov", "params": {
        "equation": "w_t + u . grad w = nu Laplacian w - drag w + f, -Laplacian psi = w, "
                    "u = (psi_y, -psi_x), (x, y) in [0, 2 pi)^2 periodic",
        "forcing": "body force (amplitude sin(wavenumber y), 0), "
                   "f = -amplitude wavenumber cos(wavenumber y)",
        "nu": nu, "drag": drag, "wavenumber": wavenumber, "amplitude": float(amplitude),
        "t_end": float(t_end), "dt_out": float(dt_out),
        "initial": "N(0, sigma^2 (-Laplacian + tau^2 I)^-alpha) on the 2 pi torus, zero mean",
        "alpha": float(alpha), "tau": float(tau), "sigma": sigma, "ic_modes": ic_modes,
        "cfl": float(cfl), "dt_max": float(dt_max), "seed": int(seed),
        "solver": "Fourier pseudo-spectral, 2/3 dealiasing, Crank-Nicolson (viscous, drag) + "
                  "Heun (advection, forcing), CFL step per sample"}}
    return _vorticity_blocks(
        path, n=n, resolution=resolution, seed=seed, progress=progress, box_length=length,
        nu=nu, drag=drag, forcing=kolmogorov_forcing(resolution, wavenumber, amplitude, length),
        times=times, alpha=alpha, tau=tau, sigma=sigma, ic_modes=ic_modes, cfl=cfl,
        dt_max=dt_max, batch_size=batch_size, device=device, dtype=dtype, resume=resume,
        attrs=attrs, desc=f"kolmogorov nu={nu:g} {resolution}x{resolution}",
    )


def _steps_times(t_end: float, dt_out: float) -> np.ndarray:
    """``0, dt_out, ..., t_end``; ``t_end`` must be a whole number of ``dt_out``."""
    t_end = _check_float("t_end", t_end, positive=True)
    dt_out = _check_float("dt_out", dt_out, positive=True)
    count = round(t_end / dt_out)
    if count < 1 or not math.isclose(count * dt_out, t_end, rel_tol=1e-9):
        raise ValueError(
            f"t_end: got {t_end!r}, which is not a whole number of dt_out={dt_out!r} steps"
        )
    return output_times(t_end, count + 1)


def generate(
    name: str,
    path: str | os.PathLike[str],
    n: int,
    resolution: int,
    seed: int = 0,
    progress: bool = True,
    *,
    reuse: bool = False,
    **options: Any,
) -> Path:
    """Generate ``n`` samples of the PDE family ``name`` into the HDF5 file ``path``.

    Parameters
    ----------
    name : str
        A registered generator (``"darcy"``); an unknown name lists the known ones.
    path : path of the file to write (replaced atomically when it exists).
    n : number of samples.
    resolution : grid points per axis.
    seed : random seed; the same seed gives the same file.
    progress : show a progress bar.
    reuse : bool
        Keep an existing file at ``path`` instead of regenerating it when it already holds
        this data set: the same generator, sample count, grid points per axis and seed, and
        the same value for every requested option that the file records in its ``params``
        (options it does not record, such as ``device`` or ``batch_size``, do not change the
        data). Scripts can then call ``generate`` unconditionally.
    **options : family-specific options, the keyword arguments of the ``generate_*_file``
        function registered under ``name`` (for Darcy: ``alpha``, ``tau``; for
        Navier–Stokes: ``nu``, ``t_end``, ``dt_out``, ``batch_size``, ``device``, ...).

    Returns
    -------
    Path of the written file.
    """
    fn = GENERATORS.get(name)
    if reuse and _holds(path, name, n, resolution, seed, options):
        return Path(path)
    return fn(path, n=n, resolution=resolution, seed=seed, progress=progress, **options)


def _holds(
    path: str | os.PathLike[str], name: str, n: int, resolution: int, seed: int,
    options: dict[str, Any],
) -> bool:
    """Whether ``path`` is a complete file of generator ``name`` with these settings."""
    from sciml.data.hdf5 import open_dataset

    if not Path(path).is_file():
        return False
    try:
        with open_dataset(path) as data:
            attrs = data.attrs
            params = attrs.get("params", {})
            if not isinstance(params, dict):
                return False
            return (
                attrs.get("pde") == name
                and data.n_samples == n
                and set(data.grid.shape) == {int(resolution)}
                and params.get("seed", seed) == seed
                and all(params.get(k, v) == v for k, v in options.items())
            )
    except (OSError, ValueError):
        return False
