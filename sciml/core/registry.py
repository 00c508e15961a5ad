"""Name-to-class registries.

Checkpoints store a class name and a constructor config; the CLI and config files refer to
problems, solvers, models and data generators by name. Each kind has one registry here, so a
name resolves the same way everywhere and an unknown name lists the known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["GENERATORS", "MODELS", "PROBLEMS", "SOLVERS", "Registry"]


class Registry(Generic[T]):
    """A mapping from names to classes or functions of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator adding an entry under ``name`` (default: its ``__name__``)."""

        def add(obj: T) -> T:
            key = name or obj.__name__  # type: ignore[attr-defined]
            existing = self._entries.get(key)
            if existing is not None and existing is not obj:
                qual = getattr(existing, "__qualname__", existing)
                raise ValueError(f"{self.kind} {key!r} is already registered to {qual}")
            self._entries[key] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        """Look up ``name``; an unknown name raises ``ValueError`` listing the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise ValueError(
                f"unknown {self.kind} {name!r}; known {self.kind}s are {sorted(self._entries)}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


MODELS: Registry[Any] = Registry("model")
SOLVERS: Registry[Any] = Registry("solver")
PROBLEMS: Registry[Any] = Registry("problem")
GENERATORS: Registry[Any] = Registry("data generator")
