import numpy as np
import pytest

from sciml.core.grid import Box, Grid


def test_box_names_bounds_and_validation():
    box = Box(x=(0, 1), t=(0, 2))
    assert box.names == ("x", "t")
    np.testing.assert_array_equal(box.lengths, [1, 2])
    assert box["t"] == (0.0, 2.0)
    with pytest.raises(ValueError, match="lower bound must be below"):
        Box(x=(1, 0))
    with pytest.raises(ValueError, match="finite"):
        Box(x=(0, float("nan")))
    with pytest.raises(ValueError, match="pair"):
        Box(x=3)
    with pytest.raises(ValueError, match="unknown axis name.*'z'.*allowed axes are \\['x', 't'\\]"):
        box["z"]
    assert Box.from_dict(box.to_dict()) == box


def test_uniform_grid_includes_ends_and_periodic_excludes_them():
    box = Box(x=(0, 1), y=(0, 2))
    g = Grid.uniform(box, (5, 9))
    assert g.shape == (5, 9)
    np.testing.assert_allclose(g["x"], [0, 0.25, 0.5, 0.75, 1])
    assert g.spacing("y") == pytest.approx(0.25)
    p = Grid.periodic(box, 4)
    np.testing.assert_allclose(p["x"], [0, 0.25, 0.5, 0.75])
    assert p.spacing("y") == pytest.approx(0.5)
    assert p.periodic_axes == {"x": True, "y": True}


def test_chebyshev_points():
    g = Grid.chebyshev(Box(x=(-1, 1)), 5)
    np.testing.assert_allclose(g["x"], [-1, -np.sqrt(0.5), 0, np.sqrt(0.5), 1], atol=1e-15)
    with pytest.raises(ValueError, match="not equispaced"):
        g.spacing("x")


def test_mesh_points_subsample_and_round_trip():
    g = Grid.uniform(Box(x=(0, 1), y=(0, 1)), {"x": 9, "y": 5})
    X, Y = g.mesh()
    assert X.shape == (9, 5) and np.all(X[:, 0] == g["x"]) and np.all(Y[0] == g["y"])
    pts = g.points()
    assert pts.shape == (45, 2)
    np.testing.assert_array_equal(pts[1], [0, 0.25])
    s = g.subsample(2)
    assert s.shape == (5, 3)
    assert Grid.from_dict(g.to_dict()) == g
    assert g != s


def test_grid_validation_names_argument_value_and_allowed():
    box = Box(x=(0, 1), y=(0, 1))
    with pytest.raises(ValueError, match=r"n: unknown axis name\(s\) \['z'\]"):
        Grid.uniform(box, {"x": 4, "z": 4})
    with pytest.raises(ValueError, match=r"n: expected 2 values .* got 3"):
        Grid.uniform(box, (4, 4, 4))
    with pytest.raises(ValueError, match="non-finite"):
        Grid({"x": [0.0, np.nan, 1.0]})
    with pytest.raises(ValueError, match="strictly increasing"):
        Grid({"x": [0.0, 2.0, 1.0]})
    with pytest.raises(ValueError, match="1-D"):
        Grid({"x": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="kind.*allowed kinds"):
        Grid({"x": [0.0, 1.0]}, kind="hex")
    with pytest.raises(ValueError, match="at least 2 points"):
        Grid.uniform(box, 1)
