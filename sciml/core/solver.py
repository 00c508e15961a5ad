"""The solver contract shared by every method in sciml.

``__init__`` stores options only; ``fit(problem)`` learns and returns ``self``; learned
attributes end in ``_``; ``predict`` works after ``fit`` or ``load``; ``save``/``load`` use one
checkpoint file.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Any, ClassVar, TypeVar

__all__ = ["NotFittedError", "Solver"]

S = TypeVar("S", bound="Solver")


class NotFittedError(RuntimeError):
    """Raised when ``predict`` or ``save`` is called before ``fit`` or ``load``."""


class Solver(ABC):
    """Abstract base class of all solvers.

    Subclasses set :attr:`problem_types` to the problem classes they accept and implement
    :meth:`fit`, :meth:`predict`, :meth:`save` and :meth:`load`.
    """

    #: Problem classes this solver can fit.
    problem_types: ClassVar[tuple[type, ...]] = ()

    @abstractmethod
    def fit(self: S, problem: Any) -> S:
        """Learn from ``problem`` and return ``self``."""

    @abstractmethod
    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Evaluate the fitted solver."""

    @abstractmethod
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted state to one checkpoint file."""

    @classmethod
    @abstractmethod
    def load(cls: type[S], path: str | os.PathLike[str], device: str = "auto") -> S:
        """Rebuild a fitted solver from :meth:`save` output."""

    @property
    def is_fitted(self) -> bool:
        """Whether learned state is present."""
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _check_fitted(self, action: str) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"{type(self).__name__}.{action}: the solver is not fitted; call fit(problem) "
                f"or {type(self).__name__}.load(path) first"
            )

    def _check_problem(self, problem: Any) -> None:
        if self.problem_types and not isinstance(problem, self.problem_types):
            names = [t.__name__ for t in self.problem_types]
            raise ValueError(
                f"problem: {type(self).__name__} fits {names}, got {type(problem).__name__}"
            )
