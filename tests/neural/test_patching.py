import json

import numpy as np
import pytest
import torch

from sciml.core.problem import OperatorProblem
from sciml.core.registry import MODELS
from sciml.neural import FNO, NeuralOperatorSolver
from sciml.neural.patching import (
    MGPatchedOperator,
    PatchedDataset,
    activation_bytes,
    make_patches,
    split_patches,
    stitch_patches,
    window_coordinates,
)
from sciml.train import Trainer


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def fno_config(channels, dim=2, out=1, hidden=8, modes=6):
    return {"in_channels": channels, "out_channels": out, "n_modes": [modes] * dim,
            "hidden_channels": hidden, "n_layers": 2}


def oracle_windows(x, levels, padding):
    """Numpy oracle: (batch, K.., L+1, C, W..) by subsampling and wrapped takes."""
    x = np.asarray(x)
    batch, channels, *space = x.shape
    d = len(space)
    k = 2**levels
    size = [n // k for n in space]
    width = [p + 2 * padding for p in size]
    out = np.empty((batch, *([k] * d), levels + 1, channels, *width), x.dtype)
    for patch in np.ndindex(*([k] * d)):
        for level in range(levels + 1):
            s = 2**level
            field = x[(slice(None), slice(None), *([slice(None, None, s)] * d))]
            for j in range(d):
                start = (patch[j] * size[j] + size[j] // 2) // s - width[j] // 2
                field = np.take(field, np.arange(start, start + width[j]), axis=2 + j,
                                mode="wrap")
            out[(slice(None), *patch, level)] = field
    return out


# ----------------------------------------------------------------------------- patching
@pytest.mark.parametrize(
    "shape, levels, padding",
    [((2, 3, 32), 2, 3), ((2, 2, 16, 24), 1, 2), ((1, 1, 16, 8), 2, 1), ((2, 2, 8, 8, 16), 1, 2)],
)
def test_shapes_and_exact_round_trip(shape, levels, padding):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=gen)
    batch, channels, *space = shape
    d = len(space)
    windows = make_patches(x, levels, padding)
    k = 2**levels
    assert windows.shape == (
        batch * k**d, channels * (levels + 1), *(n // k + 2 * padding for n in space)
    )
    assert torch.equal(stitch_patches(windows[:, :channels], levels, padding, batch), x)
    fine = split_patches(x, levels)
    assert torch.equal(stitch_patches(fine, levels, 0, batch), x)
    crop = (slice(None), slice(None), *([slice(padding, -padding)] * d))
    assert torch.equal(fine, windows[crop][:, :channels])


@pytest.mark.parametrize(
    "shape, levels, padding",
    [((2, 2, 16, 24), 2, 3), ((1, 2, 8, 16, 8), 1, 2), ((3, 1, 32), 3, 5), ((1, 1, 16, 16), 2, 0)],
)
def test_context_channels_match_numpy_oracle(shape, levels, padding):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    d = len(shape) - 2
    expected = oracle_windows(x.numpy(), levels, padding)
    expected = expected.reshape(-1, (levels + 1) * shape[1], *expected.shape[-d:])
    np.testing.assert_array_equal(make_patches(x, levels, padding).numpy(), expected)


def test_level_zero_is_a_rolled_crop_and_windows_cover_their_patch():
    n, levels, padding = 32, 2, 3
    k, size = 4, 8
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    # channel 0 holds the row index, channel 1 the column index of each fine point
    x = torch.as_tensor(np.stack([ii, jj])[None], dtype=torch.float64)
    windows = make_patches(x, levels, padding).numpy()
    for row, (k0, k1) in enumerate(np.ndindex(k, k)):
        rolled = np.roll(x.numpy()[0], (padding - k0 * size, padding - k1 * size), axis=(1, 2))
        w = size + 2 * padding
        np.testing.assert_array_equal(windows[row, :2], rolled[:, :w, :w])
        for level in range(1, levels + 1):
            s = 2**level
            rows = set(windows[row, 2 * level].ravel().astype(int))
            cols = set(windows[row, 2 * level + 1].ravel().astype(int))
            # every fine point of the patch on the level-l grid is inside its window...
            assert set(range(k0 * size, (k0 + 1) * size, s)) <= rows
            assert set(range(k1 * size, (k1 + 1) * size, s)) <= cols
            # ...and only level-l grid points appear
            assert all(r % s == 0 for r in rows) and all(c % s == 0 for c in cols)
    # the coarsest level sees the whole (subsampled) domain
    assert set(windows[0, 2 * levels].ravel().astype(int)) == set(range(0, n, 2**levels))


def test_clear_errors():
    x = torch.randn(1, 1, 130, 128)
    with pytest.raises(ValueError, match=r"x: spatial sizes \(130, 128\) are not all divisible "
                                         r"by 2\*\*levels = 4 \(levels=2\).*\(132, 128\).*"
                                         r"levels <= 1"):
        make_patches(x, 2, 4)
    with pytest.raises(ValueError, match="padding: expected a non-negative int"):
        make_patches(torch.randn(1, 1, 8, 8), 1, -1)
    with pytest.raises(ValueError, match="padding: expected .* 2 of them"):
        make_patches(torch.randn(1, 1, 8, 8), 1, (1, 2, 3))
    with pytest.raises(ValueError, match="levels: expected an integer >= 0"):
        make_patches(torch.randn(1, 1, 8, 8), 1.5, 1)
    with pytest.raises(ValueError, match=r"x: expected shape \(batch, channels, \*space\)"):
        make_patches(torch.randn(8, 8), 1, 1)
    with pytest.raises(ValueError, match=r"y: got 3 patches, but batch=1 .* need .* = 4"):
        stitch_patches(torch.randn(3, 1, 6, 6), 1, 1, 1)
    with pytest.raises(ValueError, match="padding: .* leaves no interior"):
        stitch_patches(torch.randn(4, 1, 6, 6), 1, 3, 1)
    with pytest.raises(ValueError, match=r"model_config\['in_channels'\]: got 3.*multiple of 2"):
        MGPatchedOperator("FNO", fno_config(3), levels=1, padding=1)
    with pytest.raises(ValueError, match="unknown model 'NoSuchModel'"):
        MGPatchedOperator("NoSuchModel", fno_config(2), levels=1)
    with pytest.raises(ValueError, match="patch_batch: expected an integer >= 1"):
        MGPatchedOperator("FNO", fno_config(2), levels=1, patch_batch=0)
    model = MGPatchedOperator("FNO", fno_config(2), levels=1, padding=1)
    with pytest.raises(ValueError, match=r"x: expected shape \(batch, 1, \*space\) with 2"):
        model(torch.randn(1, 2, 8, 8))
    with pytest.raises(ValueError, match="x: spatial sizes"):
        model(torch.randn(1, 1, 9, 8))


def test_gradient_of_patching_is_a_scatter_add():
    # d<make_patches(x), v>/dx sums v over every window entry that copies each point of x
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 2, 16, 8, dtype=torch.float64, requires_grad=True, generator=gen)
    windows = make_patches(x, 2, 3)
    v = torch.randn(windows.shape, dtype=torch.float64, generator=gen)
    (grad,) = torch.autograd.grad((windows * v).sum(), x)
    labels = torch.arange(2 * 16 * 8, dtype=torch.float64).view(1, 2, 16, 8)
    source = make_patches(labels, 2, 3).reshape(-1).long()  # which point each entry copies
    per_sample = v.reshape(2, -1)
    for b in range(2):
        want = torch.zeros(2 * 16 * 8, dtype=torch.float64).index_add_(0, source, per_sample[b])
        torch.testing.assert_close(grad[b].reshape(-1), want)


# ----------------------------------------------------------------------------- model
def hand_loop(model, x):
    """Reference: run the inner model on one window at a time and place its cropped output."""
    levels, pad = model.levels, model.padding
    batch, _, *space = x.shape
    d = len(space)
    k = 2**levels
    size = [n // k for n in space]
    windows = make_patches(x, levels, pad)
    out = torch.zeros(batch, model.out_channels, *space, dtype=x.dtype)
    row = 0
    for b in range(batch):
        for patch in np.ndindex(*([k] * d)):
            y = model.model(windows[row : row + 1])[0]
            crop = (slice(None), *(slice(p, p + s) for p, s in zip(pad, size)))
            place = (b, slice(None), *(slice(q * s, (q + 1) * s) for q, s in zip(patch, size)))
            out[place] = y[crop]
            row += 1
    return out


@pytest.mark.parametrize("patch_batch, checkpoint", [(None, False), (3, False), (1, True)])
def test_model_equals_hand_written_patch_loop(patch_batch, checkpoint):
    torch.manual_seed(0)
    model = MGPatchedOperator("FNO", fno_config(4, out=2), levels=1, padding=2,
                              patch_batch=patch_batch, checkpoint=checkpoint)
    x = torch.randn(2, 2, 16, 12)
    with torch.no_grad():
        expected = hand_loop(model, x)
    got = model(x)
    assert got.shape == (2, 2, 16, 12) and model.in_channels == 2 and model.out_channels == 2
    torch.testing.assert_close(got.detach(), expected, rtol=1e-5, atol=1e-5)


def test_zero_levels_without_padding_is_the_inner_model():
    torch.manual_seed(0)
    model = MGPatchedOperator("FNO", fno_config(1), levels=0, padding=0)
    x = torch.randn(3, 1, 12, 10)
    torch.testing.assert_close(model(x), model.model(x), rtol=0, atol=0)


def test_three_dimensional_model():
    torch.manual_seed(0)
    model = MGPatchedOperator("FNO", fno_config(2, dim=3, hidden=4, modes=4), levels=1,
                              padding=1, patch_batch=5)
    x = torch.randn(1, 1, 8, 8, 12)
    with torch.no_grad():
        got = model(x)
        expected = hand_loop(model, x)
    assert got.shape == (1, 1, 8, 8, 12)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_gradients_flow_and_checkpointing_does_not_change_them():
    torch.manual_seed(0)
    plain = MGPatchedOperator("FNO", fno_config(3), levels=2, padding=2)
    ckpt = MGPatchedOperator(**{**plain.config, "patch_batch": 4, "checkpoint": True})
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 1, 16, 16)
    grads = []
    for model in (plain, ckpt):
        xi = x.clone().requires_grad_(True)
        model(xi).square().mean().backward()
        grads.append((xi.grad, {n: p.grad for n, p in model.named_parameters()}))
    assert grads[0][0].abs().sum() > 0
    torch.testing.assert_close(grads[1][0], grads[0][0], rtol=1e-4, atol=1e-7)
    for name, g in grads[0][1].items():
        assert g is not None and torch.isfinite(g).all(), name
        torch.testing.assert_close(grads[1][1][name], g, rtol=1e-4, atol=1e-6)


def test_config_is_json_and_rebuilds_the_model():
    torch.manual_seed(0)
    model = MGPatchedOperator("FNO", fno_config(2), levels=1, padding=[1, 2], patch_batch=2)
    config = json.loads(json.dumps(model.config))
    assert MODELS.get("MGPatchedOperator") is MGPatchedOperator
    rebuilt = MGPatchedOperator(**config)
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(1, 1, 8, 8)
    torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)
    assert rebuilt.config == model.config


