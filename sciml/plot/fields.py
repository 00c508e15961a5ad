"""Pictures of fields: one field on its grid, and truth | prediction | error side by side.

Every function builds a :class:`matplotlib.figure.Figure` directly, so nothing here touches
pyplot's global state or the backend: the caller owns the returned figure, and figures that
go out of scope are freed like any other object. Pass ``path`` to also write a PNG.

Arrays follow the library's ``'ij'`` convention: ``values[ix, iy]`` is the value at
``(x[ix], y[iy])``. Pictures put the first axis horizontally and the second vertically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sciml.core.grid import Grid
from sciml.core.validation import check_finite, describe

__all__ = ["compare", "field"]

DPI = 150
TITLE_SIZE = 12
LABEL_SIZE = 11
TICK_SIZE = 10
DEFAULT_NAMES = ("x", "y", "z")
# Beyond this ratio of side lengths an equal-aspect picture becomes a thin strip (typical of
# space-time domains such as x in [0, 1], t in [0, 10]), so the axes fill the panel instead.
MAX_EQUAL_ASPECT_RATIO = 4.0


# -- preparing arrays ----------------------------------------------------------------------
def _to_numpy(values: Any, argument: str) -> np.ndarray:
    """A float64 numpy copy of a numpy array, torch tensor (any device) or nested sequence."""
    if hasattr(values, "detach"):
        values = values.detach().cpu()
        # numpy cannot hold bfloat16, so widen torch floats before converting
        if values.is_floating_point():
            values = values.double()
        values = values.numpy()
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        raise ValueError(
            f"{argument}: expected a numpy array or torch tensor, got {describe(values)}"
        ) from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"{argument}: expected an array of real numbers, got {describe(arr)}"
        )
    return arr.astype(np.float64)


def _squeeze_leading(arr: np.ndarray, argument: str, grid: Grid | None) -> np.ndarray:
    """Drop leading (and, with a grid, one trailing channel) singleton axes.

    Channel-first tensors ``(1, nx, ny)`` and batch-and-channel tensors ``(1, 1, nx, ny)``
    lose their leading ones; a data-layout field ``(nx, ny, 1)`` loses its trailing one only
    when a grid says the field is ``(nx, ny)``, since otherwise it may be a thin 3-D field.
    """
    original = arr.shape
    if grid is not None:
        while arr.ndim > grid.ndim and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim == grid.ndim + 1 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.shape != grid.shape:
            raise ValueError(
                f"{argument}: shape {original} does not fit the grid of shape {grid.shape} "
                f"(axes {list(grid.names)}); allowed are {grid.shape} with optional leading "
                f"singleton axes"
            )
        return arr
    while arr.ndim > 1 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim not in (1, 2, 3) or arr.size < 2:
        raise ValueError(
            f"{argument}: got shape {original}; allowed are 1-D (n,), 2-D (nx, ny) or 3-D "
            f"(nx, ny, nz) fields with at least 2 points, optionally with leading singleton axes"
        )
    return arr


def _axes_of(arr: np.ndarray, grid: Grid | None) -> tuple[list[str], list[np.ndarray]]:
    """Axis names and coordinate vectors; index coordinates on [0, 1] without a grid."""
    if grid is not None:
        return list(grid.names), [grid[a] for a in grid.names]
    names = list(DEFAULT_NAMES[: arr.ndim])
    coords = [np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1) for n in arr.shape]
    return names, coords


def _prepare(
    values: Any, grid: Grid | None, argument: str
) -> tuple[np.ndarray, list[str], list[np.ndarray], str]:
    """Validate a field and reduce 3-D to its middle slice along the last axis.

    Returns the 1-D or 2-D array, its axis names and coordinates, and a note for the title
    (empty unless a slice was taken).
    """
    if grid is not None and not isinstance(grid, Grid):
        raise ValueError(f"grid: expected a sciml.core.grid.Grid or None, got {describe(grid)}")
    arr = _squeeze_leading(_to_numpy(values, argument), argument, grid)
    check_finite(argument, arr)
    names, coords = _axes_of(arr, grid)
    if arr.ndim > 3:
        raise ValueError(
            f"{argument}: got a {arr.ndim}-D field of shape {arr.shape}; "
            f"allowed are 1-D, 2-D and 3-D fields"
        )
    note = ""
    if arr.ndim == 3:
        k = arr.shape[2] // 2
        note = f"{names[2]} = {coords[2][k]:.3g} (mid slice)"
        arr, names, coords = arr[:, :, k], names[:2], coords[:2]
    return arr, names, coords, note


def _with_note(title: str | None, note: str) -> str | None:
    if not note:
        return title
    return f"{title}, {note}" if title else note


# -- drawing -------------------------------------------------------------------------------
def _style(ax: Axes) -> None:
    ax.tick_params(labelsize=TICK_SIZE)


def _equal_aspect(coords: Sequence[np.ndarray]) -> bool:
    spans = [float(c[-1] - c[0]) for c in coords]
    return min(spans) > 0 and max(spans) / min(spans) <= MAX_EQUAL_ASPECT_RATIO


def _set_aspect(ax: Axes, coords: Sequence[np.ndarray]) -> None:
    ax.set_aspect("equal" if _equal_aspect(coords) else "auto")


def _figsize_2d(coords: Sequence[np.ndarray]) -> tuple[float, float]:
    """Figure size in inches that fits the domain's shape, leaving room for labels and bar."""
    height = 4.0
    width = 5.0
    if _equal_aspect(coords):
        ratio = float(coords[0][-1] - coords[0][0]) / float(coords[1][-1] - coords[1][0])
        width = min(max(height * ratio, 2.5), 10.0)
    return width + 1.6, height + 0.9


