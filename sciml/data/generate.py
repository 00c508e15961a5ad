"""Reference data generators: classical solvers writing the native HDF5 layout.

Each generator is registered by name in :data:`sciml.core.registry.GENERATORS` and called
through :func:`generate` (or ``sciml data generate NAME``). Generators stream samples into a
:class:`~sciml.data.hdf5.Writer` block by block, so memory stays bounded, the progress bar
moves, and an interrupted run leaves no half-written file behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from sciml.core.progress import progress_bar
from sciml.core.registry import GENERATORS
from sciml.data.hdf5 import Writer

__all__ = ["generate"]

#: Samples generated and written per block.
BLOCK = 64


def _check_count(argument: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{argument}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


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

    n = _check_count("n", n, 1)
    resolution = _check_count("resolution", resolution, 3)
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


def generate(
    name: str,
    path: str | os.PathLike[str],
    n: int,
    resolution: int,
    seed: int = 0,
    progress: bool = True,
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
    **options : family-specific options (for Darcy: ``alpha``, ``tau``).

    Returns
    -------
    Path of the written file.
    """
    fn = GENERATORS.get(name)
    return fn(path, n=n, resolution=resolution, seed=seed, progress=progress, **options)
