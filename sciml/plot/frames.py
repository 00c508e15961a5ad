"""Time series of fields: 1-D series as space-time images, 2-D series as grids of frames.

A time series is an array ``(time, *space)``: ``(time, n)`` in 1-D, ``(time, nx, ny)`` in
2-D, indexed ``[it, ix, iy]`` like the grid (a trailing singleton channel, as in the data
layout ``(time, *space, 1)``, is dropped). Like :mod:`sciml.plot.fields`, every function
builds a :class:`matplotlib.figure.Figure` without touching pyplot's global state.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sciml.core.grid import Grid
from sciml.core.validation import check_finite, describe
from sciml.plot.fields import (
    DEFAULT_NAMES,
    LABEL_SIZE,
    TICK_SIZE,
    TITLE_SIZE,
    _draw_2d,
    _figsize_2d,
    _save,
    _style,
    _to_numpy,
)

__all__ = ["frames", "spacetime"]

#: Frames shown by :func:`frames` when no indices are given.
DEFAULT_FRAMES = 8
#: Height of one panel of :func:`frames`, inches.
PANEL_HEIGHT = 3.2


def _series(
    values: Any, grid: Grid | None, argument: str, space_ndim: tuple[int, ...]
) -> tuple[np.ndarray, list[str], list[np.ndarray]]:
    """A validated ``(time, *space)`` float64 array with its axis names and coordinates."""
    if grid is not None and not isinstance(grid, Grid):
        raise ValueError(f"grid: expected a sciml.core.grid.Grid or None, got {describe(grid)}")
    arr = _to_numpy(values, argument)
    original = arr.shape
    allowed = " or ".join(f"(time, {', '.join(('n',) if d == 1 else ('nx', 'ny'))})"
                          for d in space_ndim)
    if grid is not None:
        if grid.ndim not in space_ndim:
            raise ValueError(
                f"grid: has {grid.ndim} axes {list(grid.names)}; this plot needs a grid with "
                f"{' or '.join(map(str, space_ndim))} axes"
            )
        if arr.ndim == grid.ndim + 2 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim != grid.ndim + 1 or arr.shape[1:] != grid.shape:
            raise ValueError(
                f"{argument}: shape {original} does not fit the grid of shape {grid.shape}; "
                f"expected (time, {', '.join(map(str, grid.shape))}), optionally with a "
                f"trailing channel of size 1"
            )
        names = list(grid.names)
        coords = [grid[a] for a in grid.names]
    else:
        if arr.ndim - 1 not in space_ndim and arr.ndim >= 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim - 1 not in space_ndim:
            raise ValueError(
                f"{argument}: got shape {original}; allowed is {allowed} (a time series), "
                f"optionally with a trailing channel of size 1"
            )
        names = list(DEFAULT_NAMES[: arr.ndim - 1])
        coords = [np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1) for n in arr.shape[1:]]
    if arr.shape[0] < 1 or any(n < 2 for n in arr.shape[1:]):
        raise ValueError(
            f"{argument}: got shape {original}; need at least one time step and 2 points "
            f"per spatial axis"
        )
    check_finite(argument, arr)
    return arr, names, coords


def _times(times: Any, n: int) -> tuple[np.ndarray, bool]:
    """Time coordinates ``(n,)`` and whether they are physical (else step indices)."""
    if times is None:
        return np.arange(n, dtype=np.float64), False
    t = _to_numpy(times, "times").reshape(-1)
    if t.shape != (n,):
        raise ValueError(
            f"times: expected {n} time coordinates (one per time step), got shape "
            f"{_to_numpy(times, 'times').shape}"
        )
    check_finite("times", t)
    return t, True


def _time_label(t: float, physical: bool) -> str:
    return f"t = {t:.4g}" if physical else f"step {int(t)}"


def spacetime(
    values: Any,
    grid: Grid | None = None,
    times: Any = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """A 1-D time series as a space-time image: space horizontal, time upward.

    Parameters
    ----------
    values : numpy array or torch tensor, shape ``(time, n)``
        ``values[it, ix]`` is the field at ``times[it]``, ``x[ix]``. A trailing channel of
        size 1 (``(time, n, 1)``) is dropped.
    grid : Grid, optional
        A 1-D grid giving the spatial coordinate and its name (default ``x`` on [0, 1]).
    times : array ``(time,)``, optional
        Time coordinates; without them the vertical axis counts steps.
    ax : matplotlib Axes, optional
        Draw into this axes (its figure is returned).
    title, cmap, vmin, vmax, colorbar
        As in :func:`sciml.plot.field`.
    path : str or path-like, optional
        Also save the figure there as PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One colour mesh, cells centred on the grid points and time coordinates.

    Raises
    ------
    ValueError
        If ``values`` is not ``(time, n)`` (or does not fit ``grid``), ``times`` has another
        length, or anything is not finite.
    """
    arr, names, coords = _series(values, grid, "values", (1,))
    t, physical = _times(times, arr.shape[0])
    if ax is None:
        fig = Figure(figsize=(6.6, 4.6), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    if arr.shape[0] == 1:
        # one time step: a thin band is still readable, a degenerate mesh is not
        arr = np.repeat(arr, 2, axis=0)
        t = np.array([t[0] - 0.5, t[0] + 0.5])
    mesh = ax.pcolormesh(coords[0], t, arr, shading="nearest", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xlabel(names[0], fontsize=LABEL_SIZE)
    ax.set_ylabel("t" if physical else "time step", fontsize=LABEL_SIZE)
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE)
    if colorbar:
        cbar = fig.colorbar(mesh, ax=ax, shrink=0.9)
        cbar.ax.tick_params(labelsize=TICK_SIZE)
    _style(ax)
    _save(fig, path)
    return fig


def _pick(n: int, indices: Sequence[int] | None, max_frames: int) -> list[int]:
    if indices is None:
        if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
            raise ValueError(f"max_frames: expected a positive int, got {describe(max_frames)}")
        k = min(n, max_frames)
        # evenly spaced, always the first and the last step
        return sorted({round(i * (n - 1) / max(k - 1, 1)) for i in range(k)})
    picked = []
    for i in indices:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise ValueError(
                f"indices: got {describe(list(indices))}; each must be an int in [{-n}, {n})"
            )
        picked.append(int(i) % n)
    if not picked:
        raise ValueError("indices: expected at least one time index, got an empty sequence")
    return picked


def frames(
    values: Any,
    grid: Grid | None = None,
    times: Any = None,
    *,
    indices: Sequence[int] | None = None,
    max_frames: int = DEFAULT_FRAMES,
    ncols: int = 4,
    title: str | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Selected time steps of a 2-D series side by side, on one colour scale.

    Parameters
    ----------
    values : numpy array or torch tensor, shape ``(time, nx, ny)``
        Indexed ``[it, ix, iy]``; a trailing channel of size 1 is dropped.
    grid : Grid, optional
        A 2-D grid (coordinates and axis names; default ``x``, ``y`` on [0, 1]).
    times : array ``(time,)``, optional
        Time coordinates for the panel titles (default: step numbers).
    indices : sequence of int, optional
        Time steps to show (negative counts from the end). Default: ``max_frames`` evenly
        spaced steps including the first and the last.
    max_frames : int
        Number of frames when ``indices`` is not given.
    ncols : int
        Panels per row.
    title : str, optional
        Figure title.
    cmap, vmin, vmax
        Colour map and limits (default: the range of the frames shown).
    path : str or path-like, optional
        Also save the figure there as PNG.

    Returns
    -------
    matplotlib.figure.Figure
        A grid of panels titled with their time, sharing one colour bar.

    Raises
    ------
    ValueError
        If ``values`` is not a 2-D series, or ``indices``/``ncols`` are out of range.
    """
    arr, names, coords = _series(values, grid, "values", (2,))
    t, physical = _times(times, arr.shape[0])
    picked = _pick(arr.shape[0], indices, max_frames)
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols: expected a positive int, got {describe(ncols)}")
    ncols = min(ncols, len(picked))
    nrows = math.ceil(len(picked) / ncols)
    shown = arr[picked]
    lo = float(shown.min()) if vmin is None else vmin
    hi = float(shown.max()) if vmax is None else vmax
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    # _figsize_2d adds 1.6 x 0.9 inches of margins to a plot area shaped like the domain
    w, h = _figsize_2d(coords)
    panel_width = PANEL_HEIGHT * (w - 1.6) / (h - 0.9)
    height = nrows * PANEL_HEIGHT + 0.9 + (0.4 if title else 0.0)
    fig = Figure(figsize=(ncols * panel_width + 1.4, height), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    mesh = None
    for ax, i in zip(axes, picked):
        mesh = _draw_2d(ax, arr[i], names, coords, cmap=cmap, vmin=lo, vmax=hi,
                        colorbar=False, title=_time_label(t[i], physical))
    for ax in axes[len(picked):]:
        ax.set_visible(False)
    cbar = fig.colorbar(mesh, ax=list(axes[: len(picked)]), shrink=0.9)
    cbar.ax.tick_params(labelsize=TICK_SIZE)
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE + 1)
    _save(fig, path)
    return fig