def _draw_2d(
    ax: Axes,
    arr: np.ndarray,
    names: Sequence[str],
    coords: Sequence[np.ndarray],
    *,
    cmap: str,
    vmin: float | None,
    vmax: float | None,
    colorbar: bool,
    title: str | None,
) -> Any:
    # pcolormesh with 'nearest' shading centres each cell on its grid point, which stays right
    # on non-uniform (Chebyshev) grids where imshow's single extent would not. The array is
    # [ix, iy]; pcolormesh wants rows along the vertical axis, hence the transpose.
    mesh = ax.pcolormesh(
        coords[0], coords[1], arr.T, shading="nearest", cmap=cmap, vmin=vmin, vmax=vmax
    )
    ax.set_xlabel(names[0], fontsize=LABEL_SIZE)
    ax.set_ylabel(names[1], fontsize=LABEL_SIZE)
    _set_aspect(ax, coords)
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE)
    if colorbar:
        cbar = ax.figure.colorbar(mesh, ax=ax, shrink=0.9)
        cbar.ax.tick_params(labelsize=TICK_SIZE)
    _style(ax)
    return mesh


def _draw_1d(
    ax: Axes,
    arr: np.ndarray,
    name: str,
    coord: np.ndarray,
    *,
    title: str | None,
    label: str | None = None,
    **line_kwargs: Any,
) -> None:
    ax.plot(coord, arr, label=label, **line_kwargs)
    ax.set_xlabel(name, fontsize=LABEL_SIZE)
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE)
    _style(ax)


def _save(fig: Figure, path: str | os.PathLike[str] | None) -> None:
    if path is not None:
        fig.savefig(path, dpi=DPI, bbox_inches="tight")


