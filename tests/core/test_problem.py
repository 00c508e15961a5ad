import numpy as np
import pytest
import torch

from sciml.core.conditions import Dirichlet, Initial, Neumann, Periodic
from sciml.core.grid import Box, Grid
from sciml.core.problem import OperatorProblem, ParametricProblem, PDEProblem
from sciml.core.residual import AutogradField, Coordinates
from sciml.core.solver import NotFittedError, Solver


def poisson_residual(u, x):
    return u.d("xx") + u.d("yy") + 2 * torch.pi**2 * torch.sin(torch.pi * x.x) * torch.sin(
        torch.pi * x.y
    )


def exact(x):
    return torch.sin(torch.pi * x.x) * torch.sin(torch.pi * x.y)


def test_autograd_field_satisfies_residual_with_exact_solution():
    pts = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    u = AutogradField.from_function(exact, pts, ("x", "y"))
    r = poisson_residual(u, u.coords)
    assert r.abs().max() < 1e-12
    # Mixed derivative by hand: pi^2 cos(pi x) cos(pi y)
    expected = torch.pi**2 * torch.cos(torch.pi * pts[:, 0]) * torch.cos(torch.pi * pts[:, 1])
    torch.testing.assert_close(u.d("xy"), expected)
    torch.testing.assert_close(u.d("yx"), expected)
    with pytest.raises(ValueError, match=r"derivative: unknown axis name\(s\) \['z'\]"):
        u.d("xz")


def test_autograd_field_derivatives_of_polynomials_vanish_past_their_degree():
    pts = torch.rand(7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    u = AutogradField.from_function(lambda x: 3 * x.x + 2 * x.y, pts, ("x", "y"))
    torch.testing.assert_close(u.d("x"), torch.full((7,), 3.0, dtype=torch.float64))
    assert torch.count_nonzero(u.d("xx")) == 0 and torch.count_nonzero(u.d("xyy")) == 0
    c = AutogradField.from_function(lambda x: 0 * x.x + 5.0, pts, ("x", "y"))
    assert torch.count_nonzero(c.d("yy")) == 0


def test_coordinates_attribute_access_and_errors():
    x = Coordinates({"x": torch.zeros(3), "t": torch.ones(3)})
    assert x.t.sum() == 3
    with pytest.raises(AttributeError, match="no coordinate 'y'; the axes are \\['x', 't'\\]"):
        x.y
    with pytest.raises(ValueError, match="same length"):
        Coordinates({"x": torch.zeros(3), "t": torch.ones(2)})


def test_pde_problem_validation():
    box = Box(x=(0, 1), y=(0, 1))
    p = PDEProblem(box, poisson_residual, [Dirichlet(0.0)], exact=exact, name="poisson")
    assert p.time_axis is None and p.spatial_axes == ("x", "y")
    with pytest.raises(ValueError, match="residual: must take two arguments"):
        PDEProblem(box, lambda u: u)
    with pytest.raises(ValueError, match="domain: expected a Box"):
        PDEProblem({"x": (0, 1)}, poisson_residual)
    with pytest.raises(ValueError, match=r"Dirichlet.on: unknown face\(s\) \['z-'\]"):
        PDEProblem(box, poisson_residual, [Dirichlet(0.0, on=("z-",))])
    with pytest.raises(ValueError, match="no time axis"):
        PDEProblem(box, poisson_residual, [Initial(0.0)])
    with pytest.raises(ValueError, match=r"Periodic.axes: unknown axis name\(s\) \['t'\]"):
        PDEProblem(Box(x=(0, 1), t=(0, 1)), poisson_residual, [Periodic(axes=("t",))])
    with pytest.raises(ValueError, match="conditions\\[0\\]: expected a Condition"):
        PDEProblem(box, poisson_residual, ["dirichlet"])
    with pytest.raises(ValueError, match="Neumann.g: expected a number or a function"):
        Neumann("zero")
    st = PDEProblem(Box(x=(0, 1), t=(0, 1)), poisson_residual, [Initial(lambda x: x.x)])
    assert st.time_axis == "t"


class ExactSolver(Solver):
    """A solver that returns the exact solution plus a known offset."""

    def __init__(self, offset=0.0):
        self.offset = offset

    def fit(self, problem):
        self.problem_ = problem
        return self

    def predict(self, points):
        self._check_fitted("predict")
        return self.problem_.exact_values(points) + self.offset

    def save(self, path):
        raise NotImplementedError

    @classmethod
    def load(cls, path, device="auto"):
        raise NotImplementedError


def test_pde_problem_evaluate_measures_relative_error():
    p = PDEProblem(Box(x=(0, 1), y=(0, 1)), poisson_residual, exact=exact, name="poisson")
    grid = Grid.uniform(p.domain, 21)
    with pytest.raises(NotFittedError, match="not fitted"):
        ExactSolver().predict(grid.points())
    report = p.evaluate(ExactSolver(0.0).fit(p), grid)
    assert report.metric("rel_l2") == 0.0
    report = p.evaluate(ExactSolver(0.01).fit(p), grid)
    truth = p.exact_values(grid.points())
    expected = 0.01 * np.sqrt(truth.size) / np.linalg.norm(truth)
    assert report.metric("rel_l2") == pytest.approx(expected)
    assert report.metric("max_abs") == pytest.approx(0.01)


class ScaleSolver(Solver):
    def __init__(self, scale):
        self.scale = scale

    def fit(self, problem):
        self.fitted_ = True
        return self

    def predict(self, x):
        return torch.as_tensor(x) * self.scale

    def save(self, path):
        raise NotImplementedError

    @classmethod
    def load(cls, path, device="auto"):
        raise NotImplementedError


def test_operator_problem_evaluate_and_validation():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(10, 1, 8, 8, generator=g)
    train = torch.utils.data.TensorDataset(x, x)
    tests = {"8": torch.utils.data.TensorDataset(x, x)}
    p = OperatorProblem(train, tests, name="identity")
    assert (p.in_channels, p.out_channels) == (1, 1)
    report = p.evaluate(ScaleSolver(1.1).fit(p), batch_size=3)
    assert report.metric("rel_l2", "8") == pytest.approx(0.1)
    assert report.metric("n", "8") == 10
    with pytest.raises(ValueError, match="train: the dataset is empty"):
        OperatorProblem(torch.utils.data.TensorDataset(x[:0], x[:0]), tests)
    bad = torch.utils.data.TensorDataset(torch.randn(2, 3, 8, 8), x[:2])
    with pytest.raises(ValueError, match=r"tests\['bad'\]: has 3 input"):
        OperatorProblem(train, {"bad": bad})


class MeanSolver(Solver):
    def fit(self, problem):
        self.problem_ = problem
        return self

    def predict(self, mu):
        return self.problem_.solve(mu) * 1.5

    def save(self, path):
        raise NotImplementedError

    @classmethod
    def load(cls, path, device="auto"):
        raise NotImplementedError


def test_parametric_problem():
    p = ParametricProblem(Box(mu=(1, 2)), lambda mu: np.full(4, mu["mu"]), name="const")
    mus = p.sample(5, seed=0)
    assert mus.shape == (5, 1) and np.all((mus >= 1) & (mus <= 2))
    report = p.evaluate(MeanSolver().fit(p), n_test=3)
    assert report.metric("rel_l2") == pytest.approx(0.5)
    with pytest.raises(ValueError, match="mu: expected 1 values"):
        p.as_dict([1.0, 2.0])
    with pytest.raises(ValueError, match="non-finite"):
        p.as_dict([np.nan])
