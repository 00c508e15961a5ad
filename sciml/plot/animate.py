"""GIF animations of time series, written frame by frame with matplotlib's PillowWriter.

The figure is laid out once (constrained layout on the first frame, then frozen) so every
frame has the same size and the axes do not jump when the time in the title changes width.
"""

from __future__ import annotations

import os
from typing import Any

from matplotlib.animation import PillowWriter
from matplotlib.figure import Figure

from sciml.core.grid import Grid
from sciml.core.progress import progress_bar
from sciml.core.validation import describe
from sciml.plot.fields import LABEL_SIZE, TITLE_SIZE, _draw_2d, _figsize_2d, _style
from sciml.plot.frames import _series, _time_label, _times

__all__ = ["animate"]

#: Resolution of GIF frames; GIFs are for screens, and 100 dpi keeps files small.
GIF_DPI = 100


def _heading(title: str | None, t: float, physical: bool) -> str:
    label = _time_label(t, physical)
    return f"{title} — {label}" if title else label


def animate(
    frames: Any,
    grid: Grid | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    fps: float = 10.0,
    times: Any = None,
    title: str | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    dpi: int = GIF_DPI,
    progress: bool = False,
) -> Figure:
    """Write a time series as a GIF animation, one frame per time step.

    Parameters
    ----------
    frames : numpy array or torch tensor, shape ``(time, n)`` or ``(time, nx, ny)``
        A 1-D series (drawn as a curve) or a 2-D series (a colour map), indexed like the
        grid; a trailing channel of size 1 is dropped.
    grid : Grid, optional
        Coordinates and axis names (default: ``x``, ``y`` on [0, 1]).
    path : str or path-like
        The GIF file to write (required).
    fps : float
        Frames per second.
    times : array ``(time,)``, optional
        Time coordinates shown in the title (default: step numbers).
    title : str, optional
        Text before the time in each frame's title.
    cmap : str
        Colour map of 2-D frames.
    vmin, vmax : float, optional
        Colour limits (2-D) or vertical limits (1-D); default: the range over all frames,
        so the scale stays fixed while the animation plays.
    dpi : int
        Resolution of the frames.
    progress : bool
        Show a progress bar over the frames.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, showing the last frame.

    Raises
    ------
    ValueError
        If ``path`` is missing, ``fps`` or ``dpi`` is not positive, or ``frames`` is not a
        1-D or 2-D series (naming its shape).
    """
    if path is None:
        raise ValueError("path: required; give the .gif file to write")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
        raise ValueError(f"fps: expected a positive number, got {describe(fps)}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 10:
        raise ValueError(f"dpi: expected an int >= 10, got {describe(dpi)}")
    arr, names, coords = _series(frames, grid, "frames", (1, 2))
    t, physical = _times(times, arr.shape[0])
    lo = float(arr.min()) if vmin is None else float(vmin)
    hi = float(arr.max()) if vmax is None else float(vmax)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5

    if arr.ndim == 2:
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.add_subplot()
        (line,) = ax.plot(coords[0], arr[0], color="C0", linewidth=1.8)
        pad = 0.05 * (hi - lo)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlim(coords[0][0], coords[0][-1])
        ax.set_xlabel(names[0], fontsize=LABEL_SIZE)
        ax.grid(True, alpha=0.3)
        _style(ax)

        def draw(i: int) -> None:
            line.set_ydata(arr[i])
    else:
        w, h = _figsize_2d(coords)
        fig = Figure(figsize=(w, h), layout="constrained")
        ax = fig.add_subplot()
        mesh = _draw_2d(ax, arr[0], names, coords, cmap=cmap, vmin=lo, vmax=hi,
                        colorbar=True, title=None)

        def draw(i: int) -> None:
            mesh.set_array(arr[i].T.ravel())

    ax.set_title(_heading(title, t[0], physical), fontsize=TITLE_SIZE)
    # Lay out once, then freeze: a layout engine re-run per frame would shift the axes.
    fig.draw_without_rendering()
    fig.set_layout_engine("none")

    writer = PillowWriter(fps=fps)
    bar = progress_bar(total=arr.shape[0], desc="animate", unit="frame", enabled=progress)
    with bar, writer.saving(fig, os.fspath(path), dpi):
        for i in range(arr.shape[0]):
            draw(i)
            ax.set_title(_heading(title, t[i], physical), fontsize=TITLE_SIZE)
            writer.grab_frame()
            bar.update(1)
    return fig
