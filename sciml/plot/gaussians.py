"""The adaptive mesh of physics-informed Gaussians: centres and widths drawn as ellipses.

Each Gaussian ``N(mu_i, Sigma_i)`` is drawn as the ellipse ``(x - mu)^T Sigma^-1 (x - mu) =
n_std^2`` of two chosen axes (the marginal covariance of those axes, so a space–time PIG can
be shown in its ``x``–``y`` plane). Like the rest of :mod:`sciml.plot`, figures are built
directly, without pyplot's global state.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import EllipseCollection
from matplotlib.figure import Figure

from sciml.core.grid import Box
from sciml.core.validation import describe
from sciml.plot.fields import MAX_EQUAL_ASPECT_RATIO

__all__ = ["gaussians", "gaussians_before_after"]

DPI = 150


def _ellipses(cov: np.ndarray, n_std: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full widths, heights and angles (degrees) of the ``n_std`` ellipses of ``(N, 2, 2)``."""
    eigval, eigvec = np.linalg.eigh(cov)
    eigval = np.clip(eigval, 0.0, None)
    widths = 2 * n_std * np.sqrt(eigval[:, 1])
    heights = 2 * n_std * np.sqrt(eigval[:, 0])
    angles = np.degrees(np.arctan2(eigvec[:, 1, 1], eigvec[:, 0, 1]))
    return widths, heights, angles


def gaussians(
    centres: Any,
    covariances: Any,
    *,
    ax: Axes | None = None,
    box: Box | None = None,
    axes: Sequence[int] = (0, 1),
    n_std: float = 1.0,
    weights: Any | None = None,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Draw Gaussians as ellipses over the domain.

    Parameters
    ----------
    centres : array, shape ``(N, dim)``
        Centres ``mu_i`` (physical units), ``dim >= 2``.
    covariances : array, shape ``(N, dim, dim)``
        Covariances ``Sigma_i``.
    ax : matplotlib Axes, optional
        Draw here instead of in a new figure.
    box : Box, optional
        The domain: sets the limits, the axis labels and draws its outline.
    axes : two int
        Which coordinates to show.
    n_std : float
        Ellipse radius in standard deviations.
    weights : array, shape ``(N,)``, optional
        Colours the ellipses (for example the norm of each feature vector).
    title : str, optional
    path : path-like, optional
        Also save the figure there as PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    mu = np.asarray(centres, dtype=float)
    cov = np.asarray(covariances, dtype=float)
    if mu.ndim != 2 or mu.shape[1] < 2:
        raise ValueError(f"centres: expected shape (N, dim) with dim >= 2, got {mu.shape}")
    if cov.shape != (mu.shape[0], mu.shape[1], mu.shape[1]):
        raise ValueError(
            f"covariances: expected shape {(mu.shape[0], mu.shape[1], mu.shape[1])} to match "
            f"centres, got {cov.shape}"
        )
    a, b = (int(i) for i in axes)
    if len(axes) != 2 or a == b or not (0 <= a < mu.shape[1] and 0 <= b < mu.shape[1]):
        raise ValueError(f"axes: expected two different axes below {mu.shape[1]}, got {axes}")
    if not n_std > 0:
        raise ValueError(f"n_std: expected a positive number, got {describe(n_std)}")
    if ax is None:
        fig = Figure(figsize=(5.0, 4.6))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    sub = cov[:, [a, b]][:, :, [a, b]]
    w, h, ang = _ellipses(sub, n_std)
    xy = mu[:, [a, b]]
    coll = EllipseCollection(
        w,
        h,
        ang,
        units="xy",
        offsets=xy,
        offset_transform=ax.transData,
        alpha=0.35,
        edgecolors="k",
        linewidths=0.3,
    )
    if weights is not None:
        coll.set_array(np.asarray(weights, dtype=float).reshape(-1))
        coll.set_cmap("viridis")
        fig.colorbar(coll, ax=ax, shrink=0.8)
    else:
        coll.set_facecolor("tab:blue")
    ax.add_collection(coll)
    ax.plot(xy[:, 0], xy[:, 1], ".", ms=1.5, color="k")
    names = box.names if box is not None else tuple(f"x{i}" for i in range(mu.shape[1]))
    if box is not None:
        (lo_a, hi_a), (lo_b, hi_b) = box[names[a]], box[names[b]]
        ax.plot([lo_a, hi_a, hi_a, lo_a, lo_a], [lo_b, lo_b, hi_b, hi_b, lo_b], "k-", lw=1)
        pad_a, pad_b = 0.05 * (hi_a - lo_a), 0.05 * (hi_b - lo_b)
        ax.set_xlim(lo_a - pad_a, hi_a + pad_a)
        ax.set_ylim(lo_b - pad_b, hi_b + pad_b)
    else:
        ax.autoscale_view()
    ax.set_xlabel(names[a])
    ax.set_ylabel(names[b])
    # equal aspect shows the true shape of each Gaussian, but turns a space-time plane such
    # as x in [-1, 1], t in [0, 10] into a thin strip: then the axes fill the panel
    spans = [abs(np.subtract(*ax.get_xlim())), abs(np.subtract(*ax.get_ylim()))]
    if min(spans) > 0 and max(spans) / min(spans) <= MAX_EQUAL_ASPECT_RATIO:
        ax.set_aspect("equal", adjustable="box")
    else:
        ax.set_aspect("auto")
    ax.set_title(title or f"{mu.shape[0]} Gaussians ({n_std:g} sigma)")
    if path is not None:
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return fig


def gaussians_before_after(
    solver: Any,
    *,
    axes: Sequence[int] = (0, 1),
    n_std: float = 1.0,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Two panels: a fitted :class:`~sciml.pig.PIGSolver`'s Gaussians at the start and end.

    Parameters
    ----------
    solver : PIGSolver
        Fitted (or loaded) solver.
    axes, n_std : see :func:`gaussians`.
    path : path-like, optional
        Also save the figure there as PNG.
    """
    if not hasattr(solver, "initial_gaussians_"):
        raise ValueError(
            f"solver: expected a fitted PIGSolver (with initial_gaussians_), got {describe(solver)}"
        )
    fig = Figure(figsize=(10.0, 4.6))
    left, right = fig.subplots(1, 2)
    mu0, cov0 = solver.initial_gaussians_
    mu1, cov1 = solver.gaussians()
    box = getattr(solver, "domain_", None)
    gaussians(mu0, cov0, ax=left, box=box, axes=axes, n_std=n_std, title="start of training")
    gaussians(mu1, cov1, ax=right, box=box, axes=axes, n_std=n_std, title="end of training")
    if path is not None:
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return fig
