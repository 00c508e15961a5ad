"""Time slices of a 2-D space-time problem: exact solution, predictions and their errors.

For a problem on a box with two space axes and a time axis (such as ``x, y, t``), the
solution is sampled on a uniform grid of the spatial plane at a few times. Models are given as
callables from points ``(n, ndim)`` to values ``(n,)`` (for example a fitted solver's
``predict``), so any pointwise solver fits. Like the rest of :mod:`sciml.plot`, the figure is
built without pyplot's global state.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sciml.core.grid import Box, Grid
from sciml.core.problem import PDEProblem
from sciml.core.validation import check_finite, check_int, describe
from sciml.plot.fields import TICK_SIZE, TITLE_SIZE, _draw_2d, _save, _to_numpy

__all__ = ["slice_points", "time_slices"]

#: Height of one panel of :func:`time_slices`, inches.
PANEL_HEIGHT = 3.0


def slice_points(
    problem: PDEProblem, n: int, times: Sequence[float] | np.ndarray
) -> tuple[Grid, np.ndarray]:
    """A uniform grid of the spatial plane and the space-time points on it at ``times``.

    Parameters
    ----------
    problem : PDEProblem
        A problem with a time axis and exactly two space axes.
    n : int
        Points per space axis (at least 2), both ends included.
    times : sequence of float, shape ``(n_times,)``
        The times of the slices.

    Returns
    -------
    plane : Grid
        The ``n x n`` grid of the two space axes.
    points : numpy.ndarray, shape ``(n_times * n * n, ndim)``
        Columns in the order of ``problem.domain.names``; slice ``k`` is the block
        ``points[k * n * n:(k + 1) * n * n]``, in the C order of ``plane`` (so values on it
        reshape to ``(n_times, n, n)``).

    Raises
    ------
    ValueError
        If ``problem`` has no time axis or not two space axes, ``n < 2``, or ``times`` is
        empty, not 1-D or not finite.
    """
    if not isinstance(problem, PDEProblem):
        raise ValueError(f"problem: expected a PDEProblem, got {describe(problem)}")
    box = problem.domain
    space = [a for a in box.names if a != problem.time_axis]
    if problem.time_axis is None or len(space) != 2:
        raise ValueError(
            f"problem: expected a time axis and two space axes, got axes {list(box.names)} "
            f"with time axis {problem.time_axis!r}"
        )
    n = check_int("n", n, 2)
    t = _to_numpy(times, "times")
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"times: expected a non-empty 1-D sequence of times, got shape {t.shape}")
    check_finite("times", t)
    plane = Grid.uniform(Box(**{a: box[a] for a in space}), n)
    xy = plane.points()
    blocks = []
    for value in t:
        columns = {space[0]: xy[:, 0], space[1]: xy[:, 1]}
        columns[problem.time_axis] = np.full(len(xy), value)
        blocks.append(np.column_stack([columns[a] for a in box.names]))
    return plane, np.concatenate(blocks)


def time_slices(
    problem: PDEProblem,
    predictions: Mapping[str, Callable[[np.ndarray], Any]],
    times: Sequence[float] | np.ndarray,
    *,
    n: int = 65,
    exact_label: str = "exact",
    show_values: bool = True,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Exact solution, predictions and their pointwise errors at a few times, in one figure.

    Rows, top to bottom: the exact (or reference) solution; with ``show_values`` each
    prediction; then ``|prediction - exact|`` for each prediction. Columns are the times.
    Value rows share the exact solution's colour limits, and all error rows share one
    colour scale ``[0, max error]``, so models compare at a glance.

    Parameters
    ----------
    problem : PDEProblem
        A problem with a time axis, two space axes and an exact or reference solution.
    predictions : mapping of str to callable
        ``{name: u}`` with ``u(points) -> values``, points ``(m, ndim)`` in the order of
        ``problem.domain.names``, values ``(m,)`` (e.g. ``{"PIG": pig.predict}``).
    times : sequence of float, shape ``(n_times,)``
        The times of the columns.
    n : int
        Points per space axis of the plotted plane.
    exact_label : str
        Name of the exact solution in the titles (e.g. ``"reference"``).
    show_values : bool
        Also show the predictions themselves, not only their errors.
    title : str, optional
        Figure title.
    path : str or path-like, optional
        Also save the figure there as PNG.

    Returns
    -------
    matplotlib.figure.Figure
        ``(1 + (2 if show_values else 1) * len(predictions)) x n_times`` panels, titled
        ``"<row>, t = <time>"``, with one colour bar per row.

    Raises
    ------
    ValueError
        As :func:`slice_points`; also if ``predictions`` is empty, an entry is not callable,
        or a prediction returns the wrong number of values or non-finite ones.
    """
    if not isinstance(predictions, Mapping) or not predictions:
        raise ValueError(
            f"predictions: expected a non-empty mapping of name to callable, got "
            f"{describe(predictions)}"
        )
    for name, u in predictions.items():
        if not callable(u):
            raise ValueError(f"predictions[{name!r}]: expected a callable, got {describe(u)}")
    plane, points = slice_points(problem, n, times)
    t = np.asarray(times, dtype=np.float64)
    shape = (len(t), *plane.shape)
    exact = problem.exact_values(points).reshape(shape)
    values = {}
    for name, u in predictions.items():
        out = _to_numpy(u(points), f"predictions[{name!r}]")
        if out.size != exact.size:
            raise ValueError(
                f"predictions[{name!r}]: returned {out.size} values for {len(points)} points; "
                f"expected one value per point"
            )
        check_finite(f"predictions[{name!r}]", out)
        values[name] = out.reshape(shape)
    errors = {name: np.abs(v - exact) for name, v in values.items()}

    lo, hi = float(exact.min()), float(exact.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    err_hi = max(float(e.max()) for e in errors.values()) or 1.0
    # (label, slices, cmap, vmin, vmax) per row
    rows: list[tuple[str, np.ndarray, str, float, float]] = [
        (exact_label, exact, "viridis", lo, hi)
    ]
    if show_values:
        rows += [(name, v, "viridis", lo, hi) for name, v in values.items()]
    rows += [(f"|{name} - {exact_label}|", e, "magma", 0.0, err_hi) for name, e in errors.items()]

    names = list(plane.names)
    coords = [plane[a] for a in names]
    spans = [float(c[-1] - c[0]) for c in coords]
    panel_width = PANEL_HEIGHT * min(max(spans[0] / spans[1], 0.5), 2.0)
    fig = Figure(
        figsize=(len(t) * panel_width + 1.2, len(rows) * PANEL_HEIGHT + (0.5 if title else 0.2)),
        layout="constrained",
    )
    axes = np.atleast_2d(fig.subplots(len(rows), len(t), squeeze=False))
    for row_axes, (label, data, cmap, vmin, vmax) in zip(axes, rows):
        mesh = None
        for ax, k in zip(row_axes, range(len(t))):
            mesh = _draw_2d(ax, data[k], names, coords, cmap=cmap, vmin=vmin, vmax=vmax,
                            colorbar=False, title=f"{label}, {problem.time_axis} = {t[k]:.3g}")
        cbar = fig.colorbar(mesh, ax=list(row_axes), shrink=0.9)
        cbar.ax.tick_params(labelsize=TICK_SIZE)
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE + 1)
    _save(fig, path)
    return fig