def field(
    values: Any,
    grid: Grid | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Plot one field on its grid.

    Parameters
    ----------
    values : numpy array or torch tensor, shape ``(n,)``, ``(nx, ny)`` or ``(nx, ny, nz)``
        The field, indexed ``[ix, iy, ...]`` like the grid. Leading singleton axes (as in a
        channel-first ``(1, nx, ny)`` tensor) are dropped; with a grid, so is a trailing
        singleton channel ``(nx, ny, 1)``. Tensors may live on any device.
    grid : Grid, optional
        Coordinates and axis names. Without it, each axis is ``linspace(0, 1, n)`` and the
        axes are called ``x``, ``y``, ``z``.
    ax : matplotlib Axes, optional
        Draw into this axes (its figure is returned) instead of a new figure.
    title : str, optional
        Title of the axes.
    cmap : str
        Colour map of 2-D pictures.
    vmin, vmax : float, optional
        Colour limits of 2-D pictures (default: the data range).
    colorbar : bool
        Whether a 2-D picture gets a colour bar.
    path : str or path-like, optional
        Also save the figure there as PNG (dpi 150, tight bounding box).

    Returns
    -------
    matplotlib.figure.Figure
        A 1-D field is a line against the grid coordinate. A 2-D field is a colour mesh with
        the first axis horizontal and the second vertical, equal aspect unless one side is
        more than four times the other. A 3-D field shows its middle slice along the last
        axis, and the title says which slice.

    Raises
    ------
    ValueError
        If ``values`` has another shape (naming it), does not match ``grid``, or is not finite.
    """
    arr, names, coords, note = _prepare(values, grid, "values")
    if ax is None:
        size = (6.0, 4.0) if arr.ndim == 1 else _figsize_2d(coords)
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    title = _with_note(title, note)
    if arr.ndim == 1:
        _draw_1d(ax, arr, names[0], coords[0], title=title, color="C0", linewidth=1.8)
    else:
        _draw_2d(
            ax, arr, names, coords,
            cmap=cmap, vmin=vmin, vmax=vmax, colorbar=colorbar, title=title,
        )
    _save(fig, path)
    return fig


def _relative_l2(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Discrete relative L2 error ``||prediction - truth|| / ||truth||``.

    Returns the absolute norm of the difference when ``truth`` is identically zero, so that a
    zero field does not divide by zero.
    """
    diff = float(np.linalg.norm(prediction - truth))
    norm = float(np.linalg.norm(truth))
    return diff / norm if norm > 0 else diff


def compare(
    truth: Any,
    prediction: Any,
    grid: Grid | None = None,
    *,
    titles: Sequence[str] = ("truth", "prediction", "|error|"),
    cmap: str = "viridis",
    error_cmap: str = "magma",
    path: str | os.PathLike[str] | None = None,
    suptitle: str | None = None,
) -> Figure:
    """Truth, prediction and their pointwise error, side by side.

    Parameters
    ----------
    truth, prediction : numpy array or torch tensor
        Shape ``(n,)``, ``(nx, ny)`` or ``(nx, ny, nz)``.
        Both must have identical shapes (singleton axes are handled as in :func:`field`; 3-D fields
        show their middle slice along the last axis).
    grid : Grid, optional
        Coordinates and axis names, as in :func:`field`.
    titles : three str
        Titles of the truth, prediction and error panels.
    cmap : str
        Colour map of truth and prediction, which share one colour scale.
    error_cmap : str
        Colour map of the error panel, which has its own scale starting at zero.
    path : str or path-like, optional
        Also save the figure there as PNG (dpi 150, tight bounding box).
    suptitle : str, optional
        Figure title; the relative L2 error is appended to it.

    Returns
    -------
    matplotlib.figure.Figure
        2-D: three colour panels (about 13 x 4 inches), each with a colour bar.
        1-D: truth and prediction overlaid in one panel, and the error in a second.
        The figure title reports ``||prediction - truth|| / ||truth||``.

    Raises
    ------
    ValueError
        If the shapes differ (naming both), a field holds NaN or Inf, or ``titles`` is not
        three strings.
    """
    titles = tuple(titles)
    if len(titles) != 3 or not all(isinstance(t, str) for t in titles):
        raise ValueError(
            f"titles: expected three strings (truth, prediction, error), got {describe(titles)}"
        )
    t_raw = _to_numpy(truth, "truth")
    p_raw = _to_numpy(prediction, "prediction")
    if t_raw.shape != p_raw.shape:
        raise ValueError(
            f"truth and prediction must have the same shape; got truth {t_raw.shape} "
            f"and prediction {p_raw.shape}"
        )
    t, names, coords, note = _prepare(t_raw, grid, "truth")
    p, _, _, _ = _prepare(p_raw, grid, "prediction")
    err = np.abs(p - t)
    # The error is measured on what is shown, so for 3-D fields it is that of the slice.
    rel = _relative_l2(t, p)
    rel_text = f"relative L2 error {rel:.3e}" + (f" ({note})" if note else "")
    heading = f"{suptitle} — {rel_text}" if suptitle else rel_text

    if t.ndim == 1:
        fig = Figure(figsize=(11.0, 4.0), layout="constrained")
        ax_f, ax_e = fig.subplots(1, 2)
        _draw_1d(ax_f, t, names[0], coords[0], title=f"{titles[0]} and {titles[1]}",
                 label=titles[0], color="C0", linewidth=2.2)
        _draw_1d(ax_f, p, names[0], coords[0], title=None,
                 label=titles[1], color="C3", linewidth=1.6, linestyle="--")
        ax_f.legend(fontsize=TICK_SIZE)
        _draw_1d(ax_e, err, names[0], coords[0], title=titles[2], color="C2", linewidth=1.6)
        ax_e.set_ylim(bottom=0)
    else:
        fig = Figure(figsize=(13.0, 4.0), layout="constrained")
        axes = fig.subplots(1, 3)
        lo = float(min(t.min(), p.min()))
        hi = float(max(t.max(), p.max()))
        for ax, arr, title in zip(axes[:2], (t, p), titles[:2]):
            _draw_2d(ax, arr, names, coords, cmap=cmap, vmin=lo, vmax=hi,
                     colorbar=True, title=title)
        _draw_2d(axes[2], err, names, coords, cmap=error_cmap, vmin=0.0,
                 vmax=float(err.max()) if err.max() > 0 else 1.0, colorbar=True,
                 title=titles[2])
    fig.suptitle(heading, fontsize=TITLE_SIZE + 1)
    _save(fig, path)
    return fig
