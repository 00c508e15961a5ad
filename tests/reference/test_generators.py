"""Registered generators: layout, attributes, per-sample seeding, interrupt and resume."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from sciml.core.registry import GENERATORS
from sciml.data import generate
from sciml.data import open as open_data
from sciml.data.hdf5 import Writer
from sciml.reference.grf import nested_periodic_grf, sample_generator
from sciml.reference.navier_stokes import fno_forcing, solve_vorticity

# ``sciml.data.generate`` is also the name of the function re-exported by ``sciml.data``
gen_module = importlib.import_module("sciml.data.generate")


SMALL = {
    "grf": (16, {}, "u", (1, 16, 16, 1)),
    "advection": (32, {"n_times": 5}, "u", (5, 32, 1)),
    "burgers": (32, {"n_times": 3, "t_end": 0.1}, "u", (3, 32, 1)),
    "diffusion_reaction": (32, {"n_times": 3, "t_end": 0.1}, "u", (3, 32, 1)),
    "navier_stokes": (16, {"t_end": 0.2, "dt_out": 0.1}, "vorticity", (3, 16, 16, 1)),
    "kolmogorov": (16, {"t_end": 0.2, "dt_out": 0.1}, "vorticity", (3, 16, 16, 1)),
}


def test_every_benchmark_generator_is_registered():
    assert set(SMALL) | {"darcy"} <= set(GENERATORS.names())


@pytest.mark.parametrize("name", sorted(SMALL))
def test_generator_writes_the_native_layout(name, tmp_path):
    resolution, options, field, shape = SMALL[name]
    if name != "grf":  # the GRF is drawn with numpy and takes no device
        options = {**options, "device": "cpu"}
    path = generate(name, tmp_path / f"{name}.h5", n=3, resolution=resolution, seed=1,
                    progress=False, **options)
    data = open_data(path)
    values = data.field(field)[:]
    assert values.shape == (3, *shape) and values.dtype == np.float32
    assert np.all(np.isfinite(values)) and values.std() > 0
    with h5py.File(path, "r") as f:
        assert f.attrs["pde"] == name
        params = json.loads(f.attrs["params"])
        assert "equation" in params and params["seed"] == 1
        if shape[0] > 1:
            t = f["grid/t"][()]
            assert t.shape == (shape[0],) and t[0] == 0.0
    # no partial file is left once the file is complete
    assert not Writer.partial_path(path).exists()


def test_sample_i_depends_only_on_seed_and_i(tmp_path):
    opts = {"t_end": 0.2, "dt_out": 0.1, "device": "cpu", "progress": False}
    a = generate("navier_stokes", tmp_path / "a.h5", n=4, resolution=16, seed=3,
                 batch_size=4, **opts)
    b = generate("navier_stokes", tmp_path / "b.h5", n=2, resolution=16, seed=3,
                 batch_size=1, **opts)
    va = open_data(a).field("vorticity")[:]
    vb = open_data(b).field("vorticity")[:]
    np.testing.assert_array_equal(va[:2], vb)
    c = generate("navier_stokes", tmp_path / "c.h5", n=2, resolution=16, seed=4, **opts)
    assert not np.allclose(open_data(c).field("vorticity")[:, 0], va[:2, 0])


def test_navier_stokes_file_matches_a_direct_solve(tmp_path):
    path = generate("navier_stokes", tmp_path / "ns.h5", n=2, resolution=16, seed=0,
                    t_end=0.3, dt_out=0.1, device="cpu", progress=False, dtype="float64")
    stored = open_data(path).field("vorticity")[:][..., 0]
    w0 = nested_periodic_grf([sample_generator(0, i) for i in range(2)], 16, 2.5, 7.0,
                             7.0**1.5)
    direct = solve_vorticity(w0, np.linspace(0, 0.3, 4), 1e-3, forcing=fno_forcing(16),
                             device="cpu").numpy()
    np.testing.assert_allclose(stored, direct, rtol=0, atol=1e-13)


def test_interrupted_generation_resumes_without_redoing_samples(tmp_path, monkeypatch):
    opts = {"t_end": 0.2, "dt_out": 0.1, "device": "cpu", "progress": False,
            "batch_size": 2}
    reference = generate("navier_stokes", tmp_path / "ref.h5", n=7, resolution=16, seed=5,
                         **opts)

    real_solve = gen_module.solve_vorticity
    solved = []

    def counting_solve(w0, *args, **kwargs):
        solved.append(len(w0))
        if len(solved) == 3:
            raise KeyboardInterrupt  # the user presses Ctrl-C during the third batch
        return real_solve(w0, *args, **kwargs)

    monkeypatch.setattr(gen_module, "solve_vorticity", counting_solve)
    path = tmp_path / "ns.h5"
    with pytest.raises(KeyboardInterrupt):
        generate("navier_stokes", path, n=7, resolution=16, seed=5, **opts)
    assert not path.exists() and Writer.partial_path(path).exists()
    assert solved == [2, 2, 2]

    solved.clear()
    generate("navier_stokes", path, n=7, resolution=16, seed=5, **opts)
    assert solved == [2, 1]  # only samples 4..6 were computed on the second run
    assert not Writer.partial_path(path).exists()
    np.testing.assert_array_equal(open_data(path).field("vorticity")[:],
                                  open_data(reference).field("vorticity")[:])


def test_resume_refuses_a_partial_file_made_with_other_options(tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gen_module, "solve_burgers", interrupt)
    path = tmp_path / "b.h5"
    with pytest.raises(KeyboardInterrupt):
        generate("burgers", path, n=2, resolution=16, n_times=3, t_end=0.1, progress=False)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="params"):
        generate("burgers", path, n=2, resolution=16, n_times=3, t_end=0.1, nu=0.2,
                 progress=False)


def test_generator_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match="t_end"):
        generate("navier_stokes", tmp_path / "x.h5", n=1, resolution=16, t_end=0.25,
                 dt_out=0.1, progress=False)
    with pytest.raises(ValueError, match="initial"):
        generate("burgers", tmp_path / "x.h5", n=1, resolution=16, initial="box",
                 progress=False)
    with pytest.raises(ValueError, match="boundary"):
        generate("grf", tmp_path / "x.h5", n=1, resolution=16, boundary="robin",
                 progress=False)
    with pytest.raises(ValueError, match="dtype"):
        generate("advection", tmp_path / "x.h5", n=1, resolution=16, dtype="int8",
                 progress=False)


RECIPES = sorted((Path(__file__).parents[2] / "datasets").glob("*.toml"))


@pytest.mark.parametrize("recipe", RECIPES, ids=[p.stem for p in RECIPES])
def test_dataset_recipes_call_their_generator_with_valid_options(recipe):
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    spec = tomllib.loads(recipe.read_text())
    fn = GENERATORS.get(spec["generator"])
    # binding checks every option name against the generator's signature
    inspect.signature(fn).bind("out.h5", **spec["generate"])
    split = spec.get("split", {})
    assert split.get("n_train", 0) + split.get("n_test", 0) <= spec["generate"]["n"]
