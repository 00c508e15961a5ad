"""Run configurations: one TOML (or YAML) file describing data, model, training, solver and
problem, validated into dataclasses.

A configuration has these sections, each optional until a command needs it:

- ``seed`` (top level): seeds the model initialisation and, unless ``trainer.seed`` is set,
  the shuffling order;
- ``[data]``: an HDF5 file and how to cut it into ``(input, output)`` pairs
  (:class:`DataConfig`), with an optional ``[data.generate]`` table that writes the file
  first when it is missing;
- ``[model]``: ``name`` in :data:`sciml.core.registry.MODELS` and its constructor options;
- ``[trainer]``: ``kind`` (``"supervised"`` or ``"autoregressive"``) and the options of
  :class:`sciml.train.Trainer` (or of the autoregressive trainer);
- ``[problem]`` and ``[solver]``: ``name`` in :data:`~sciml.core.registry.PROBLEMS` /
  :data:`~sciml.core.registry.SOLVERS` (or ``"package.module:function"`` for one of your
  own) and its options;
- ``[output]``: ``dir``, where a run writes its files.

The options of models, trainers, solvers and problems are checked against the signature of
the class they configure (read with :mod:`inspect`), so a new option is accepted as soon as
it exists. Every error is a :class:`ConfigError` (a ``ValueError``) that names the key path,
the value received and what is allowed; an unknown key comes with a "did you mean"
suggestion. ``--set key.path=value`` overrides (:func:`parse_override`) are applied to the
raw file before validation, so they are checked like the file.

This module imports no torch until an object is built.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import json
import math
import os
import re
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciml.core.validation import describe

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DATA_KINDS",
    "TRAINER_KINDS",
    "Config",
    "ConfigError",
    "DataConfig",
    "GenerateConfig",
    "NamedConfig",
    "OutputConfig",
    "TrainerConfig",
    "apply_overrides",
    "build_datasets",
    "build_model",
    "build_problem",
    "build_solver",
    "build_trainer",
    "eval_set_name",
    "load_config",
    "parse_config",
    "parse_override",
    "to_toml",
    "trainer_class",
]

DATA_KINDS = ("operator", "window")
TRAINER_KINDS = ("supervised", "autoregressive")
SECTIONS = ("data", "model", "trainer", "solver", "problem", "output")
TOP_KEYS = ("seed", *SECTIONS)

#: Trainer options a configuration may not set, and why.
TRAINER_RESERVED = {
    "callbacks": "callbacks are Python functions; a configuration cannot hold them",
    "checkpoint_dir": "checkpoints go to output.dir; set that instead",
}


class ConfigError(ValueError):
    """A configuration file, override or section is invalid; the message names the key."""


# ---------------------------------------------------------------------------------------------
# small checks: each names the key path, the value and what is allowed
# ---------------------------------------------------------------------------------------------
def _suggest(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown(path: str, key: str, allowed: Iterable[str]) -> ConfigError:
    allowed = sorted(allowed)
    where = f"{path}.{key}" if path else key
    return ConfigError(
        f"{where}: unknown key{_suggest(key, allowed)} (allowed keys are {allowed})"
    )


def _table(path: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: expected a table, got {describe(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ConfigError(f"{path}: keys must be strings, got {describe(key)}")
    return value


def _check_keys(path: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    for key in table:
        if key not in allowed:
            raise _unknown(path, key, allowed)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(path: str, value: Any, minimum: int | None = None) -> int:
    if not _is_int(value) or (minimum is not None and value < minimum):
        need = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise ConfigError(f"{path}: expected {need}, got {describe(value)}")
    return int(value)


def _str(path: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: expected a non-empty string, got {describe(value)}")
    return value


def _bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: expected true or false, got {describe(value)}")
    return value


def _choice(path: str, value: Any, allowed: Sequence[Any]) -> Any:
    if value not in allowed:
        raise ConfigError(f"{path}: got {value!r}; allowed values are {list(allowed)}")
    return value


def _names(path: str, value: Any) -> tuple[str, ...]:
    """A field name or a non-empty array of them."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not names or not all(
        isinstance(n, str) and n for n in names
    ):
        raise ConfigError(
            f"{path}: expected a field name or an array of field names, got {describe(value)}"
        )
    return tuple(names)


def _sizes(path: str, value: Any) -> int | tuple[int, ...]:
    """A positive int, or an array of them (one per space axis)."""
    if _is_int(value) and value >= 1:
        return int(value)
    if isinstance(value, (list, tuple)) and value and all(_is_int(v) and v >= 1 for v in value):
        return tuple(int(v) for v in value)
    raise ConfigError(
        f"{path}: expected a positive integer or an array of them (one per axis), "
        f"got {describe(value)}"
    )


