"""GIF animations of time series, written frame by frame with matplotlib's PillowWriter.

:func:`animate` plays one series; :func:`animate_comparison` plays a truth and a prediction
side by side with their error (e.g. an autoregressive rollout against the reference).

The figure is laid out once (constrained layout on the first frame, then frozen) so every
frame has the same size and the axes do not jump when the time in the title changes width.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.figure import Figure

from sciml.core.grid import Grid
from sciml.core.progress import progress_bar
from sciml.core.validation import describe
from sciml.plot.fields import LABEL_SIZE, TITLE_SIZE, _draw_2d, _figsize_2d, _style
from sciml.plot.frames import _series, _time_label, _times

__all__ = ["animate", "animate_comparison"]

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
    _check_gif_options(path, fps, dpi)
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

    def frame(i: int) -> None:
        draw(i)
        ax.set_title(_heading(title, t[i], physical), fontsize=TITLE_SIZE)

    ax.set_title(_heading(title, t[0], physical), fontsize=TITLE_SIZE)
    _write_gif(fig, path, fps, dpi, arr.shape[0], frame, progress)
    return fig


def _check_gif_options(path: Any, fps: Any, dpi: Any) -> None:
    if path is None:
        raise ValueError("path: required; give the .gif file to write")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
        raise ValueError(f"fps: expected a positive number, got {describe(fps)}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 10:
        raise ValueError(f"dpi: expected an int >= 10, got {describe(dpi)}")


def _write_gif(
    fig: Figure,
    path: str | os.PathLike[str],
    fps: float,
    dpi: int,
    n: int,
    frame: Callable[[int], None],
    progress: bool,
) -> None:
    """Lay ``fig`` out once, then grab ``n`` frames, calling ``frame(i)`` before each."""
    # Lay out once, then freeze: a layout engine re-run per frame would shift the axes.
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    writer = PillowWriter(fps=fps)
    bar = progress_bar(total=n, desc="animate", unit="frame", enabled=progress)
    with bar, writer.saving(fig, os.fspath(path), dpi):
        for i in range(n):
            frame(i)
            writer.grab_frame()
            bar.update(1)


def animate_comparison(
    truth: Any,
    prediction: Any,
    grid: Grid | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    fps: float = 10.0,
    times: Any = None,
    first_step: int = 0,
    title: str | None = None,
    titles: Sequence[str] = ("truth", "prediction", "|error|"),
    cmap: str = "viridis",
    error_cmap: str = "magma",
    dpi: int = GIF_DPI,
    progress: bool = False,
) -> Figure:
    """Write two time series side by side, with their pointwise error, as a GIF.

    Parameters
    ----------
    truth, prediction : numpy array or torch tensor, shape ``(time, n)`` or ``(time, nx, ny)``
        Same shape; a trailing channel of size 1 is dropped.
    grid : Grid, optional
        Coordinates and axis names (default: ``x``, ``y`` on [0, 1]).
    path : str or path-like
        The GIF file to write (required).
    fps : float
        Frames per second.
    times : array ``(time,)``, optional
        Time coordinates shown in the titles; default step numbers.
    first_step : int
        Step number of the first frame when ``times`` is not given (1 for a rollout whose
        first frame is the first prediction).
    title : str, optional
        Text before the time in the figure title.
    titles : three str
        Titles of the truth, prediction and error panels.
    cmap : str
        Colour map of truth and prediction, which share one fixed scale (their range over
        all frames).
    error_cmap : str
        Colour map of the error, on a fixed scale from 0 to its largest value.
    dpi : int
        Resolution of the frames.
    progress : bool
        Show a progress bar over the frames.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, showing the last frame. 2-D: three colour panels. 1-D: truth and
        prediction overlaid, and the error in a second panel. The title gives the time and
        the relative L2 error of the frame shown.

    Raises
    ------
    ValueError
        If the shapes differ, ``path`` is missing, ``fps`` or ``dpi`` is not positive, or
        the series are not 1-D or 2-D.
    """
    _check_gif_options(path, fps, dpi)
    titles = tuple(titles)
    if len(titles) != 3 or not all(isinstance(x, str) for x in titles):
        raise ValueError(
            f"titles: expected three strings (truth, prediction, error), got {describe(titles)}"
        )
    if isinstance(first_step, bool) or not isinstance(first_step, int):
        raise ValueError(f"first_step: expected an int, got {describe(first_step)}")
    true, names, coords = _series(truth, grid, "truth", (1, 2))
    pred, _, _ = _series(prediction, grid, "prediction", (1, 2))
    if true.shape != pred.shape:
        raise ValueError(
            f"truth and prediction must have the same shape; got truth {true.shape} and "
            f"prediction {pred.shape}"
        )
    t, physical = _times(times, true.shape[0])
    if not physical:
        t = t + first_step
    err = np.abs(pred - true)
    lo = float(min(true.min(), pred.min()))
    hi = float(max(true.max(), pred.max()))
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    err_hi = float(err.max()) if err.max() > 0 else 1.0
    norms = np.sqrt((true.reshape(len(t), -1) ** 2).sum(axis=1))
    diffs = np.sqrt(((pred - true).reshape(len(t), -1) ** 2).sum(axis=1))
    rel = np.where(norms > 0, diffs / np.where(norms > 0, norms, 1.0), diffs)

    if true.ndim == 2:
        fig = Figure(figsize=(11.0, 4.2), layout="constrained")
        ax_f, ax_e = fig.subplots(1, 2)
        (line_t,) = ax_f.plot(coords[0], true[0], color="C0", linewidth=2.2, label=titles[0])
        (line_p,) = ax_f.plot(coords[0], pred[0], color="C3", linewidth=1.6, linestyle="--",
                              label=titles[1])
        (line_e,) = ax_e.plot(coords[0], err[0], color="C2", linewidth=1.6)
        pad = 0.05 * (hi - lo)
        ax_f.set_ylim(lo - pad, hi + pad)
        ax_e.set_ylim(0.0, 1.05 * err_hi)
        ax_f.legend(fontsize=LABEL_SIZE - 1)
        ax_f.set_title(f"{titles[0]} and {titles[1]}", fontsize=TITLE_SIZE)
        ax_e.set_title(titles[2], fontsize=TITLE_SIZE)
        for ax in (ax_f, ax_e):
            ax.set_xlim(coords[0][0], coords[0][-1])
            ax.set_xlabel(names[0], fontsize=LABEL_SIZE)
            ax.grid(True, alpha=0.3)
            _style(ax)

        def draw(i: int) -> None:
            line_t.set_ydata(true[i])
            line_p.set_ydata(pred[i])
            line_e.set_ydata(err[i])
    else:
        w, h = _figsize_2d(coords)
        fig = Figure(figsize=(3 * (w - 0.4), h + 0.3), layout="constrained")
        axes = fig.subplots(1, 3)
        meshes = [
            _draw_2d(axes[0], true[0], names, coords, cmap=cmap, vmin=lo, vmax=hi,
                     colorbar=True, title=titles[0]),
            _draw_2d(axes[1], pred[0], names, coords, cmap=cmap, vmin=lo, vmax=hi,
                     colorbar=True, title=titles[1]),
            _draw_2d(axes[2], err[0], names, coords, cmap=error_cmap, vmin=0.0, vmax=err_hi,
                     colorbar=True, title=titles[2]),
        ]

        def draw(i: int) -> None:
            for mesh, arr in zip(meshes, (true, pred, err)):
                mesh.set_array(arr[i].T.ravel())

    def heading(i: int) -> str:
        return f"{_heading(title, t[i], physical)} — relative L2 error {rel[i]:.3e}"

    def frame(i: int) -> None:
        draw(i)
        fig.suptitle(heading(i), fontsize=TITLE_SIZE + 1)

    fig.suptitle(heading(0), fontsize=TITLE_SIZE + 1)
    _write_gif(fig, path, fps, dpi, true.shape[0], frame, progress)
    return fig
