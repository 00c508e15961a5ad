"""Every example script runs end to end in its reduced-size mode and saves its figures."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_quick(script, tmp_path):
    result = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    pngs = list(tmp_path.glob("*.png"))
    assert pngs, "an example must save at least one figure"
    assert all(p.stat().st_size > 10_000 for p in pngs)


def test_there_are_examples():
    assert EXAMPLES
