"""Accuracy and cost of the reference generators (sciml.reference, sciml.data.generate).

Three tables:

1. **Navier–Stokes acceptance** (issue 3): at ``nu = 1e-3`` the 64x64 solution at ``t = 10``
   against a 256x256 solution of the same initial condition (drawn on the shared mode box)
   subsampled to 64x64, as a relative L2 error, and the drift of the mean vorticity. The
   anchor is the fine solution; the target is ``< 1e-3`` and ``< 1e-12``.
2. **1-D convergence** against exact solutions: Burgers vs Cole–Hopf, advection vs the
   shifted initial condition, Fisher vs the logistic law.
3. **Generation cost**: wall time of ``generate(NAME, ...)`` for a few samples at each
   recipe's resolution, extrapolated to the recipe's sample count, and the file size per
   sample; and the peak memory of one batch of 1000 Navier–Stokes samples at 64x64.

Usage::

    python benchmarks/generators.py [--quick] [--device auto] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from sciml.data import generate
from sciml.reference.advection import solve_advection
from sciml.reference.burgers import cole_hopf_solution, solve_burgers
from sciml.reference.diffusion_reaction import logistic_solution, solve_diffusion_reaction
from sciml.reference.grf import nested_periodic_grf, sample_generator
from sciml.reference.navier_stokes import fno_forcing, solve_vorticity

# name -> (recipe n, recipe resolution, timed options, samples timed, time scale).
# The 2-D runs are timed over a short interval and scaled to the recipe's final time (the
# cost per unit of simulated time is roughly constant once the flow has developed).
RECIPES = {
    "grf": (1000, 64, {}, 64, 1.0),
    "advection": (10000, 1024, {"beta": 1.0}, 64, 1.0),
    "burgers": (1200, 1024, {"nu": 0.1}, 16, 1.0),
    "diffusion_reaction": (10000, 1024, {"nu": 0.5, "rho": 1.0}, 16, 1.0),
    "navier_stokes": (1200, 64, {"nu": 1e-3, "t_end": 2.0}, 16, 25.0),  # recipe t_end 50
    "kolmogorov": (200, 256, {"nu": 1e-3, "t_end": 1.0}, 2, 20.0),  # recipe t_end 20
}


def ns_acceptance(t_end: float, fine: int, device: str) -> tuple[float, float, float]:
    """Relative L2 (64 vs fine subsampled), mean drift at 64, seconds."""
    start = time.perf_counter()
    out = {}
    for n in (64, fine):
        w0 = nested_periodic_grf([sample_generator(0, i) for i in range(2)], n, 2.5, 7.0,
                                 7.0**1.5, keep_mean=(n == 64))
        w = solve_vorticity(w0, [0.0, t_end], 1e-3, forcing=fno_forcing(n), device=device)
        out[n] = (w0, w.cpu().numpy())
    w0, coarse = out[64]
    drift = float(np.abs(coarse[:, -1].mean(axis=(1, 2)) - w0.mean(axis=(1, 2))).max())
    # the mean was kept on the coarse grid only to measure its drift; compare without it
    c = coarse[:, -1] - coarse[:, -1].mean(axis=(1, 2), keepdims=True)
    f = out[fine][1][:, -1, :: fine // 64, :: fine // 64]
    rel = float(np.linalg.norm(c - f) / np.linalg.norm(f))
    return rel, drift, time.perf_counter() - start


def convergence_rows(device: str) -> list[tuple[str, str, float]]:
    rows = []
    nu, amp, off = 0.05, [0.5, 0.3, 0.1], 1.0
    x = np.arange(128) / 128
    u = solve_burgers(cole_hopf_solution(x, 0.0, nu, amp, off)[None], [0.0, 0.5], nu,
                      device=device).cpu().numpy()[0, -1]
    rows.append(("burgers 128, t=0.5", "Cole-Hopf max error",
                 float(np.abs(u - cole_hopf_solution(x, 0.5, nu, amp, off)).max())))
    x = np.arange(64) / 64
    u = solve_advection(np.exp(np.sin(2 * np.pi * x))[None], [1.7], 0.37,
                        device=device).cpu().numpy()[0, 0]
    rows.append(("advection 64, beta t=0.629", "exact-shift max error",
                 float(np.abs(u - np.exp(np.sin(2 * np.pi * (x - 0.37 * 1.7)))).max())))
    u = solve_diffusion_reaction(np.full((1, 32), 0.1), [0.0, 1.0], 1.0, 5.0,
                                 device=device).cpu().numpy()[0, -1]
    rows.append(("fisher rho=5, t=1", "logistic max error",
                 float(np.abs(u - logistic_solution(0.1, 1.0, 5.0)).max())))
    return rows


def time_generator(name: str, quick: bool, device: str, folder: Path) -> tuple[float, float]:
    """Seconds per sample (scaled to the recipe's final time) and bytes per timed sample."""
    _, resolution, options, count, scale = RECIPES[name]
    if quick:
        count = max(1, count // 4)
        if name in ("navier_stokes", "kolmogorov"):
            options = {**options, "t_end": options["t_end"] / 2}
            scale *= 2
    if name != "grf":
        options = {**options, "device": device}
    path = folder / f"{name}.h5"
    start = time.perf_counter()
    generate(name, path, n=count, resolution=resolution, seed=0, progress=False, **options)
    seconds = time.perf_counter() - start
    return scale * seconds / count, path.stat().st_size / count


def ns_batch_memory(n: int, device: str) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of one batch of ``n`` NS samples at 64x64 to t = 0.05."""
    code = (
        "import resource, time, numpy as np, torch\n"
        f"torch.set_num_threads({torch.get_num_threads()})\n"
        "from sciml.reference.grf import nested_periodic_grf, sample_generator\n"
        "from sciml.reference.navier_stokes import fno_forcing, solve_vorticity\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"w0 = nested_periodic_grf([sample_generator(0, i) for i in range({n})], 64, 2.5,"
        " 7.0, 7.0**1.5)\n"
        "t = time.perf_counter()\n"
        f"w = solve_vorticity(w0, [0.0, 0.05], 1e-3, forcing=fno_forcing(64), "
        f"device={device!r})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "
        "time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    peak, seconds = out.stdout.split()
    return float(peak), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"device {args.device}, {'quick' if args.quick else 'full'} run\n")

    t_end, fine = (2.0, 128) if args.quick else (10.0, 256)
    rel, drift, sec = ns_acceptance(t_end, fine, args.device)
    print("| Navier-Stokes nu=1e-3 | value | target |")
    print("| --- | --- | --- |")
    print(f"| rel. L2, 64x64 vs {fine}x{fine} subsampled, t={t_end:g} | {rel:.2e} | < 1e-3 |")
    print(f"| mean-vorticity drift at 64x64, t={t_end:g} | {drift:.1e} | < 1e-12 |")
    print(f"| wall time (2 samples, both grids) | {sec:.1f} s | |\n")

    print("| 1-D case | check | error |")
    print("| --- | --- | --- |")
    for case, check, err in convergence_rows(args.device):
        print(f"| {case} | {check} | {err:.1e} |")
    print()

    print("| generator | resolution | s / sample | recipe n | est. total | MB / sample (timed) |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (n_recipe, resolution, *_rest) in RECIPES.items():
            per, size = time_generator(name, args.quick, args.device, Path(tmp))
            total = per * n_recipe
            est = f"{total / 60:.1f} min" if total >= 60 else f"{total:.1f} s"
            print(f"| {name} | {resolution} | {per:.3g} | {n_recipe} | {est} | "
                  f"{size / 1e6:.3g} |")
    n_batch = 100 if args.quick else 1000
    peak, sec = ns_batch_memory(n_batch, args.device)
    print(f"\nNavier-Stokes batch of {n_batch} at 64x64: peak RSS {peak:.0f} MB, "
          f"{sec:.1f} s for t in [0, 0.05]")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
