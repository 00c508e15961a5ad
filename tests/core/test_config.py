"""Configuration files: validation errors, overrides, TOML round trips (sciml.config)."""

from __future__ import annotations

import inspect
import math
import re
import sys

import pytest

from sciml.config import (
    TRAINER_RESERVED,
    Config,
    ConfigError,
    apply_overrides,
    build_model,
    build_problem,
    build_trainer,
    load_config,
    parse_config,
    parse_override,
    to_toml,
)
from sciml.train.trainer import SCHEDULERS, Trainer

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BASE = {
    "seed": 3,
    "data": {"path": "d.h5", "inputs": "coefficient", "outputs": ["solution"], "n_train": 8,
             "n_test": 2, "resolution": 9, "test_resolutions": [9, 17],
             "generate": {"name": "darcy", "n": 10, "resolution": 17, "alpha": 2.5}},
    "model": {"name": "FNO", "n_modes": [4, 4], "hidden_channels": 8},
    "trainer": {"epochs": 2, "lr": 1e-3, "scheduler": "step",
                "scheduler_kwargs": {"step_size": 1, "gamma": 0.5}},
    "problem": {"name": "helmholtz_2d", "a1": 1.0},
    "solver": {"name": "PIGSolver", "n_gaussians": 16, "training": {"adam_steps": 5}},
    "output": {"dir": "run"},
}


def errors(*overrides: str, raw=BASE) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(apply_overrides(raw, overrides))
    return str(info.value)


def test_valid_config_becomes_dataclasses():
    c = parse_config(BASE)
    assert c.seed == 3
    assert c.data.inputs == ("coefficient",) and c.data.outputs == ("solution",)
    assert c.data.test_resolutions == (9, 17) and c.data.kind == "operator"
    assert c.data.generate.params == {"alpha": 2.5} and c.data.generate.seed == 0
    assert c.model.name == "FNO" and c.model.options == {"n_modes": [4, 4], "hidden_channels": 8}
    assert c.trainer.kind == "supervised" and c.trainer.options["lr"] == 1e-3
    assert c.solver.options["training"] == {"adam_steps": 5}
    assert c.output.dir == "run"
    empty = parse_config({})
    assert empty == Config() and empty.data is None and empty.output.dir == "sciml-run"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("optput.dir=x", "optput: unknown key; did you mean 'output'?"),
        ("trainer.lrr=1", "trainer.lrr: unknown key; did you mean 'lr'?"),
        ("model.n_mode=[3]", "model.n_mode: unknown key; did you mean 'n_modes'?"),
        ("data.n_tset=2", "data.n_tset: unknown key; did you mean 'n_test'?"),
        ("data.generate.nme=3", "data.generate.nme: unknown key; did you mean 'name'?"),
        ("solver.training.adam_step=3",
         "solver.training.adam_step: unknown key; did you mean 'adam_steps'?"),
        ("output.zzz=1", "output.zzz: unknown key (allowed keys are ['dir'])"),
    ],
)
def test_unknown_keys_name_the_path_and_suggest(override, expected):
    assert expected in errors(override)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("trainer.lr=fast", "trainer.lr: expected a number, got 'fast' (str)"),
        ("trainer.epochs=2.5", "trainer.epochs: expected an integer, got 2.5 (float)"),
        ("trainer.progress=1", "trainer.progress: expected true or false, got 1 (int)"),
        ("trainer.loss=3", "trainer.loss: expected a string"),
        ("model.n_modes=four", "model.n_modes: expected an integer or an array of an integer"),
        ("data.n_train=0", "data.n_train: expected an integer >= 1, got 0 (int)"),
        ("data.inputs=[]", "data.inputs: expected a field name or an array of field names"),
        ("data.resolution=[9, 0]", "data.resolution: expected a positive integer or an array"),
        ("problem.a1=one", "problem.a1: expected a number, got 'one' (str)"),
        ("solver.training.lr=fast", "solver.training.lr: expected a number"),
        ("seed=-1", "seed: expected an integer >= 0, got -1 (int)"),
        ("data=3", "data: expected a table, got 3 (int)"),
    ],
)
def test_wrong_types_name_the_path_value_and_type(override, expected):
    assert expected in errors(override)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("data.kind=windows",
         "data.kind: got 'windows'; allowed values are ['operator', 'window']"),
        ("model.name=FN0", "model.name: got 'FN0'; allowed values are ["),
        ("trainer.kind=supervise", "trainer.kind: got 'supervise'; allowed values are "
                                   "['supervised', 'autoregressive']"),
        ("solver.name=GPSolver", "solver.name: got 'GPSolver'; allowed values are ["),
        ("problem.name=helmholtz", "did you mean 'helmholtz_2d'?"),
        ("data.generate.name=darcey", "data.generate.name: got 'darcey'"),
        ("problem.name=sciml.nowhere:f", "problem.name: got 'sciml.nowhere:f'; cannot import"),
        ("problem.name=sciml.problems.poisson:nothing",
         "sciml.problems.poisson has no callable 'nothing'"),
    ],
)
def test_bad_choices_list_the_allowed_values(override, expected):
    assert expected in errors(override)


