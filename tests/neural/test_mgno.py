"""MgNO: shapes at any size, parameter count, boundary conditions through padding, a
hand-set V-cycle that is a Poisson multigrid solver, the solver conformance suite, gradients,
bf16 training and a tiny Darcy fit."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from torch import nn

from sciml.core.problem import OperatorProblem
from sciml.core.registry import MODELS
from sciml.neural import NeuralOperatorSolver
from sciml.neural.mgno import MgConv, MgNO, prolong, stencil_conv
from sciml.neural.spectral import count_parameters
from sciml.reference.grf import gaussian_random_field
from sciml.testing import SolverConformance
from sciml.train import Trainer


def _small(dim: int = 2, **kwargs) -> MgNO:
    torch.manual_seed(0)
    args = {"hidden_channels": 4, "n_layers": 2, "n_levels": 3, **kwargs}
    return MgNO(2, 3, dim=dim, **args)


# -- shapes and configuration ------------------------------------------------------------
@pytest.mark.parametrize(
    ("dim", "shapes"),
    [(1, [(16,), (17,), (33,)]), (2, [(16, 16), (17, 9), (33, 20)]), (3, [(8, 7, 5)])],
)
@pytest.mark.parametrize("padding_mode", ["zeros", "circular", "reflect"])
def test_shapes_even_odd_and_resolution_change(dim, shapes, padding_mode):
    model = _small(dim, padding_mode=padding_mode, n_post_smooth=1)
    for shape in shapes:  # one model, several resolutions
        out = model(torch.randn(2, 2, *shape))
        assert out.shape == (2, 3, *shape)
        assert out.dtype == torch.float32 and torch.isfinite(out).all()


def test_tiny_grids_with_more_levels_than_halvings():
    # 3 -> 2 -> 1 -> 1: single-point coarse grids must work in every padding mode
    for mode in ("zeros", "circular", "reflect"):
        model = _small(2, n_levels=4, padding_mode=mode)
        assert model(torch.randn(1, 2, 3, 2)).shape == (1, 3, 3, 2)


def test_config_round_trip_and_registry():
    model = _small(1, n_pre_smooth=[2, 1, 1], n_post_smooth=1, padding_mode="reflect",
                   restrict_u=False, non_linearity=torch.tanh)
    config = model.config
    assert config == json.loads(json.dumps(config))
    assert config["non_linearity"] == "tanh" and config["n_post_smooth"] == [1, 1, 1]
    assert model.dim == 1 and model.in_channels == 2 and model.out_channels == 3
    rebuilt = MODELS.get("MgNO")(**config)
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(2, 2, 21)
    torch.testing.assert_close(rebuilt(x), model(x))


def _expected_count(in_ch, out_ch, c, dim, n_layers, n_levels, pre, post, restrict_u):
    """The parameter-count formula of the module docstring, written out independently."""
    k = 3**dim
    steps = sum(pre) + sum(post)
    coarsest_steps = pre[-1] + post[-1]
    coarsest_starts_at_zero = n_levels == 1 or not restrict_u
    coarsest_a = coarsest_steps > (1 if coarsest_starts_at_zero else 0)
    n_a = (n_levels - 1) + int(coarsest_a)
    n_transfer = (n_levels - 1) * (3 if restrict_u else 2)
    mgconv = k * c * c * (steps + n_a + n_transfer)
    return in_ch * c + c + n_layers * (mgconv + c * c + c) + c * out_ch + out_ch


@pytest.mark.parametrize(
    ("dim", "n_levels", "pre", "post", "restrict_u"),
    [
        (2, 4, [1, 1, 1, 1], [0, 0, 0, 0], True),
        (2, 3, [2, 1, 3], [1, 0, 2], True),
        (1, 3, [1, 1, 1], [0, 0, 0], False),   # coarsest: one step from zero, no A
        (3, 2, [1, 2], [1, 0], False),
        (2, 1, [1], [0], True),                 # plain smoothing, no A at all
        (2, 1, [2], [1], True),
    ],
)
def test_parameter_count_formula(dim, n_levels, pre, post, restrict_u):
    model = MgNO(3, 2, dim=dim, hidden_channels=5, n_layers=3, n_levels=n_levels,
                 n_pre_smooth=pre, n_post_smooth=post, restrict_u=restrict_u)
    expected = _expected_count(3, 2, 5, dim, 3, n_levels, pre, post, restrict_u)
    assert count_parameters(model) == expected
    # the default: 4 levels, one pre-smoothing step each, restrict_u
    assert count_parameters(MgNO(1, 1, hidden_channels=32)) == 32 + 32 + 4 * (
        9 * 32 * 32 * (4 + 4 + 9) + 32 * 32 + 32
    ) + 32 + 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"padding_mode": "periodic"}, r"padding_mode: got 'periodic'; allowed values are "
                                       r"\['zeros', 'circular', 'reflect'\]"),
        ({"dim": 4}, r"dim: got 4; allowed values are \[1, 2, 3\]"),
        ({"n_levels": 0}, r"n_levels: expected an integer >= 1, got 0"),
        ({"n_pre_smooth": 0}, r"n_pre_smooth: expected an integer >= 1, got 0"),
        ({"n_pre_smooth": [1, 1]}, r"n_pre_smooth: got \[1, 1\] with 2 entries; give one int "
                                   r"or one per level \(3\)"),
        ({"n_post_smooth": -1}, r"n_post_smooth: expected an integer >= 0, got -1"),
        ({"hidden_channels": 0}, r"hidden_channels: expected a positive int, got 0"),
        ({"non_linearity": "swish"}, r"non_linearity: got 'swish'"),
        ({"restrict_u": "yes"}, r"restrict_u: got 'yes'"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"hidden_channels": 4, "n_levels": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        MgNO(1, 1, **args)


def test_bad_inputs():
    model = _small(2)
    with pytest.raises(ValueError, match=r"x: expected shape \(batch, 2, \*space\) with 2"):
        model(torch.randn(2, 2, 16))
    with pytest.raises(ValueError, match="x: expected a real floating-point tensor"):
        model(torch.ones(1, 2, 8, 8, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"size: got \(9,\) for a coarse grid \(4,\)"):
        prolong(torch.randn(1, 1, 4), torch.randn(1, 1, 3), (9,))


# -- the convolution primitives against torch.nn ------------------------------------------
@pytest.mark.parametrize("padding_mode", ["zeros", "circular", "reflect"])
@pytest.mark.parametrize("stride", [1, 2])
def test_stencil_conv_matches_torch_conv(padding_mode, stride):
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 4, 3, stride=stride, padding=1, bias=False, padding_mode=padding_mode)
    x = torch.randn(2, 3, 11, 8)
    torch.testing.assert_close(stencil_conv(x, conv.weight, padding_mode, stride), conv(x))


@pytest.mark.parametrize("size", [(9, 12), (10, 11), (10, 12), (9, 11)])
def test_prolong_matches_torch_transposed_conv(size):
    torch.manual_seed(2)
    up = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, bias=False)
    coarse = torch.randn(2, 3, (size[0] + 1) // 2, (size[1] + 1) // 2)
    expected = up(coarse, output_size=size)
    torch.testing.assert_close(prolong(coarse, up.weight, size, "zeros"), expected)
    # zero insertion + flipped kernel, the path the other padding modes take, is the same
    # operator when the padding is zeros
    fine = coarse.new_zeros(2, 3, *size)
    fine[:, :, ::2, ::2] = coarse
    flipped = up.weight.transpose(0, 1).flip((2, 3))
    torch.testing.assert_close(stencil_conv(fine, flipped, "zeros"), expected)


# -- boundary conditions through the padding mode ------------------------------------------
def _pair(mode_a: str, mode_b: str, dim: int, n_levels: int = 3) -> tuple[MgNO, MgNO]:
    a = _small(dim, n_levels=n_levels, padding_mode=mode_a, n_post_smooth=1)
    b = MgNO(**{**a.config, "padding_mode": mode_b})
    b.load_state_dict(a.state_dict())
    return a, b


@pytest.mark.parametrize("dim", [1, 2])
def test_circular_padding_commutes_with_coarsest_grid_shifts(dim):
    """Periodic model: shifting the input by the coarsest grid spacing, 2**(levels-1) cells,
    shifts the output by the same amount (exact up to rounding); a one-cell shift does not
    commute (stride-2 restriction), nor does the zero-padded model."""
    torch.manual_seed(3)
    n_levels = 3
    circular, zeros = _pair("circular", "zeros", dim, n_levels)
    axes = tuple(range(2, 2 + dim))
    x = torch.randn(2, 2, *([16] * dim))
    shift = (2 ** (n_levels - 1),) * dim
    with torch.no_grad():
        y = circular(x)
        torch.testing.assert_close(circular(x.roll(shift, axes)), y.roll(shift, axes),
                                   rtol=0, atol=1e-5)
        one = (1,) * dim
        assert (circular(x.roll(one, axes)) - y.roll(one, axes)).abs().max() > 1e-3
        yz = zeros(x)
        assert (zeros(x.roll(shift, axes)) - yz.roll(shift, axes)).abs().max() > 1e-3


def _even_extension(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Mirror each axis about its end points: n points -> periodic 2 n - 2 points."""
    for axis in range(2, 2 + dim):
        inner = x.narrow(axis, 1, x.shape[axis] - 2).flip(axis)
        x = torch.cat([x, inner], dim=axis)
    return x