# ---------------------------------------------------------------------------------------------
# type hints of constructor parameters
# ---------------------------------------------------------------------------------------------
def _init_chain(target: Callable[..., Any]) -> list[Callable[..., Any]]:
    """``target``, or for a class the ``__init__`` methods whose ``**options`` pass on to a
    base class (own first), so a subclass's options include its parent's."""
    if not inspect.isclass(target):
        return [target]
    chain = []
    for klass in target.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        chain.append(init)
        params = inspect.signature(init).parameters.values()
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            break
    return chain or [target]


def _hints(target: Callable[..., Any]) -> dict[str, Any]:
    """Evaluated annotations of ``target``'s parameters ({} when they cannot be evaluated)."""
    hints: dict[str, Any] = {}
    for func in reversed(_init_chain(target)):
        try:
            hints.update(typing.get_type_hints(func))
        except Exception:  # names imported only for type checkers: skip those type checks
            continue
    return hints


def _union_args(hint: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return None


_SEQUENCES = (list, tuple, Sequence, typing.Sequence)
_MAPPINGS = (dict, Mapping, typing.Mapping)


def _matches(value: Any, hint: Any) -> bool:
    """Whether a plain configuration value fits ``hint``; unknown hints accept anything
    (the constructor still validates)."""
    if hint is Any:
        return True
    if hint is type(None) or hint is None:
        return value is None
    args = _union_args(hint)
    if args is not None:
        return any(_matches(value, a) for a in args)
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return _is_int(value)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint in _SEQUENCES or origin in _SEQUENCES:
        if not isinstance(value, (list, tuple)):
            return False
        inner = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if origin is tuple and len(inner) > 1:
            return len(value) == len(inner) and all(map(_matches, value, inner))
        return not inner or all(_matches(v, inner[0]) for v in value)
    if hint in _MAPPINGS or origin in _MAPPINGS:
        return isinstance(value, Mapping)
    if hint is os.PathLike or origin is os.PathLike:
        return isinstance(value, str)
    if dataclasses.is_dataclass(hint):
        return isinstance(value, Mapping)
    if hint is Callable or origin in (Callable, typing.Callable):
        return callable(value)
    if getattr(hint, "__name__", "") == "ndarray":
        return isinstance(value, (list, tuple))  # arrays are written as nested TOML arrays
    # Configuration values are plain data, never instances of other classes (torch.device,
    # nn.Module, ...); hints that are not classes (type variables, ...) accept anything.
    return isinstance(value, hint) if isinstance(hint, type) else True


def _spell(hint: Any) -> str:
    """Readable text of a type hint for error messages."""
    args = _union_args(hint)
    if args is not None:
        return " or ".join(dict.fromkeys(_spell(a) for a in args))
    origin = typing.get_origin(hint)
    if hint is type(None) or hint is None:
        return "none (leave the key out)"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if hint in _SEQUENCES or origin in _SEQUENCES:
        inner = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return f"an array of {_spell(inner[0])}" if inner else "an array"
    if hint in _MAPPINGS or origin in _MAPPINGS:
        return "a table"
    if hint is os.PathLike or origin is os.PathLike:
        return "a path string"
    if dataclasses.is_dataclass(hint):
        return f"a table of {hint.__name__} options"
    if hint is Callable or origin in (Callable, typing.Callable):
        return "a function (not expressible in a file)"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _dataclass_hint(hint: Any) -> type | None:
    """The dataclass a table value builds, if ``hint`` names one."""
    for candidate in _union_args(hint) or (hint,):
        if dataclasses.is_dataclass(candidate) and isinstance(candidate, type):
            return candidate
    return None


def _keyword_parameters(target: Callable[..., Any]) -> tuple[dict[str, inspect.Parameter], bool]:
    """Keyword parameters of ``target`` (through ``**options`` into base classes) and whether
    it still takes any keyword."""
    keyword: dict[str, inspect.Parameter] = {}
    var_kw = False
    for func in _init_chain(target):
        params = inspect.signature(func).parameters
        for n, p in params.items():
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          inspect.Parameter.KEYWORD_ONLY) and n != "self":
                keyword.setdefault(n, p)
        var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return keyword, var_kw


