"""Lazy re-exports for package ``__init__`` modules (PEP 562).

``import sciml`` must be cheap: reading an HDF5 file should not pay for importing torch, and
the command line should start quickly. Each package lists its public names and where they
live; a name is imported on first access and then cached in the package namespace.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], submodules: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Build ``__getattr__``, ``__dir__`` and ``__all__`` for a package.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Public name to ``"module"`` (the attribute has the same name) or ``"module:attr"``.
    submodules : iterable of str
        Subpackages or modules reachable as attributes (``sciml.data``).
    """
    subs = tuple(submodules)
    names = sorted([*exports, *subs])

    def __getattr__(name: str) -> Any:
        if name in subs:
            value: Any = importlib.import_module(f"{package}.{name}")
        elif name in exports:
            module, _, attr = exports[name].partition(":")
            value = getattr(importlib.import_module(module), attr or name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names
