r"""Second-order jets: a network's value, gradient and pure second derivatives in one pass.

A physics-informed loss needs ``u``, ``u_x`` and ``u_xx`` at thousands of points. Nested
reverse-mode autograd builds them from two backward passes through the whole network, then
differentiates that graph once more for the parameter gradient. A jet instead carries, through
every layer, the value ``v``, the first derivatives ``v_a`` and the pure second derivatives
``v_aa`` along each input axis ``a`` (forward-mode Taylor propagation, as in the "forward
Laplacian" of Li et al. 2023): a linear layer maps all three linearly and an elementwise
function ``s`` gives ``s(v)``, ``s'(v) v_a`` and ``s'(v) v_aa + s''(v) v_a^2``. For the
Gaussian embedding the derivatives are closed form (see
:meth:`sciml.pig.embedding.GaussianEmbedding.jet`), so one matrix product gives all of them.
The parameter gradient is then a single ordinary backward pass.

Mixed derivatives (``u_xy``) and orders above two are not carried; :func:`jet_field` leaves
them to autograd, which differentiates the carried first derivatives. A first-order jet
(``hess=None``) carries only the value and the gradient, for residuals with first derivatives
only (transport equations, Neumann and initial-velocity terms): about half the work of the
second-order one. :func:`derivative_order` finds the order a residual needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from sciml.core.residual import AutogradField, Coordinates, FieldEvaluation, GridField

__all__ = ["Jet", "check_order", "derivative_order", "jet_field", "supports_jet"]


@dataclass
class Jet:
    """A function and its derivatives at ``n`` points with respect to ``d`` input axes.

    Attributes
    ----------
    value : tensor, shape ``(n, *channels)``
    grad : tensor, shape ``(d, n, *channels)``
        ``grad[a] = dv / dx_a``.
    hess : tensor, shape ``(d, n, *channels)``, or None
        ``hess[a] = d^2 v / dx_a^2`` (the diagonal of the Hessian only); ``None`` in a
        first-order jet.
    """

    value: torch.Tensor
    grad: torch.Tensor
    hess: torch.Tensor | None = None

    @property
    def order(self) -> int:
        """1 for a first-order jet, 2 when the second derivatives are carried."""
        return 1 if self.hess is None else 2

    @classmethod
    def identity(cls, x: torch.Tensor, order: int = 2) -> Jet:
        """The jet of the input points themselves: ``x`` of shape ``(n, d)``."""
        d = x.shape[1]
        eye = torch.eye(d, dtype=x.dtype, device=x.device)
        hess = x.new_zeros(d, *x.shape) if check_order(order) == 2 else None
        return cls(x, eye[:, None, :].expand(d, x.shape[0], d), hess)

    def linear(self, layer: nn.Linear) -> Jet:
        """Apply ``layer`` over the last axis (the bias only moves the value)."""
        w = layer.weight.T
        return Jet(layer(self.value), self.grad @ w, _maybe(self.hess, lambda h: h @ w))

    def map(
        self,
        f: Callable[[torch.Tensor], torch.Tensor],
        df: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    ) -> Jet:
        """Elementwise function: ``df(v, f(v))`` returns ``(f'(v), f''(v))``."""
        out = f(self.value)
        d1, d2 = df(self.value, out)
        hess = None if self.hess is None else d1 * self.hess + d2 * self.grad**2
        return Jet(out, d1 * self.grad, hess)

    def tanh(self) -> Jet:
        """``tanh`` with ``tanh' = 1 - t^2`` and ``tanh'' = -2 t (1 - t^2)``."""

        def derivatives(_: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            d1 = 1 - t * t
            return d1, -2 * t * d1

        return self.map(torch.tanh, derivatives)

    def __mul__(self, other: Jet) -> Jet:
        """Product rule: ``(uv)_aa = u_aa v + 2 u_a v_a + u v_aa``."""
        u, v = self.value, other.value
        hess = None
        if self.hess is not None and other.hess is not None:
            hess = self.hess * v + 2 * self.grad * other.grad + u * other.hess
        return Jet(u * v, self.grad * v + u * other.grad, hess)

    def scale_axes(self, scale: torch.Tensor) -> Jet:
        """Chain rule for the input map ``z_a = scale_a x_a + c_a``: jets in ``z`` to ``x``."""
        shape = (-1,) + (1,) * (self.grad.ndim - 1)
        s = scale.reshape(shape).to(self.grad)
        return Jet(self.value, self.grad * s, _maybe(self.hess, lambda h: h * s * s))

    def squeeze(self, dim: int = -1) -> Jet:
        """Drop a size-1 channel axis from all three parts."""
        hess = _maybe(self.hess, lambda h: h.squeeze(dim))
        return Jet(self.value.squeeze(dim), self.grad.squeeze(dim), hess)

    def __add__(self, constant: float) -> Jet:
        return Jet(self.value + constant, self.grad, self.hess)

    __radd__ = __add__


def _maybe(
    tensor: torch.Tensor | None, f: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor | None:
    return None if tensor is None else f(tensor)


def check_order(order: int) -> int:
    """``order`` if it is 1 or 2 (the orders a jet carries), else a ``ValueError``."""
    if order not in (1, 2):
        raise ValueError(f"order: expected 1 or 2, got {order!r}")
    return order


def supports_jet(model: nn.Module) -> bool:
    """Whether ``model`` can return its jet (it has a ``jet`` method that says it can)."""
    check = getattr(model, "has_jet", None)
    return bool(check()) if callable(check) else False


def jet_field(
    model: nn.Module, points: torch.Tensor, names: Sequence[str], order: int = 2
) -> AutogradField:
    """Evaluate ``model`` at ``points`` as a residual field, derivatives from its jet.

    ``u.value``, ``u.d("x")`` and (``order=2``) ``u.d("xx")`` come from one jet pass; anything
    else (``u.d("xy")``, ``u.d("xxx")``) is taken by autograd from the carried derivatives, so
    every residual still works whatever the order.

    Parameters
    ----------
    model : nn.Module
        A network with a ``jet(points) -> Jet`` method (value shape ``(n,)``).
    points : tensor, shape ``(n, ndim)``
    names : sequence of str
        Axis names, one per column.
    order : {1, 2}
        Highest derivative order carried by the jet.
    """
    pts = points.detach().requires_grad_(True)
    jet = model.jet(pts, order=check_order(order))
    known = {}
    for a, name in enumerate(names):
        known[(name,)] = jet.grad[a]
        if jet.hess is not None:
            known[(name, name)] = jet.hess[a]
    return AutogradField(jet.value, pts, names, known=known)


def derivative_order(
    residual: Callable[[FieldEvaluation, Coordinates], object],
    points: torch.Tensor,
    names: Sequence[str],
) -> int:
    """The highest derivative order ``residual(u, x)`` asks of ``u`` at ``points``.

    The residual is called once on a zero field that records the derivatives it is asked for.
    A residual that fails on that field gets 2: the order only decides how much a jet
    carries, and anything it does not carry is still taken by autograd.

    Parameters
    ----------
    residual : callable
        ``residual(u, x)`` as in :class:`~sciml.core.problem.PDEProblem`.
    points : tensor, shape ``(n, ndim)``
        A few points of the domain.
    names : sequence of str
        Axis names, one per column.
    """
    pts = points.detach()
    zero = pts.new_zeros(pts.shape[0])
    probe = GridField(lambda counts: zero, names)  # records what the residual asks for
    try:
        with torch.no_grad():
            residual(probe, Coordinates.from_points(pts, names))
    except Exception:  # a failure on the zero field only means: carry everything
        return 2
    return 2 if any(sum(counts) > 1 for counts in probe.used) else 1