def _check_options(
    path: str,
    target: Callable[..., Any],
    options: Mapping[str, Any],
    *,
    reserved: Mapping[str, str] | None = None,
    provided: Iterable[str] = (),
) -> None:
    """Check ``options`` against ``target``'s keyword parameters: known names, matching
    types, required ones present (``provided`` are filled in later by the caller)."""
    reserved = dict(reserved or {})
    keyword, var_kw = _keyword_parameters(target)
    hints = _hints(target)
    for key, value in options.items():
        where = f"{path}.{key}"
        if key in reserved:
            raise ConfigError(f"{where}: cannot be set here; {reserved[key]}")
        if key not in keyword:
            if var_kw:
                continue
            raise _unknown(path, key, [k for k in keyword if k not in reserved])
        hint = hints.get(key, Any)
        if not _matches(value, hint):
            raise ConfigError(f"{where}: expected {_spell(hint)}, got {describe(value)}")
        nested = _dataclass_hint(hint)
        if nested is not None and isinstance(value, Mapping):
            _check_options(where, nested, _table(where, value))
    missing = [
        n for n, p in keyword.items()
        if p.default is inspect.Parameter.empty and n not in options and n not in provided
    ]
    if missing:
        name = getattr(target, "__name__", str(target))
        raise ConfigError(f"{path}.{missing[0]}: missing; {name} needs it (required: {missing})")


def _construct(path: str, target: Callable[..., Any], options: Mapping[str, Any]) -> Any:
    """Call ``target(**options)``, building nested dataclass tables, with errors renamed to
    their key path (``n_modes: ...`` becomes ``model.n_modes: ...``)."""
    hints = _hints(target)
    kwargs = {}
    for key, value in options.items():
        nested = _dataclass_hint(hints.get(key, Any))
        kwargs[key] = (
            _construct(f"{path}.{key}", nested, value)
            if nested is not None and isinstance(value, Mapping) else value
        )
    try:
        return target(**kwargs)
    except (ValueError, TypeError) as err:
        text = str(err)
        head = text.split(":", 1)[0].strip()
        if head in kwargs or head in _keyword_parameters(target)[0]:
            raise ConfigError(f"{path}.{text}") from None
        name = getattr(target, "__name__", "")
        raise ConfigError(f"{path} ({name}): {text}") from None


