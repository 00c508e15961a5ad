"""The space-time advection problem: exact solution, residual and conditions."""

import numpy as np
import pytest
import torch

from sciml.core.conditions import Dirichlet, Initial
from sciml.core.residual import AutogradField
from sciml.problems.advection import advection_problem


def test_exact_solution_satisfies_the_equation_and_data():
    p = advection_problem()
    assert p.domain.names == ("x", "t") and p.time_axis == "t"
    g = torch.Generator().manual_seed(1)
    pts = torch.rand(40, 2, generator=g, dtype=torch.float64)
    u = AutogradField.from_function(p.exact, pts, ("x", "t"))
    assert float(p.residual(u, u.coords).detach().abs().max()) < 1e-10
    kinds = {type(c) for c in p.conditions}
    assert kinds == {Initial, Dirichlet}
    np.testing.assert_allclose(p.exact_values(np.array([[0.3, 0.01]])), [np.sin(0.3 - 2.0)])


def test_speed_is_checked():
    with pytest.raises(ValueError, match="speed"):
        advection_problem(speed=-1.0)
