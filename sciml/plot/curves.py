"""Training curves: losses and test metrics against epoch, learning rate below.

Like :mod:`sciml.plot.fields`, this builds a :class:`matplotlib.figure.Figure` directly and
never touches pyplot's global state.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

from matplotlib.figure import Figure

from sciml.core.report import Report
from sciml.core.validation import describe

__all__ = ["history"]

DPI = 150
TITLE_SIZE = 12
LABEL_SIZE = 11
TICK_SIZE = 10
# Keys that describe the run rather than measure the fit; "lr" gets its own panel.
NOT_METRICS = ("epoch", "step", "lr", "time")
# With few records, markers show where the measurements are (test metrics are often sparse).
MARKER_LIMIT = 40


def _records(source: Report | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    records = source.history if isinstance(source, Report) else source
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Sequence):
        raise ValueError(
            f"source: expected a Report or a list of dict records, got {describe(source)}"
        )
    if len(records) == 0:
        raise ValueError(
            "source: the training history is empty; nothing to plot "
            "(expected at least one record such as {'epoch': 0, 'train_loss': 1.0})"
        )
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise ValueError(
                f"source: record {i} should be a dict of name to number, got {describe(rec)}"
            )
    return list(records)


def _number(value: Any) -> float | None:
    """The value as a finite float, or None when it is missing, not a number, NaN or Inf."""
    if isinstance(value, bool) or not isinstance(value, Real):
        # numpy and torch scalars are not Real subclasses but convert cleanly
        if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
            value = value.item()
        else:
            return None
        if isinstance(value, bool) or not isinstance(value, Real):
            return None
    value = float(value)
    return value if math.isfinite(value) else None


def _series(
    records: Sequence[Mapping[str, Any]], key: str
) -> tuple[list[float], list[float]]:
    """Epochs and values of ``key``, skipping records that lack it or hold no finite number."""
    xs, ys = [], []
    for i, rec in enumerate(records):
        y = _number(rec.get(key))
        if y is None:
            continue
        x = _number(rec.get("epoch", rec.get("step", i)))
        xs.append(float(i) if x is None else x)
        ys.append(y)
    return xs, ys


def _default_keys(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every numeric key except run bookkeeping, training loss first, then first appearance."""
    seen: list[str] = []
    for rec in records:
        for k, v in rec.items():
            if k not in NOT_METRICS and k not in seen and _number(v) is not None:
                seen.append(k)
    if "train_loss" in seen:
        seen.remove("train_loss")
        seen.insert(0, "train_loss")
    return seen


def history(
    source: Report | Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    logy: bool = True,
) -> Figure:
    """Plot a training history: losses and test metrics against epoch.

    Parameters
    ----------
    source : Report or list of dict
        A :class:`~sciml.core.report.Report` (its ``history`` is used) or the list of records
        itself. Each record has an ``"epoch"`` (else ``"step"``, else its position is used)
        and any of ``"train_loss"``, ``"lr"``, ``"time"``, ``"<test set>/<metric>"``.
        Records may lack keys; missing, NaN and Inf values are skipped.
    keys : sequence of str, optional
        Which quantities to draw. Default: every numeric key other than ``epoch``, ``step``,
        ``lr`` and ``time``, with ``train_loss`` first.
    path : str or path-like, optional
        Also save the figure there as PNG (dpi 150, tight bounding box).
    logy : bool
        Logarithmic vertical axis. Ignored (linear axis) when some plotted value is not
        positive, since a log axis would silently drop it.

    Returns
    -------
    matplotlib.figure.Figure
        One panel of curves with legend and grid; when any record has ``"lr"``, a second
        panel below shows the learning rate (log scale) on the same epoch axis.

    Raises
    ------
    ValueError
        If the history is empty, ``keys`` names a quantity no record has, or nothing
        plottable remains.
    """
    records = _records(source)
    available = _default_keys(records)
    if keys is None:
        keys = available
    else:
        if isinstance(keys, str):
            keys = [keys]
        present = {k for rec in records for k in rec}
        unknown = [k for k in keys if k not in present]
        if unknown:
            raise ValueError(
                f"keys: {unknown} appear in no record; allowed keys are {sorted(present)}"
            )
        keys = list(keys)
    curves = {k: _series(records, k) for k in keys}
    curves = {k: xy for k, xy in curves.items() if xy[1]}
    lr = _series(records, "lr")
    if not curves and not lr[1]:
        raise ValueError(
            f"source: no finite values to plot for keys {list(keys)}; "
            f"numeric keys in the history are {available}"
        )

    has_lr = bool(lr[1])
    if has_lr:
        fig = Figure(figsize=(8.0, 6.5), layout="constrained")
        ax, ax_lr = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.2))
    else:
        fig = Figure(figsize=(8.0, 4.8), layout="constrained")
        ax, ax_lr = fig.add_subplot(), None

    n_points = max((len(xy[0]) for xy in curves.values()), default=0)
    for i, (key, (xs, ys)) in enumerate(curves.items()):
        marker = "o" if len(xs) <= MARKER_LIMIT else None
        style = "-" if key == "train_loss" or "/" not in key else "--"
        ax.plot(xs, ys, label=key, color=f"C{i % 10}", linestyle=style, marker=marker,
                markersize=4, linewidth=1.8)
    all_values = [y for _, ys in curves.values() for y in ys]
    if logy and all_values and min(all_values) > 0:
        ax.set_yscale("log")
    ax.set_ylabel("loss / metric", fontsize=LABEL_SIZE)
    ax.set_title("training history" + (f" ({n_points} records)" if n_points else ""),
                 fontsize=TITLE_SIZE)
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", alpha=0.12)
    ax.tick_params(labelsize=TICK_SIZE)
    if curves:
        ax.legend(fontsize=TICK_SIZE, loc="best")
    if ax_lr is not None:
        # the rate holds for the whole epoch it is recorded at, so draw it as steps
        ax_lr.plot(lr[0], lr[1], color="0.3", linewidth=1.6, drawstyle="steps-post")
        if min(lr[1]) > 0:
            ax_lr.set_yscale("log")
        ax_lr.set_ylabel("learning rate", fontsize=LABEL_SIZE)
        ax_lr.grid(True, alpha=0.4)
        ax_lr.tick_params(labelsize=TICK_SIZE)
        ax_lr.set_xlabel("epoch", fontsize=LABEL_SIZE)
    else:
        ax.set_xlabel("epoch", fontsize=LABEL_SIZE)
    if path is not None:
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return fig
