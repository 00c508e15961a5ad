"""Memory of FactFormer's axial factorized attention at 64x64, 128x128 and 256x256.

For each grid it runs forward plus backward (loss ``mean(out ** 2)``) of

- ``attention``: one :class:`~sciml.neural.factformer.FactorizedAttention` layer;
- ``block``: one FactFormer block (group norms, attention, feed-forward, residuals);
- ``model``: the whole :class:`~sciml.neural.factformer.FactFormer` (defaults: 64 channels,
  4 heads, 3 encoder blocks and 1 propagator block);
- ``dense``: the same attention layer with the dense ``N x N`` kernel (the Kronecker product
  of its axis kernels) applied as one matmul, the full-attention oracle; only where the dense
  kernel fits (64x64 by default).

and reports

- ``peak``: peak memory allocated during the call, above what was allocated before it. On
  CUDA ``torch.cuda.max_memory_allocated``; on the CPU the running total of the allocation
  events recorded by ``torch.profiler`` (``profile_memory=True``);
- ``saved``: bytes autograd keeps for the backward pass (each storage counted once, found
  with ``torch.autograd.graph.saved_tensors_hooks``);
- ``kernels``: bytes of the per-axis kernels of one attention layer,
  ``batch * heads * sum_a n_a^2 * 4``, which grow like ``n`` per axis;
- ``dense K``: bytes the dense kernel of one layer would take, ``batch * heads * N^2 * 4``;
- ``time``: seconds of one forward plus backward, outside the profiler.

Usage::

    python benchmarks/factformer_memory.py [--sizes 64 128 256] [--batch 1] [--device auto]
        [--dense-max 64] [--threads 1]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from sciml.core.device import resolve_device
from sciml.neural.factformer import FactFormer, FactorizedAttention

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the helper is a sibling module; the path entry also serves runs via importlib
from _memory import peak_memory

MiB = 2.0**20


def dense_attention(attn: FactorizedAttention, h: torch.Tensor) -> torch.Tensor:
    """``attn(h)`` with the ``N x N`` kernel formed and applied densely (the oracle)."""
    batch, _, *space = h.shape
    kernels = attn.kernels(h)
    dense = kernels[0]
    for k in kernels[1:]:
        b, heads, n1, _ = dense.shape
        n2 = k.shape[-1]
        dense = torch.einsum("bhij,bhkl->bhikjl", dense, k).reshape(b, heads, n1 * n2, n1 * n2)
    v = attn.to_v(h).float().view(batch, attn.n_heads, attn.head_channels, -1)
    z = torch.einsum("bhij,bhcj->bhci", dense, v).reshape(batch, -1, *space)
    return attn.to_out(z)


def check_dense_matches(attn: FactorizedAttention, h: torch.Tensor) -> float:
    """Relative max difference between the factorised and dense layers (sanity check)."""
    with torch.no_grad():
        a, b = attn(h), dense_attention(attn, h)
    return float((a - b).abs().max() / b.abs().max())


def _saved_bytes(fn: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, float]:
    sizes: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        sizes[(t.untyped_storage().data_ptr(), t.numel())] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, float(sum(sizes.values()))


def measure(
    forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, device: torch.device
) -> dict[str, float]:
    """Peak memory, saved-for-backward bytes and seconds of forward + backward."""
    box: dict[str, float] = {}

    def step() -> None:
        out, box["saved"] = _saved_bytes(lambda: forward(x))
        out.square().mean().backward()

    step()  # warm-up (lazy allocations, caches)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    peak = peak_memory(step, device)
    return {"peak": peak, "saved": box["saved"], "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dense-max", type=int, default=64,
                        help="largest grid size for the dense oracle")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    torch.manual_seed(0)
    model = FactFormer(1, 1, dim=2, hidden_channels=args.channels, n_heads=args.heads).to(device)
    block = model.encoder[0]
    attn = block.attention
    head_channels = attn.head_channels
    n_params = sum(p.numel() for p in model.parameters())
    print(f"device {device}, batch {args.batch}, channels {args.channels}, heads {args.heads} x "
          f"{head_channels}, model parameters {n_params}")

    rows = []
    for n in args.sizes:
        h = torch.randn(args.batch, args.channels, n, n, device=device, requires_grad=True)
        x = torch.randn(args.batch, 1, n, n, device=device)
        kernel_bytes = 4.0 * args.batch * args.heads * 2 * n * n
        dense_bytes = 4.0 * args.batch * args.heads * float(n * n) ** 2
        cases: list[tuple[str, Callable[[torch.Tensor], torch.Tensor], torch.Tensor]] = [
            ("attention", attn, h),
            ("block", block, h),
            ("model", model, x),
        ]
        if n <= args.dense_max:
            err = check_dense_matches(attn, h.detach())
            print(f"{n}x{n}: factorised vs dense attention, max relative difference {err:.1e}")
            cases.append(("dense", lambda t: dense_attention(attn, t), h))
        for name, fn, inp in cases:
            if isinstance(fn, nn.Module):
                fn.zero_grad(set_to_none=True)
            stats = measure(fn, inp, device)
            rows.append((f"{n}x{n}", name, stats, kernel_bytes, dense_bytes))

    header = ("| grid | what | peak MiB | saved MiB | kernels MiB | dense K MiB | time s |\n"
              "|---|---|---:|---:|---:|---:|---:|")
    print(header)
    for grid, name, stats, kernel_bytes, dense_bytes in rows:
        kernels = (dense_bytes if name == "dense" else kernel_bytes) / MiB
        print(f"| {grid} | {name} | {stats['peak'] / MiB:.1f} | {stats['saved'] / MiB:.1f} | "
              f"{kernels:.3g} | {dense_bytes / MiB:.4g} | {stats['seconds']:.2f} |")

    # growth per doubling of n: ~4 (= N) for activations, ~2 (= n) for the axis kernels
    by = {(g, w): s for g, w, s, _, _ in rows}
    sizes = sorted(set(args.sizes))
    for w in ("attention", "block", "model"):
        ratios = [by[(f"{b}x{b}", w)]["peak"] / by[(f"{a}x{a}", w)]["peak"]
                  for a, b in itertools.pairwise(sizes) if b == 2 * a]
        if ratios:
            print(f"{w}: peak grows x{', x'.join(f'{r:.2f}' for r in ratios)} per doubling of n "
                  f"(N grows x4, N^2 x16)")


if __name__ == "__main__":
    main()