def _mirror_symmetric(model: MgNO) -> None:
    """Make every stencil symmetric under reflection of each axis, in place."""
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim == 2 + model.dim and p.shape[2] == 3:
                for axis in range(2, p.ndim):
                    p.copy_((p + p.flip(axis)) / 2)


@pytest.mark.parametrize("dim", [1, 2])
def test_reflect_padding_is_the_even_periodic_extension(dim):
    """With mirror-symmetric stencils, the Neumann model equals the periodic model on the
    even extension of the input (the classical characterisation of a homogeneous Neumann
    condition), for sizes 2**(levels-1) k + 1 whose coarse grids keep the mirror points."""
    torch.manual_seed(4)
    reflect, circular = _pair("reflect", "circular", dim, n_levels=3)
    _mirror_symmetric(reflect)
    circular.load_state_dict(reflect.state_dict())
    n = 17
    x = torch.randn(2, 2, *([n] * dim))
    with torch.no_grad():
        expected = circular(_even_extension(x, dim))[(..., *[slice(0, n)] * dim)]
        torch.testing.assert_close(reflect(x), expected, rtol=0, atol=1e-5)
        zeros = MgNO(**{**reflect.config, "padding_mode": "zeros"})
        zeros.load_state_dict(reflect.state_dict())
        assert (zeros(x) - expected).abs().max() > 1e-3


