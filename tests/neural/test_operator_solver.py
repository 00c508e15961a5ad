import numpy as np
import pytest
import torch

from sciml.core.problem import OperatorProblem
from sciml.core.solver import NotFittedError
from sciml.neural import FNO, NeuralOperatorSolver
from sciml.reference.grf import gaussian_random_field
from sciml.testing import SolverConformance
from sciml.train import Trainer


def smoothing_problem(n=48, size=16, seed=0):
    """y = periodic 3-point average of a smooth random x, scaled and shifted (so the
    normalizers matter)."""
    field = gaussian_random_field(n, size, alpha=3.0, tau=3.0, boundary="periodic", rng=seed)
    field = torch.as_tensor(field, dtype=torch.float32)[:, None]
    x = 5.0 + 2.0 * field / field.std()
    y = 10.0 * (x + x.roll(1, -1) + x.roll(-1, -1)) / 3.0 - 4.0
    train = torch.utils.data.TensorDataset(x[: n - 8], y[: n - 8])
    test = torch.utils.data.TensorDataset(x[n - 8 :], y[n - 8 :])
    return OperatorProblem(train, {"16": test}, name="smoothing")


def small_solver(epochs=30):
    torch.manual_seed(0)
    model = FNO(1, 1, n_modes=(8, 8), hidden_channels=8, n_layers=2)
    trainer = Trainer(epochs=epochs, batch_size=8, lr=1e-2, progress=False, device="cpu")
    return NeuralOperatorSolver(model, trainer)


class TestNeuralOperatorSolverConformance(SolverConformance):
    def make_problem(self):
        return smoothing_problem()

    def make_solver(self):
        return small_solver(epochs=2)


def test_solver_learns_and_reports_per_test_set():
    problem = smoothing_problem()
    solver = small_solver(epochs=40).fit(problem)
    report = problem.evaluate(solver)
    assert report.metric("rel_l2", "16") < 0.05
    assert len(report.history) == 40 and "16/rel_l2" in report.history[-1]
    assert report.timings["fit"] > 0


def test_predict_shapes_types_and_errors():
    problem = smoothing_problem()
    solver = small_solver(epochs=1).fit(problem)
    x, _ = problem.tests["16"][0]
    single = solver.predict(x)
    assert isinstance(single, torch.Tensor) and single.shape == (1, 16, 16)
    batch = solver.predict(np.stack([x.numpy()] * 3))
    assert isinstance(batch, np.ndarray) and batch.shape == (3, 1, 16, 16)
    np.testing.assert_allclose(batch[0], single.numpy(), rtol=1e-5, atol=1e-5)
    # Any resolution: the FNO is discretisation-agnostic.
    assert solver.predict(torch.randn(2, 1, 24, 20)).shape == (2, 1, 24, 20)
    with pytest.raises(ValueError, match=r"x: expected shape \(batch, 1, \*space\)"):
        solver.predict(torch.randn(2, 3, 16, 16))
    bad = x.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        solver.predict(bad)


def test_fit_validates_problem_and_channels():
    problem = smoothing_problem()
    with pytest.raises(ValueError, match=r"model: has in_channels=2, but problem 'smoothing'"):
        NeuralOperatorSolver(FNO(2, 1, n_modes=(4, 4), hidden_channels=4)).fit(problem)
    with pytest.raises(ValueError, match="problem: NeuralOperatorSolver fits"):
        small_solver().fit("not a problem")
    with pytest.raises(ValueError, match="model: expected a torch nn.Module"):
        NeuralOperatorSolver("fno")
    with pytest.raises(NotFittedError):
        small_solver().save("x.pt")


def test_trainer_checkpoint_loads_as_solver(tmp_path):
    problem = smoothing_problem()
    torch.manual_seed(0)
    model = FNO(1, 1, n_modes=(8, 8), hidden_channels=8, n_layers=2)
    trainer = Trainer(epochs=2, batch_size=8, progress=False, device="cpu",
                      checkpoint_dir=tmp_path)
    solver = NeuralOperatorSolver(model, trainer).fit(problem)
    resumed = NeuralOperatorSolver.load(trainer.checkpoint_path, device="cpu")
    x, _ = problem.tests["16"][0]
    torch.testing.assert_close(resumed.predict(x), solver.predict(x))
