"""Writer(resume=True): interrupt, resume, and get the file an uninterrupted run writes."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from sciml.core.grid import Box, Grid
from sciml.data.hdf5 import Writer, open_dataset

N, T = 7, 3
GRID = Grid.uniform(Box(x=(0, 1), y=(0, 2)), (6, 4))
ATTRS = {"pde": "heat", "params": {"nu": 0.1}, "note": "resume"}
TIMES = np.linspace(0, 1, T)
SPECS = {"u": ((T, 6, 4, 2), np.float32), "a": ((1, 6, 4, 1), np.float64)}


def sample(i: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(i)
    fields = {
        "u": rng.standard_normal((T, 6, 4, 2)).astype(np.float32),
        "a": rng.standard_normal((1, 6, 4, 1)),
    }
    return fields, {"seed": np.int64(i), "k": rng.random(2)}


def writer(path, **kw) -> Writer:
    opts = dict(attrs=ATTRS, times=TIMES, resume=True)
    opts.update(kw)
    return Writer(path, GRID, SPECS, N, **opts)


class Interrupt(KeyboardInterrupt):
    pass


def contents(path) -> dict[str, object]:
    """Every dataset and attribute of a file, for comparing two files by content."""
    out: dict[str, object] = {}
    with h5py.File(path, "r") as f:
        out["/"] = {k: np.asarray(v).tolist() for k, v in f.attrs.items()}

        def visit(name, obj):
            attrs = {k: np.asarray(v).tolist() for k, v in obj.attrs.items()}
            if isinstance(obj, h5py.Dataset):
                out[name] = (
                    obj.dtype.str,
                    obj.shape,
                    obj.chunks,
                    obj.compression,
                    obj[()].tobytes(),
                    attrs,
                )
            else:
                out[name] = attrs

        f.visititems(visit)
    return out


def test_interrupt_then_resume_gives_the_uninterrupted_file(tmp_path):
    ref = tmp_path / "ref.h5"
    with Writer(ref, GRID, SPECS, N, attrs=ATTRS, times=TIMES) as w:
        for i in range(N):
            w.write_sample(i, *sample(i))

    out = tmp_path / "out.h5"
    order = [3, 0, 5]
    with pytest.raises(Interrupt), writer(out) as w:
        for i in order:
            w.write_sample(i, *sample(i))
        raise Interrupt
    partial = Writer.partial_path(out)
    assert partial == tmp_path / "out.h5.partial"
    assert partial.exists() and not out.exists()

    w = writer(out)
    assert w.missing.tolist() == [1, 2, 4, 6]
    for i in w.missing[:2]:
        w.write_sample(int(i), *sample(int(i)))
    w.close()  # stop without committing; the partial file stays
    # a second interruption, from an ordinary exception this time
    with pytest.raises(RuntimeError), writer(out) as w:
        assert w.missing.tolist() == [4, 6]
        raise RuntimeError("crash")
    with writer(out) as w:
        assert w.missing.tolist() == [4, 6]
        for i in w.missing:
            w.write_sample(int(i), *sample(int(i)))
    assert out.exists() and not partial.exists()
    assert contents(out) == contents(ref)
    with open_dataset(out) as ds:
        np.testing.assert_array_equal(ds.field("u")[5], sample(5)[0]["u"])


def test_resume_commit_with_missing_samples_keeps_the_partial_file(tmp_path):
    out = tmp_path / "o.h5"
    with pytest.raises(ValueError, match=r"never written.*kept for resume=True"), writer(out) as w:
        w.write_sample(0, *sample(0))
    assert Writer.partial_path(out).exists()
    w = writer(out)
    assert w.missing.tolist() == list(range(1, N))
    w.abort()  # abort is the one way to throw a partial file away
    assert not Writer.partial_path(out).exists()


def test_dropped_resumable_writer_keeps_its_work(tmp_path):
    out = tmp_path / "o.h5"
    w = writer(out)
    w.write_samples(
        1,
        {k: np.stack([sample(i)[0][k] for i in (1, 2)]) for k in SPECS},
        {k: np.stack([sample(i)[1][k] for i in (1, 2)]) for k in ("seed", "k")},
    )
    del w
    w = writer(out)
    assert w.missing.tolist() == [0, 3, 4, 5, 6]
    w.close()


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"attrs": {**ATTRS, "note": "other"}}, r"attrs\['note'\]"),
        ({"attrs": {**ATTRS, "params": {"nu": 0.2}}}, r"attrs\['params'\]"),
        ({"times": TIMES * 2}, "times"),
        ({"compression": "gzip"}, "compression of fields/"),
        ({"grid": Grid.uniform(Box(x=(0, 1), y=(0, 3)), (6, 4))}, "grid coordinates 'y'"),
        ({"specs": {**SPECS, "u": ((T, 6, 4, 2), np.float64)}}, "fields"),
        ({"n": N + 1}, "n_samples"),
        ({"params": {"seed": ((), np.int64), "k": ((3,), np.float64)}}, "params"),
    ],
)
def test_resume_with_different_specs_names_the_difference(tmp_path, change, what):
    out = tmp_path / "o.h5"
    with pytest.raises(Interrupt), writer(out) as w:
        w.write_sample(0, *sample(0))
        raise Interrupt
    grid = change.pop("grid", GRID)
    specs = change.pop("specs", SPECS)
    n = change.pop("n", N)
    opts = dict(attrs=ATTRS, times=TIMES, resume=True)
    opts.update(change)
    with pytest.raises(ValueError, match=f"cannot resume: {what}.*differs") as info:
        Writer(out, grid, specs, n, **opts)
    assert "o.h5.partial" in str(info.value)
    # the partial file is untouched and still resumable
    w = writer(out)
    assert w.missing.tolist() == list(range(1, N))
    w.close()


def test_corrupt_partial_file_is_a_clear_error(tmp_path):
    out = tmp_path / "o.h5"
    Writer.partial_path(out).write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"o\.h5\.partial.*cannot be opened.*delete it"):
        writer(out)


def test_without_resume_an_exception_still_deletes_everything(tmp_path):
    out = tmp_path / "o.h5"
    with pytest.raises(Interrupt), Writer(out, GRID, SPECS, N, attrs=ATTRS, times=TIMES) as w:
        w.write_sample(0, *sample(0))
        raise Interrupt
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="resume: expected a bool"):
        Writer(out, GRID, SPECS, N, resume="yes")
