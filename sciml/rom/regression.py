"""POD + Gaussian-process surrogate, for when only snapshots are available (MMGP without the
morphing step).

Outputs ``y_j`` ``(n,)`` are compressed to POD coefficients ``z_j = V^T X (y_j - ybar)``
``(r,)``; inputs are parameters ``mu_j`` ``(p,)`` (or fields, compressed by their own POD). One
Gaussian process with an ARD Matern-5/2 kernel,

    k(a, b) = s^2 (1 + sqrt(5) d + 5 d^2 / 3) exp(-sqrt(5) d),  d^2 = sum_i (a_i - b_i)^2 / l_i^2,

is shared by the (standardised) output coefficients; its hyperparameters ``l, s^2`` and the
noise variance maximise the summed log marginal likelihood (L-BFGS, float64). Predictions
give the posterior mean field ``ybar + V z*`` and its pointwise variance
``sum_k V[:, k]^2 var(z*_k)``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml.core.problem import ParametricProblem
from sciml.core.registry import SOLVERS
from sciml.core.solver import Solver
from sciml.core.validation import check_choice, describe
from sciml.rom.pod import pod
from sciml.train.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["PODGPSurrogate", "gp_posterior", "matern52"]


def matern52(
    a: torch.Tensor, b: torch.Tensor, lengthscales: torch.Tensor, variance: torch.Tensor
) -> torch.Tensor:
    """ARD Matern-5/2 kernel matrix ``(n_a, n_b)`` between points ``(n_a, d)`` and ``(n_b, d)``.

    The distance is taken through ``sqrt(max(d^2, tiny))`` so that hyperparameter gradients
    stay finite on the diagonal (where the kernel is flat in ``d``).
    """
    diff = (a[:, None, :] - b[None, :, :]) / lengthscales
    d = torch.sqrt(torch.clamp((diff**2).sum(-1), min=1e-36))
    s5d = math.sqrt(5.0) * d
    return variance * (1.0 + s5d + s5d**2 / 3.0) * torch.exp(-s5d)


def gp_posterior(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    lengthscales: torch.Tensor,
    variance: torch.Tensor,
    noise: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean ``(n_test, r)`` and variance ``(n_test,)`` (the same for each output).

    ``mean = K*^T (K + noise I)^{-1} Y``, ``var = k(x, x) - K*^T (K + noise I)^{-1} K*``.
    """
    k = matern52(x_train, x_train, lengthscales, variance)
    k = k + noise * torch.eye(k.shape[0], dtype=k.dtype, device=k.device)
    chol = torch.linalg.cholesky(k)
    ks = matern52(x_train, x_test, lengthscales, variance)
    alpha = torch.cholesky_solve(y_train, chol)
    w = torch.linalg.solve_triangular(chol, ks, upper=False)
    var = variance - (w**2).sum(0)
    return ks.T @ alpha, torch.clamp(var, min=0.0)


