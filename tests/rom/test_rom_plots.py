import numpy as np

from sciml.plot.rom import error_decay, error_map, magic_points, singular_values
from sciml.reference.fem import unit_square_mesh


def test_plots_save_pngs(tmp_path):
    fig = error_decay({"error": [1, 1e-3, 1e-7], "bound": [3, 2e-3, 0.0]}, path=tmp_path / "a.png")
    assert len(fig.axes[0].lines) == 2
    singular_values(np.logspace(0, -12, 20), path=tmp_path / "b.png")
    mesh = unit_square_mesh(4)
    magic_points(mesh.points, np.array([3, 7, 12]), triangles=mesh.triangles,
                 values=mesh.points[:, 0], path=tmp_path / "c.png")
    magic_points(np.linspace(0, 1, 20), np.array([2, 9]), values=np.linspace(0, 1, 20),
                 path=tmp_path / "d.png")
    rng = np.random.default_rng(0)
    error_map(rng.random((30, 2)), 10 ** rng.uniform(-9, -3, 30), selected=rng.random((3, 2)),
              path=tmp_path / "e.png")
    error_map(rng.random((30, 1)), 10 ** rng.uniform(-9, -3, 30), path=tmp_path / "f.png")
    for name in "abcdef":
        assert (tmp_path / f"{name}.png").stat().st_size > 5000
