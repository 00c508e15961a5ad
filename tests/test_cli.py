import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import sciml
from sciml.cli import main
from sciml.problems.darcy import generate_darcy


def test_info_prints_versions_device_threads(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for word in ("sciml", "torch", "device", "threads"):
        assert word in out


def test_data_generate_darcy_matches_the_reference_generator(tmp_path, capsys):
    path = tmp_path / "d.h5"
    args = ["data", "generate", "darcy", "--n", "70", "--resolution", "9", "--seed", "3"]
    assert main([*args, "-o", str(path), "--no-progress"]) == 0
    with sciml.data.open(path) as ds:
        assert ds.attrs["pde"] == "darcy"
        assert ds.field("coefficient").shape == (70, 1, 9, 9, 1)
        # Streaming in blocks must give the same samples as one call with the same seed.
        ref = generate_darcy(70, 9, seed=3, progress=False)
        np.testing.assert_allclose(ds.field("solution")[:, 0, :, :, 0], ref["solution"],
                                   rtol=1e-6, atol=1e-9)
        assert set(np.unique(ds.field("coefficient")[:])) == {3.0, 12.0}
        assert ds.grid.names == ("x", "y")


def test_data_generate_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["data", "generate", "heat", "--n", "2", "--resolution", "9", "-o", "x.h5"])
    assert exc.value.code == 2
    assert "invalid choice: 'heat'" in capsys.readouterr().err
    assert main(["data", "generate", "darcy", "--n", "0", "--resolution", "9",
                 "-o", str(tmp_path / "x.h5")]) == 2
    assert "n: expected an integer >= 1, got 0" in capsys.readouterr().err


def test_quickstart_small_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "qs"
    code = main(["quickstart", "--out", str(out), "--n-train", "24", "--n-test", "8",
                 "--resolution", "16", "--epochs", "2", "--no-progress", "--device", "cpu"])
    assert code == 0
    text = capsys.readouterr().out
    assert "test relative L2 =" in text and "rel_l2" in text
    for name in ("darcy.h5", "model.pt", "report.json", "compare.png", "history.png"):
        assert (out / name).stat().st_size > 0
    report = json.loads((out / "report.json").read_text())
    assert 0 < report["metrics"]["test"]["rel_l2"] < 1
    solver = sciml.neural.NeuralOperatorSolver.load(out / "model.pt", device="cpu")
    assert len(solver.history_) == 2


@pytest.mark.skipif(shutil.which("sciml") is None, reason="console script not installed")
def test_console_script_entry_point():
    result = subprocess.run(["sciml", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "quickstart" in result.stdout


def test_module_invocation():
    result = subprocess.run([sys.executable, "-m", "sciml.cli", "info"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