def test_model_name_error_lists_every_registered_model():
    from sciml.core.registry import MODELS

    assert str(MODELS.names()) in errors("model.name=FN0")


def test_structural_errors():
    assert "data.k_in: only used with data.kind = 'window'" in errors("data.k_in=2")
    assert "data.resolution and data.stride: got both" in errors("data.stride=2")
    no_inputs = {**BASE, "data": {k: v for k, v in BASE["data"].items() if k != "inputs"}}
    assert "data.inputs: missing" in errors(raw=no_inputs)
    no_modes = {**BASE, "model": {"name": "FNO"}}
    assert "model.n_modes: missing; FNO needs it" in errors(raw=no_modes)
    assert "model.name: missing; allowed values are" in errors(raw={"model": {"n_modes": 4}})
    for key in TRAINER_RESERVED:
        assert f"trainer.{key}: cannot be set here" in errors(f"trainer.{key}='x'")


def test_window_data_section():
    raw = {"data": {"path": "ns.h5", "kind": "window", "fields": "vorticity", "k_in": 3,
                    "m_out": 2, "stride_t": 2, "static": ["forcing"], "n_train": 4,
                    "n_test": 1}}
    d = parse_config(raw).data
    assert (d.kind, d.fields, d.k_in, d.m_out, d.stride_t, d.static) == (
        "window", ("vorticity",), 3, 2, 2, ("forcing",))
    assert "data.inputs: only used with data.kind = 'operator'" in errors(
        "data.inputs=a", raw=raw)
    assert "data.k_in: expected an integer >= 1, got 0" in errors("data.k_in=0", raw=raw)


def test_every_trainer_option_is_accepted_by_name():
    # Allowed keys follow the Trainer signature, so options added to it are picked up.
    params = inspect.signature(Trainer).parameters
    options = {n: p.default for n, p in params.items()
               if n not in TRAINER_RESERVED and isinstance(p.default, (bool, int, float, str))}
    assert {"epochs", "lr", "scheduler", "device", "amp"} <= set(options)
    config = parse_config({"trainer": options})
    assert config.trainer.options == options
    allowed = sorted(n for n in params if n not in TRAINER_RESERVED)
    assert str(allowed) in errors("trainer.nope=1")


def test_trainer_choices_are_checked_when_built_naming_the_key():
    config = parse_config(apply_overrides(BASE, ["trainer.scheduler=cos"]))
    expected = f"trainer.scheduler: got 'cos'; allowed values are {list(SCHEDULERS)}"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        build_trainer(config.trainer)
    trainer = build_trainer(parse_config(BASE).trainer, seed=7, checkpoint_dir="ck")
    assert (trainer.epochs, trainer.scheduler, trainer.seed) == (2, "step", 7)
    assert trainer.scheduler_kwargs == {"step_size": 1, "gamma": 0.5}


def test_autoregressive_kind_uses_the_subclass_or_says_it_is_missing(monkeypatch):
    try:
        import sciml.train.autoregressive as ar
    except ImportError:
        ar = None
    if ar is not None:
        config = parse_config({"trainer": {"kind": "autoregressive", "mode": "pushforward",
                                           "lr": 1e-3, "channels": 2}})
        trainer = build_trainer(config.trainer)
        assert isinstance(trainer, ar.AutoregressiveTrainer)
        assert (trainer.mode, trainer.channels, trainer.lr) == ("pushforward", 2, 1e-3)
        # Options of the base class pass through **options and are still checked.
        assert "trainer.lrr: unknown key; did you mean 'lr'?" in errors(
            "trainer.lrr=1", raw={"trainer": {"kind": "autoregressive"}})
        bad = parse_config({"trainer": {"kind": "autoregressive", "mode": "rollout"}})
        with pytest.raises(ConfigError, match="trainer.mode: got 'rollout'"):
            build_trainer(bad.trainer)
    monkeypatch.setitem(sys.modules, "sciml.train.autoregressive", None)  # import fails
    message = errors(raw={"trainer": {"kind": "autoregressive"}})
    assert "trainer.kind: got 'autoregressive', but sciml.train.autoregressive" in message
    assert "use kind = 'supervised'" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trainer.lr=1e-3", (("trainer", "lr"), 1e-3)),
        ("trainer.epochs=7", (("trainer", "epochs"), 7)),
        ("data.in_memory=false", (("data", "in_memory"), False)),
        ("model.n_modes=[8, 8]", (("model", "n_modes"), [8, 8])),
        ("trainer.scheduler=step", (("trainer", "scheduler"), "step")),
        ("trainer.scheduler='step'", (("trainer", "scheduler"), "step")),
        ('output.dir="a b"', (("output", "dir"), "a b")),
        ("output.dir=runs/x=1", (("output", "dir"), "runs/x=1")),
        ("trainer.scheduler_kwargs={step_size = 2}",
         (("trainer", "scheduler_kwargs"), {"step_size": 2})),
        ("seed=4", (("seed",), 4)),
    ],
)
def test_parse_override_reads_toml_values(text, expected):
    assert parse_override(text) == expected
    assert type(parse_override(text)[1]) is type(expected[1])


