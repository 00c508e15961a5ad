"""Conformance suites that every solver (and, later, operator) implementation must pass.

Use by subclassing in a test module and providing the fixtures::

    class TestMySolver(SolverConformance):
        def make_problem(self): ...
        def make_solver(self): ...      # unfitted, cheap options

The suite checks the estimator contract of DESIGN.md: ``fit`` returns ``self`` and sets
learned attributes ending in ``_``; ``predict`` before ``fit`` raises ``NotFittedError``;
``save``/``load`` round-trips predictions exactly; ``problem.evaluate`` gives a finite report.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from sciml.core.report import Report
from sciml.core.solver import NotFittedError, Solver

__all__ = ["SolverConformance"]


def _as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


class SolverConformance:
    """Mixin of pytest tests for a :class:`~sciml.core.solver.Solver` subclass."""

    def make_problem(self) -> Any:
        raise NotImplementedError

    def make_solver(self) -> Solver:
        raise NotImplementedError

    def predict_input(self, problem: Any) -> Any:
        """An input for ``predict``: by default the first test input of an operator problem."""
        tests = problem.tests
        x, _ = next(iter(tests.values()))[0]
        return x[None]

    def _fitted(self) -> tuple[Any, Solver]:
        cache = getattr(type(self), "_fitted_cache", None)
        if cache is None:
            problem = self.make_problem()
            solver = self.make_solver()
            returned = solver.fit(problem)
            cache = (problem, solver, returned)
            type(self)._fitted_cache = cache
        return cache

    def test_fit_returns_self_and_sets_learned_attributes(self) -> None:
        _, solver, returned = self._fitted()
        assert returned is solver
        learned = [k for k in vars(solver) if k.endswith("_") and not k.startswith("_")]
        assert learned, "fit must set learned attributes ending in '_'"

    def test_predict_before_fit_raises(self) -> None:
        problem = self._fitted()[0]
        fresh = self.make_solver()
        try:
            fresh.predict(self.predict_input(problem))
        except NotFittedError:
            return
        raise AssertionError("predict before fit must raise NotFittedError")

    def test_save_load_round_trip(self, tmp_path: Any) -> None:
        problem, solver, _ = self._fitted()
        path = tmp_path / "solver.pt"
        solver.save(path)
        loaded = type(solver).load(path, device="cpu")
        x = self.predict_input(problem)
        np.testing.assert_array_equal(_as_numpy(solver.predict(x)), _as_numpy(loaded.predict(x)))

    def test_evaluate_gives_finite_report(self) -> None:
        problem, solver, _ = self._fitted()
        report = problem.evaluate(solver)
        assert isinstance(report, Report)
        assert report.metrics
        for values in report.metrics.values():
            assert all(math.isfinite(v) for v in values.values())
        assert Report.from_json(report.to_json()) == report
