"""Monitors for :meth:`PhysicsInformedSolver.fit`: extra curves recorded during training.

A monitor is a callable ``monitor(u) -> {name: value}``; ``fit`` calls it at every history
record with ``u`` the current solution (points ``(n, ndim)`` to values ``(n,)``) and adds its
values to the record, so they show up in ``history_`` and :func:`sciml.plot.history`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sciml.core.problem import PDEProblem
from sciml.core.validation import check_int, describe

__all__ = ["HELD_OUT_KEY", "held_out_error"]

#: History key of the value recorded by :func:`held_out_error`.
HELD_OUT_KEY = "held-out rel L2"

Solution = Callable[[np.ndarray], np.ndarray]


def held_out_error(
    problem: PDEProblem, n: int = 4096, seed: int = 0, *, key: str = HELD_OUT_KEY
) -> Callable[[Solution], dict[str, float]]:
    """A monitor giving the relative L2 error on fixed random points of the domain.

    The ``n`` points are drawn once, uniformly in ``problem.domain`` with ``seed``, and the
    exact (or reference) solution is evaluated there once, so each call costs one forward pass.

    Parameters
    ----------
    problem : PDEProblem
        A problem with an exact or reference solution (``problem.exact_values`` works).
    n : int
        Number of held-out points, at least 1.
    seed : int
        Seed of the point draw.
    key : str
        Name of the recorded value.

    Returns
    -------
    callable
        ``monitor(u) -> {key: ||u(p) - u_exact(p)||_2 / ||u_exact(p)||_2}`` over the points
        ``p`` of shape ``(n, ndim)``.

    Raises
    ------
    ValueError
        If ``problem`` is not a PDEProblem, has no exact solution, or is exactly zero on the
        points; or if ``n`` or ``seed`` is not a valid integer.
    """
    if not isinstance(problem, PDEProblem):
        raise ValueError(f"problem: expected a PDEProblem, got {describe(problem)}")
    n = check_int("n", n, 1)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    box = problem.domain
    points = box.lower + rng.random((n, box.ndim)) * box.lengths
    truth = problem.exact_values(points)
    scale = float(np.linalg.norm(truth))
    if scale == 0.0:
        raise ValueError(
            f"problem: the exact solution of {problem.name!r} is zero on all {n} held-out "
            f"points, so a relative error is undefined; use more points or another seed"
        )

    def monitor(u: Solution) -> dict[str, float]:
        values = np.asarray(u(points), dtype=np.float64).reshape(truth.shape)
        return {key: float(np.linalg.norm(values - truth) / scale)}

    return monitor
