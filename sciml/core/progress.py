"""Progress bars for long work, shared by training, data generation and solvers.

In a terminal the bar refreshes several times a second; when output goes to a log file or a
CI console (not a TTY) it refreshes at most every 30 seconds, so logs stay readable.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress_bar"]

#: Seconds between refreshes when stderr is not a terminal.
LOG_INTERVAL = 30.0
#: tqdm's default layout with the count rounded to one decimal.
FRACTIONAL_FORMAT = (
    "{l_bar}{bar}| {n:.1f}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
)


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    initial: int = 0,
    fractional: bool = False,
) -> tqdm:
    """A tqdm bar (disabled when ``enabled`` is False), throttled when not in a terminal.

    ``fractional=True`` is for bars moved by fractions of a unit (a sample that reaches its
    output times one by one): the count is shown with one decimal ("33.3/240") instead of
    every digit of the float.
    """
    interactive = getattr(sys.stderr, "isatty", lambda: False)()
    extra = {"bar_format": FRACTIONAL_FORMAT} if fractional else {}
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        initial=initial,
        disable=not enabled,
        dynamic_ncols=True,
        mininterval=0.1 if interactive else LOG_INTERVAL,
        **extra,
    )
