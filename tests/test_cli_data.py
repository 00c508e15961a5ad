"""The data inspection and plotting commands: sciml data info, sciml plot, --param."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import sciml
import sciml.plot
from sciml.cli import main, parse_param
from sciml.core.grid import Box, Grid

T = np.linspace(0.0, 2.0, 4)


@pytest.fixture
def file2d(tmp_path):
    grid = Grid.periodic(Box(x=(0, 1), y=(0, 2)), (12, 10))
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4, 12, 10, 2)).astype(np.float32)
    a = rng.standard_normal((3, 1, 12, 10, 1))
    path = tmp_path / "ns.h5"
    sciml.data.write(path, {"vorticity": w, "forcing": a}, grid,
                     attrs={"pde": "navier_stokes", "params": {"nu": 1e-3}},
                     params={"seed": np.arange(3)}, times=T)
    return path, w


@pytest.fixture
def file1d(tmp_path):
    grid = Grid.periodic(Box(x=(0, 1)), 16)
    u = np.random.default_rng(1).standard_normal((2, 4, 16, 1))
    path = tmp_path / "burgers.h5"
    sciml.data.write(path, {"u": u}, grid, attrs={"pde": "burgers"}, times=T)
    return path, u


def test_data_info_prints_layout_fields_grid_time_params(file2d, capsys):
    path, _ = file2d
    assert main(["data", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "layout      sciml" in out and "samples     3" in out
    assert "vorticity  (3, 4, 12, 10, 2)  float32" in out
    assert "forcing    (3, 1, 12, 10, 1)  float64" in out
    assert "x         12 points in [0, 0.916667] (periodic)" in out
    assert "y         10 points in [0, 1.8] (periodic)" in out
    assert "time        4 steps in [0, 2]" in out
    assert "seed  (3,)  int64" in out
    assert '{"nu": 0.001}' in out and "navier_stokes" in out


def test_data_info_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["data", "info", str(tmp_path / "none.h5")]) == 2
    assert "sciml: error:" in capsys.readouterr().err


def _capture(monkeypatch, name):
    calls = []
    original = getattr(sciml.plot, name)

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(sciml.plot, name, spy)
    return calls


def test_plot_2d_draws_the_requested_time_and_channel(file2d, tmp_path, monkeypatch, capsys):
    path, w = file2d
    calls = _capture(monkeypatch, "field")
    out = tmp_path / "w.png"
    code = main(["plot", str(path), "--field", "vorticity", "--sample", "2", "--time", "1",
                 "--channel", "1", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    (args, kwargs), = calls
    np.testing.assert_array_equal(args[0], w[2, 1, :, :, 1])
    assert kwargs["title"] == "vorticity, sample 2, channel 1, t = 0.6667"
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size[0] > 400
    # default time: the last step
    calls.clear()
    assert main(["plot", str(path), "--field", "vorticity", "-o", str(out)]) == 0
    np.testing.assert_array_equal(calls[0][0][0], w[0, -1, :, :, 0])


def test_plot_1d_series_is_a_spacetime_image(file1d, tmp_path, monkeypatch):
    path, u = file1d
    calls = _capture(monkeypatch, "spacetime")
    assert main(["plot", str(path), "--field", "u", "--sample", "1", "-o",
                 str(tmp_path / "u.png")]) == 0
    (args, _), = calls
    np.testing.assert_array_equal(args[0], u[1, :, :, 0])
    np.testing.assert_array_equal(args[2], T)
    assert (tmp_path / "u.png").stat().st_size > 5_000


def test_plot_animate_writes_every_time_step(file2d, file1d, tmp_path, capsys):
    for path, name in ((file2d[0], "vorticity"), (file1d[0], "u")):
        gif = tmp_path / f"{name}.gif"
        assert main(["plot", str(path), "--field", name, "--animate", str(gif),
                     "--fps", "4"]) == 0
        assert f"wrote {gif}" in capsys.readouterr().out
        with Image.open(gif) as im:
            assert im.format == "GIF" and im.n_frames == 4


def test_plot_errors(file2d, tmp_path, capsys):
    path, _ = file2d
    base = ["plot", str(path)]
    assert main([*base, "--field", "vorticity"]) == 2
    assert "give -o FILE.png, --animate FILE.gif" in capsys.readouterr().err
    assert main([*base, "--field", "pressure", "-o", str(tmp_path / "x.png")]) == 2
    assert "field: got 'pressure'" in capsys.readouterr().err
    assert main([*base, "--field", "vorticity", "--sample", "3", "-o", "x.png"]) == 2
    assert "--sample: got 3; the file has 3 samples" in capsys.readouterr().err
    assert main([*base, "--field", "vorticity", "--time", "9", "-o", "x.png"]) == 2
    assert "--time: got 9" in capsys.readouterr().err
    assert main([*base, "--field", "forcing", "--animate", str(tmp_path / "f.gif")]) == 2
    assert "single time step" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [("alpha=2", ("alpha", 2)), ("tau=3.5", ("tau", 3.5)), ("nu=1e-3", ("nu", 1e-3)),
     ("flag=True", ("flag", True)), ("flag=false", ("flag", False)),
     ("scheme=imex", ("scheme", "imex")), ("name= a b ", ("name", "a b"))],
)
def test_parse_param_types(text, expected):
    key, value = parse_param(text)
    assert (key, value) == expected
    assert type(value) is type(expected[1])


def test_parse_param_rejects_malformed():
    for bad in ("alpha", "=3", "1x=2"):
        with pytest.raises(ValueError, match="expected KEY=VALUE"):
            parse_param(bad)


def test_generate_passes_params_to_the_generator(tmp_path, capsys):
    path = tmp_path / "d.h5"
    args = ["data", "generate", "darcy", "--n", "2", "--resolution", "9", "-o", str(path),
            "--no-progress"]
    assert main([*args, "--param", "alpha=2.5", "--param", "tau=4"]) == 0
    with sciml.data.open(path) as ds:
        assert ds.attrs["params"]["alpha"] == 2.5
        assert ds.attrs["params"]["tau"] == 4
    assert main([*args, "--param", "beta=1"]) == 2
    err = capsys.readouterr().err
    assert "generator 'darcy' has no option 'beta'" in err and "'alpha'" in err
    assert main([*args, "--param", "seed=3"]) == 2
    assert "use --seed instead" in capsys.readouterr().err


def test_generator_names_match_the_registry():
    from sciml.cli import GENERATOR_NAMES
    from sciml.core.registry import GENERATORS
    from sciml.data import generate as _  # noqa: F401  (registers the generators)

    assert sorted(GENERATOR_NAMES) == sorted(GENERATORS.names())


def test_cli_help_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom sciml.cli import _parser\n_parser()\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
