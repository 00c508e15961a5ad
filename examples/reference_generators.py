"""Reference generators: Burgers, Fisher and advection space-time images, Navier–Stokes frames.

Generates small data sets with ``sciml.data.generate`` for the 1-D benchmarks (Burgers,
diffusion–reaction, advection) and for 2-D Navier–Stokes (vorticity, nu = 1e-3), reads them
back with ``sciml.data.open`` and saves ``generators_1d.png`` (one sample of each 1-D family
as an x–t image) and ``generators_navier_stokes.png`` (vorticity frames of one sample, and
the same sample solved at twice the resolution to show the generators share the initial
condition across grids). Interrupting the script and running it again resumes each file.

About a minute on two CPU cores; ``--quick`` runs a tiny version in seconds.

    python examples/reference_generators.py [--out examples/output] [--quick]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sciml.data import generate
from sciml.data import open as open_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples/output", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress = not args.quick

    n1, n_times = (64, 21) if args.quick else (512, 101)
    one_d = {
        "burgers": {"nu": 0.01},
        "diffusion_reaction": {"nu": 0.005, "rho": 5.0},
        "advection": {"beta": 0.5, "t_end": 1.0},
    }
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), constrained_layout=True)
    for ax, (name, options) in zip(axes, one_d.items()):
        path = generate(name, out / f"{name}.h5", n=2, resolution=n1, seed=0,
                        progress=progress, n_times=n_times, **options)
        data = open_data(path)
        u = data.field("u")[0, :, :, 0]  # (time, x)
        t, x = data.times, data.grid.coords["x"]
        im = ax.imshow(u, origin="lower", aspect="auto", cmap="RdBu_r",
                       extent=(x[0], x[-1], t[0], t[-1]))
        ax.set(title=f"{name} {options}", xlabel="x", ylabel="t")
        fig.colorbar(im, ax=ax)
    fig.savefig(out / "generators_1d.png", dpi=120)
    plt.close(fig)

    coarse, t_end = (16, 0.4) if args.quick else (64, 10.0)
    files = {}
    for n in (coarse, 2 * coarse):
        files[n] = generate("navier_stokes", out / f"navier_stokes{n}.h5", n=2, resolution=n,
                            seed=0, t_end=t_end, dt_out=t_end / 4, progress=progress)
    w = open_data(files[coarse]).field("vorticity")[0, ..., 0]  # (time, x, y)
    w_fine = open_data(files[2 * coarse]).field("vorticity")[0, -1, ::2, ::2, 0]
    times = open_data(files[coarse]).times
    fig, axes = plt.subplots(1, w.shape[0] + 1, figsize=(3.2 * (w.shape[0] + 1), 3.2),
                             constrained_layout=True)
    vmax = np.abs(w).max()
    for j, ax in enumerate(axes[:-1]):
        ax.imshow(w[j].T, origin="lower", cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set(title=f"t = {times[j]:g}", xticks=[], yticks=[])
    err = np.abs(w[-1] - w_fine)
    im = axes[-1].imshow(err.T, origin="lower", cmap="magma")
    rel = np.linalg.norm(w[-1] - w_fine) / np.linalg.norm(w_fine)
    axes[-1].set(title=f"|{coarse}² - {2 * coarse}²|, rel. {rel:.1e}", xticks=[], yticks=[])
    fig.colorbar(im, ax=axes[-1])
    fig.savefig(out / "generators_navier_stokes.png", dpi=120)
    plt.close(fig)
    print(f"Navier-Stokes {coarse}x{coarse} vs {2 * coarse}x{2 * coarse} at t = {t_end:g}: "
          f"relative L2 difference {rel:.2e}")
    print(f"figures in {out}")


if __name__ == "__main__":
    main()