def _hyperparameters(
    raw_l: torch.Tensor, raw_s2: torch.Tensor, raw_noise: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bounded hyperparameters from unconstrained ones (sigmoids in log space).

    Inputs are scaled to [0, 1] and outputs standardised, so lengthscales in
    ``[e^-4, e^3]``, signal variance in ``[e^-6, e^6]`` and a noise variance of ``1e-10`` to
    ``0.1`` times the signal variance keep the kernel matrix well conditioned.
    """
    lengthscales = torch.exp(-4.0 + 7.0 * torch.sigmoid(raw_l))
    variance = torch.exp(-6.0 + 12.0 * torch.sigmoid(raw_s2))
    noise = variance * torch.exp(-23.0 + 20.7 * torch.sigmoid(raw_noise))
    return lengthscales, variance, noise


def _neg_log_marginal(
    x: torch.Tensor, y: torch.Tensor, raw_l: torch.Tensor, raw_s2: torch.Tensor,
    raw_noise: torch.Tensor,
) -> torch.Tensor:
    lengthscales, variance, noise = _hyperparameters(raw_l, raw_s2, raw_noise)
    k = matern52(x, x, lengthscales, variance)
    k = k + noise * torch.eye(k.shape[0], dtype=k.dtype)
    chol = torch.linalg.cholesky(k)
    alpha = torch.cholesky_solve(y, chol)
    r = y.shape[1]
    return 0.5 * (y * alpha).sum() + r * torch.log(torch.diagonal(chol)).sum()


class _State(nn.Module):
    def __init__(self, tensors: Mapping[str, torch.Tensor]) -> None:
        super().__init__()
        for name, value in tensors.items():
            self.register_buffer(name, torch.as_tensor(value))


@SOLVERS.register("PODGPSurrogate")
class PODGPSurrogate(Solver):
    """POD of the outputs + a Gaussian process (ARD Matern-5/2) on the POD coefficients.

    Parameters
    ----------
    n_train : int
        Snapshots drawn by :meth:`fit` from the problem (ignored by :meth:`fit_data`).
    sampling : {"lhs", "random"}
        How :meth:`fit` draws training parameters.
    n_modes : int, optional
        Output POD modes (default: by ``energy``).
    energy : float
        Captured energy fraction when ``n_modes`` is not given.
    input_modes : int, optional
        When inputs are fields ``(m, n_in)``, compress them to this many POD coefficients.
    max_iter : int
        L-BFGS iterations for the hyperparameters.
    seed : int
        Seed of the training parameters.
    """

    problem_types = (ParametricProblem,)

    def __init__(
        self,
        n_train: int = 64,
        sampling: str = "lhs",
        n_modes: int | None = None,
        energy: float = 1.0 - 1e-8,
        input_modes: int | None = None,
        max_iter: int = 200,
        seed: int = 0,
    ) -> None:
        self.n_train = n_train
        self.sampling = sampling
        self.n_modes = n_modes
        self.energy = energy
        self.input_modes = input_modes
        self.max_iter = max_iter
        self.seed = seed

    def fit(self, problem: ParametricProblem) -> PODGPSurrogate:
        """Draw ``n_train`` parameters, solve the full-order model, fit on the snapshots."""
        self._check_problem(problem)
        check_choice("sampling", self.sampling, ("lhs", "random"))
        mus = problem.sample(self.n_train, seed=self.seed, method=self.sampling)
        outputs = np.stack([np.asarray(problem.solve(problem.as_dict(m)), float) for m in mus])
        self.names_ = list(problem.space.names)
        return self.fit_data(mus, outputs)

    def fit_data(self, inputs: np.ndarray, outputs: np.ndarray) -> PODGPSurrogate:
        """Fit on pairs: inputs ``(m, p)`` (parameters or fields) and outputs ``(m, n)``."""
        x = np.asarray(inputs, dtype=float)
        y = np.asarray(outputs, dtype=float)
        if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[0] < 2:
            raise ValueError(
                f"inputs, outputs: expected arrays (m, p) and (m, n) with the same m >= 2, got "
                f"{describe(x)} and {describe(y)}"
            )
        start = time.perf_counter()
        if self.input_modes is not None:
            self.input_mean_ = x.mean(0)
            self.input_modes_ = pod((x - self.input_mean_).T, n_modes=self.input_modes).modes
            x = (x - self.input_mean_) @ self.input_modes_
        self.x_low_, self.x_high_ = x.min(0), x.max(0)
        span = np.where(self.x_high_ > self.x_low_, self.x_high_ - self.x_low_, 1.0)
        self.x_span_ = span
        xn = (x - self.x_low_) / span
        self.mean_ = y.mean(0)
        res = pod((y - self.mean_).T, n_modes=self.n_modes, energy=self.energy)
        self.modes_ = res.modes
        self.singular_values_ = res.singular_values
        z = (y - self.mean_) @ self.modes_
        self.z_mean_, self.z_std_ = z.mean(0), np.where(z.std(0) > 0, z.std(0), 1.0)
        zn = (z - self.z_mean_) / self.z_std_
        xt = torch.as_tensor(xn)
        zt = torch.as_tensor(zn)
        # Start: lengthscale ~0.5, variance 1, relative noise ~1e-8.
        raw_l = torch.full((xt.shape[1],), -0.25, dtype=torch.float64, requires_grad=True)
        raw_s2 = torch.zeros((), dtype=torch.float64, requires_grad=True)
        raw_noise = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([raw_l, raw_s2, raw_noise], max_iter=self.max_iter,
                                line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = _neg_log_marginal(xt, zt, raw_l, raw_s2, raw_noise)
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            ls, s2, noise = _hyperparameters(raw_l, raw_s2, raw_noise)
        self.lengthscales_, self.variance_, self.noise_ = ls, s2, noise
        self.x_train_ = xt
        self.z_train_ = zt
        self.timings_ = {"fit": time.perf_counter() - start}
        self.history_: list[dict[str, float]] = []
        return self

    def _inputs(self, mu: Any) -> tuple[np.ndarray, bool]:
        if isinstance(mu, Mapping):
            names = getattr(self, "names_", list(mu))
            return np.array([[float(mu[n]) for n in names]]), True
        arr = np.asarray(mu, dtype=float)
        return np.atleast_2d(arr), arr.ndim <= 1

    def predict(self, mu: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, ...]:
        """Mean output ``(n,)`` for one input, ``(B, n)`` for a batch; with ``return_std`` also
        the pointwise posterior standard deviation of the same shape."""
        self._check_fitted("predict")
        x, single = self._inputs(mu)
        if self.input_modes is not None:
            x = (x - self.input_mean_) @ self.input_modes_
        xn = torch.as_tensor((x - self.x_low_) / self.x_span_)
        mean, var = gp_posterior(self.x_train_, self.z_train_, xn, self.lengthscales_,
                                 self.variance_, self.noise_)
        z = mean.numpy() * self.z_std_ + self.z_mean_
        out = self.mean_ + z @ self.modes_.T
        if not return_std:
            return out[0] if single else out
        coeff_var = var.numpy()[:, None] * self.z_std_[None] ** 2
        std = np.sqrt(coeff_var @ (self.modes_**2).T)
        return (out[0], std[0]) if single else (out, std)

    # -- persistence ---------------------------------------------------------------------
    _ARRAYS = ("mean_", "modes_", "singular_values_", "z_mean_", "z_std_", "x_low_", "x_span_",
               "x_high_", "lengthscales_", "variance_", "noise_", "x_train_", "z_train_",
               "input_mean_", "input_modes_")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the surrogate to one checkpoint file."""
        self._check_fitted("save")
        tensors = {k.rstrip("_"): torch.as_tensor(getattr(self, k)) for k in self._ARRAYS
                   if hasattr(self, k)}
        config = {"n_train": self.n_train, "sampling": self.sampling, "n_modes": self.n_modes,
                  "energy": self.energy, "input_modes": self.input_modes,
                  "max_iter": self.max_iter, "seed": self.seed}
        save_checkpoint(path, model=_State(tensors), config=config,
                        extra={"names": getattr(self, "names_", None), "timings": self.timings_},
                        rng=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str = "auto") -> PODGPSurrogate:
        """Rebuild from :meth:`save` output (the GP runs on the CPU in float64)."""
        ckpt = load_checkpoint(path, map_location="cpu")
        obj = cls(**(ckpt.config or {}))
        for key, value in ckpt.model_state.items():
            name = key + "_"
            keep_tensor = name in ("lengthscales_", "variance_", "noise_", "x_train_", "z_train_")
            setattr(obj, name, value if keep_tensor else value.numpy())
        if ckpt.extra.get("names") is not None:
            obj.names_ = list(ckpt.extra["names"])
        obj.timings_ = dict(ckpt.extra.get("timings", {}))
        obj.history_ = []
        return obj