def _signature_defaults(target: Callable[..., Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """Defaults of ``target``'s keyword parameters that a TOML file can hold."""
    keyword, _ = _keyword_parameters(target)
    skip = set(skip)
    return {
        n: _plain(p.default) for n, p in keyword.items()
        if n not in skip and p.default is not inspect.Parameter.empty and _storable(p.default)
    }


def _storable(value: Any) -> bool:
    if isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)):
        return all(_storable(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _storable(v) for k, v in value.items())
    return False


def _plain(value: Any) -> Any:
    """Tuples become lists and mappings dicts, recursively (TOML/JSON-ready)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# registries and named targets
# ---------------------------------------------------------------------------------------------
def _load_registries() -> None:
    """Import the modules whose decorators fill the registries."""
    for module in ("sciml.neural", "sciml.gp", "sciml.pig", "sciml.rom", "sciml.problems",
                   "sciml.data.generate"):
        importlib.import_module(module)


def _registry(kind: str) -> Any:
    from sciml.core import registry

    _load_registries()
    return {"model": registry.MODELS, "solver": registry.SOLVERS,
            "problem": registry.PROBLEMS, "generator": registry.GENERATORS}[kind]


def _resolve(path: str, name: Any, kind: str, allow_import: bool) -> Callable[..., Any]:
    """A registered name, or ``"package.module:attribute"`` where ``allow_import``."""
    registry = _registry(kind)
    if isinstance(name, str) and name in registry:
        return registry.get(name)
    if allow_import and isinstance(name, str) and ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ConfigError(f"{path}: got {name!r}; cannot import {module_name!r} ({err})") \
                from None
        target = getattr(module, attr, None)
        if not callable(target):
            raise ConfigError(f"{path}: got {name!r}; {module_name} has no callable {attr!r}")
        return target
    extra = " or 'package.module:attribute'" if allow_import else ""
    suggestion = _suggest(name, registry.names()) if isinstance(name, str) else ""
    raise ConfigError(
        f"{path}: got {name!r}; allowed values are {registry.names()}{extra}{suggestion}"
    )


# ---------------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GenerateConfig:
    """``[data.generate]``: write the data file with a registered generator when missing.

    ``name`` is a generator of ``sciml data generate``; ``n``, ``resolution`` and ``seed`` are
    its common options and ``params`` the others (as ``--param``).
    """

    name: str
    n: int
    resolution: int
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "n": self.n, "resolution": self.resolution,
                "seed": self.seed, **self.params}


_GENERATE_FIXED = ("name", "n", "resolution", "seed")


def _parse_generate(path: str, raw: Any) -> GenerateConfig:
    table = _table(path, raw)
    for key in ("name", "n", "resolution"):
        if key not in table:
            raise ConfigError(f"{path}.{key}: missing; [data.generate] needs name, n, resolution")
    target = _resolve(f"{path}.name", table["name"], "generator", allow_import=False)
    keyword, var_kw = _keyword_parameters(target)
    if not var_kw:
        own = [k for k in keyword if k not in ("path", "progress")]
        _check_keys(path, table, dict.fromkeys([*_GENERATE_FIXED, *own]))
    params = {k: v for k, v in table.items() if k not in _GENERATE_FIXED}
    _check_options(path, target, params, reserved={"path": "set data.path instead",
                                                   "progress": "use --no-progress"},
                   provided=(*_GENERATE_FIXED, "path", "progress"))
    return GenerateConfig(
        name=table["name"],
        n=_int(f"{path}.n", table["n"], 1),
        resolution=_int(f"{path}.resolution", table["resolution"], 3),
        seed=_int(f"{path}.seed", table.get("seed", 0), 0),
        params=dict(params),
    )


_DATA_COMMON = ("path", "kind", "n_train", "n_test", "resolution", "stride", "test_resolutions",
                "in_memory", "normalize", "generate")
_DATA_KIND_KEYS = {
    "operator": ("inputs", "outputs", "time_index"),
    "window": ("fields", "k_in", "m_out", "stride_t", "hop", "static"),
}


@dataclass(frozen=True)
class DataConfig:
    """``[data]``: which file, which fields, which samples and which resolutions.

    Attributes
    ----------
    path : str
        HDF5 file (any layout :func:`sciml.data.open` reads), relative to the working
        directory.
    kind : {"operator", "window"}
        ``"operator"``: pairs of fields (:class:`~sciml.data.OperatorDataset`, keys
        ``inputs``, ``outputs``, ``time_index``); ``"window"``: time windows
        (:class:`~sciml.data.WindowDataset`, keys ``fields``, ``k_in``, ``m_out``,
        ``stride_t``, ``hop``, ``static``).
    n_train, n_test : int
        The first ``n_train`` samples train, the last ``n_test`` test.
    resolution, stride : int or tuple of int, optional
        Spatial subsampling of the training set (one of them).
    test_resolutions : tuple of int or of tuples
        Extra test sets at these resolutions (named ``test@<resolution>``); empty: one test
        set ``test`` at the training resolution.
    in_memory : bool
        Load the splits into memory (fast for small sets) or read lazily.
    normalize : bool
        Fit unit-Gaussian normalizers on the training split and fold them into the model.
    generate : GenerateConfig, optional
        Generate ``path`` first when it does not exist.
    """

    path: str
    n_train: int
    n_test: int
    kind: str = "operator"
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    time_index: int = 0
    fields: tuple[str, ...] = ()
    k_in: int = 1
    m_out: int = 1
    stride_t: int = 1
    hop: int = 1
    static: tuple[str, ...] = ()
    resolution: int | tuple[int, ...] | None = None
    stride: int | tuple[int, ...] | None = None
    test_resolutions: tuple[int | tuple[int, ...], ...] = ()
    in_memory: bool = True
    normalize: bool = True
    generate: GenerateConfig | None = None

    def to_dict(self) -> dict[str, Any]:
        """The keys that apply to this kind, ``None`` values left out."""
        keys = ("path", "kind", *_DATA_KIND_KEYS[self.kind], "n_train", "n_test", "resolution",
                "stride", "test_resolutions", "in_memory", "normalize")
        out = {k: _plain(getattr(self, k)) for k in keys if getattr(self, k) is not None}
        if self.kind == "window" and not self.static:
            out.pop("static")
        if not self.test_resolutions:
            out.pop("test_resolutions")
        if self.generate is not None:
            out["generate"] = self.generate.to_dict()
        return out


def _parse_data(raw: Any) -> DataConfig:
    table = _table("data", raw)
    kind = _choice("data.kind", table.get("kind", "operator"), DATA_KINDS)
    other = "window" if kind == "operator" else "operator"
    for key in table:
        if key in _DATA_KIND_KEYS[other]:
            raise ConfigError(
                f"data.{key}: only used with data.kind = {other!r}; this section has "
                f"kind = {kind!r} (keys of that kind: {list(_DATA_KIND_KEYS[kind])})"
            )
    _check_keys("data", table, (*_DATA_COMMON, *_DATA_KIND_KEYS[kind]))
    required = ("path", "n_train", "n_test", *(("inputs", "outputs") if kind == "operator"
                                              else ("fields",)))
    for key in required:
        if key not in table:
            raise ConfigError(f"data.{key}: missing; a [data] section of kind {kind!r} needs "
                              f"{list(required)}")
    values: dict[str, Any] = {
        "path": _str("data.path", table["path"]),
        "kind": kind,
        "n_train": _int("data.n_train", table["n_train"], 1),
        "n_test": _int("data.n_test", table["n_test"], 1),
    }
    if "resolution" in table and "stride" in table:
        raise ConfigError(
            f"data.resolution and data.stride: got both ({table['resolution']!r}, "
            f"{table['stride']!r}); give one of them"
        )
    for key in ("resolution", "stride"):
        if key in table:
            values[key] = _sizes(f"data.{key}", table[key])
    if "test_resolutions" in table:
        res = table["test_resolutions"]
        if not isinstance(res, (list, tuple)) or not res:
            raise ConfigError(f"data.test_resolutions: expected a non-empty array of "
                              f"resolutions, got {describe(res)}")
        values["test_resolutions"] = tuple(
            _sizes(f"data.test_resolutions[{i}]", r) for i, r in enumerate(res)
        )
    for key in ("in_memory", "normalize"):
        if key in table:
            values[key] = _bool(f"data.{key}", table[key])
    if kind == "operator":
        values["inputs"] = _names("data.inputs", table["inputs"])
        values["outputs"] = _names("data.outputs", table["outputs"])
        if "time_index" in table:
            values["time_index"] = _int("data.time_index", table["time_index"])
    else:
        values["fields"] = _names("data.fields", table["fields"])
        for key in ("k_in", "m_out", "stride_t", "hop"):
            if key in table:
                values[key] = _int(f"data.{key}", table[key], 1)
        if "static" in table:
            values["static"] = _names("data.static", table["static"])
    if "generate" in table:
        values["generate"] = _parse_generate("data.generate", table["generate"])
    return DataConfig(**values)


@dataclass(frozen=True)
class NamedConfig:
    """``[model]``, ``[solver]`` or ``[problem]``: a name and the options of what it names."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **_plain(self.options)}


def _parse_named(section: str, raw: Any, kind: str, allow_import: bool) -> NamedConfig:
    table = _table(section, raw)
    if "name" not in table:
        names = _registry(kind).names()
        raise ConfigError(f"{section}.name: missing; allowed values are {names}")
    target = _resolve(f"{section}.name", table["name"], kind, allow_import)
    options = {k: v for k, v in table.items() if k != "name"}
    provided = ("in_channels", "out_channels") if kind == "model" else ()
    _check_options(section, target, options, provided=provided)
    return NamedConfig(table["name"], dict(options))


@dataclass(frozen=True)
class TrainerConfig:
    """``[trainer]``: the trainer kind and its constructor options."""

    kind: str = "supervised"
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **_plain(self.options)}