def test_overrides_are_applied_and_validated_like_the_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(to_toml(BASE))
    config = load_config(path, ["trainer.lr=0.01", "model.n_modes=[2, 2]", "data.n_test=1",
                                "trainer.grad_clip=1.5", "solver.training.adam_steps=9"])
    assert config.trainer.options["lr"] == 0.01 and config.trainer.options["grad_clip"] == 1.5
    assert config.model.options["n_modes"] == [2, 2] and config.data.n_test == 1
    assert config.solver.options["training"] == {"adam_steps": 9}
    assert BASE["trainer"]["lr"] == 1e-3  # the raw mapping is not modified
    with pytest.raises(ConfigError, match=r"run.toml: trainer.lrr: unknown key; did you mean"):
        load_config(path, ["trainer.lrr=0.01"])
    with pytest.raises(ConfigError, match="trainer.lr is 0.001 \\(float\\), not a table"):
        load_config(path, ["trainer.lr.x=1"])
    for bad in ("trainer.lr", "=3", "trainer..lr=1", "a b=1"):
        with pytest.raises(ConfigError, match="--set: got .*expected KEY.PATH=VALUE"):
            parse_override(bad)
    new_section = apply_overrides({}, ["output.dir=x"])
    assert new_section == {"output": {"dir": "x"}}


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[trainer\nlr = 1")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_config(bad)
    other = tmp_path / "run.json"
    other.write_text("{}")
    with pytest.raises(ConfigError, match="expected a .toml, .yaml or .yml file"):
        load_config(other)


def test_yaml_gives_the_same_config_as_toml(tmp_path):
    yaml = pytest.importorskip("yaml")
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "run.toml").write_text(to_toml(BASE))
    assert load_config(tmp_path / "run.yaml") == load_config(tmp_path / "run.toml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="the top level must be a table"):
        load_config(tmp_path / "list.yaml")


def test_toml_round_trip_of_config_and_resolved_defaults():
    config = parse_config(BASE)
    assert parse_config(tomllib.loads(config.to_toml())) == config
    full = config.with_defaults(trainer={"progress": False})
    assert parse_config(tomllib.loads(full.to_toml())) == full
    trainer = full.trainer.options
    assert trainer["lr"] == 1e-3 and trainer["batch_size"] == 32 and trainer["seed"] == 3
    assert trainer["progress"] is False and "grad_clip" not in trainer  # None stays out
    assert full.model.options["n_layers"] == 4 and full.model.options["hidden_channels"] == 8
    assert full.solver.options["seed"] == 3 and full.solver.options["n_gaussians"] == 16


def test_to_toml_writes_what_tomllib_reads():
    data = {"a": 1, "b": -2.5, "c": 1e-7, "d": 1e300, "e": math.inf, "t": True,
            "s": 'quote " and \\ backslash\nnewline', "u": "ü", "list": [1, 2.0, "x"],
            "nested": [[1, 2], [3]], "inline": [{"k": 1}], "none": None,
            "sec": {"x": 1, "odd key": 2, "sub": {"y": [0.5]}}}
    back = tomllib.loads(to_toml(data))
    expected = {k: v for k, v in data.items() if k != "none"}
    assert back == expected
    assert math.isnan(tomllib.loads(to_toml({"n": math.nan}))["n"])
    with pytest.raises(ConfigError, match="cannot be written to TOML"):
        to_toml({"x": object()})


def test_build_model_takes_channels_from_the_data():
    model = build_model(parse_config(BASE).model, in_channels=3, out_channels=2)
    assert (model.config["in_channels"], model.config["out_channels"]) == (3, 2)
    assert model.config["n_modes"] == [4, 4] and model.config["hidden_channels"] == 8
    clash = parse_config(apply_overrides(BASE, ["model.in_channels=2"])).model
    with pytest.raises(ConfigError, match="model.in_channels: got 2, but the data gives 3"):
        build_model(clash, 3, 1)
    bad = parse_config(apply_overrides(BASE, ["model.n_layers=0"])).model
    with pytest.raises(ConfigError, match=r"^model\.n_layers: "):
        build_model(bad, 1, 1)


def test_build_problem_by_registry_name_and_by_import_path():
    problem = build_problem(parse_config(BASE).problem)
    assert problem.name == "helmholtz_2d" and problem.params["a1"] == 1.0
    ref = parse_config({"problem": {"name": "sciml.problems.poisson:poisson_1d",
                                    "case": "sin100"}}).problem
    assert build_problem(ref).name == "poisson_1d_sin100"
    wrong = parse_config({"problem": {"name": "sciml.problems.poisson:poisson_1d",
                                      "case": "sin7"}}).problem
    with pytest.raises(ConfigError, match=r"^problem.*sin7"):
        build_problem(wrong)