def test_save_and_load_through_the_solver(tmp_path):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(12, 1, 16, 16, generator=gen)
    y = 3.0 * (x + x.roll(1, -1)) + 1.0
    problem = OperatorProblem(torch.utils.data.TensorDataset(x[:8], y[:8]),
                              {"16": torch.utils.data.TensorDataset(x[8:], y[8:])}, name="mg")
    torch.manual_seed(0)
    model = MGPatchedOperator("FNO", fno_config(2), levels=1, padding=2)
    trainer = Trainer(epochs=2, batch_size=4, lr=1e-2, progress=False, device="cpu")
    solver = NeuralOperatorSolver(model, trainer).fit(problem)
    solver.save(tmp_path / "mg.pt")
    loaded = NeuralOperatorSolver.load(tmp_path / "mg.pt", device="cpu")
    assert isinstance(loaded.model_.model, MGPatchedOperator)
    assert loaded.model_.model.config == solver.model_.model.config
    with torch.no_grad():
        torch.testing.assert_close(loaded.model_(x[8:]), solver.model_(x[8:]), rtol=0, atol=0)
    # predict finds the number of space axes from the model's `dim`
    torch.testing.assert_close(loaded.predict(x[8:]), solver.model_(x[8:]).detach())
    assert loaded.predict(x[8]).shape == (1, 16, 16)