# -- the multigrid structure ---------------------------------------------------------------
def _poisson_vcycle(n_levels: int, padding_mode: str) -> MgConv:
    """MgConv set by hand to a textbook V(2,2)-cycle for the 5-point Laplacian ``h**2 (-Δ)``:
    damped Jacobi smoothing, full-weighting restriction, bilinear prolongation, the coarse
    operators rediscretised (``A_l = A / 4**l``), coarse levels starting from zero."""
    mg = MgConv(1, 1, 2, n_levels=n_levels, n_pre_smooth=2, n_post_smooth=2,
                padding_mode=padding_mode, restrict_u=False).double()
    lap = torch.tensor([[0.0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=torch.float64)
    delta = torch.zeros(3, 3, dtype=torch.float64)
    delta[1, 1] = 1.0
    hat = torch.tensor([1.0, 2, 1], dtype=torch.float64)
    weighting = torch.outer(hat, hat)
    omega = 0.8
    with torch.no_grad():
        for level, parts in enumerate(mg.levels):
            scale = 4.0**-level
            parts.A.copy_(lap * scale)
            for s in [*parts.pre, *parts.post]:
                s.copy_(delta * omega / (4 * scale))
            if parts.R is not None:
                parts.R.copy_(weighting / 16)
                parts.P.copy_(weighting / 4)
    return mg


def _residual_history(mg: MgConv, n: int, cycles: int, padding_mode: str) -> list[float]:
    lap = torch.tensor([[0.0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    f = torch.randn(1, 1, n, n, generator=gen, dtype=torch.float64)
    if padding_mode == "circular":
        f = f - f.mean()  # the periodic Laplacian annihilates constants
    u = torch.zeros_like(f)
    history = []
    with torch.no_grad():
        for _ in range(cycles):
            u = u + mg(f - stencil_conv(u, lap[None, None], padding_mode))
            residual = f - stencil_conv(u, lap[None, None], padding_mode)
            history.append(float(residual.norm() / f.norm()))
    return history


def test_hand_set_vcycle_is_a_mesh_independent_poisson_solver():
    """Iterating u <- u + MgConv(f - A u) with multigrid weights reduces the periodic Poisson
    residual by a factor ~0.15 per cycle at every resolution (down to a 2x2 coarsest grid);
    the same smoothing without coarse grids stalls."""
    for n, levels in ((32, 5), (64, 6)):
        history = _residual_history(_poisson_vcycle(levels, "circular"), n, 6, "circular")
        rates = np.array(history[1:]) / np.array(history[:-1])
        assert history[-1] < 1e-4 and rates.max() < 0.2, (n, history)
    smoothing = _residual_history(_poisson_vcycle(1, "circular"), 64, 6, "circular")
    assert smoothing[-1] > 5e-2


def test_hand_set_vcycle_beats_smoothing_with_dirichlet_padding():
    """With zero padding the stride-2 coarse grids sit one fine cell beyond the Dirichlet
    boundary, so the cycle is not a textbook solver, but the coarse-grid correction still
    cuts the residual far below what the same smoothing alone reaches."""
    multigrid = _residual_history(_poisson_vcycle(3, "zeros"), 31, 8, "zeros")
    smoothing = _residual_history(_poisson_vcycle(1, "zeros"), 31, 8, "zeros")
    assert multigrid[-1] < 3e-3 and smoothing[-1] > 5e-2
    assert all(b < a for a, b in itertools.pairwise(multigrid))


# -- training -------------------------------------------------------------------------------
def test_gradients_reach_every_parameter():
    model = _small(2, n_levels=3, n_post_smooth=1)
    x = torch.randn(2, 2, 13, 10)
    model(x).square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().max() > 0, name


def smoothing_problem(n=32, size=16, seed=0):
    """y = periodic 3-point average of a smooth random x, scaled and shifted."""
    field = gaussian_random_field(n, size, alpha=3.0, tau=3.0, boundary="periodic", rng=seed)
    field = torch.as_tensor(field, dtype=torch.float32)[:, None]
    x = 5.0 + 2.0 * field / field.std()
    y = 10.0 * (x + x.roll(1, -1) + x.roll(-1, -1)) / 3.0 - 4.0
    train = torch.utils.data.TensorDataset(x[: n - 8], y[: n - 8])
    test = torch.utils.data.TensorDataset(x[n - 8 :], y[n - 8 :])
    return OperatorProblem(train, {"16": test}, name="smoothing")


def _solver(epochs: int, **trainer_options) -> NeuralOperatorSolver:
    torch.manual_seed(0)
    model = MgNO(1, 1, dim=2, hidden_channels=6, n_layers=2, n_levels=3,
                 padding_mode="circular")
    options = {"batch_size": 8, "lr": 5e-3, "progress": False, "device": "cpu",
               **trainer_options}
    return NeuralOperatorSolver(model, Trainer(epochs=epochs, **options))


class TestMgNOSolverConformance(SolverConformance):
    def make_problem(self):
        return smoothing_problem()

    def make_solver(self):
        return _solver(epochs=2)


def test_bf16_autocast_training_stays_finite():
    problem = smoothing_problem()
    solver = _solver(epochs=4, amp="bf16").fit(problem)
    losses = [record["train_loss"] for record in solver.history_]
    assert all(np.isfinite(losses)), losses
    for p in solver.model_.parameters():
        assert torch.isfinite(p).all()


def test_tiny_darcy_fit_reduces_test_error(tmp_path):
    from sciml.data import generate

    path = tmp_path / "darcy.h5"
    generate("darcy", path, n=48, resolution=17, seed=0, progress=False)
    problem = OperatorProblem.from_file(path, inputs="coefficient", outputs="solution",
                                        n_train=40, n_test=8)
    torch.manual_seed(0)
    model = MgNO(1, 1, dim=2, hidden_channels=8, n_layers=2, n_levels=3)
    trainer = Trainer(epochs=15, batch_size=8, lr=5e-3, progress=False, device="cpu")
    solver = NeuralOperatorSolver(model, trainer).fit(problem)
    errors = [record["test/rel_l2"] for record in solver.history_]
    assert errors[-1] < 0.5 * errors[0], errors
    assert problem.evaluate(solver).metric("rel_l2", "test") < 0.2