def trainer_class(kind: str, path: str = "trainer.kind") -> type:
    """The trainer class of a kind: :class:`~sciml.train.Trainer` for ``"supervised"``,
    ``sciml.train.autoregressive.AutoregressiveTrainer`` for ``"autoregressive"``."""
    _choice(path, kind, TRAINER_KINDS)
    if kind == "supervised":
        from sciml.train.trainer import Trainer

        return Trainer
    try:
        module = importlib.import_module("sciml.train.autoregressive")
        return module.AutoregressiveTrainer
    except (ImportError, AttributeError):
        raise ConfigError(
            f"{path}: got 'autoregressive', but sciml.train.autoregressive.AutoregressiveTrainer "
            f"is not available in this installation; use kind = 'supervised'"
        ) from None


def _parse_trainer(raw: Any) -> TrainerConfig:
    table = _table("trainer", raw)
    kind = table.get("kind", "supervised")
    cls = trainer_class(kind)
    options = {k: v for k, v in table.items() if k != "kind"}
    _check_options("trainer", cls, options, reserved=TRAINER_RESERVED)
    return TrainerConfig(kind, dict(options))


@dataclass(frozen=True)
class OutputConfig:
    """``[output]``: ``dir`` receives checkpoints, the resolved config, reports and figures."""

    dir: str = "sciml-run"

    def to_dict(self) -> dict[str, Any]:
        return {"dir": self.dir}


def _parse_output(raw: Any) -> OutputConfig:
    table = _table("output", raw)
    _check_keys("output", table, ("dir",))
    return OutputConfig(_str("output.dir", table.get("dir", "sciml-run")))


