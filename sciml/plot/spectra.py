"""Energy spectra of periodic fields: per wavenumber in 1-D, summed over shells in 2-D/3-D.

With ``N`` grid points and the normalised Fourier coefficients ``c_m = FFT(u)_m / N`` (so
``u(x_j) = sum_m c_m exp(2 pi i m . x_j / L)``), each mode carries the energy
``|c_m|^2 / 2`` and the energy spectrum is

``E(k) = sum_{modes m with round(|m|) = k} |c_m|^2 / 2``,  ``k = 0, 1, ..., K - 1``,

where ``|m|`` is the length of the integer wavenumber vector (signed modes, so in 1-D
``E(k)`` adds ``m = k`` and ``m = -k``) and ``K = min_d N_d // 2 + 1`` keeps the shells that
the grid resolves in every direction. By Parseval, ``sum_k E(k) = mean_x |u|^2 / 2`` for a
field whose modes all lie in those shells. ``average=True`` divides each shell by its number
of modes instead (the angle-averaged spectral density). Fields are assumed periodic and
sampled without the repeated end point.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sciml.core.grid import Grid
from sciml.core.validation import check_finite, describe
from sciml.plot.fields import LABEL_SIZE, TICK_SIZE, TITLE_SIZE, _save, _style, _to_numpy

__all__ = ["energy_spectrum", "spectrum"]

#: Shells with less than this fraction of the largest shell's energy are not drawn.
RELATIVE_FLOOR = 1e-28


def energy_spectrum(
    values: Any, ndim: int | None = None, *, average: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Energy spectrum of a field, or the mean spectrum of a stack of fields.

    Parameters
    ----------
    values : numpy array or torch tensor, shape ``(*lead, *space)``
        The last ``ndim`` axes are space; spectra are averaged over the leading axes
        (samples, time steps, channels).
    ndim : int, optional
        Number of spatial axes, 1 to 3 (default: all axes of ``values``).
    average : bool
        Divide each shell by its number of modes instead of summing it.

    Returns
    -------
    k : numpy.ndarray, shape ``(K,)``
        Integer wavenumbers ``0 .. K - 1``, ``K = min_d N_d // 2 + 1``.
    E : numpy.ndarray, shape ``(K,)``
        The spectrum (see the module docstring).

    Raises
    ------
    ValueError
        If ``ndim`` is not 1 to 3 or exceeds the array's rank, a spatial axis has fewer than
        2 points, or the values are not finite.
    """
    arr = _to_numpy(values, "values")
    if ndim is None:
        ndim = arr.ndim
    if isinstance(ndim, bool) or not isinstance(ndim, int) or not 1 <= ndim <= 3:
        raise ValueError(f"ndim: expected 1, 2 or 3 spatial axes, got {describe(ndim)}")
    if arr.ndim < ndim:
        raise ValueError(
            f"values: shape {arr.shape} has fewer than ndim={ndim} axes; expected "
            f"(*lead, *space) with {ndim} spatial axes"
        )
    space = arr.shape[arr.ndim - ndim:]
    if any(n < 2 for n in space):
        raise ValueError(f"values: spatial shape {space} needs at least 2 points per axis")
    if not isinstance(average, bool):
        raise ValueError(f"average: expected True or False, got {describe(average)}")
    check_finite("values", arr)
    axes = tuple(range(arr.ndim - ndim, arr.ndim))
    coeff = np.fft.fftn(arr, axes=axes) / np.prod(space)
    energy = 0.5 * np.abs(coeff) ** 2
    energy = energy.reshape(-1, *space).mean(axis=0)
    freqs = np.meshgrid(*[np.fft.fftfreq(n, d=1.0 / n) for n in space], indexing="ij")
    radius = np.sqrt(sum(f * f for f in freqs))
    n_shells = min(space) // 2 + 1
    shell = np.rint(radius).astype(np.int64).ravel()
    keep = shell < n_shells
    spectrum_ = np.bincount(shell[keep], weights=energy.ravel()[keep], minlength=n_shells)
    if average:
        counts = np.bincount(shell[keep], minlength=n_shells)
        spectrum_ = spectrum_ / np.maximum(counts, 1)
    return np.arange(n_shells), spectrum_


def spectrum(
    fields: Any,
    grid: Grid | None = None,
    *,
    ndim: int | None = None,
    average: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Plot energy spectra on log-log axes, one curve per field.

    Parameters
    ----------
    fields : array or tensor, or mapping of label to array
        Each ``(*lead, *space)``; spectra are averaged over the leading axes. Pass
        ``{"truth": u, "prediction": v}`` to compare spectra.
    grid : Grid, optional
        Fixes the spatial axes to ``grid.ndim`` and checks their shape against the grid.
    ndim : int, optional
        Number of spatial axes when no grid is given (default: all axes of each array).
    average : bool
        Angle-averaged instead of shell-summed spectra (see :func:`energy_spectrum`).
    ax : matplotlib Axes, optional
        Draw into this axes (its figure is returned).
    title : str, optional
        Title of the axes.
    path : str or path-like, optional
        Also save the figure there as PNG.

    Returns
    -------
    matplotlib.figure.Figure
        ``E(k)`` against ``k`` for ``k >= 1`` (``k = 0``, the mean, has no place on a log
        axis); shells with no energy above roundoff (``RELATIVE_FLOOR`` times the largest)
        are left out of the curve.

    Raises
    ------
    ValueError
        If a field does not fit the grid, or as in :func:`energy_spectrum`.
    """
    if isinstance(fields, Mapping):
        items = list(fields.items())
        if not items:
            raise ValueError("fields: expected at least one field, got an empty mapping")
    else:
        items = [(None, fields)]
    if grid is not None:
        if not isinstance(grid, Grid):
            raise ValueError(f"grid: expected a sciml.core.grid.Grid or None, got {describe(grid)}")
        if ndim is not None and ndim != grid.ndim:
            raise ValueError(f"ndim: got {ndim} but the grid has {grid.ndim} axes")
        ndim = grid.ndim
    if ax is None:
        fig = Figure(figsize=(6.0, 4.4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    for i, (label, values) in enumerate(items):
        argument = "fields" if label is None else f"fields[{label!r}]"
        arr = _to_numpy(values, argument)
        if grid is not None and arr.shape[arr.ndim - grid.ndim:] != grid.shape:
            raise ValueError(
                f"{argument}: shape {arr.shape} does not end in the grid shape {grid.shape}"
            )
        k, e = energy_spectrum(arr, ndim, average=average)
        # Roundoff leaves ~1e-32 of the peak in empty shells; on a log axis that would look
        # like signal, so shells below a relative floor are left out.
        show = (k >= 1) & (e > RELATIVE_FLOOR * max(float(e.max()), 0.0))
        ax.loglog(k[show], e[show], marker="o" if show.sum() < 20 else None, markersize=3,
                  linewidth=1.8, color=f"C{i}", label=label)
    ax.set_xlabel("wavenumber k (periods per domain length)", fontsize=LABEL_SIZE)
    ax.set_ylabel("E(k), shell average" if average else "E(k)", fontsize=LABEL_SIZE)
    ax.grid(True, which="both", alpha=0.3)
    if any(label is not None for label, _ in items):
        ax.legend(fontsize=TICK_SIZE)
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE)
    _style(ax)
    _save(fig, path)
    return fig
