"""Plots for the Kronecker GP solver: the learned spectrum and the convergence curve.

Like the other :mod:`sciml.plot` modules these build a :class:`matplotlib.figure.Figure`
directly and never touch pyplot's global state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sciml.core.validation import describe

__all__ = ["convergence", "spectrum"]

DPI = 150


def _save(fig: Figure, path: str | os.PathLike[str] | None) -> None:
    if path is not None:
        fig.savefig(path, dpi=DPI, bbox_inches="tight")


def spectrum(
    source: Any,
    *,
    initial: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Mixture weights against frequencies, one panel per axis (log scale shows the pruning).

    Parameters
    ----------
    source : KroneckerGPSolver or mapping of axis to ``(frequencies, weights)``
        A fitted solver (its :meth:`spectrum`) or the mapping itself.
    initial : mapping, optional
        The spectrum before fitting, drawn in grey for comparison; default the solver's
        ``initial_spectrum_`` when ``source`` is a solver that has one.
    path : path-like, optional
        Where to save the figure.
    """
    spec = source.spectrum() if hasattr(source, "spectrum") else source
    if initial is None:
        initial = getattr(source, "initial_spectrum_", None) or None
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(
            f"source: expected a fitted KroneckerGPSolver with a mixture kernel or a mapping "
            f"axis -> (frequencies, weights), got {describe(spec)}"
        )
    fig = Figure(figsize=(4.2 * len(spec), 3.4))
    axes = fig.subplots(1, len(spec), squeeze=False)[0]
    for ax, (name, (freq, weights)) in zip(axes, spec.items()):
        freq = np.asarray(freq, dtype=float)
        weights = np.asarray(weights, dtype=float)
        shown = weights
        # Stems start at the bottom of the axis: 0 has no place on a log scale.
        bottom = max(float(weights.min()), 1e-12) / 3
        if initial is not None and name in initial:
            f0, w0 = (np.asarray(a, dtype=float) for a in initial[name])
            shown = np.concatenate([weights, w0])
            bottom = max(float(shown.min()), 1e-12) / 3
            ax.vlines(f0, bottom, w0, color="0.7", lw=1.0, label="initial")
        ax.vlines(freq, bottom, weights, color="C0", lw=1.5)
        ax.plot(freq, weights, "o", color="C0", ms=3, label="learned")
        ax.set_yscale("log")
        ax.set_ylim(bottom, float(shown.max()) * 3)
        ax.set_xlabel(f"frequency along {name} (cycles per unit)")
        ax.set_ylabel("weight")
        ax.set_title(f"spectrum, axis {name}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    return fig


def convergence(
    history: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    keys: Sequence[str] = ("error", "residual_rms"),
    x: str = "time",
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Error and residual against wall time (or ``"step"``), one curve per run.

    Parameters
    ----------
    history : list of records, or mapping of run label to list of records
        ``solver.history_`` of one or several fits (for example the alternating solver and
        plain Adam side by side).
    keys : sequence of str
        Record keys to plot, one panel each (missing keys are skipped).
    x : str
        Record key for the horizontal axis.
    path : path-like, optional
        Where to save the figure.
    """
    runs = history if isinstance(history, Mapping) else {"fit": history}
    if not runs or any(not isinstance(v, Sequence) or not v for v in runs.values()):
        raise ValueError(
            "history: expected a non-empty list of records (solver.history_) or a mapping of "
            f"label to such lists, got {describe(history)}"
        )
    present = [k for k in keys if any(k in r for v in runs.values() for r in v)]
    if not present:
        raise ValueError(f"keys: none of {list(keys)} appears in the history records")
    fig = Figure(figsize=(4.2 * len(present), 3.4))
    axes = fig.subplots(1, len(present), squeeze=False)[0]
    for ax, key in zip(axes, present):
        all_xs: list[float] = []
        for label, records in runs.items():
            pts = [(r[x], r[key]) for r in records if key in r and x in r and r[key] > 0]
            if pts:
                xs, ys = zip(*pts)
                all_xs.extend(float(v) for v in xs)
                ax.plot(xs, ys, "o-", ms=3, label=label)
        ax.set_yscale("log")
        # Wall times span decades (a direct solve vs hundreds of Adam steps), so a log axis
        # reads best; it cannot show a zero time, in which case stay linear.
        if x == "time" and all_xs and min(all_xs) > 0:
            ax.set_xscale("log")
        ax.set_xlabel("wall time (s)" if x == "time" else x)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    return fig
