"""Plots for reduced-order models: convergence, singular values, magic points, error maps.

Each function builds a :class:`matplotlib.figure.Figure` (no pyplot state), saves it when
``path`` is given, and returns it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from sciml.core.validation import describe

__all__ = ["error_decay", "error_map", "magic_points", "singular_values"]

DPI = 150


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=DPI)
    return fig


def error_decay(
    curves: Mapping[str, Sequence[float]],
    sizes: Sequence[int] | None = None,
    path: str | os.PathLike[str] | None = None,
    title: str = "Error and bound against basis size",
    ylabel: str = "relative error (X norm)",
) -> Figure:
    """Curves (for example ``{"max error": ..., "max bound": ...}``) against basis size on a
    log scale; non-positive values are skipped."""
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(
            f"curves: expected a non-empty dict name -> values, got {describe(curves)}"
        )
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for name, values in curves.items():
        v = np.asarray(values, dtype=float)
        x = np.arange(v.size) if sizes is None else np.asarray(sizes)[: v.size]
        ok = np.isfinite(v) & (v > 0)
        ax.semilogy(x[ok], v[ok], marker="o", markersize=3, label=name)
    ax.set_xlabel("basis size N")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _finish(fig, path)


def singular_values(
    values: Sequence[float] | Mapping[str, Sequence[float]],
    path: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    title: str = "Singular value decay",
) -> Figure:
    """Singular values (one array or several by name), normalised by the first, log scale."""
    series = values if isinstance(values, Mapping) else {"POD": values}
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for name, s in series.items():
        s = np.asarray(s, dtype=float)
        s = s / s[0] if normalize and s.size and s[0] > 0 else s
        ok = s > 0
        ax.semilogy(np.arange(1, s.size + 1)[ok], s[ok], marker=".", label=name)
    ax.set_xlabel("index")
    ax.set_ylabel("sigma_i / sigma_1" if normalize else "sigma_i")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return _finish(fig, path)


def magic_points(
    nodes: np.ndarray,
    points: np.ndarray,
    triangles: np.ndarray | None = None,
    values: np.ndarray | None = None,
    path: str | os.PathLike[str] | None = None,
    title: str = "EIM magic points",
) -> Figure:
    """Magic points on the mesh, numbered in greedy order.

    Parameters
    ----------
    nodes : ndarray ``(n,)`` (1-D) or ``(n, 2)``
        Coordinates of the locations the interpolation indices refer to.
    points : ndarray of int ``(M,)``
        Interpolation indices (into ``nodes``).
    triangles : ndarray ``(n_tri, 3)``, optional
        Draw the triangulation underneath (2-D).
    values : ndarray ``(n,)``, optional
        A field drawn underneath (1-D: a curve; 2-D: colours at the nodes).
    """
    nodes = np.asarray(nodes, dtype=float)
    pts = np.asarray(points, dtype=int)
    fig = Figure(figsize=(6, 4.5) if nodes.ndim == 2 else (7, 3.5))
    ax = fig.add_subplot()
    if nodes.ndim == 1:
        if values is not None:
            ax.plot(nodes, values, color="0.6", lw=1)
            ys = np.asarray(values)[pts]
        else:
            ys = np.zeros(pts.size)
        ax.scatter(nodes[pts], ys, c=np.arange(pts.size), cmap="viridis", zorder=3)
        for k, (x, y) in enumerate(zip(nodes[pts], ys)):
            ax.annotate(str(k + 1), (x, y), textcoords="offset points", xytext=(0, 5),
                        fontsize=7, ha="center")
        ax.set_xlabel("x")
    else:
        if triangles is not None:
            if values is not None:
                ax.tripcolor(nodes[:, 0], nodes[:, 1], triangles, values, shading="gouraud",
                             cmap="Greys", alpha=0.6)
            ax.triplot(nodes[:, 0], nodes[:, 1], triangles, color="0.8", lw=0.3)
        sc = ax.scatter(nodes[pts, 0], nodes[pts, 1], c=np.arange(1, pts.size + 1),
                        cmap="viridis", s=25, zorder=3)
        fig.colorbar(sc, ax=ax, label="greedy order")
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    ax.set_title(title)
    return _finish(fig, path)


def error_map(
    mus: np.ndarray,
    errors: np.ndarray,
    names: Sequence[str] = ("mu_1", "mu_2"),
    path: str | os.PathLike[str] | None = None,
    title: str = "Error over the parameter space",
    selected: np.ndarray | None = None,
) -> Figure:
    """Errors (log colour scale) at parameters ``(n, 2)`` (the first two components), with the
    greedy-selected parameters ``(N, 2)`` marked; for one parameter, a curve."""
    mus = np.atleast_2d(np.asarray(mus, dtype=float))
    err = np.asarray(errors, dtype=float).reshape(-1)
    if mus.shape[0] != err.size:
        raise ValueError(f"mus, errors: {mus.shape[0]} parameters but {err.size} errors")
    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    logs = np.log10(np.clip(err, 1e-300, None))
    if mus.shape[1] == 1:
        order = np.argsort(mus[:, 0])
        ax.semilogy(mus[order, 0], err[order], marker=".")
        if selected is not None:
            for s in np.atleast_2d(selected)[:, 0]:
                ax.axvline(s, color="r", lw=0.5, alpha=0.5)
        ax.set_xlabel(names[0])
        ax.set_ylabel("error")
    else:
        sc = ax.scatter(mus[:, 0], mus[:, 1], c=logs, cmap="magma", s=12)
        fig.colorbar(sc, ax=ax, label="log10 error")
        if selected is not None and len(selected):
            sel = np.atleast_2d(selected)
            ax.scatter(sel[:, 0], sel[:, 1], marker="x", color="c", s=30, label="greedy picks")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    ax.set_title(title)
    return _finish(fig, path)
