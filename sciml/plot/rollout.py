"""Pictures of autoregressive rollouts: error against step, frames of truth | prediction | error,
and a GIF of the two side by side.

A rollout is a time series ``(steps, *space)`` of predicted frames, compared with the true
frames at the same steps. Model outputs are frames stacked time-major along channels,
``(steps * C, *space)`` for one sample (see :func:`sciml.train.autoregressive.rollout`);
pass ``channels=C`` (and ``channel=c``) to plot channel ``c`` of such a stack. Steps are
numbered from 1, the first predicted frame. Like the rest of :mod:`sciml.plot`, every
function builds a :class:`matplotlib.figure.Figure` without touching pyplot's state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sciml.core.grid import Grid
from sciml.core.validation import check_finite, check_int, describe
from sciml.plot.animate import GIF_DPI, animate_comparison
from sciml.plot.fields import (
    LABEL_SIZE,
    TICK_SIZE,
    TITLE_SIZE,
    _draw_1d,
    _draw_2d,
    _figsize_2d,
    _save,
    _style,
    _to_numpy,
)
from sciml.plot.frames import _pick, _series, _time_label, _times

__all__ = ["animate_rollout", "plot_rollout", "plot_rollout_error"]

#: Frames shown by :func:`plot_rollout` when ``steps`` is not given.
DEFAULT_STEPS = 4
#: Height of one panel of :func:`plot_rollout`, inches.
PANEL_HEIGHT = 2.6


# -- error against step --------------------------------------------------------------------
def _curve(values: Any, argument: str) -> np.ndarray:
    per_step = getattr(values, "per_step", None)  # a RolloutEvaluation
    arr = _to_numpy(per_step if per_step is not None else values, argument)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(
            f"{argument}: expected per-step errors of shape (steps,), got shape {arr.shape}"
        )
    check_finite(argument, arr)
    if (arr < 0).any():
        raise ValueError(f"{argument}: errors must be non-negative, got min {arr.min():.3g}")
    return arr


def _curves(errors: Any, labels: Sequence[str] | None) -> list[tuple[str | None, np.ndarray]]:
    """``(label, per-step errors)`` pairs from any accepted form of ``errors``."""
    if isinstance(errors, Mapping):
        names: list[str | None] = [str(k) for k in errors]
        curves = [_curve(v, f"errors[{k!r}]") for k, v in errors.items()]
    elif hasattr(errors, "per_step"):
        names, curves = [None], [_curve(errors, "errors")]
    else:
        if isinstance(errors, (list, tuple)) and errors and not all(
            isinstance(e, (int, float, np.number)) for e in errors
        ):
            curves = [_curve(e, f"errors[{i}]") for i, e in enumerate(errors)]
        else:
            arr = _to_numpy(errors, "errors")
            if arr.ndim == 2:
                curves = [_curve(row, f"errors[{i}]") for i, row in enumerate(arr)]
            else:
                curves = [_curve(arr, "errors")]
        names = [None] * len(curves)
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(curves) or not all(isinstance(s, str) for s in labels):
            raise ValueError(
                f"labels: expected {len(curves)} strings (one per curve), got {describe(labels)}"
            )
        names = list(labels)
    return list(zip(names, curves))


def plot_rollout_error(
    errors: Any,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    *,
    times: Any = None,
    title: str | None = "rollout error",
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Relative L2 error against rollout step, on a log scale.

    Parameters
    ----------
    errors : array ``(steps,)`` or ``(curves, steps)``, RolloutEvaluation, sequence or mapping
        Per-step errors of one or several rollouts: an array (a row per curve), a
        :class:`~sciml.train.autoregressive.RolloutEvaluation` (its ``per_step``), a list of
        either (curves may have different lengths), or a mapping of label to either.
    ax : matplotlib Axes, optional
        Draw into this axes (its figure is returned).
    labels : sequence of str, optional
        Legend labels, one per curve (default: the mapping's keys, else no legend).
    times : array, optional
        Time of each step (as long as the longest curve); default the step numbers 1, 2, ...
    title : str, optional
        Axes title.
    path : str or path-like, optional
        Also save the figure there as PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One line with markers per curve; the vertical axis is logarithmic (zero errors are
        not drawn).

    Raises
    ------
    ValueError
        If an error is negative or not finite, a curve is not 1-D, ``labels`` has another
        length, or ``times`` is shorter than the longest curve.
    """
    curves = _curves(errors, labels)
    longest = max(c.size for _, c in curves)
    if times is None:
        x, xlabel = np.arange(1, longest + 1, dtype=np.float64), "step"
    else:
        x, _ = _times(times, longest)
        xlabel = "t"
    if ax is None:
        fig = Figure(figsize=(6.4, 4.2), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    for i, (label, curve) in enumerate(curves):
        ax.plot(x[: curve.size], curve, marker="o", markersize=3.5 if curve.size < 60 else 0,
                linewidth=1.6, color=f"C{i % 10}", label=label)
    ax.set_yscale("log")
    if times is None:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_ylabel("relative L2 error", fontsize=LABEL_SIZE)
    ax.grid(True, which="both", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE)
    if any(label is not None for label, _ in curves):
        ax.legend(fontsize=TICK_SIZE)
    _style(ax)
    _save(fig, path)
    return fig


# -- frames --------------------------------------------------------------------------------
def _select_channel(values: Any, argument: str, channels: int | None, channel: int) -> Any:
    """``(steps, *space)`` from a time-major stack ``(steps * C, *space)`` (an optional
    leading batch axis of size 1 is dropped)."""
    if channels is None:
        return values
    check_int("channels", channels, 1)
    arr = _to_numpy(values, argument)
    if arr.ndim >= 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim < 2 or arr.shape[0] % channels:
        raise ValueError(
            f"{argument}: expected frames stacked time-major, shape (steps * {channels}, "
            f"*space), got {arr.shape}"
        )
    if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel < channels:
        raise ValueError(f"channel: expected an int in [0, {channels}), got {describe(channel)}")
    return arr.reshape(arr.shape[0] // channels, channels, *arr.shape[1:])[:, channel]


def _pair(truth: Any, prediction: Any, grid: Grid | None, channels: int | None,
          channel: int) -> tuple[np.ndarray, np.ndarray, list[str], list[np.ndarray]]:
    true, names, coords = _series(_select_channel(truth, "truth", channels, channel), grid,
                                  "truth", (1, 2))
    pred, _, _ = _series(_select_channel(prediction, "prediction", channels, channel), grid,
                         "prediction", (1, 2))
    if true.shape != pred.shape:
        raise ValueError(
            f"truth and prediction must have the same shape; got truth {true.shape} and "
            f"prediction {pred.shape}"
        )
    return true, pred, names, coords


def _relative(true: np.ndarray, pred: np.ndarray) -> float:
    norm = float(np.linalg.norm(true))
    diff = float(np.linalg.norm(pred - true))
    return diff / norm if norm > 0 else diff


def plot_rollout(
    truth: Any,
    prediction: Any,
    steps: Sequence[int] | None = None,
    grid: Grid | None = None,
    *,
    channels: int | None = None,
    channel: int = 0,
    times: Any = None,
    title: str | None = None,
    cmap: str = "viridis",
    error_cmap: str = "magma",
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Selected steps of a rollout: truth, prediction and pointwise error, one column a step.

    Parameters
    ----------
    truth, prediction : numpy array or torch tensor, shape ``(steps, n)`` or ``(steps, nx, ny)``
        The true and predicted frames (a trailing channel of size 1 is dropped); with
        ``channels``, frames stacked time-major ``(steps * C, *space)``.
    steps : sequence of int, optional
        Steps to show, numbered from 1 (the first predicted frame); negative numbers count
        from the end (-1 is the last). Default: up to 4 evenly spaced steps including the
        first and the last.
    grid : Grid, optional
        A 1-D or 2-D grid (coordinates and axis names).
    channels : int, optional
        ``C`` when the inputs are channel stacks; ``channel`` picks the one shown.
    channel : int
        Channel shown, with ``channels``.
    times : array ``(steps,)``, optional
        Time of each frame, shown in the column titles instead of step numbers.
    title : str, optional
        Figure title.
    cmap : str
        Colour map of truth and prediction (2-D), one scale over all frames shown.
    error_cmap : str
        Colour map of the error row (2-D), its own scale from zero.
    path : str or path-like, optional
        Also save the figure there as PNG.

    Returns
    -------
    matplotlib.figure.Figure
        2-D: three rows (truth, prediction, |error|). 1-D: two rows (truth and prediction
        overlaid; |error|). Each column is titled with its step and the frame's relative L2
        error.

    Raises
    ------
    ValueError
        If the shapes differ or do not fit ``grid``, a step is out of range, or the
        channel layout does not divide the first axis.
    """
    true, pred, names, coords = _pair(truth, prediction, grid, channels, channel)
    n = true.shape[0]
    t, physical = _times(times, n)
    if not physical:
        t = t + 1  # step numbers start at the first prediction
    if steps is None:
        picked = _pick(n, None, DEFAULT_STEPS)
    else:
        steps = list(steps)
        if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s == 0
               or not -n <= s <= n for s in steps):
            raise ValueError(
                f"steps: got {describe(steps)}; each must be a step in 1..{n} or -{n}..-1"
            )
        picked = _pick(n, [s - 1 if s > 0 else s for s in steps], DEFAULT_STEPS)
    err = np.abs(pred - true)
    ncols = len(picked)

    if true.ndim == 2:
        fig = Figure(figsize=(3.4 * ncols + 0.6, 2 * PANEL_HEIGHT + 0.6), layout="constrained")
        axes = np.asarray(fig.subplots(2, ncols, squeeze=False))
        shown = np.concatenate([true[picked], pred[picked]])
        lo, hi = float(shown.min()), float(shown.max())
        pad = 0.05 * (hi - lo) if hi > lo else 0.5
        err_hi = float(err[picked].max())
        for col, i in enumerate(picked):
            top, bottom = axes[0, col], axes[1, col]
            heading = f"{_time_label(t[i], physical)}, error {_relative(true[i], pred[i]):.2e}"
            _draw_1d(top, true[i], names[0], coords[0], title=heading, label="truth",
                     color="C0", linewidth=2.0)
            _draw_1d(top, pred[i], names[0], coords[0], title=None, label="prediction",
                     color="C3", linewidth=1.5, linestyle="--")
            top.set_ylim(lo - pad, hi + pad)
            _draw_1d(bottom, err[i], names[0], coords[0], title=None, color="C2",
                     linewidth=1.5)
            bottom.set_ylim(0.0, 1.05 * err_hi if err_hi > 0 else 1.0)
        axes[0, 0].legend(fontsize=TICK_SIZE)
        axes[0, 0].set_ylabel("truth, prediction", fontsize=LABEL_SIZE)
        axes[1, 0].set_ylabel("|error|", fontsize=LABEL_SIZE)
    else:
        w, h = _figsize_2d(coords)
        panel_width = PANEL_HEIGHT * (w - 1.6) / (h - 0.9)
        fig = Figure(figsize=(ncols * panel_width + 2.2, 3 * PANEL_HEIGHT + 0.9),
                     layout="constrained")
        axes = np.asarray(fig.subplots(3, ncols, squeeze=False))
        shown = np.concatenate([true[picked], pred[picked]])
        lo, hi = float(shown.min()), float(shown.max())
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        err_hi = float(err[picked].max()) or 1.0
        field_mesh = err_mesh = None
        for col, i in enumerate(picked):
            heading = f"{_time_label(t[i], physical)}\nerror {_relative(true[i], pred[i]):.2e}"
            for row, arr in enumerate((true[i], pred[i])):
                field_mesh = _draw_2d(axes[row, col], arr, names, coords, cmap=cmap, vmin=lo,
                                      vmax=hi, colorbar=False,
                                      title=heading if row == 0 else None)
            err_mesh = _draw_2d(axes[2, col], err[i], names, coords, cmap=error_cmap,
                                vmin=0.0, vmax=err_hi, colorbar=False, title=None)
        for row, label in enumerate(("truth", "prediction", "|error|")):
            axes[row, 0].set_ylabel(f"{label}\n{names[1]}", fontsize=LABEL_SIZE)
        bar = fig.colorbar(field_mesh, ax=list(axes[:2].ravel()), shrink=0.9)
        bar.ax.tick_params(labelsize=TICK_SIZE)
        bar = fig.colorbar(err_mesh, ax=list(axes[2]), shrink=0.9)
        bar.ax.tick_params(labelsize=TICK_SIZE)
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE + 1)
    _save(fig, path)
    return fig


def animate_rollout(
    truth: Any,
    prediction: Any,
    path: str | os.PathLike[str] | None = None,
    grid: Grid | None = None,
    *,
    channels: int | None = None,
    channel: int = 0,
    fps: float = 5.0,
    times: Any = None,
    title: str | None = None,
    cmap: str = "viridis",
    error_cmap: str = "magma",
    dpi: int = GIF_DPI,
    progress: bool = False,
) -> Figure:
    """A GIF of a rollout: truth, prediction and error side by side, one frame per step.

    Parameters
    ----------
    truth, prediction, grid, channels, channel, times, title, cmap, error_cmap
        As in :func:`plot_rollout`.
    path : str or path-like
        The GIF file to write (required).
    fps, dpi, progress
        As in :func:`sciml.plot.animate`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, showing the last step (see
        :func:`sciml.plot.animate.animate_comparison`).
    """
    true, pred, _, _ = _pair(truth, prediction, grid, channels, channel)
    return animate_comparison(
        true, pred, grid, path, fps=fps, times=times, first_step=1, title=title, cmap=cmap,
        error_cmap=error_cmap, dpi=dpi, progress=progress,
    )