# ----------------------------------------------------------------------------- training data
def test_patched_dataset_items_and_training_on_patches():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(4, 1, 16, 16, generator=gen)
    y = torch.cat([x + x.roll(1, -2), 2 * x], dim=1)
    base = torch.utils.data.TensorDataset(x, y)
    torch.manual_seed(0)
    model = MGPatchedOperator("FNO", fno_config(3, out=2), levels=2, padding=2, patch_batch=8)
    data = PatchedDataset(base, levels=2, padding=2)
    assert len(data) == 4 * 16
    windows, targets = model.patch_inputs(x), model.patch_targets(y)
    for i in (0, 5, 17, 63):
        xi, yi = data[i]
        assert torch.equal(xi, windows[i]) and torch.equal(yi, targets[i])
    # the plain Trainer fits the patch model, whose weights the full-field operator shares
    before = Trainer(device="cpu").evaluate(model, base)["rel_l2"]
    trainer = Trainer(epochs=15, batch_size=16, lr=1e-2, progress=False, device="cpu")
    history = trainer.fit(model.patch_model, data)
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    after = Trainer(device="cpu").evaluate(model, base)["rel_l2"]
    assert after < 0.5 * before
    with pytest.raises(ValueError, match="not all divisible"):
        PatchedDataset(torch.utils.data.TensorDataset(x[:, :, :10], y[:, :, :10]), 2, 1)


