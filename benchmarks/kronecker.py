"""Time one Kronecker solve: sciml.linalg.KroneckerOperator against linear_operator.

Both solve ``(A ⊗ B) x = b`` for the same two symmetric positive definite ``n x n`` factors
(squared-exponential Gram matrices on a uniform grid plus a nugget, as in the GP solver) and
one right-hand side of length ``n^2``, in float64, in the same process. Each library is timed
on fresh operators (no cached factorisation) alternately over ``--rounds`` rounds; the table
reports medians, the ratio, and the relative residual ``||(A ⊗ B) x - b|| / ||b||`` of each
answer (computed with Kronecker matvecs). linear_operator runs twice: with its defaults
(factors above 800 rows are solved by conjugate gradients) and forced onto its Cholesky path.

Usage::

    python benchmarks/kronecker.py [--n 1000] [--rounds 5] [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from sciml.linalg import KroneckerOperator


def gram(n: int, lengthscale: float, nugget: float) -> torch.Tensor:
    """A squared-exponential Gram matrix on ``linspace(0, 1, n)`` plus ``nugget * I``."""
    x = torch.linspace(0, 1, n, dtype=torch.float64)
    k = torch.exp(-((x[:, None] - x[None, :]) ** 2) / (2 * lengthscale**2))
    return k + nugget * torch.eye(n, dtype=torch.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="points per axis")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="n=200, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.n, args.rounds = 200, 2
    if args.threads:
        torch.set_num_threads(args.threads)
    from linear_operator import settings
    from linear_operator.operators import DenseLinearOperator, KroneckerProductLinearOperator

    n = args.n
    a, b = gram(n, 0.05, 1e-3), gram(n, 0.1, 1e-3)
    rhs = torch.randn(n, n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def ours() -> torch.Tensor:
        return KroneckerOperator([a, b]).solve(rhs)

    def theirs() -> torch.Tensor:
        op = KroneckerProductLinearOperator(DenseLinearOperator(a), DenseLinearOperator(b))
        return op.solve(rhs.reshape(-1, 1)).reshape(n, n)

    def theirs_cholesky() -> torch.Tensor:
        # linear_operator switches dense factors above 800 rows to iterative CG; this forces
        # its Cholesky path, the fair like-for-like direct solve.
        with settings.max_cholesky_size(10 * n):
            return theirs()

    def residual(x: torch.Tensor) -> float:
        gap = KroneckerOperator([a, b]) @ x - rhs
        return float(torch.linalg.norm(gap) / torch.linalg.norm(rhs))

    ours(), theirs(), theirs_cholesky()  # warm-up
    runs = (("sciml", ours), ("linear_operator", theirs),
            ("linear_operator (cholesky)", theirs_cholesky))
    times: dict[str, list[float]] = {name: [] for name, _ in runs}
    results: dict[str, torch.Tensor] = {}
    for _ in range(args.rounds):
        for name, fn in runs:
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"Kronecker solve, {n}x{n} grid ({n * n:,} unknowns), float64, "
          f"{torch.get_num_threads()} threads, {args.rounds} rounds")
    print(f"{'library':<28}{'median s':>10}{'ratio':>8}{'rel. residual':>16}")
    for name in times:
        print(f"{name:<28}{med[name]:>10.3f}{med[name] / med['sciml']:>8.1f}"
              f"{residual(results[name]):>16.2e}")


if __name__ == "__main__":
    main()