# ---------------------------------------------------------------------------------------------
# the whole configuration
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """A validated run configuration (see the module docstring for the sections)."""

    seed: int = 0
    data: DataConfig | None = None
    model: NamedConfig | None = None
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    solver: NamedConfig | None = None
    problem: NamedConfig | None = None
    output: OutputConfig = field(default_factory=OutputConfig)

    def require(self, command: str, *sections: str) -> None:
        """Raise unless every named section is present."""
        missing = [s for s in sections if getattr(self, s) is None]
        if missing:
            raise ConfigError(
                f"{missing[0]}: missing section; `sciml {command}` needs "
                f"{', '.join(f'[{s}]' for s in sections)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (TOML/JSON-ready); absent sections are left out."""
        out: dict[str, Any] = {"seed": self.seed}
        for name in SECTIONS:
            section = getattr(self, name)
            if section is not None:
                out[name] = section.to_dict()
        return out

    def to_toml(self) -> str:
        """TOML text that :func:`parse_config` reads back to an equal configuration."""
        return to_toml(self.to_dict())

    def with_defaults(
        self,
        model: Mapping[str, Any] | None = None,
        trainer: Mapping[str, Any] | None = None,
    ) -> Config:
        """The configuration with every omitted option that has a storable default filled in
        from the signatures (``None`` defaults stay omitted).

        ``model`` replaces the model's options (e.g. a built model's ``config``, whose
        channels came from the data); ``trainer`` holds trainer options the run used where
        the section set none (``progress`` from the command line, ...).
        """
        replace: dict[str, Any] = {}
        if self.model is not None:
            target = _resolve("model.name", self.model.name, "model", allow_import=False)
            if model is not None:
                # None is the default of those options (TOML has no null to write it).
                keyword, _ = _keyword_parameters(target)
                options = {k: v for k, v in model.items() if v is not None
                           or k not in keyword or keyword[k].default is not None}
            else:
                options = _signature_defaults(target) | self.model.options
            replace["model"] = NamedConfig(self.model.name, _plain(options))
        cls = trainer_class(self.trainer.kind)
        defaults = _signature_defaults(cls, skip=TRAINER_RESERVED) | {"seed": self.seed}
        defaults |= {k: _plain(v) for k, v in (trainer or {}).items() if k in defaults}
        replace["trainer"] = TrainerConfig(self.trainer.kind, defaults | self.trainer.options)
        for name in ("solver", "problem"):
            section = getattr(self, name)
            if section is not None:
                target = _resolve(f"{name}.name", section.name, name, allow_import=True)
                defaults = _signature_defaults(target)
                if "seed" in defaults:
                    defaults["seed"] = self.seed  # what build_solver passes when unset
                replace[name] = NamedConfig(section.name, defaults | section.options)
        return dataclasses.replace(self, **replace)


def parse_config(raw: Mapping[str, Any]) -> Config:
    """Validate a nested mapping (a parsed TOML/YAML file) into a :class:`Config`.

    Raises
    ------
    ConfigError
        Naming the key path, the value and what is allowed.
    """
    table = _table("config", raw)
    _check_keys("", table, TOP_KEYS)
    values: dict[str, Any] = {}
    if "seed" in table:
        values["seed"] = _int("seed", table["seed"], 0)
    parsers: dict[str, Callable[[Any], Any]] = {
        "data": _parse_data,
        "model": lambda r: _parse_named("model", r, "model", allow_import=False),
        "trainer": _parse_trainer,
        "solver": lambda r: _parse_named("solver", r, "solver", allow_import=True),
        "problem": lambda r: _parse_named("problem", r, "problem", allow_import=True),
        "output": _parse_output,
    }
    for name, parse in parsers.items():
        if name in table:
            values[name] = parse(table[name])
    return Config(**values)


# ---------------------------------------------------------------------------------------------
# files and overrides
# ---------------------------------------------------------------------------------------------
_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Split ``key.path=value``; the value is read as a TOML value (number, boolean, string
    in quotes, array, inline table), else kept as the raw string.

    >>> parse_override("trainer.lr=1e-3")
    (('trainer', 'lr'), 0.001)
    >>> parse_override("model.n_modes=[8, 8]")
    (('model', 'n_modes'), [8, 8])
    >>> parse_override("trainer.scheduler=step")
    (('trainer', 'scheduler'), 'step')
    """
    if not isinstance(text, str):
        raise ConfigError(f"--set: expected KEY.PATH=VALUE text, got {describe(text)}")
    key, sep, raw = text.partition("=")
    parts = tuple(p.strip() for p in key.strip().split("."))
    if not sep or not all(_KEY.match(p) for p in parts):
        raise ConfigError(
            f"--set: got {text!r}; expected KEY.PATH=VALUE, e.g. trainer.lr=1e-3 (keys are "
            f"letters, digits, '_' and '-', joined by '.')"
        )
    raw = raw.strip()
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return parts, value


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A deep copy of ``raw`` with each ``key.path=value`` override set (tables created as
    needed)."""
    out = _deep_copy(raw)
    for text in overrides:
        parts, value = parse_override(text)
        node = out
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise ConfigError(
                    f"--set {text}: {where} is {describe(child)}, not a table, so it has no "
                    f"key {parts[depth + 1]!r}"
                )
            node = child
        node[parts[-1]] = value
    return out


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _read(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            with path.open("rb") as handle:
                return tomllib.load(handle)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML ({err})") from None
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigError(
                f"{path}: YAML configurations need PyYAML (pip install pyyaml); or use TOML"
            ) from None
        try:
            with path.open("r", encoding="utf-8") as handle:
                return yaml.safe_load(handle) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML ({err})") from None
    raise ConfigError(f"{path}: expected a .toml, .yaml or .yml file, got suffix {suffix!r}")


def load_config(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> Config:
    """Read a TOML (or, with PyYAML, YAML) file, apply ``--set`` overrides and validate.

    Parameters
    ----------
    path : path-like
        ``.toml``, ``.yaml`` or ``.yml`` file.
    overrides : iterable of str
        ``key.path=value`` strings (see :func:`parse_override`), applied in order.

    Raises
    ------
    ConfigError
        If the file is missing or malformed, or a key or value is invalid; the message starts
        with the file name and names the key path.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such configuration file")
    raw = _read(path)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: the top level must be a table of sections, "
                          f"got {describe(raw)}")
    try:
        return parse_config(apply_overrides(raw, overrides))
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


# ---------------------------------------------------------------------------------------------
# TOML writing (the standard library reads TOML but does not write it)
# ---------------------------------------------------------------------------------------------
def _toml_key(key: str) -> str:
    return key if _KEY.match(key) else json.dumps(key)


def _toml_value(value: Any, path: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v, path) for v in value if v is not None) + "]"
    if isinstance(value, Mapping):
        items = [f"{_toml_key(k)} = {_toml_value(v, f'{path}.{k}')}"
                 for k, v in value.items() if v is not None]
        return "{" + ", ".join(items) + "}"
    raise ConfigError(f"{path}: {describe(value)} cannot be written to TOML")


def to_toml(data: Mapping[str, Any]) -> str:
    """TOML text of a nested mapping of str, int, float, bool, arrays and tables.

    Tables become ``[section]`` / ``[section.sub]`` headers, tables inside arrays inline
    tables; ``None`` values are left out (TOML has no null).
    """
    lines: list[str] = []

    def emit(table: Mapping[str, Any], prefix: tuple[str, ...]) -> None:
        subtables = []
        for key, value in table.items():
            if value is None:
                continue
            if isinstance(value, Mapping):
                subtables.append((key, value))
            else:
                path = ".".join((*prefix, key))
                lines.append(f"{_toml_key(key)} = {_toml_value(value, path)}")
        for key, value in subtables:
            header = ".".join(_toml_key(k) for k in (*prefix, key))
            lines.append("")
            lines.append(f"[{header}]")
            emit(value, (*prefix, key))

    emit(data, ())
    return "\n".join(lines).lstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------
# building objects (these import torch)
# ---------------------------------------------------------------------------------------------
def eval_set_name(resolution: int | Sequence[int] | None) -> str:
    """Name of the test set at a resolution: ``"test"`` or ``"test@32"`` / ``"test@32x64"``."""
    if resolution is None:
        return "test"
    if isinstance(resolution, int):
        return f"test@{resolution}"
    return "test@" + "x".join(str(r) for r in resolution)


def _prefixed(path: str, err: Exception) -> ConfigError:
    text = str(err)
    return ConfigError(text if text.startswith(f"{path}.") else f"{path}.{text}")


def _ensure_file(data: DataConfig, progress: bool) -> Path:
    path = Path(data.path)
    if path.exists():
        return path
    if data.generate is None:
        raise ConfigError(
            f"data.path: {str(path)!r} does not exist; add a [data.generate] table or make it "
            f"with `sciml data generate`"
        )
    from sciml.data.generate import generate

    gen = data.generate
    try:
        return Path(generate(gen.name, path, n=gen.n, resolution=gen.resolution, seed=gen.seed,
                             progress=progress, **gen.params))
    except ValueError as err:
        raise _prefixed("data.generate", err) from None


def _dataset(data: DataConfig, source: Any, indices: Any, space: dict[str, Any]) -> Any:
    from sciml.data.dataset import OperatorDataset, WindowDataset

    if data.kind == "operator":
        return OperatorDataset(source, data.inputs, data.outputs, indices=indices,
                               time_index=data.time_index, **space)
    return WindowDataset(source, data.fields, data.k_in, data.m_out, data.stride_t,
                         hop=data.hop, static=data.static or None, indices=indices, **space)


def _in_memory(dataset: Any) -> Any:
    import torch
    from torch.utils.data import TensorDataset

    from sciml.data.dataset import OperatorDataset, to_tensor_dataset

    if isinstance(dataset, OperatorDataset):
        return to_tensor_dataset(dataset)
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return TensorDataset(torch.stack(xs), torch.stack(ys))


def build_datasets(
    data: DataConfig,
    *,
    progress: bool = True,
    path: str | os.PathLike[str] | None = None,
    n_test: int | None = None,
    test_resolutions: Sequence[Any] | None = None,
    indices: Sequence[int] | None = None,
    train: bool = True,
) -> tuple[Any, dict[str, Any], Any]:
    """The training set, the test sets by name and the training grid of a ``[data]`` section.

    Parameters
    ----------
    data : DataConfig
    progress : bool
        Progress bar while generating a missing file.
    path : path-like, optional
        Read this file instead of ``data.path`` (no generation).
    n_test : int, optional
        Test on the last ``n_test`` samples instead of ``data.n_test``.
    test_resolutions : sequence, optional
        Replaces ``data.test_resolutions``; ``None`` in it stands for the training
        resolution (``data.resolution`` or ``data.stride``).
    indices : sequence of int, optional
        Test on these samples of the file instead of the last ``n_test``.
    train : bool
        Build the training set (else it is ``None``).

    Returns
    -------
    train : Dataset or None
        Items ``(input (C_in, *space), output (C_out, *space))``.
    tests : dict of str to Dataset
        Named by :func:`eval_set_name`.
    grid : Grid
        Grid of the training resolution.
    """
    from sciml.data import open_dataset, split_indices

    file = Path(path) if path is not None else _ensure_file(data, progress)
    if not file.is_file():
        raise ConfigError(f"data.path: {str(file)!r} does not exist")
    source = open_dataset(file)
    n = source.n_samples
    if indices is not None:
        n_test = 0
    elif n_test is None:
        n_test = data.n_test
    try:
        train_idx, test_idx = split_indices(n, data.n_train if train else 0, n_test)
    except ValueError as err:
        raise ConfigError(f"data.n_train/n_test: {err} (file {file})") from None
    if indices is not None:
        bad = [i for i in indices if not -n <= int(i) < n]
        if bad:
            raise ConfigError(f"sample: got {bad[0]}; the file has {n} samples "
                              f"(allowed {-n}..{n - 1})")
        test_idx = [int(i) % n for i in indices]

    def space(res: Any) -> dict[str, Any]:
        if res is not None:
            return {"resolution": res}
        return {"resolution": data.resolution} if data.resolution is not None else {
            "stride": data.stride}

    def make(indices: Any, res: Any) -> Any:
        try:
            ds = _dataset(data, source, indices, space(res))
        except ValueError as err:
            raise _prefixed("data", err) from None
        return _in_memory(ds) if data.in_memory else ds

    resolutions = list(test_resolutions if test_resolutions is not None
                       else data.test_resolutions or [None])
    tests = {eval_set_name(r): make(test_idx, r) for r in resolutions}
    train_set = make(train_idx, None) if train else None
    try:
        grid = _dataset(data, source, test_idx[:1], space(None)).grid
    except ValueError as err:
        raise _prefixed("data", err) from None
    return train_set, tests, grid


def build_model(model: NamedConfig, in_channels: int, out_channels: int) -> Any:
    """The model of a ``[model]`` section, its channels taken from the data unless set
    (set ones must agree with the data)."""
    target = _resolve("model.name", model.name, "model", allow_import=False)
    options = dict(model.options)
    keyword, var_kw = _keyword_parameters(target)
    channels = {"in_channels": in_channels, "out_channels": out_channels}
    for key, value in channels.items():
        if key in options and options[key] != value:
            raise ConfigError(
                f"model.{key}: got {options[key]!r}, but the data gives {value}; leave it out "
                f"to take it from the data"
            )
        if key in keyword or var_kw:
            options[key] = value
    built = _construct("model", target, options)
    # A wrapper such as MGPatchedOperator derives its channels from its inner model's config.
    for key, value in channels.items():
        have = getattr(built, key, value)
        if have != value:
            raise ConfigError(
                f"model: {model.name} has {key}={have}, but the data gives {value}; fix the "
                f"model options"
            )
    return built


def build_trainer(trainer: TrainerConfig, **fixed: Any) -> Any:
    """The trainer of a ``[trainer]`` section; ``fixed`` (checkpoint_dir, defaults for seed or
    progress, ...) are used where the section does not set them."""
    cls = trainer_class(trainer.kind)
    keyword, var_kw = _keyword_parameters(cls)
    options = {k: v for k, v in fixed.items() if k in keyword or var_kw}
    options.update(trainer.options)
    return _construct("trainer", cls, options)


def build_problem(problem: NamedConfig) -> Any:
    """The problem of a ``[problem]`` section."""
    target = _resolve("problem.name", problem.name, "problem", allow_import=True)
    return _construct("problem", target, problem.options)


def build_solver(solver: NamedConfig, **defaults: Any) -> Any:
    """The solver of a ``[solver]`` section; ``defaults`` (e.g. ``progress``) apply where the
    section does not set them and the solver takes them."""
    target = _resolve("solver.name", solver.name, "solver", allow_import=True)
    keyword, _ = _keyword_parameters(target)
    options = {k: v for k, v in defaults.items() if k in keyword} | dict(solver.options)
    return _construct("solver", target, options)
