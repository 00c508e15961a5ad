"""Time series, spectra and benchmark metrics on exact solutions of linear PDEs.

1-D: advection-diffusion ``u_t + c u_x = nu u_xx`` on the unit circle, solved exactly mode
by mode; a "prediction" with a 30% wrong viscosity stands in for a learned model. 2-D: the
heat equation ``w_t = nu Laplacian(w)`` on the unit torus from a random smooth initial field.
Writes the 2-D series to a native HDF5 file, prints ``sciml data info`` for it and the
PDEBench/The Well metrics of the wrong-viscosity prediction, and saves ``spacetime.png``,
``frames.png``, ``spectrum.png`` and ``heat.gif`` to the output folder.

A few seconds on a CPU; ``--quick`` uses smaller grids.

    python examples/series_plots.py [--out examples/output] [--quick]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import sciml
from sciml.cli import main as sciml_main
from sciml.core.grid import Box, Grid
from sciml.train.metrics import pdebench_metrics, vrmse


def advection_diffusion(x: np.ndarray, t: np.ndarray, c: float, nu: float) -> np.ndarray:
    """Exact ``(time, n)`` solution from ``u0 = sum_k a_k sin(2 pi k x)``, k = 1..5."""
    k = np.arange(1, 6)
    a = 1.0 / k
    phase = 2 * np.pi * k[None, None, :] * (x[None, :, None] - c * t[:, None, None])
    decay = np.exp(-nu * (2 * np.pi * k[None, :]) ** 2 * t[:, None])[:, None, :]
    return (a * decay * np.sin(phase)).sum(axis=-1)


def heat_2d(n: int, t: np.ndarray, nu: float, seed: int) -> np.ndarray:
    """Exact ``(time, n, n)`` heat-equation solution from a smooth random field."""
    rng = np.random.default_rng(seed)
    m = np.fft.fftfreq(n, d=1.0 / n)
    k2 = m[:, None] ** 2 + m[None, :] ** 2
    w0 = np.fft.fft2(rng.standard_normal((n, n))) * (1.0 + k2) ** -1.25
    decay = np.exp(-nu * 4 * np.pi**2 * k2[None] * t[:, None, None])
    return np.real(np.fft.ifft2(w0[None] * decay))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples/output", help="output folder")
    parser.add_argument("--quick", action="store_true", help="small grids, for tests")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n1, n2, nt = (64, 32, 12) if args.quick else (256, 64, 40)

    # 1-D: truth and a wrong-viscosity "prediction"
    grid1 = Grid.periodic(Box(x=(0, 1)), n1)
    t = np.linspace(0.0, 1.0, nt)
    truth = advection_diffusion(grid1["x"], t, c=0.5, nu=0.01)
    pred = advection_diffusion(grid1["x"], t, c=0.5, nu=0.013)
    sciml.plot.spacetime(truth, grid1, t, title="u_t + 0.5 u_x = 0.01 u_xx (exact)",
                         path=out / "spacetime.png")
    as_model = {k: torch.from_numpy(v)[None, :, None] for k, v in (("p", pred), ("t", truth))}
    table = pdebench_metrics(as_model["p"], as_model["t"], time_axis=True)
    table["vrmse"] = vrmse(as_model["p"], as_model["t"], time_axis=True).item()
    print("metrics of the nu = 0.013 prediction against nu = 0.01 (PDEBench / The Well):")
    for name, value in table.items():
        print(f"  {name:<10} {value:.4e}")

    # 2-D: heat equation, written to a native file and inspected like any data set
    grid2 = Grid.periodic(Box(x=(0, 1), y=(0, 1)), n2)
    w = heat_2d(n2, t, nu=0.002, seed=0)
    path = out / "heat2d.h5"
    sciml.data.write(path, {"w": w[None, ..., None].astype(np.float32)}, grid2,
                     attrs={"pde": "heat", "params": {"nu": 0.002}}, times=t)
    sciml_main(["data", "info", str(path)])
    with sciml.data.open(path) as ds:
        series = ds.field("w")[0, :, :, :, 0]
    sciml.plot.frames(series, grid2, t, max_frames=4, title="w_t = 0.002 Δw",
                      path=out / "frames.png")
    sciml.plot.animate(series, grid2, out / "heat.gif", fps=8, times=t, title="w")
    sciml.plot.spectrum({"t = 0": series[0], f"t = {t[-1]:g}": series[-1]}, grid2,
                        title="energy spectrum of w", path=out / "spectrum.png")
    print(f"figures in {out}/")


if __name__ == "__main__":
    main()