# ----------------------------------------------------------------------------- memory
def test_activation_bytes_counts_saved_tensors_once():
    w = torch.nn.Parameter(torch.randn(64))
    x = torch.randn(64, requires_grad=True)
    module = torch.nn.Module()
    module.w = w
    # sin saves x; x * w saves x (again, counted once) and w (a parameter, excluded)
    assert activation_bytes(lambda t: torch.sin(t) + t * w, x, exclude=module) == 64 * 4
    assert activation_bytes(lambda t: torch.sin(t) + t * w, x) == 2 * 64 * 4


@pytest.mark.parametrize("levels, padding, bound", [(1, 4, 1 / 3), (2, 8, 0.16)])
def test_patched_forward_holds_at_most_a_third_of_the_activations(levels, padding, bound):
    torch.manual_seed(0)
    config = {"out_channels": 1, "n_modes": [16, 16], "hidden_channels": 32, "n_layers": 4}
    full = FNO(1, **config)
    x = torch.randn(1, 1, 128, 128)
    full_bytes = activation_bytes(full, x, exclude=full)
    model = MGPatchedOperator("FNO", {"in_channels": levels + 1, **config}, levels=levels,
                              padding=padding, patch_batch=1, checkpoint=True)
    outer = activation_bytes(model, x, exclude=model)  # patches kept for the recomputation
    chunk = activation_bytes(model.patch_model, model.patch_inputs(x)[:1], exclude=model)
    assert chunk > outer > 0
    assert (outer + chunk) / full_bytes <= bound


