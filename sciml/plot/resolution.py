"""Super-resolution pictures: one trained operator evaluated on the same sample at several grids.

A discretisation-agnostic operator (FNO, MgNO, ...) trained at one resolution can be applied
at others. :func:`super_resolution` shows, for each test set of an
:class:`~sciml.core.problem.OperatorProblem` built with ``test_resolutions=``, the input, the
truth, the prediction and the pointwise error of one sample, one row per resolution, with the
relative L2 error of that sample in each row's title; :func:`errors_by_resolution` plots the
mean test error of a report against the resolution.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sciml.core.report import Report
from sciml.core.validation import check_int, describe
from sciml.plot.fields import (
    LABEL_SIZE,
    TITLE_SIZE,
    _draw_1d,
    _draw_2d,
    _prepare,
    _relative_l2,
    _save,
    _to_numpy,
)

__all__ = ["errors_by_resolution", "super_resolution"]


def _points(name: str, shape: tuple[int, ...]) -> int:
    """Points per axis for ordering test sets: from a name like "64" or "64x32", else shape."""
    match = re.fullmatch(r"(\d+)(?:x\d+)*", name)
    return int(match.group(1)) if match else int(shape[0])


def super_resolution(
    solver: Any,
    problem: Any,
    *,
    sample: int = 0,
    channel: int = 0,
    tests: Mapping[str, Any] | None = None,
    cmap: str = "viridis",
    error_cmap: str = "magma",
    path: str | os.PathLike[str] | None = None,
    suptitle: str | None = None,
) -> Figure:
    """Input | truth | prediction | error of one test sample at every test resolution.

    Parameters
    ----------
    solver : Solver
        A fitted operator solver: ``predict(x)`` maps ``(batch, in_channels, *space)`` to
        ``(batch, out_channels, *space)`` at any resolution.
    problem : OperatorProblem
        Its ``tests`` (or ``tests`` given here) are the resolutions shown, ordered by points
        per axis; items are ``(input (in_channels, *space), output (out_channels, *space))``.
    sample : int
        Index of the test sample shown (the same sample at every resolution).
    channel : int
        Output channel shown (input channel 0 is shown in the first column).
    tests : mapping of str to Dataset, optional
        Overrides ``problem.tests``.
    cmap, error_cmap : str
        Colour maps of the fields (truth and prediction share a scale per row) and errors.
    path : path-like, optional
        Also write the figure there as PNG.
    suptitle : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One row per resolution (1-D fields: input, truth and prediction overlaid, error).
    """
    tests = dict(tests if tests is not None else getattr(problem, "tests", {}) or {})
    if not tests:
        raise ValueError(
            f"problem: expected an OperatorProblem with test sets, got {describe(problem)}"
        )
    check_int("sample", sample, 0)
    check_int("channel", channel, 0)
    rows = []
    for name, dataset in tests.items():
        if sample >= len(dataset):
            raise ValueError(
                f"sample: test set {name!r} has {len(dataset)} samples, got sample={sample}"
            )
        x, y = dataset[sample]
        pred = _to_numpy(solver.predict(x[None])[0], "prediction")
        y_np = _to_numpy(y, "truth")
        if channel >= y_np.shape[0]:
            raise ValueError(
                f"channel: the outputs have {y_np.shape[0]} channels, got channel={channel}"
            )
        rows.append((_points(name, tuple(y_np.shape[1:])), name, _to_numpy(x, "input")[0],
                     y_np[channel], pred[channel]))
    rows.sort(key=lambda r: r[0])

    ndim = rows[0][3].ndim
    n_cols = 4 if ndim >= 2 else 2
    fig = Figure(figsize=(3.6 * n_cols, 3.2 * len(rows)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(rows), n_cols, squeeze=False))
    for ax_row, (_, name, x_in, truth, pred) in zip(axes, rows):
        t, names, coords, _ = _prepare(truth, None, "truth")
        p, _, _, _ = _prepare(pred, None, "prediction")
        a, _, _, _ = _prepare(x_in, None, "input")
        err = np.abs(p - t)
        rel = _relative_l2(t, p)
        label = f"{name} ({'x'.join(map(str, truth.shape))}), rel L2 {rel:.2e}"
        if t.ndim == 1:
            _draw_1d(ax_row[0], t, names[0], coords[0], title=label, label="truth",
                     color="C0", linewidth=2.0)
            _draw_1d(ax_row[0], p, names[0], coords[0], title=None, label="prediction",
                     color="C3", linewidth=1.4, linestyle="--")
            ax_row[0].legend(fontsize=LABEL_SIZE - 2)
            _draw_1d(ax_row[1], err, names[0], coords[0], title="|error|", color="C2")
            continue
        _draw_2d(ax_row[0], a, names, coords, cmap=cmap, vmin=None, vmax=None,
                 colorbar=True, title=f"input, {name}")
        lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        _draw_2d(ax_row[1], t, names, coords, cmap=cmap, vmin=lo, vmax=hi, colorbar=True,
                 title="truth")
        _draw_2d(ax_row[2], p, names, coords, cmap=cmap, vmin=lo, vmax=hi, colorbar=True,
                 title=f"prediction, rel L2 {rel:.2e}")
        _draw_2d(ax_row[3], err, names, coords, cmap=error_cmap, vmin=0.0,
                 vmax=float(err.max()) or 1.0, colorbar=True, title="|error|")
    if suptitle:
        fig.suptitle(suptitle, fontsize=TITLE_SIZE + 1)
    _save(fig, path)
    return fig


def errors_by_resolution(
    report: Report | Mapping[str, float],
    *,
    metric: str = "rel_l2",
    ax: Axes | None = None,
    label: str | None = None,
    train_resolution: int | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Mean test error against points per axis.

    Parameters
    ----------
    report : Report or mapping
        A :class:`~sciml.core.report.Report` from ``OperatorProblem.evaluate`` whose rows are
        named by resolution (``"32"``, ``"64"``, ...), or a mapping of such names to errors.
    metric : str
        Report column to plot.
    ax : Axes, optional
        Draw into this axes (e.g. to overlay several models); default a new figure.
    label : str, optional
        Legend label of the curve.
    train_resolution : int, optional
        Marks the training resolution with a vertical line.
    path : path-like, optional
        Also write the figure there as PNG.
    """
    if isinstance(report, Report):
        values = {name: row[metric] for name, row in report.metrics.items() if metric in row}
    elif isinstance(report, Mapping):
        values = dict(report)
    else:
        raise ValueError(f"report: expected a Report or a mapping, got {describe(report)}")
    points = []
    for name, value in values.items():
        match = re.fullmatch(r"(\d+)(?:x\d+)*", str(name))
        if match is None:
            raise ValueError(
                f"report: row {name!r} is not named by a resolution such as '64'; build the "
                "problem with test_resolutions=[...]"
            )
        points.append((int(match.group(1)), float(value)))
    if not points:
        raise ValueError(f"report: no row has the metric {metric!r}")
    points.sort()
    if ax is None:
        fig = Figure(figsize=(5.0, 3.6), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    res, err = zip(*points)
    ax.plot(res, err, marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(res, [str(r) for r in res])
    ax.set_yscale("log")
    ax.set_xlabel("points per axis", fontsize=LABEL_SIZE)
    ax.set_ylabel(metric.replace("_", " "), fontsize=LABEL_SIZE)
    if train_resolution is not None:
        ax.axvline(train_resolution, color="0.5", linestyle=":", label="training resolution")
    if label is not None or train_resolution is not None:
        ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    _save(fig, path)
    return fig
