import json

import pytest

from sciml.core.report import Report


def test_report_table_json_round_trip(tmp_path):
    r = Report(problem="darcy", solver="NeuralOperatorSolver")
    r.add("32", rel_l2=0.0123, n=100)
    r.add("64", rel_l2=0.0234, n=100)
    r.timings["fit"] = 95.25
    r.history = [{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}]
    text = r.table()
    assert "darcy / NeuralOperatorSolver" in text
    lines = text.splitlines()
    row32 = next(line for line in lines if line.startswith("32"))
    assert "0.0123" in row32 and "100" in row32
    assert "95.2500" in text
    assert row32.split()[-1] == "100"
    path = tmp_path / "r.json"
    r.to_json(path)
    back = Report.from_json(path)
    assert back == r
    assert Report.from_json(r.to_json()) == r
    assert json.loads(path.read_text())["metrics"]["64"]["rel_l2"] == 0.0234


def test_report_metric_lookup_errors():
    r = Report()
    r.add("test", rel_l2=0.1)
    assert r.metric("rel_l2") == 0.1
    with pytest.raises(ValueError, match="metric: got 'h1'"):
        r.metric("h1")
    r.add("other", rel_l2=0.2)
    with pytest.raises(ValueError, match="name one of them"):
        r.metric("rel_l2")
    with pytest.raises(ValueError, match="unknown keys"):
        Report.from_dict({"problem": "a", "bogus": 1})