# ----------------------------------------------------------------------------- coordinates
def coordinate_field(space):
    """(1, 2 d, *space): sin and cos of 2 pi i_j / N_j for every axis j."""
    axes = torch.meshgrid(*(torch.arange(n) * (2 * torch.pi / n) for n in space),
                          indexing="ij")
    return torch.stack([f(a) for a in axes for f in (torch.sin, torch.cos)]).unsqueeze(0)


@pytest.mark.parametrize("space, levels, padding", [((16, 24), 2, 3), ((32,), 3, 5),
                                                    ((8, 16, 8), 1, 2)])
def test_window_coordinates_are_the_fine_windows_of_the_global_coordinates(space, levels,
                                                                            padding):
    expected = make_patches(coordinate_field(space), levels, padding)[:, : 2 * len(space)]
    got = window_coordinates(space, levels, padding)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    x = torch.randn(3, 2, *space)
    windows = make_patches(x, levels, padding, coordinates=True)
    assert torch.equal(windows[:, : 2 * (levels + 1)], make_patches(x, levels, padding))
    assert torch.equal(windows[:, 2 * (levels + 1):], got.repeat(3, *([1] * (len(space) + 1))))
    with pytest.raises(ValueError, match="True or False"):
        make_patches(x, levels, padding, coordinates=1)
    with pytest.raises(ValueError, match="not all divisible"):
        window_coordinates((10, 16), 2, 1)


def test_model_with_coordinates_equals_hand_loop_and_rebuilds():
    torch.manual_seed(0)
    model = MGPatchedOperator("FNO", fno_config(2 * 2 + 4, out=1), levels=1, padding=2,
                              coordinates=True, patch_batch=3)
    assert model.in_channels == 2 and model.config["coordinates"] is True
    x = torch.randn(2, 2, 16, 12)
    windows = model.patch_inputs(x)
    assert windows.shape == (8, 8, 12, 10)
    with torch.no_grad():
        expected = stitch_patches(model.model(windows), 1, 2, 2)
        torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
        rebuilt = MGPatchedOperator(**json.loads(json.dumps(model.config)))
        rebuilt.load_state_dict(model.state_dict())
        torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)
    data = PatchedDataset(torch.utils.data.TensorDataset(x, x[:, :1]), 1, 2, coordinates=True)
    assert torch.equal(data[5][0], windows[5])
    with pytest.raises(ValueError, match=r"4 plus a positive multiple of 2"):
        MGPatchedOperator("FNO", fno_config(5), levels=1, padding=2, coordinates=True)
    with pytest.raises(ValueError, match="positive multiple of 2"):
        MGPatchedOperator("FNO", fno_config(5), levels=1, padding=2)


def test_coordinates_let_patches_learn_a_position_dependent_operator():
    # y = x + f with a fixed forcing f whose phase differs between patches by pi: a patch
    # without coordinates cannot tell which sign of f applies to it
    gen = torch.Generator().manual_seed(0)
    n = 16
    x = torch.randn(8, 1, n, n, generator=gen).cumsum(-1).cumsum(-2) / n
    i = torch.arange(n) * (2 * torch.pi / n)
    y = x + 2.0 * torch.sin(i[:, None] + i[None, :])
    errors = {}
    for coordinates in (False, True):
        torch.manual_seed(0)
        channels = 2 + (4 if coordinates else 0)
        model = MGPatchedOperator("FNO", fno_config(channels, hidden=12), levels=1, padding=2,
                                  coordinates=coordinates)
        data = PatchedDataset(torch.utils.data.TensorDataset(x, y), 1, 2,
                              coordinates=coordinates)
        Trainer(epochs=40, batch_size=8, lr=1e-2, progress=False, device="cpu",
                seed=0).fit(model.patch_model, data)
        errors[coordinates] = Trainer(device="cpu").evaluate(
            model, torch.utils.data.TensorDataset(x, y))["rel_l2"]
    assert errors[True] < 0.1 and errors[False] > 3 * errors[True], errors
