import numpy as np
import pytest

from sciml.core.grid import Box
from sciml.core.parameters import Mu, ParameterSpace


def test_mu_mapping_and_array():
    mu = Mu({"a": 1, "b": 2.5})
    assert dict(mu) == {"a": 1.0, "b": 2.5}
    np.testing.assert_array_equal(mu.to_array(), [1.0, 2.5])
    assert hash(mu) == hash(Mu({"a": 1.0, "b": 2.5}))
    with pytest.raises(ValueError, match="non-finite"):
        Mu({"a": np.nan})


def test_uniform_grid_with_log_axis():
    space = ParameterSpace({"k": (0.01, 100.0), "c": (0.0, 1.0)}, log=["k"])
    grid = space.uniform([5, 3])
    assert grid.shape == (15, 2)
    np.testing.assert_allclose(np.unique(grid[:, 0]), [0.01, 0.1, 1.0, 10.0, 100.0])
    np.testing.assert_allclose(np.unique(grid[:, 1]), [0.0, 0.5, 1.0])


def test_random_is_seeded_and_in_range():
    space = ParameterSpace(Box(a=(1, 2), b=(-1, 1)))
    x1, x2 = space.random(50, seed=3), space.random(50, seed=3)
    np.testing.assert_array_equal(x1, x2)
    assert space.contains(x1).all()
    assert not np.array_equal(x1, space.random(50, seed=4))


def test_log_uniform_draws_are_uniform_in_log():
    space = ParameterSpace({"k": (1e-3, 1e3)}, log=["k"])
    logs = np.log10(space.random(20000, seed=0)[:, 0])
    # Each decade holds ~1/6 of the draws.
    counts = np.histogram(logs, bins=6, range=(-3, 3))[0] / logs.size
    np.testing.assert_allclose(counts, 1 / 6, atol=0.01)


def test_latin_hypercube_strata():
    space = ParameterSpace({"a": (0, 1), "b": (10, 20)})
    x = space.latin_hypercube(8, seed=1)
    for j, (lo, hi) in enumerate([(0, 1), (10, 20)]):
        strata = np.floor((x[:, j] - lo) / (hi - lo) * 8).astype(int)
        assert sorted(strata.tolist()) == list(range(8))


def test_mu_and_as_array_checks():
    space = ParameterSpace({"a": (0, 1), "b": (0, 1)})
    assert space.mu([0.2, 0.3]) == Mu({"a": 0.2, "b": 0.3})
    assert space.mu(b=0.1, a=0.4).to_array().tolist() == [0.4, 0.1]
    np.testing.assert_array_equal(space.as_array([{"a": 1, "b": 0}, {"b": 1, "a": 0}]),
                                  [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="expected 2 values"):
        space.mu([1.0])
    with pytest.raises(ValueError, match="missing parameters"):
        space.mu({"a": 1.0})
    with pytest.raises(ValueError, match=r"mus: expected shape \(n, 2\)"):
        space.as_array(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="positive lower bound"):
        ParameterSpace({"a": (0, 1)}, log=["a"])
    assert ParameterSpace.from_dict(space.to_dict()) == space
