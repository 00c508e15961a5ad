"""UnitGaussianNormalizer against numpy statistics; streaming, inversion, state."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from sciml.core.grid import Box, Grid
from sciml.data.dataset import OperatorDataset
from sciml.data.hdf5 import write
from sciml.data.normalize import UnitGaussianNormalizer, fit_normalizers


@pytest.fixture
def x():
    rng = np.random.default_rng(0)
    scale = np.array([1.0, 10.0, 0.1]).reshape(1, 3, 1, 1)
    shift = np.array([0.0, -5.0, 3.0]).reshape(1, 3, 1, 1)
    return torch.from_numpy(rng.standard_normal((20, 3, 6, 5)) * scale + shift)


def test_per_channel_statistics_match_numpy(x):
    norm = UnitGaussianNormalizer().fit(x)
    a = x.numpy()
    assert norm.mean.shape == (3, 1, 1)
    np.testing.assert_allclose(norm.mean.numpy().ravel(), a.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(norm.std.numpy().ravel(), a.std(axis=(0, 2, 3)), rtol=1e-12)
    z = norm.encode(x)
    np.testing.assert_allclose(z.mean(dim=(0, 2, 3)).numpy(), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(dim=(0, 2, 3), correction=0).numpy(), 1, atol=1e-4)


def test_pointwise_statistics_match_numpy(x):
    norm = UnitGaussianNormalizer(pointwise=True).fit(x)
    assert norm.mean.shape == (3, 6, 5)
    np.testing.assert_allclose(norm.mean.numpy(), x.numpy().mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(norm.std.numpy(), x.numpy().std(axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match="pointwise statistics only apply on the grid"):
        norm.encode(x[:, :, ::2].float())


def test_streaming_equals_one_shot(x):
    for pointwise in (False, True):
        whole = UnitGaussianNormalizer(pointwise=pointwise).fit(x)
        parts = (x[a:b] for a, b in [(0, 1), (1, 8), (8, 9), (9, 20)])  # uneven, generator
        streamed = UnitGaussianNormalizer(pointwise=pointwise).fit(parts)
        torch.testing.assert_close(streamed.mean, whole.mean, rtol=1e-13, atol=1e-13)
        torch.testing.assert_close(streamed.std, whole.std, rtol=1e-13, atol=1e-13)
        assert float(streamed.count) == float(whole.count)


def test_large_offset_float32_is_stable():
    rng = np.random.default_rng(1)
    a = (1e4 + 1e-2 * rng.standard_normal((4000, 1, 8))).astype(np.float32)
    batches = (torch.from_numpy(a[i : i + 100]) for i in range(0, 4000, 100))
    norm = UnitGaussianNormalizer().fit(batches)
    want = a.astype(np.float64).std()
    np.testing.assert_allclose(float(norm.std.squeeze()), want, rtol=1e-6)


def test_decode_inverts_encode(x):
    for pointwise in (False, True):
        norm = UnitGaussianNormalizer(pointwise=pointwise).fit(x)
        torch.testing.assert_close(norm.decode(norm.encode(x)), x, rtol=1e-12, atol=1e-12)
        x32 = x.float()
        out = norm.decode(norm(x32))
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, x32, rtol=1e-5, atol=1e-5)
        one = x32[0]  # unbatched (C, *space) works too
        torch.testing.assert_close(norm.encode(one), norm.encode(x32)[0])


def test_constant_channel_uses_eps():
    x = torch.ones(4, 1, 3)
    norm = UnitGaussianNormalizer(eps=1e-3).fit(x)
    assert float(norm.std.squeeze()) == 0.0
    assert torch.all(norm.encode(x) == 0)
    torch.testing.assert_close(norm.decode(norm.encode(x + 1)), x + 1)


def test_state_dict_round_trip(x):
    norm = UnitGaussianNormalizer(pointwise=True, eps=1e-3).fit(x[:10])
    buf = io.BytesIO()
    torch.save(norm.state_dict(), buf)
    buf.seek(0)
    fresh = UnitGaussianNormalizer()
    fresh.load_state_dict(torch.load(buf, weights_only=True))
    assert fresh.pointwise is True and fresh.eps == 1e-3 and fresh.fitted
    torch.testing.assert_close(fresh.encode(x), norm.encode(x), rtol=0, atol=0)
    # statistics keep accumulating after a reload, as if fitted in one go
    fresh.partial_fit(x[10:])
    whole = UnitGaussianNormalizer(pointwise=True).fit(x)
    torch.testing.assert_close(fresh.std, whole.std, rtol=1e-12, atol=1e-12)


def test_errors(x):
    norm = UnitGaussianNormalizer()
    with pytest.raises(RuntimeError, match="not fitted"):
        norm.encode(x)
    bad = x.clone()
    bad[3, 1, 2, 2] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        norm.fit(bad)
    with pytest.raises(ValueError, match="no batches"):
        norm.fit([])
    with pytest.raises(ValueError, match=r"x for x, _ in loader"):
        norm.fit([(x, x)])
    with pytest.raises(ValueError, match="channels"):
        norm.fit([x, x[:, :2]])
    norm.fit(x)
    with pytest.raises(ValueError, match=r"expected shape \(batch, 3"):
        norm.encode(x[:, :2])
    with pytest.raises(ValueError, match="eps"):
        UnitGaussianNormalizer(eps=-1.0)


def test_fit_normalizers_uses_given_split_only(tmp_path):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((10, 1, 6, 2)).astype(np.float32)
    u = rng.standard_normal((10, 1, 6, 1)).astype(np.float32)
    u[5:] += 100.0  # the test half is very different: it must not leak into the statistics
    path = write(tmp_path / "n.h5", {"a": a, "u": u}, Grid.uniform(Box(x=(0, 1)), 6))
    train = OperatorDataset(path, "a", "u", indices=range(5))
    x_norm, y_norm = fit_normalizers(train, batch_size=2)
    np.testing.assert_allclose(
        x_norm.mean.numpy().ravel(), a[:5].astype(np.float64).mean(axis=(0, 1, 2)), rtol=1e-6
    )
    np.testing.assert_allclose(
        y_norm.std.numpy().ravel(), u[:5].astype(np.float64).std(axis=(0, 1, 2)), rtol=1e-6
    )
    # a plain torch dataset of pairs goes through a DataLoader and gives the same result
    xs, ys = train.load()
    pairs = torch.utils.data.TensorDataset(xs, ys)
    x2, y2 = fit_normalizers(pairs, batch_size=3)
    torch.testing.assert_close(x2.mean, x_norm.mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(y2.std, y_norm.std, rtol=1e-12, atol=1e-12)
