"""Reading a large file one sample at a time keeps the resident memory small.

The reader runs in a fresh interpreter (benchmarks/data_access.py), reading every sample
once in random order; peak RSS is the kernel's VmHWM of that process. The default test
uses a 96 MB file; the slow test is the 2 GB case of the issue. ``sciml`` imports lazily, so
reading through ``sciml.data.open`` must not load torch (~250 MB resident on its own).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self/status"
)


def _bench():
    spec = importlib.util.spec_from_file_location(
        "data_access_bench", REPO / "benchmarks" / "data_access.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reading_a_file_one_sample_at_a_time_does_not_load_it(tmp_path):
    bench = _bench()
    path = tmp_path / "big.h5"
    n = bench.make_large_file(path, size_gb=96 / 1024)
    assert n == 96 and path.stat().st_size > 96 * 2**20
    r = bench.measure_memory(path)
    assert r["samples"] == 96 and not r["torch"]
    assert r["peak_mb"] - r["after_open_mb"] < 48  # less than half the file
    assert r["peak_mb"] < 300


@pytest.mark.slow
def test_two_gigabyte_file_stays_under_300_mb(tmp_path):
    bench = _bench()
    path = tmp_path / "big.h5"
    bench.make_large_file(path, size_gb=2.0)
    assert path.stat().st_size > 2 * 2**30
    r = bench.measure_memory(path)
    assert not r["torch"]
    assert r["peak_mb"] < 300
