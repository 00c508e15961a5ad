"""Field evaluations on a tensor grid for the GP solver (the residual contract's ``u``).

:class:`GridField` gives ``u.value`` and ``u.d("xx")`` at every grid point from a function
that applies per-axis derivative matrices (mode products) to the grid values. :class:`ProbeField`
hands the residual independent leaf tensors for the value and each derivative it asks for, so
one backward pass yields the pointwise coefficients of the linearised residual
``r(u + du) ≈ r(u) + sum_s c_s * D_s du``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from sciml.core.residual import FieldEvaluation, parse_derivative

__all__ = ["GridField", "ProbeField", "derivative_counts"]

Counts = tuple[int, ...]


def derivative_counts(spec: str | Sequence[str], names: Sequence[str]) -> Counts:
    """How many times each axis appears in a derivative spec: ``"xxy"`` -> ``(2, 1)``."""
    axes = parse_derivative(spec, names)
    return tuple(axes.count(a) for a in names)


class GridField(FieldEvaluation):
    """``u`` on a grid; ``evaluate(counts)`` returns the flattened derivative values.

    Parameters
    ----------
    evaluate : callable ``(counts) -> tensor (n,)``
        ``counts`` is a tuple of derivative orders per axis (all zeros for the value).
    names : sequence of str
        Axis names.
    """

    def __init__(self, evaluate: Callable[[Counts], torch.Tensor], names: Sequence[str]) -> None:
        self._evaluate = evaluate
        self._names = tuple(names)
        self._cache: dict[Counts, torch.Tensor] = {}

    def _get(self, counts: Counts) -> torch.Tensor:
        if counts not in self._cache:
            self._cache[counts] = self._evaluate(counts)
        return self._cache[counts]

    @property
    def value(self) -> torch.Tensor:
        return self._get((0,) * len(self._names))

    def d(self, spec: str | Sequence[str]) -> torch.Tensor:
        return self._get(derivative_counts(spec, self._names))

    @property
    def used(self) -> list[Counts]:
        """Derivative counts the residual asked for so far."""
        return list(self._cache)


class ProbeField(GridField):
    """Like :class:`GridField`, but every requested quantity is a fresh leaf tensor.

    After ``r = residual(probe, x)``, :meth:`coefficients` returns ``dr_i / d(D_s u)_i`` for
    every requested derivative ``s``; the residual must be pointwise (entry ``i`` depends
    only on the field at point ``i``), as every PDE residual is.
    """

    def _get(self, counts: Counts) -> torch.Tensor:
        if counts not in self._cache:
            self._cache[counts] = self._evaluate(counts).detach().requires_grad_(True)
        return self._cache[counts]

    def coefficients(self, residual: torch.Tensor) -> dict[Counts, torch.Tensor]:
        """Pointwise partial derivatives of ``residual`` with respect to each leaf."""
        if not self._cache:
            raise ValueError(
                "residual: does not use the solution (neither u.value nor u.d(...)); "
                "nothing to solve for"
            )
        leaves = list(self._cache.values())
        if not residual.requires_grad:
            zeros = {k: torch.zeros_like(v) for k, v in self._cache.items()}
            return zeros
        grads = torch.autograd.grad(residual.sum(), leaves, allow_unused=True)
        return {
            k: (g.detach() if g is not None else torch.zeros_like(v))
            for (k, v), g in zip(self._cache.items(), grads)
        }
