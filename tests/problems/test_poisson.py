"""Poisson cases: the exact solutions satisfy the residual (autograd oracle) and the data."""

import numpy as np
import pytest
import torch

from sciml.core.conditions import Dirichlet
from sciml.core.residual import AutogradField
from sciml.problems.poisson import CASES, CASES_1D, CASES_2D, poisson, poisson_1d, poisson_2d


@pytest.mark.parametrize("name", CASES)
def test_exact_solution_has_zero_residual(name):
    problem = poisson(name)
    g = torch.Generator().manual_seed(0)
    lo = torch.as_tensor(problem.domain.lower)
    hi = torch.as_tensor(problem.domain.upper)
    pts = lo + (hi - lo) * torch.rand(50, problem.domain.ndim, generator=g, dtype=torch.float64)
    u = AutogradField.from_function(problem.exact, pts, problem.domain.names)
    r = problem.residual(u, u.coords)
    # Second derivatives reach 2.5e5 (sin 500x): compare with that scale.
    scale = max(float(u.d("xx").detach().abs().max()), 1.0)
    assert float(r.detach().abs().max()) < 1e-9 * scale
    assert isinstance(problem.conditions[0], Dirichlet)


def test_case_lists_and_errors():
    assert len(CASES) == len(CASES_1D) + len(CASES_2D) == 7
    assert {"sin100", "xsin200", "sin6cos100", "multiscale", "sin500"} == set(CASES_1D)
    assert poisson_1d("sin100").domain.ndim == 1
    assert poisson_2d("sin6cos20").domain.names == ("x", "y")
    with pytest.raises(ValueError, match="case"):
        poisson_1d("nope")
    with pytest.raises(ValueError, match="name"):
        poisson("3d/sin100")


def test_exact_values_hand_computed():
    p = poisson_1d("sin500")
    np.testing.assert_allclose(p.exact_values(np.array([[0.5]])), [np.sin(250.0)], rtol=1e-12)
