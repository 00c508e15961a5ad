"""FactFormer: shapes, resolution convergence, the axial integral against a dense Kronecker
oracle, rotary relativity, latent marching, solver conformance, gradients, bf16, memory."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from sciml.core.problem import OperatorProblem
from sciml.core.registry import MODELS
from sciml.neural.factformer import (
    FactFormer,
    FactorizedAttention,
    axial_integral,
    axial_kernel,
    rotary_embedding,
    unit_cell_coordinates,
)
from sciml.neural.solver import NeuralOperatorSolver
from sciml.reference.grf import gaussian_random_field
from sciml.testing import SolverConformance
from sciml.train import AutoregressiveTrainer, Trainer


def _small(dim: int = 2, **kwargs) -> FactFormer:
    torch.manual_seed(0)
    args = {"hidden_channels": 16, "n_layers": 1, "n_heads": 2, "norm_groups": 4, **kwargs}
    return FactFormer(2, 3, dim=dim, **args)


# -- shapes and resolution ------------------------------------------------------------------


@pytest.mark.parametrize(("dim", "shape"), [(1, (20,)), (2, (12, 9)), (3, (6, 7, 5))])
def test_shapes(dim, shape):
    model = _small(dim)
    out = model(torch.randn(4, 2, *shape))
    assert out.shape == (4, 3, *shape)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert model.dim == dim and model.in_channels == 2 and model.out_channels == 3


def _smooth_field(n: int, dim: int) -> torch.Tensor:
    """A smooth periodic two-channel field on ``n`` points per axis, float64."""
    t = unit_cell_coordinates(n, dtype=torch.float64)
    grids = torch.meshgrid(*[t] * dim, indexing="ij")
    u = sum(torch.sin(2 * math.pi * g + 0.3 * i) for i, g in enumerate(grids))
    u = u + 0.5 * torch.cos(4 * math.pi * grids[-1])
    return torch.stack([u, 0.5 * u**2]).unsqueeze(0)


def _mismatch(model: FactFormer, dim: int, sizes: tuple[int, ...], fine: int) -> list[float]:
    """Max relative difference to the ``fine`` grid at the shared points, per coarse size."""
    with torch.no_grad():
        ref = model(_smooth_field(fine, dim))
        errs = []
        for n in sizes:
            sub = (slice(None), slice(None)) + (slice(None, None, fine // n),) * dim
            errs.append(float((model(_smooth_field(n, dim)) - ref[sub]).abs().max()))
    return [e / float(ref.abs().max()) for e in errs]


def test_resolution_change_converges_spectrally():
    """The attention integrals are rectangle rules on the periodic unit cell; with integer
    rotary and Fourier-feature frequencies every integrand is smooth and periodic, so the
    mismatch at shared grid points falls faster than any power of the grid size."""
    model = _small(2).double()
    errs = _mismatch(model, 2, (8, 16, 32), fine=64)
    # each doubling gains far more than the factor 2 of a first-order rule (next test)
    assert errs[0] / errs[1] > 30 and errs[1] / errs[2] > 30, errs
    assert errs[2] < 1e-5, errs


def test_resolution_change_first_order_with_gaussian_features():
    """The check above can fail: non-integer feature frequencies jump at the cell's wrap,
    so the quadrature converges only at first order."""
    model = _small(2, periodic_features=False).double()
    errs = _mismatch(model, 2, (16, 32), fine=64)
    assert errs[1] > 1e-4, errs
    assert 1.5 < errs[0] / errs[1] < 6, errs


def test_resolution_change_3d():
    model = _small(3).double()
    errs = _mismatch(model, 3, (8, 16), fine=32)
    assert errs[0] / errs[1] > 30 and errs[1] < 1e-3, errs
    assert model(torch.randn(1, 2, 5, 9, 4, dtype=torch.float64)).shape == (1, 3, 5, 9, 4)


# -- the axial factorized integral against a dense oracle -----------------------------------


def _dense_kernel(kernels: list[torch.Tensor]) -> torch.Tensor:
    """Full ``(batch, heads, N, N)`` kernel: the Kronecker product of the per-axis kernels
    (row-major flattening of the grid)."""
    batch, heads = kernels[0].shape[:2]
    n_total = math.prod(k.shape[-1] for k in kernels)
    out = torch.empty(batch, heads, n_total, n_total, dtype=kernels[0].dtype)
    for b in range(batch):
        for h in range(heads):
            dense = kernels[0][b, h]
            for k in kernels[1:]:
                dense = torch.kron(dense, k[b, h])
            out[b, h] = dense
    return out


def _apply_dense(kernels: list[torch.Tensor], v: torch.Tensor) -> torch.Tensor:
    batch, heads, channels = v.shape[:3]
    flat = v.reshape(batch, heads, channels, -1)
    z = torch.einsum("bhij,bhcj->bhci", _dense_kernel(kernels), flat)
    return z.reshape(v.shape)


@pytest.mark.parametrize("space", [(5,), (4, 6), (3, 5, 4)])
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-13), (torch.float32, 2e-6)])
def test_axial_integral_equals_dense_kronecker(space, dtype, tol):
    gen = torch.Generator().manual_seed(1)
    batch, heads, channels = 2, 3, 4
    kernels = [torch.randn(batch, heads, n, n, generator=gen, dtype=dtype) for n in space]
    v = torch.randn(batch, heads, channels, *space, generator=gen, dtype=dtype)
    fact = axial_integral(kernels, v)
    dense = _apply_dense([k.double() for k in kernels], v.double())
    assert fact.dtype == dtype
    err = (fact.double() - dense).abs().max() / dense.abs().max()
    assert err < tol, float(err)


def test_axial_integral_is_not_a_sum_of_axis_kernels():
    """Sanity of the oracle: a wrong factorisation (kernels of the wrong axes) differs."""
    gen = torch.Generator().manual_seed(2)
    kernels = [torch.randn(1, 1, 4, 4, generator=gen) for _ in range(2)]
    v = torch.randn(1, 1, 2, 4, 4, generator=gen)
    swapped = _apply_dense(kernels[::-1], v)
    assert (axial_integral(kernels, v) - swapped).abs().max() > 1e-2


def _rotation(coords: torch.Tensor, m: int) -> torch.Tensor:
    """Explicit rotation matrices ``(n, 2 m, 2 m)``: pair ``(j, j + m)`` by ``2 pi (j+1) t``."""
    n = coords.shape[0]
    rot = torch.zeros(n, 2 * m, 2 * m, dtype=torch.float64)
    for j in range(m):
        angle = 2 * math.pi * (j + 1) * coords.double()
        rot[:, j, j] = angle.cos()
        rot[:, j, j + m] = -angle.sin()
        rot[:, j + m, j] = angle.sin()
        rot[:, j + m, j + m] = angle.cos()
    return rot


def test_attention_module_equals_dense_oracle():
    """FactorizedAttention against an oracle assembled from its weights: linear map on the
    full field, mean over the other axes, MLP, q/k, explicit rotation matrices, ``q k^T / n``,
    Kronecker product of the axis kernels, dense matmul with the values."""
    torch.manual_seed(3)
    heads, dh = 2, 4
    attn = FactorizedAttention(6, dim=2, n_heads=heads, head_channels=dh,
                               projection_channels=5).double()
    h = torch.randn(2, 6, 5, 7, dtype=torch.float64)
    kernels = []
    for a, proj in enumerate(attn.axes):
        n = h.shape[2 + a]
        full = torch.einsum("oc,bcxy->boxy", proj.linear.weight, h)
        full = full + proj.linear.bias.view(1, -1, 1, 1)
        phi = proj.mlp(full.mean(dim=3 - a))
        qk = torch.einsum("oc,bcn->bon", proj.to_qk.weight, phi)
        qk = qk.view(2, 2, heads, dh, n).transpose(-1, -2)  # (b, q/k, head, n, dh)
        rot = _rotation(unit_cell_coordinates(n, dtype=torch.float64), dh // 2)
        q = torch.einsum("nij,bhnj->bhni", rot, qk[:, 0])
        k = torch.einsum("nij,bhnj->bhni", rot, qk[:, 1])
        kernels.append(q @ k.transpose(-1, -2) / n)
    for mine, oracle in zip(attn.kernels(h), kernels):
        torch.testing.assert_close(mine, oracle, rtol=1e-12, atol=1e-12)
    v = torch.einsum("oc,bcxy->boxy", attn.to_v.weight, h).reshape(2, heads, dh, 5, 7)
    z = _apply_dense(kernels, v).reshape(2, heads * dh, 5, 7)
    expected = torch.einsum("oc,bcxy->boxy", attn.to_out.weight, z)
    expected = expected + attn.to_out.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(attn(h), expected, rtol=1e-10, atol=1e-12)


# -- rotary position encoding ---------------------------------------------------------------


def test_rotary_inner_product_depends_on_position_difference():
    gen = torch.Generator().manual_seed(4)
    m = 4
    freqs = torch.arange(1, m + 1, dtype=torch.float64)
    q = torch.randn(2 * m, generator=gen, dtype=torch.float64)
    k = torch.randn(2 * m, generator=gen, dtype=torch.float64)
    s = torch.rand(20, generator=gen, dtype=torch.float64)
    t = torch.rand(20, generator=gen, dtype=torch.float64)
    shift = 0.37

    def kernel(sq: torch.Tensor, tk: torch.Tensor) -> torch.Tensor:
        rq = rotary_embedding(q.expand(len(sq), -1)[:, None], sq[:, None], freqs)[:, 0]
        rk = rotary_embedding(k.expand(len(tk), -1)[:, None], tk[:, None], freqs)[:, 0]
        return (rq * rk).sum(-1)

    base = kernel(s, t)
    torch.testing.assert_close(kernel(s + shift, t + shift), base, rtol=1e-12, atol=1e-12)
    # and it equals the closed form <q, rot(t - s) k>
    diff = (t - s)[:, None]
    rot = _rotation(diff[:, 0], m)
    closed = torch.einsum("i,nij,j->n", q, rot, k)
    torch.testing.assert_close(base, closed, rtol=1e-12, atol=1e-12)
    # the rotation changes things: different differences give different values
    assert (kernel(s, t + 0.2) - base).abs().max() > 1e-3


def test_rotary_kernel_of_constant_features_is_circulant():
    """With q and k the same at every grid point, the axis kernel depends only on
    ``(j - i) mod n`` (integer frequencies make it periodic on the unit cell)."""
    gen = torch.Generator().manual_seed(5)
    n, m = 9, 3
    freqs = torch.arange(1, m + 1, dtype=torch.float64)
    coords = unit_cell_coordinates(n, dtype=torch.float64)
    q = torch.randn(1, 1, 1, 2 * m, generator=gen, dtype=torch.float64).expand(1, 1, n, -1)
    k = torch.randn(1, 1, 1, 2 * m, generator=gen, dtype=torch.float64).expand(1, 1, n, -1)
    kernel = axial_kernel(rotary_embedding(q, coords, freqs), rotary_embedding(k, coords, freqs))
    first_row = kernel[0, 0, 0]
    for i in range(n):
        torch.testing.assert_close(kernel[0, 0, i], first_row.roll(i), rtol=0, atol=1e-13)


# -- latent time marching -------------------------------------------------------------------


def test_latent_marching_shape_and_consistency():
    model = _small(2, propagator_layers=2)
    x = torch.randn(2, 2, 8, 10)
    with torch.no_grad():
        one = model(x)
        three = model(x, steps=3)
        h = model.encode(x)
        for _ in range(2):
            h = model.propagate(h)
        second = model.decode(h)
    assert three.shape == (2, 9, 8, 10)
    torch.testing.assert_close(three[:, :3], one, rtol=0, atol=0)
    torch.testing.assert_close(three[:, 3:6], second, rtol=1e-6, atol=1e-6)
    assert (three[:, 3:6] - three[:, :3]).abs().max() > 1e-4  # the propagator does something


def test_out_steps_forward_marches_that_many_steps():
    """``forward(x)`` with ``out_steps=3`` is the hand-written chain encode -> (propagate,
    decode) x 3, and ``out_channels`` counts the channels of all three frames."""
    model = _small(2, propagator_layers=1, out_steps=3)
    assert model.out_channels == 3 and model.frame_channels == 1 and model.out_steps == 3
    x = torch.randn(2, 2, 8, 6)
    with torch.no_grad():
        out = model(x)
        h = model.encode(x)
        frames = []
        for _ in range(3):
            h = model.propagate(h)
            frames.append(model.decode(h))
        five = model(x, steps=5)
    assert out.shape == (2, 3, 8, 6) and five.shape == (2, 5, 8, 6)
    torch.testing.assert_close(out, torch.cat(frames, dim=1), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(five[:, :3], out, rtol=0, atol=0)
    # frames differ: the output is not one frame repeated
    assert (out[:, 2] - out[:, 0]).abs().max() > 1e-4


def test_out_steps_config_round_trip_and_errors():
    model = _small(2, out_steps=3)
    config = json.loads(json.dumps(model.config))
    assert config["out_steps"] == 3 and config["out_channels"] == 3
    clone = FactFormer(**config)
    clone.load_state_dict(model.state_dict())
    x = torch.randn(1, 2, 6, 6)
    torch.testing.assert_close(clone(x), model(x))
    assert _small(2).config["out_steps"] == 1
    with pytest.raises(ValueError, match="out_steps: got 2, which does not divide out_channels=3"):
        _small(2, out_steps=2)
    with pytest.raises(ValueError, match="out_steps: expected an integer >= 1"):
        _small(2, out_steps=0)


def _shift_windows(n: int, m_out: int, size: int = 12, seed: int = 0):
    """Windows of u_{t+1} = roll(u_t, 1) along the first axis: one frame in, ``m_out`` out."""
    u0 = gaussian_random_field(n, size, alpha=3.0, tau=3.0, boundary="periodic", rng=seed)
    u0 = torch.as_tensor(u0, dtype=torch.float32)[:, None]
    u0 = u0 / u0.std()
    y = torch.cat([u0.roll(t, -2) for t in range(1, m_out + 1)], dim=1)
    return torch.utils.data.TensorDataset(u0, y)


def test_out_steps_trains_behind_the_autoregressive_trainer(tmp_path):
    """Latent marching trained through NeuralOperatorSolver with ``frames_per_call =
    out_steps``; the rollout beats persistence (repeating the input frame), and the solver
    saves and reloads."""
    torch.manual_seed(0)
    train = _shift_windows(48, 4, seed=0)
    test = _shift_windows(8, 4, seed=1)
    problem = OperatorProblem(train, {"test": test}, name="shift")
    model = FactFormer(1, 2, dim=2, hidden_channels=16, n_layers=1, n_heads=2, norm_groups=4,
                       fourier_features=4, out_steps=2)
    trainer = AutoregressiveTrainer(channels=1, frames_per_call=2, epochs=30, batch_size=8,
                                    lr=3e-3, progress=False, device="cpu")
    solver = NeuralOperatorSolver(model, trainer).fit(problem)
    x, y = test.tensors
    pred = solver.rollout(x, 4)
    assert pred.shape == (8, 4, 12, 12)
    error = float((pred - y).norm() / y.norm())
    persistence = float((x.repeat(1, 4, 1, 1) - y).norm() / y.norm())
    assert error < 0.5 * persistence, (error, persistence)
    solver.save(tmp_path / "ff.pt")
    loaded = NeuralOperatorSolver.load(tmp_path / "ff.pt", device="cpu")
    torch.testing.assert_close(loaded.rollout(x, 4), pred, rtol=1e-5, atol=1e-5)


# -- solver conformance, training, gradients, precision -------------------------------------


def _smoothing_problem(n: int = 40, size: int = 16, seed: int = 0) -> OperatorProblem:
    """y = periodic 3-point average along the first axis of a smooth random x, scaled."""
    field = gaussian_random_field(n, size, alpha=3.0, tau=3.0, boundary="periodic", rng=seed)
    field = torch.as_tensor(field, dtype=torch.float32)[:, None]
    x = 5.0 + 2.0 * field / field.std()
    y = 10.0 * (x + x.roll(1, -2) + x.roll(-1, -2)) / 3.0 - 4.0
    train = torch.utils.data.TensorDataset(x[: n - 8], y[: n - 8])
    test = torch.utils.data.TensorDataset(x[n - 8 :], y[n - 8 :])
    return OperatorProblem(train, {"16": test}, name="smoothing")


def _solver(epochs: int = 2, amp: str = "none") -> NeuralOperatorSolver:
    torch.manual_seed(0)
    model = FactFormer(1, 1, dim=2, hidden_channels=16, n_layers=1, n_heads=2, norm_groups=4)
    trainer = Trainer(epochs=epochs, batch_size=8, lr=3e-3, progress=False, device="cpu",
                      amp=amp)
    return NeuralOperatorSolver(model, trainer)


class TestFactFormerConformance(SolverConformance):
    def make_problem(self):
        return _smoothing_problem()

    def make_solver(self):
        return _solver(epochs=2)


def test_solver_learns_and_predicts_at_other_resolutions():
    problem = _smoothing_problem()
    solver = _solver(epochs=25).fit(problem)
    losses = [rec["train_loss"] for rec in solver.history_]
    assert losses[-1] < 0.2 * losses[0], losses
    assert solver.predict(torch.randn(2, 1, 24, 20)).shape == (2, 1, 24, 20)


def test_bf16_autocast_training_has_no_nan():
    problem = _smoothing_problem()
    solver = _solver(epochs=4, amp="bf16").fit(problem)
    losses = [rec["train_loss"] for rec in solver.history_]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0], losses
    assert all(torch.isfinite(p).all() for p in solver.model_.parameters())


def test_kernels_are_float32_under_autocast():
    model = _small(2)
    seen = []
    model.encoder[0].attention.register_forward_hook(
        lambda mod, args, out: seen.append([k.dtype for k in mod.kernels(args[0])])
    )
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(2, 2, 8, 8))
    assert torch.isfinite(out).all()
    assert seen == [[torch.float32, torch.float32]]


def test_gradients_reach_all_parameters():
    model = _small(3, propagator_layers=1)
    out = model(torch.randn(2, 2, 6, 5, 4), steps=2)
    out.square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all() and p.grad.abs().max() > 0, name


# -- configuration and errors ---------------------------------------------------------------


def test_config_round_trip():
    torch.manual_seed(1)
    model = FactFormer(3, 2, dim=2, hidden_channels=12, n_layers=2, n_heads=3, head_channels=6,
                       projection_channels=10, ffn_expansion=1.5, norm_groups=3,
                       fourier_features=5, fourier_seed=7, non_linearity="silu")
    config = json.loads(json.dumps(model.config))
    assert MODELS.get("FactFormer") is FactFormer
    clone = FactFormer(**config)
    assert clone.config == model.config
    torch.testing.assert_close(clone.fourier_frequencies, model.fourier_frequencies)
    assert sum(p.numel() for p in clone.parameters()) == sum(
        p.numel() for p in model.parameters()
    )
    clone.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 9, 11)
    torch.testing.assert_close(clone(x), model(x))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dim": 4}, "dim: expected 1, 2 or 3"),
        ({"head_channels": 3}, "head_channels: expected an even number"),
        ({"norm_groups": 5}, "norm_groups: got 5, which does not divide hidden_channels=16"),
        ({"fourier_scale": -1.0}, "fourier_scale: expected a positive"),
        ({"non_linearity": "swish"}, "non_linearity: got 'swish'"),
        ({"propagator_layers": 0}, "propagator_layers: expected an integer >= 1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _small(**kwargs)


def test_bad_inputs():
    model = _small(2)
    with pytest.raises(ValueError, match=r"x: expected shape \(batch, 2, \*space\) with 2"):
        model(torch.randn(2, 2, 8))
    with pytest.raises(ValueError, match="steps: expected an integer >= 1, got 0"):
        model(torch.randn(1, 2, 8, 8), steps=0)
    with pytest.raises(ValueError, match=r"kernels\[1\]: expected shape"):
        axial_integral([torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3)], torch.ones(1, 1, 1, 3, 4))


# -- memory follows the factorisation -------------------------------------------------------


def _saved_bytes(fn) -> tuple[int, int]:
    """Total and largest bytes of the tensors autograd saves for backward while ``fn`` runs."""
    sizes: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        sizes[(t.untyped_storage().data_ptr(), t.numel())] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(sizes.values()), max(sizes.values())


def test_attention_memory_grows_linearly_with_grid_points():
    torch.manual_seed(6)
    attn = FactorizedAttention(8, dim=2, n_heads=2)
    totals = {}
    for n in (16, 32, 64):
        h = torch.randn(1, 8, n, n, requires_grad=True)
        totals[n], largest = _saved_bytes(lambda h=h: attn(h))
        # no saved tensor is anywhere near a dense (N x N) kernel
        assert largest < 4 * (n * n) ** 2 / 16
    assert 3.0 < totals[64] / totals[32] < 4.5, totals  # ~ N, not N^2 (which would be 16)
    assert 3.0 < totals[32] / totals[16] < 4.5, totals


def test_numpy_predict_round_trip():
    problem = _smoothing_problem(n=16)
    solver = _solver(epochs=1).fit(problem)
    x, _ = problem.tests["16"][0]
    batch = solver.predict(np.stack([x.numpy()] * 2))
    assert isinstance(batch, np.ndarray) and batch.shape == (2, 1, 16, 16)
