"""Property-based fuzzing of the HDF5 readers: malformed files fail only with our errors.

Hypothesis starts from a good file of each layout (the native one, the four PDEBench
ones and The Well), breaks it in one to three ways (deleted keys, datasets of other
ranks, shapes or dtypes, groups where datasets belong and the reverse, NaN, Inf and
unordered coordinates, random attributes including bad JSON, stray per-sample groups),
and sometimes damages the bytes (truncation, random bytes, flipped data bytes). The file
is then opened with ``sciml.data.open``, every field and parameter is read, and
``OperatorDataset``/``WindowDataset`` items are built.

The documented failures are the only ones allowed:

* ``ValueError`` (our readers' error for anything malformed, naming file, key and problem);
* ``FileNotFoundError`` (a missing file; never expected here);
* ``OSError`` whose message starts with the file's path and says ``read failed`` (a
  damaged chunk found while reading, wrapped by ``LazyArray`` with the file and key).

Anything else (``IndexError``, ``TypeError``, ``KeyError``, a bare h5py ``OSError``,
``RuntimeError``, ...) fails the test.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
import traceback
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

import sciml.data
from sciml.core.grid import Box, Grid
from sciml.data.dataset import OperatorDataset, WindowDataset
from sciml.data.hdf5 import write

_spec = importlib.util.spec_from_file_location(
    "sciml_fuzz_data_builders", Path(__file__).with_name("conftest.py")
)
builders = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builders)

LAYOUTS = ("sciml", "pdebench", "pdebench-1d", "pdebench-darcy", "pdebench-cfd",
           "pdebench-groups", "the_well")
# Attribute names the readers look at, so that random attributes reach their checks.
KNOWN_ATTRS = (
    "format", "version", "n_samples", "pde", "params", "axes", "periodic", "kind", "lower",
    "upper", "n_spatial_dims", "n_trajectories", "spatial_dims", "sample_varying",
    "time_varying", "dim_varying", "bc_type", "associated_dims", "dataset_name",
)
# SCIML_FUZZ_EXAMPLES=2000 searches deeper (e.g. nightly); the default keeps this file fast.
FUZZ = settings(
    max_examples=int(os.environ.get("SCIML_FUZZ_EXAMPLES", "90")), deadline=None,
    derandomize="SCIML_FUZZ_EXAMPLES" not in os.environ, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Undocumented(AssertionError):
    """A reader failed with an exception type it does not document."""


def _native(path: Path) -> None:
    rng = np.random.default_rng(0)
    grid = Grid.uniform(Box(x=(0, 1), y=(0, 2)), (6, 4), periodic={"x": True, "y": False})
    write(path, {"u": rng.standard_normal((3, 4, 6, 4, 2)).astype(np.float32),
                 "a": rng.standard_normal((3, 1, 6, 4, 1))},
          grid, attrs={"pde": "toy", "params": {"nu": 0.1}, "tags": ["a", "b"]},
          params={"mu": rng.uniform(size=3)}, times=np.linspace(0, 1, 4))


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fuzz_bases")
    out = {}
    for layout in LAYOUTS:
        path = folder / f"{layout}.h5"
        if layout == "sciml":
            _native(path)
        else:
            builders.BUILDERS[layout](path)
        out[layout] = path
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Callable[[], Path]:
    folder = tmp_path_factory.mktemp("fuzz_cases")
    counter = itertools.count()
    return lambda: folder / f"case{next(counter)}.h5"


# ------------------------------------------------------------------------------ strategies
_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/."),
    min_size=1, max_size=8,
)
_json_like = st.sampled_from(
    ["{", "}", '{"nu": 1}', "[1, 2]", "null", "NaN", '{"a": NaN}', "1e400", '"x"', "", "sciml",
     "cartesian", "periodic", "PERIODIC", "x", "0000"]
)
_attr_values = st.one_of(
    st.integers(-(2**40), 2**40),
    st.sampled_from([0, 1, 2, 3, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    _json_like,
    _names,
    st.lists(st.integers(-3, 9), max_size=4).map(np.array),
    st.lists(st.booleans(), max_size=4).map(lambda v: np.array(v, dtype=bool)),
    st.lists(st.sampled_from(["x", "y", "z", "t", "time", ""]), min_size=1, max_size=4)
    .map(lambda v: np.array(v, dtype=h5py.string_dtype())),
    st.sampled_from([np.zeros((2, 2)), np.zeros(0), np.array([np.nan, 1.0])]),
    st.binary(max_size=6).map(np.void),
)
_dtypes = st.sampled_from(["f4", "f8", "i4", "i8", "u1", "bool", "c8", "S3", "str"])


@st.composite
def _arrays(draw, shape=None):
    if shape is None:
        rank = draw(st.integers(0, 6))
        shape = tuple(draw(st.lists(st.integers(0, 5), min_size=rank, max_size=rank)))
    dtype = draw(_dtypes)
    size = int(np.prod(shape))
    values = np.arange(size, dtype=np.float64).reshape(shape) / max(size, 1)
    if dtype == "str":
        return np.array(values.astype(str), dtype=h5py.string_dtype())
    if dtype == "S3":
        return values.astype("S3")
    return values.astype(dtype)


def _paths(f: h5py.File, kind: type | None = None) -> list[str]:
    found: list[str] = []
    f.visit(lambda name: found.append(name) if kind is None or isinstance(f[name], kind)
            else None)
    return sorted(found)


def _mutate(f: h5py.File, data: st.DataObject) -> None:
    """One random structural change to an open file."""
    objects, datasets = _paths(f), _paths(f, h5py.Dataset)
    groups = _paths(f, h5py.Group)
    op = data.draw(st.sampled_from([
        "delete", "replace", "reshape", "retype", "values", "to_group", "to_dataset",
        "coordinates", "set_attr", "set_attr", "del_attr", "numeric_group",
    ]), label="op")
    if op == "delete" and objects:
        del f[data.draw(st.sampled_from(objects), label="delete")]
    elif op in ("retype", "values") and datasets:
        # Same shape and attributes: the file still opens, and reading meets the change.
        key = data.draw(st.sampled_from(datasets), label=op)
        old, attrs = f[key], dict(f[key].attrs)
        if op == "retype":
            new = data.draw(_arrays(old.shape), label="array")
        else:
            new = np.asarray(old[()])
            if new.dtype.kind != "f" or new.size == 0:
                return
            fill = data.draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e300]), label="fill")
            new = new.copy()
            # 1e300 overflows float32 to Inf, as a damaged file might hold
            with np.errstate(over="ignore"):
                new.flat[data.draw(st.integers(0, new.size - 1), label="where")] = fill
        del f[key]
        f.create_dataset(key, data=new)
        for k, v in attrs.items():
            f[key].attrs[k] = v
    elif op in ("replace", "reshape") and datasets:
        key = data.draw(st.sampled_from(datasets), label=op)
        old = f[key]
        attrs = dict(old.attrs) if data.draw(st.booleans(), label="keep attrs") else {}
        if op == "reshape":
            shape = list(old.shape)
            how = data.draw(st.sampled_from(["grow", "shrink", "drop", "insert"]), label="how")
            axis = data.draw(st.integers(0, max(len(shape) - 1, 0)), label="axis")
            if how == "insert" or not shape:
                shape.insert(axis, data.draw(st.integers(1, 2), label="length"))
            elif how == "drop":
                del shape[axis]
            else:
                shape[axis] = max(shape[axis] + (1 if how == "grow" else -1), 0)
            new = data.draw(_arrays(tuple(shape)), label="array")
        else:
            new = data.draw(_arrays(), label="array")
        del f[key]
        f.create_dataset(key, data=new)
        for k, v in attrs.items():
            f[key].attrs[k] = v
    elif op == "to_group" and datasets:
        key = data.draw(st.sampled_from(datasets), label="to_group")
        del f[key]
        g = f.create_group(key)
        if data.draw(st.booleans(), label="non-empty"):
            g["data"] = np.zeros(3)
    elif op == "to_dataset" and groups:
        key = data.draw(st.sampled_from(groups), label="to_dataset")
        del f[key]
        f[key] = np.zeros(data.draw(st.integers(0, 3), label="length"))
    elif op == "coordinates":
        coords = [k for k in datasets if f[k].ndim == 1 and f[k].dtype.kind == "f"
                  and f[k].size > 0]
        if not coords:
            return
        key = data.draw(st.sampled_from(coords), label="coordinates")
        values = f[key][()].astype(np.float64)
        how = data.draw(st.sampled_from(["nan", "inf", "reverse", "repeat", "empty", "2d"]),
                        label="how")
        if how in ("nan", "inf"):
            values[data.draw(st.integers(0, values.size - 1))] = np.nan if how == "nan" else -np.inf
        elif how == "reverse":
            values = values[::-1].copy()
        elif how == "repeat":
            values[-1] = values[0]
        elif how == "empty":
            values = values[:0]
        else:
            values = np.stack([values, values])
        attrs = dict(f[key].attrs)
        del f[key]
        f[key] = values
        for k, v in attrs.items():
            f[key].attrs[k] = v
    elif op == "set_attr":
        holder = data.draw(st.sampled_from(["/", *objects]), label="holder")
        name = data.draw(st.one_of(st.sampled_from(KNOWN_ATTRS), _names), label="attr")
        value = data.draw(_attr_values, label="value")
        try:
            f[holder].attrs[name] = value
        except (TypeError, ValueError, OSError):
            pass  # h5py cannot store this value; not a reader problem
    elif op == "del_attr":
        holders = [h for h in ["/", *objects] if len(f[h].attrs)]
        if holders:
            holder = data.draw(st.sampled_from(holders), label="holder")
            del f[holder].attrs[data.draw(st.sampled_from(sorted(f[holder].attrs)), label="attr")]
    elif op == "numeric_group":
        name = data.draw(st.sampled_from(["0000", "7", "00010", "0002"]), label="group")
        if name in f:
            return
        g = f.create_group(name)
        if data.draw(st.booleans(), label="with data"):
            g["data"] = data.draw(_arrays(), label="array")


def _damage_bytes(path: Path, data: st.DataObject) -> None:
    how = data.draw(st.sampled_from(["none", "none", "none", "truncate", "random",
                                     "flip data", "flip data"]), label="bytes")
    raw = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1), label="keep")])
    elif how == "random":
        path.write_bytes(data.draw(st.binary(min_size=0, max_size=4096), label="random"))
    elif how == "flip data":
        # Only bytes of raw data (chunks or contiguous storage): values change, or a
        # compressed chunk no longer decompresses. Flipping metadata could crash libhdf5.
        regions = []
        with h5py.File(path, "r") as f:
            for key in _paths(f, h5py.Dataset):
                dset = f[key]
                if dset.chunks is None:
                    offset = dset.id.get_offset()
                    if offset is not None:
                        regions.append((offset, dset.id.get_storage_size()))
                else:
                    for i in range(dset.id.get_num_chunks()):
                        info = dset.id.get_chunk_info(i)
                        regions.append((info.byte_offset, info.size))
        regions = [(o, n) for o, n in regions if n > 0]
        if not regions:
            return
        offset, size = data.draw(st.sampled_from(regions), label="region")
        for _ in range(data.draw(st.integers(1, 8), label="flips")):
            raw[offset + data.draw(st.integers(0, size - 1))] ^= 0xFF
        path.write_bytes(raw)


# ------------------------------------------------------------------------------ the oracle
def _allowed(err: BaseException, path: Path) -> bool:
    if isinstance(err, FileNotFoundError):
        return False  # the file exists: a FileNotFoundError would be wrong
    if isinstance(err, ValueError):
        return True
    if type(err) is OSError:
        return str(err).startswith(f"{path}: ") and "read failed" in str(err)
    return False


def _event(text: str) -> None:
    # What the examples reached, shown by pytest --hypothesis-show-statistics.
    if currently_in_test_context():
        event(text)


def _check(path: Path, action: Callable[[], object], what: str) -> bool:
    """Run ``action``; True if it worked, False on a documented error, raise otherwise."""
    try:
        action()
    except Exception as err:
        if _allowed(err, path):
            _event(f"{what.split('[')[0]}: {type(err).__name__}")
            return False
        raise Undocumented(
            f"{what} raised an undocumented {type(err).__name__}: {err}\n"
            + "".join(traceback.format_exception(err))
        ) from err
    return True


def _exercise(path: Path) -> None:
    opened: dict[str, object] = {}
    if not _check(path, lambda: opened.setdefault("ds", sciml.data.open(path)), "open"):
        return
    ds = opened["ds"]
    _event("opened")
    for what, action in (("grid", lambda: ds.grid.shape), ("times", lambda: ds.times),
                         ("attrs", lambda: ds.attrs), ("repr", lambda: repr(ds)),
                         ("len", lambda: len(ds))):
        _check(path, action, what)
    for name in ds.fields:
        arr = ds.field(name)
        assert arr.ndim == ds.grid.ndim + 3, f"field {name}: shape {arr.shape}"
        assert arr.shape[2:-1] == ds.grid.shape
        for index in (0, -1, (slice(None), -1), (slice(None, None, -1), 0, ...)):
            got: dict[str, np.ndarray] = {}
            if _check(path, lambda a=arr, i=index, g=got: g.setdefault("v", a[i]),
                      f"{name}[{index}]"):
                expected = np.empty(arr.shape)[index].shape
                assert got["v"].shape == expected, (name, index, got["v"].shape, expected)
        _check(path, lambda a=arr: np.asarray(a), f"np.asarray({name})")
    for name, arr in ds.params.items():
        _check(path, lambda a=arr: a[0] if a.shape and a.shape[0] else a[()], f"param {name}")
    # Every field, numeric or not: a dataset must refuse a string field with a ValueError.
    numeric = list(ds.fields)
    first, last = numeric[0], numeric[-1]
    made: dict[str, object] = {}
    if _check(path, lambda: made.setdefault("op", OperatorDataset(ds, first, last)),
              "OperatorDataset"):
        op = made["op"]
        _check(path, lambda: op[0], "OperatorDataset[0]")
        _check(path, op.load, "OperatorDataset.load")
    series = [n for n in numeric if ds.field(n).shape[1] > 1]
    if series and _check(path, lambda: made.setdefault("win", WindowDataset(ds, series[0], 1)),
                         "WindowDataset"):
        _check(path, lambda: made["win"][len(made["win"]) - 1], "WindowDataset[-1]")


def _case(bases, workdir, data, layout: str) -> Path:
    path = workdir()
    shutil.copyfile(bases[layout], path)
    with h5py.File(path, "a") as f:
        # Mostly one change, so that many files open and the reads get fuzzed too.
        for _ in range(data.draw(st.sampled_from([0, 1, 1, 1, 2, 3]), label="mutations")):
            _mutate(f, data)
    _damage_bytes(path, data)
    note(f"layout {layout}, file {path}")
    return path


# ------------------------------------------------------------------------------ the tests
def test_good_bases_open_and_read(bases):
    """The unbroken files go all the way through, so the fuzz starts from working files."""
    for path in bases.values():
        ds = sciml.data.open(path)
        for name in ds.fields:
            assert np.isfinite(np.asarray(ds.field(name), dtype=np.float64)).all()
        _exercise(path)


@pytest.mark.parametrize("group", [("sciml",), ("pdebench", "pdebench-1d", "pdebench-darcy"),
                                   ("pdebench-cfd", "pdebench-groups"), ("the_well",)])
def test_malformed_files_fail_only_with_documented_errors(bases, workdir, group):
    torch.manual_seed(0)

    @FUZZ
    @given(data=st.data())
    def fuzz(data):
        layout = data.draw(st.sampled_from(group), label="layout")
        path = _case(bases, workdir, data, layout)
        try:
            _exercise(path)
        finally:
            os.unlink(path)

    fuzz()


@FUZZ
@given(raw=st.binary(max_size=2048), suffix=st.sampled_from([b"", b"\x89HDF\r\n\x1a\n"]))
def test_random_bytes_are_a_value_error(tmp_path_factory, raw, suffix):
    path = tmp_path_factory.mktemp("bytes") / "random.h5"
    path.write_bytes(suffix + raw)
    with pytest.raises(ValueError, match="cannot be read as an HDF5 file"):
        sciml.data.open(path)


# ------------------------------------------------------------------------------ regressions
def _swap(f: h5py.File, key: str, new) -> None:
    del f[key]
    if isinstance(new, str) and new == "group":
        f.create_group(key)
    else:
        f[key] = new


# Bugs the fuzzing (or reading the readers for it) found; each raised a TypeError,
# AttributeError or ComplexWarning before the fix.
REGRESSIONS = {
    "well complex time": ("the_well", None,
                          lambda f: _swap(f, "dimensions/time", np.zeros(5, np.complex64)),
                          r"'dimensions/time': expected real numbers, got dtype complex64"),
    "groups grid/t is a group": ("pdebench-groups", None,
                                 lambda f: _swap(f, "0000/grid/t", "group"),
                                 r"'0000/grid/t': expected a dataset, found a group"),
    "groups first entry a dataset": ("pdebench-groups", "pdebench-groups",
                                     lambda f: f.create_dataset("0", data=np.zeros(3)),
                                     r"'0': expected a per-sample group, found a dataset"),
    "native params a dataset": ("sciml", None, lambda f: _swap(f, "params", np.zeros(3)),
                                r"'params': expected a group of per-sample parameters"),
    "native grid/t a group": ("sciml", None, lambda f: _swap(f, "grid/t", "group"),
                              r"'grid/t': expected a dataset, found a group"),
    "native string coordinates": ("sciml", None,
                                  lambda f: _swap(f, "grid/y", np.array([b"a", b"b"])),
                                  r"'grid/y': expected real numbers, got dtype \|S1"),
    "pdebench complex coordinates": ("pdebench", None,
                                     lambda f: _swap(f, "x-coordinate", np.ones(8, complex)),
                                     r"'x-coordinate': expected real numbers"),
}


@pytest.mark.parametrize("case", list(REGRESSIONS))
def test_regressions_are_value_errors(bases, workdir, case):
    layout, forced, action, match = REGRESSIONS[case]
    path = workdir()
    shutil.copyfile(bases[layout], path)
    with h5py.File(path, "a") as f:
        action(f)
    with pytest.raises(ValueError, match=match) as info:
        sciml.data.open(path, layout=forced)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("value", [5, np.array([["x", "y"], ["x", "y"]], dtype="S1")])
def test_well_associated_dims_of_any_shape(bases, workdir, value):
    """A scalar or 2-D ``associated_dims`` once raised TypeError (list(int), unhashable)."""
    path = workdir()
    shutil.copyfile(bases["the_well"], path)
    with h5py.File(path, "a") as f:
        f["boundary_conditions/x_periodic"].attrs["associated_dims"] = value
    ds = sciml.data.open(path)
    assert not ds.grid.periodic_axes["x"]  # no longer associated with axis "x" by name
    assert ds.attrs["boundary_conditions"]["x_periodic"]["bc_type"] == "periodic"


def test_datasets_refuse_string_fields(bases, workdir):
    path = workdir()
    shutil.copyfile(bases["sciml"], path)
    with h5py.File(path, "a") as f:
        shape = f["fields/a"].shape
        _swap(f, "fields/a", np.full(shape, "s", dtype=h5py.string_dtype()))
    ds = sciml.data.open(path)
    with pytest.raises(ValueError, match=r"field 'a' has dtype object"):
        OperatorDataset(ds, "a", "u")
    with pytest.raises(ValueError, match=r"field 'a' has dtype object"):
        WindowDataset(ds, "u", 1, static="a")
    with h5py.File(path, "a") as f:
        _swap(f, "fields/a", np.ones(shape, dtype=np.complex64))
    ds = sciml.data.open(path)
    with pytest.raises(ValueError, match=r"field 'a' has dtype complex64; .* real numeric"):
        OperatorDataset(ds, "a", "u")
    x, _ = OperatorDataset(ds, "a", "u", dtype=torch.complex64)[0]
    assert x.dtype == torch.complex64 and torch.equal(x, torch.ones_like(x))
