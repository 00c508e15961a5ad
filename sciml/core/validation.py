"""Argument checks shared by every public constructor.

Each check raises a ``ValueError`` that names the argument, the value received and what is
allowed, so a user can fix the call without reading the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_axis_names",
    "check_batch",
    "check_bool",
    "check_choice",
    "check_finite",
    "check_int",
    "check_pair_dataset",
    "check_positive",
    "check_shape",
    "describe",
]


def describe(value: Any, limit: int = 80) -> str:
    """Short description of a value for error messages (type, and shape for arrays)."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        dtype = getattr(value, "dtype", "")
        return f"{type(value).__name__} of shape {tuple(shape)} {dtype}".rstrip()
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} ({type(value).__name__})"


def check_axis_names(argument: str, names: Iterable[str], allowed: Sequence[str]) -> None:
    """Raise if any name is not one of ``allowed``."""
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(
            f"{argument}: unknown axis name(s) {unknown}; allowed axes are {list(allowed)}"
        )


def check_choice(argument: str, value: Any, allowed: Iterable[Any]) -> None:
    """Raise if ``value`` is not among ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{argument}: got {value!r}; allowed values are {allowed}")


def check_finite(argument: str, array: Any) -> None:
    """Raise if an array (numpy or torch) holds NaN or Inf, saying how many and where."""
    arr = array.detach().cpu().numpy() if hasattr(array, "detach") else np.asarray(array)
    if arr.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{argument}: {int(bad.sum())} non-finite value(s) (NaN or Inf) out of {arr.size}, "
            f"first at index {first}; all values must be finite"
        )


def check_shape(argument: str, shape: Sequence[int], expected: Sequence[int | None]) -> None:
    """Raise unless ``shape`` matches ``expected`` (``None`` matches any length)."""
    shape = tuple(shape)
    ok = len(shape) == len(expected) and all(
        e is None or s == e for s, e in zip(shape, expected)
    )
    if not ok:
        spelled = "(" + ", ".join("*" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{argument}: expected shape {spelled}, got {shape}")


def check_positive(argument: str, value: float, allow_zero: bool = False) -> None:
    """Raise unless ``value`` is a positive (or non-negative) finite number."""
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        need = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{argument}: expected a {need} finite number, got {value!r}")


def check_pair_dataset(argument: str, dataset: Any) -> int:
    """Raise unless ``dataset`` is a non-empty map-style dataset of ``(input, output)`` pairs;
    return its length."""
    try:
        n = len(dataset)
        dataset.__getitem__  # noqa: B018 - map-style datasets index by position
    except (TypeError, AttributeError):
        raise ValueError(
            f"{argument}: expected a map-style dataset of (input, output) pairs with __len__, "
            f"got {describe(dataset)}"
        ) from None
    if n == 0:
        raise ValueError(f"{argument}: the dataset is empty; it needs at least one sample")
    item = dataset[0]
    if not (isinstance(item, (tuple, list)) and len(item) == 2):
        raise ValueError(
            f"{argument}: items must be (input, output) pairs of tensors shaped "
            f"(channels, *space), got {describe(item)}"
        )
    return n


def check_batch(argument: str, x: Any, channels: int, n_space: int) -> None:
    """Raise unless ``x`` is a real floating-point tensor ``(batch, channels, *space)`` with
    ``n_space`` spatial axes."""
    if not hasattr(x, "ndim") or not hasattr(x, "is_floating_point"):
        raise ValueError(f"{argument}: expected a torch.Tensor, got {type(x).__name__}")
    if x.ndim != n_space + 2 or x.shape[1] != channels:
        raise ValueError(
            f"{argument}: expected shape (batch, {channels}, *space) with {n_space} "
            f"spatial axes, got {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise ValueError(
            f"{argument}: expected a real floating-point tensor, got dtype {x.dtype}"
        )


def check_int(argument: str, value: Any, minimum: int) -> int:
    """Raise unless ``value`` is an integer (not a bool) ``>= minimum``; return it as int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{argument}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def check_bool(argument: str, value: Any) -> bool:
    """Raise unless ``value`` is ``True`` or ``False`` (not merely truthy); return it."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{argument}: expected True or False, got {describe(value)}")
    return bool(value)
