"""Darcy problem family: generated pairs satisfy the scheme, are seeded, and look right."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sciml.problems.darcy import darcy_coefficient, darcy_grid, generate_darcy
from sciml.reference.grf import gaussian_random_field


def flux_residual(a, u, f=1.0):
    """-div(a grad u) - f at interior nodes, written as flux differences (independent oracle)."""
    n = a.shape[0]
    h = 1.0 / (n - 1)
    ax = (a[1:, :] + a[:-1, :]) / 2
    ay = (a[:, 1:] + a[:, :-1]) / 2
    flux_x = ax * np.diff(u, axis=0) / h  # (n-1, n)
    flux_y = ay * np.diff(u, axis=1) / h  # (n, n-1)
    div = np.diff(flux_x, axis=0)[:, 1:-1] / h + np.diff(flux_y, axis=1)[1:-1, :] / h
    return -div - f


@pytest.fixture(scope="module")
def data():
    return generate_darcy(6, 24, seed=11, progress=False)


def test_shapes_and_dtypes(data):
    assert set(data) == {"coefficient", "solution"}
    for value in data.values():
        assert value.shape == (6, 24, 24)
        assert value.dtype == np.float64
    small = generate_darcy(2, 9, seed=0, progress=False, dtype="float32")
    assert small["coefficient"].dtype == small["solution"].dtype == np.float32
    np.testing.assert_allclose(
        small["solution"],
        generate_darcy(2, 9, seed=0, progress=False)["solution"],
        rtol=1e-6,
    )


def test_same_seed_gives_bitwise_identical_arrays(data):
    again = generate_darcy(6, 24, seed=11, progress=False)
    for key in data:
        assert np.array_equal(data[key], again[key])
    other = generate_darcy(6, 24, seed=12, progress=False)
    assert not np.array_equal(data["coefficient"], other["coefficient"])
    prefix = generate_darcy(2, 24, seed=11, progress=False)
    assert np.array_equal(prefix["solution"], data["solution"][:2])


def test_coefficient_is_the_thresholded_random_field(data):
    fields = gaussian_random_field(6, (24, 24), alpha=2.0, tau=3.0, rng=11)
    assert np.array_equal(data["coefficient"], np.where(fields >= 0, 12.0, 3.0))
    values = np.unique(data["coefficient"])
    assert set(values.tolist()) == {3.0, 12.0}
    # Zero-mean symmetric field: both phases cover a sizeable part of the square on average.
    assert 0.2 < (data["coefficient"] == 12.0).mean() < 0.8


def test_solution_vanishes_on_the_boundary_and_is_positive_inside(data):
    u = data["solution"]
    assert np.all(u[:, 0, :] == 0) and np.all(u[:, -1, :] == 0)
    assert np.all(u[:, :, 0] == 0) and np.all(u[:, :, -1] == 0)
    assert np.all(u[:, 1:-1, 1:-1] > 0)


def test_discrete_residual_is_at_roundoff(data):
    for a, u in zip(data["coefficient"], data["solution"]):
        residual = flux_residual(a, u)
        assert np.abs(residual).max() < 1e-9


def test_twenty_samples_at_32_are_fast():
    start = time.perf_counter()
    out = generate_darcy(20, 32, seed=0, progress=False)
    assert time.perf_counter() - start < 3.0
    assert out["solution"].shape == (20, 32, 32)


def test_progress_bar_can_be_shown(capsys):
    generate_darcy(2, 5, seed=0, progress=True)
    assert "darcy" in capsys.readouterr().err


def test_darcy_coefficient():
    field = np.array([[-1.0, 0.0], [0.5, -1e-12]])
    assert np.array_equal(darcy_coefficient(field), [[3.0, 12.0], [12.0, 3.0]])
    assert np.array_equal(
        darcy_coefficient(field, high=2.0, low=1.0, threshold=0.25), [[1.0, 1.0], [2.0, 1.0]]
    )
    with pytest.raises(ValueError, match="field"):
        darcy_coefficient(np.array([np.nan]))
    with pytest.raises(ValueError, match="low"):
        darcy_coefficient(field, low=0.0)
    with pytest.raises(ValueError, match="high"):
        darcy_coefficient(field, high=-1.0)
    with pytest.raises(ValueError, match="threshold"):
        darcy_coefficient(field, threshold=np.nan)


def test_darcy_grid():
    grid = darcy_grid(5)
    assert grid.names == ("x", "y")
    np.testing.assert_array_equal(grid["x"], np.arange(5) / 4)
    np.testing.assert_array_equal(grid["y"], np.arange(5) / 4)
    with pytest.raises(ValueError, match="resolution"):
        darcy_grid(2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"resolution": 2}, "resolution"),
        ({"resolution": 8.0}, "resolution"),
        ({"seed": -1}, "rng"),
        ({"alpha": 0.0}, "alpha"),
        ({"tau": -3.0}, "tau"),
        ({"dtype": "int32"}, "dtype"),
        ({"dtype": "nonsense"}, "dtype"),
        ({"dtype": None}, "dtype"),
        ({"averaging": "geometric"}, "averaging"),
        ({"low": 0.0}, "low"),
        ({"forcing": np.inf}, "forcing"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    args = {"n_samples": 1, "resolution": 5, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=match):
        generate_darcy(**args)
