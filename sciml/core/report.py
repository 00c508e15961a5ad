"""Reports: the metrics, timings and training history of one solver on one problem."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Report"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value.is_integer() and abs(value) < 1e6:
            return str(int(value))
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [list(header)] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass
class Report:
    """Metrics and timings of a solver on a problem.

    Attributes
    ----------
    problem, solver : str
        Names of what was evaluated.
    metrics : dict of str to dict of str to float
        ``metrics[test_set][metric]``, for example ``metrics["test"]["rel_l2"]``.
    timings : dict of str to float
        Wall-clock seconds, for example ``{"fit": 95.2, "predict": 0.4}``.
    history : list of dict
        One record per epoch (or step) of training, each with an ``"epoch"`` key and any
        of ``"train_loss"``, ``"lr"``, ``"time"`` and ``"<test set>/<metric>"``.
    info : dict
        Anything else worth keeping (configs, sizes, device); must be JSON-serialisable.
    """

    problem: str = ""
    solver: str = ""
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, test_set: str, **values: float) -> None:
        """Record metrics for one test set."""
        self.metrics.setdefault(test_set, {}).update({k: float(v) for k, v in values.items()})

    def metric(self, name: str, test_set: str | None = None) -> float:
        """One metric; ``test_set`` may be omitted when there is only one."""
        if test_set is None:
            if len(self.metrics) != 1:
                raise ValueError(
                    f"test_set: report has test sets {list(self.metrics)}; name one of them"
                )
            test_set = next(iter(self.metrics))
        if test_set not in self.metrics:
            raise ValueError(f"test_set: got {test_set!r}; report has {list(self.metrics)}")
        values = self.metrics[test_set]
        if name not in values:
            raise ValueError(f"metric: got {name!r}; {test_set!r} has {list(values)}")
        return values[name]

    # -- display ------------------------------------------------------------------------
    def table(self) -> str:
        """Plain-text table: one row per test set, one column per metric, then timings."""
        title = " / ".join(x for x in (self.problem, self.solver) if x) or "report"
        parts = [title]
        names: list[str] = []
        for values in self.metrics.values():
            names += [k for k in values if k not in names]
        if self.metrics:
            rows = [[s, *(v.get(k, float("nan")) for k in names)] for s, v in self.metrics.items()]
            parts.append(_table(["test set", *names], rows))
        if self.timings:
            rows = [[k, float(v)] for k, v in self.timings.items()]
            parts.append(_table(["timing", "seconds"], rows))
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self.table()

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, JSON-serialisable."""
        return {
            "problem": self.problem,
            "solver": self.solver,
            "metrics": self.metrics,
            "timings": self.timings,
            "history": self.history,
            "info": self.info,
        }

    def to_json(self, path: str | os.PathLike[str] | None = None, indent: int = 2) -> str:
        """JSON text of the report; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=True, default=_jsonable)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        allowed = {"problem", "solver", "metrics", "timings", "history", "info"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"report: unknown keys {sorted(unknown)}; allowed {sorted(allowed)}")
        return cls(**{k: data[k] for k in allowed if k in data})

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> Report:
        """Read a report from JSON text or from a file path."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = Path(source).read_text()
        return cls.from_dict(json.loads(text))


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"report value of type {type(obj).__name__} is not JSON-serialisable")
