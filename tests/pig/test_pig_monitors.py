"""sciml.pig.monitors.held_out_error against hand computations, and the PIG-vs-PINN driver."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.core.grid import Box, Grid
from sciml.core.problem import PDEProblem
from sciml.pig import PIGSolver, Training
from sciml.pig.comparison import Setup, fit_same_time
from sciml.pig.monitors import HELD_OUT_KEY, held_out_error

TINY = Training(adam_steps=3, lbfgs_steps=2, n_collocation=64, n_boundary=32, n_initial=32,
                log_every=1)


def linear_problem() -> PDEProblem:
    """u_t + u_x = 0 on [1, 3] x [0, 2]; exact u = 5 + x - t (never zero there)."""
    return PDEProblem(
        Box(x=(1.0, 3.0), t=(0.0, 2.0)),
        lambda u, x: u.d("t") + u.d("x"),
        [],
        exact=lambda x: 5.0 + x.x - x.t,
        name="advection_1d",
    )


def exact(points: np.ndarray) -> np.ndarray:
    return 5.0 + points[:, 0] - points[:, 1]


class Recorder:
    """A candidate solution ``exact + offset`` that remembers where it was asked."""

    def __init__(self, offset: float) -> None:
        self.offset = offset
        self.points: list[np.ndarray] = []

    def __call__(self, points: np.ndarray) -> np.ndarray:
        self.points.append(np.array(points))
        return exact(points) + self.offset


def test_value_matches_a_hand_computation():
    monitor = held_out_error(linear_problem(), n=200, seed=3)
    u = Recorder(offset=0.25)
    value = monitor(u)
    pts = u.points[0]
    assert pts.shape == (200, 2)
    assert np.all((pts[:, 0] >= 1.0) & (pts[:, 0] <= 3.0) & (pts[:, 1] >= 0) & (pts[:, 1] <= 2))
    # ||0.25 * 1|| / ||u_exact|| over the points the monitor used
    expected = 0.25 * np.sqrt(200) / np.sqrt(np.sum(exact(pts) ** 2))
    assert set(value) == {HELD_OUT_KEY}
    assert value[HELD_OUT_KEY] == pytest.approx(expected, rel=1e-12)


def test_scaling_invariants_and_fixed_points():
    monitor = held_out_error(linear_problem(), n=64, seed=0)
    assert monitor(exact)[HELD_OUT_KEY] == pytest.approx(0.0, abs=1e-15)
    assert monitor(lambda p: 0.0 * p[:, 0])[HELD_OUT_KEY] == pytest.approx(1.0)
    assert monitor(lambda p: 1.1 * exact(p))[HELD_OUT_KEY] == pytest.approx(0.1)
    # a column vector (n, 1) is accepted like (n,)
    assert monitor(lambda p: 2 * exact(p)[:, None])[HELD_OUT_KEY] == pytest.approx(1.0)
    a, b, c = Recorder(0.0), Recorder(0.0), Recorder(0.0)
    monitor(a), monitor(a)
    held_out_error(linear_problem(), n=64, seed=0)(b)
    held_out_error(linear_problem(), n=64, seed=1)(c)
    np.testing.assert_array_equal(a.points[0], a.points[1])  # drawn once, reused
    np.testing.assert_array_equal(a.points[0], b.points[0])  # reproducible from the seed
    assert not np.allclose(a.points[0], c.points[0])


def test_custom_key():
    monitor = held_out_error(linear_problem(), n=8, seed=0, key="test error")
    assert set(monitor(exact)) == {"test error"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n": 0}, "n: expected an integer >= 1"), ({"n": 2.5}, "n:"),
     ({"seed": -1}, "seed:"), ({"problem": "kg"}, "problem: expected a PDEProblem")],
)
def test_bad_arguments(kwargs, match):
    args = {"problem": linear_problem(), "n": 8, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        held_out_error(**args)


def test_zero_solution_is_rejected():
    zero = PDEProblem(Box(x=(0.0, 1.0)), lambda u, x: u.d("xx"), [],
                      exact=lambda x: 0.0 * x.x, name="zero")
    with pytest.raises(ValueError, match="relative error is undefined"):
        held_out_error(zero, n=8)


def test_fit_records_the_monitor_in_the_history():
    torch.manual_seed(0)
    problem = linear_problem()
    solver = PIGSolver(n_gaussians=8, training=TINY, seed=0, progress=False)
    solver.fit(problem, monitor=held_out_error(problem, n=128, seed=1))
    values = [entry[HELD_OUT_KEY] for entry in solver.history_]
    assert len(values) == len(solver.history_) >= 2
    # the last record is the final iterate: recompute it independently
    pts = np.random.default_rng(7).random((300, 2)) * [2.0, 2.0] + [1.0, 0.0]
    assert np.all(np.isfinite(values))
    final = np.linalg.norm(solver.predict(pts) - exact(pts)) / np.linalg.norm(exact(pts))
    assert values[-1] == pytest.approx(final, rel=0.5)


def test_fit_same_time_gives_both_errors(capsys):
    problem = linear_problem()
    setup = Setup(problem, {"n_gaussians": 8}, {"width": 8, "depth": 1}, TINY,
                  Grid.uniform(problem.domain, 9), n_held_out=64)
    result = fit_same_time(setup)
    for solver, error in ((result.pig, result.pig_error), (result.pinn, result.pinn_error)):
        pts = Grid.uniform(problem.domain, 9).points()
        truth = exact(pts)
        by_hand = np.linalg.norm(solver.predict(pts) - truth) / np.linalg.norm(truth)
        assert error == pytest.approx(by_hand, rel=1e-6)
    assert HELD_OUT_KEY in result.pig.history_[-1]
    assert result.pinn.training.time_budget == pytest.approx(result.pig.timings_["fit"])
    assert "PIG : rel L2" in capsys.readouterr().out
