"""Field evaluations on a tensor grid for the GP solver (the residual contract's ``u``).

:class:`~sciml.core.residual.GridField` (re-exported here) gives ``u.value`` and ``u.d("xx")``
at every grid point from a function that applies per-axis derivative matrices (mode products)
to the grid values. :class:`ProbeField` hands the residual independent leaf tensors for the
value and each derivative it asks for, so one backward pass yields the pointwise coefficients
of the linearised residual ``r(u + du) ≈ r(u) + sum_s c_s * D_s du``.
"""

from __future__ import annotations

import torch

from sciml.core.residual import Counts, GridField, derivative_counts

__all__ = ["GridField", "ProbeField", "derivative_counts"]


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
