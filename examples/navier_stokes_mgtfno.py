"""MG-TFNO on 128x128 Navier–Stokes: TFNO trained on multi-grid patches vs on whole fields.

Generates short vorticity trajectories of the FNO benchmark at 128x128 (``nu = 1e-3``,
frames every 0.5 up to ``t = 4``) and learns the one-step map ``(w(t), f) -> w(t + 0.5)``
(``f`` is the forcing, an input channel: a patch cannot tell where it lies, so without it
the patched model could not learn a position-dependent forcing) twice, with the same TFNO
(Tucker, rank 0.1), data, epochs, optimiser and schedule:

* **TFNO** on whole 128x128 fields;
* **MG-TFNO** (Kossaifi et al. 2023): :class:`~sciml.neural.MGPatchedOperator` with one
  patching level cuts each field into 2x2 patches of 64x64, widens each circularly by 3
  points and adds the whole field, subsampled by 2, around it as extra channels; the inner
  TFNO is trained on those 70x70 windows alone (:class:`~sciml.neural.PatchedDataset` and a
  plain :class:`~sciml.train.Trainer` on ``patch_model``) and evaluated on whole fields
  through the patching operator, which stitches the patches back.

Prints the test relative L2 of both (and of the persistence baseline ``w(t + 0.5) ~ w(t)``),
their ratio, and the activation memory one forward pass holds for backward
(:func:`sciml.neural.patching.activation_bytes`): a whole-field TFNO pass against the patched
operator run one patch at a time with checkpointing (the patch inputs it keeps plus one
patch's activations). Saves ``navier_stokes_mgtfno.png`` (truth, both predictions, their
errors and the test error per epoch) to the output folder; the data file is kept there and
reused.

About 3 minutes on one free CPU core (measured: 2.2 CPU-minutes of training with
``OMP_NUM_THREADS=1``, plus well under a minute to generate the data); ``--quick`` runs a
tiny version in about 10 s. Measured: test relative L2 TFNO 0.034, MG-TFNO 0.048 (1.4x;
the error concentrates on the patch seams), persistence 0.178; activations per forward
28.0 MiB against 8.9 MiB for one patch (0.32x) and 9.2 MiB (0.33x) for a whole field run
one patch at a time with checkpointing.

    python examples/navier_stokes_mgtfno.py [--out examples/output] [--quick]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch.utils.data import TensorDataset

import sciml
from sciml.data import WindowDataset, generate
from sciml.data import open as open_data
from sciml.neural import TFNO, MGPatchedOperator, PatchedDataset
from sciml.neural.patching import activation_bytes
from sciml.neural.spectral import count_parameters
from sciml.train import Trainer, relative_l2


def in_memory(dataset: WindowDataset, forcing: torch.Tensor) -> TensorDataset:
    """All pairs as tensors, the forcing appended to every input as a second channel."""
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    x = torch.stack(xs)
    return TensorDataset(torch.cat([x, forcing.expand_as(x)], dim=1), torch.stack(ys))


def forcing_field(grid: Any) -> torch.Tensor:
    """The generator's forcing ``0.1 (sin 2 pi (x + y) + cos 2 pi (x + y))``, ``(1, nx, ny)``."""
    x, y = np.meshgrid(grid.coords["x"], grid.coords["y"], indexing="ij")
    phase = 2 * np.pi * (x + y)
    return torch.as_tensor(0.1 * (np.sin(phase) + np.cos(phase)), dtype=torch.float32)[None]


def mebibytes(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.1f} MiB"


def comparison_figure(grid: Any, x: torch.Tensor, y: torch.Tensor,
                      predictions: dict[str, torch.Tensor],
                      curves: dict[str, list[float]], title: str) -> Figure:
    """Truth and predictions on one colour scale, their errors on another, error curves."""
    fig = Figure(figsize=(17, 8), layout="constrained")
    axes = fig.subplots(2, 4)
    fields = {"input w(t)": x, "truth w(t + 0.5)": y, **predictions}
    lo = min(float(v.min()) for v in fields.values())
    hi = max(float(v.max()) for v in fields.values())
    for ax, (name, value) in zip(axes[0], fields.items()):
        err = f", rel L2 {float(relative_l2(value[None], y[None])):.2e}" if name in predictions \
            else ""
        sciml.plot.field(value, grid, ax=ax, vmin=lo, vmax=hi, title=name + err)
    errors = {name: (p - y).abs() for name, p in predictions.items()}
    top = max(float(e.max()) for e in errors.values())
    sciml.plot.field((x - y).abs(), grid, ax=axes[1, 0], cmap="magma", vmin=0.0,
                     vmax=float((x - y).abs().max()), title="|w(t + 0.5) - w(t)| (persistence)")
    for ax, (name, err) in zip(axes[1, 1:3], errors.items()):
        sciml.plot.field(err, grid, ax=ax, cmap="magma", vmin=0.0, vmax=top,
                         title=f"|error|, {name}")
    ax = axes[1, 3]
    for name, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=name)
    ax.set(yscale="log", xlabel="epoch", ylabel="test relative L2 (whole fields)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.suptitle(title)
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples/output", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    if args.quick:
        n_train, n_test, resolution, t_end, epochs, hidden, modes = 3, 1, 32, 1.0, 2, 8, 8
    else:
        n_train, n_test, resolution, t_end, epochs, hidden, modes = 20, 4, 128, 4.0, 12, 16, 16
    levels, padding, batch = 1, 3, 8
    path = generate(
        "navier_stokes", out / f"navier_stokes{resolution}_nu1e-3_n{n_train + n_test}"
        f"_t{t_end:g}_dt0.5.h5", n=n_train + n_test, resolution=resolution, seed=0,
        progress=not args.quick, reuse=True, nu=1e-3, t_end=t_end, dt_out=0.5,
    )
    with open_data(path) as data:
        grid = data.grid
    print(f"data: {path} ({time.perf_counter() - start:.0f} s)")

    # One-step pairs (w(t), f) -> w(t + 0.5) of every trajectory. The forcing f is an input
    # because a patch cannot tell where it lies (its positional embedding is window-local),
    # and f depends on the absolute position: without it the patched model cannot learn it.
    # (Where the forcing is not known as a field, MGPatchedOperator(..., coordinates=True)
    # gives each patch its global position instead; benchmarks/mgtfno.py does that.)
    forcing = forcing_field(grid)
    train = in_memory(WindowDataset(path, "vorticity", k_in=1, indices=range(n_train)),
                      forcing)
    test = in_memory(WindowDataset(path, "vorticity", k_in=1,
                                   indices=range(n_train, n_train + n_test)), forcing)
    persistence = float(relative_l2(test.tensors[0][:, :1], test.tensors[1]).mean())
    print(f"{len(train)} training and {len(test)} test pairs at {resolution}x{resolution}; "
          f"persistence baseline rel L2 {persistence:.3e}")

    config = {"out_channels": 1, "n_modes": [modes, modes], "hidden_channels": hidden,
              "n_layers": 4}
    torch.manual_seed(0)
    tfno = TFNO(in_channels=2, **config)
    torch.manual_seed(0)
    mg = MGPatchedOperator("TFNO", {"in_channels": 2 * (levels + 1), **config}, levels=levels,
                           padding=padding)
    print(f"TFNO: {count_parameters(tfno)} parameters; MG-TFNO: {count_parameters(mg)} "
          f"({2**levels}x{2**levels} patches of {resolution // 2**levels} points + 2x{padding} "
          f"padding, {levels + 1} levels of 2 channels)")

    def options(batch_size: int, **extra: Any) -> dict[str, Any]:
        # one optimiser and schedule for both; the patched run sees the same samples per step
        return {"epochs": epochs, "batch_size": batch_size, "lr": 3e-3, "weight_decay": 1e-4,
                "seed": 0, "progress": not args.quick, "device": "cpu", **extra}

    tic = time.perf_counter()
    tfno_history = Trainer(**options(batch)).fit(tfno, train, {"test": test})
    tfno_time = time.perf_counter() - tic

    def whole_field_error(trainer: Trainer, model: Any, record: dict[str, Any]) -> None:
        # the patch model shares its weights with `mg`: score whole stitched fields
        record["test/rel_l2"] = trainer.evaluate(mg, test, batch_size=batch)["rel_l2"]

    patches = PatchedDataset(train, levels, padding)
    tic = time.perf_counter()
    mg_history = Trainer(**options(batch * 2 ** (2 * levels),
                                   callbacks=[whole_field_error])).fit(mg.patch_model, patches)
    mg_time = time.perf_counter() - tic

    scorer = Trainer(device="cpu", progress=False, batch_size=batch)
    errors = {"TFNO": scorer.evaluate(tfno, test)["rel_l2"],
              "MG-TFNO": scorer.evaluate(mg, test)["rel_l2"]}
    print(f"test rel L2: TFNO {errors['TFNO']:.3e} (trained {tfno_time:.0f} s), MG-TFNO "
          f"{errors['MG-TFNO']:.3e} (trained {mg_time:.0f} s); ratio MG-TFNO / TFNO "
          f"{errors['MG-TFNO'] / errors['TFNO']:.2f}")

    # activation memory of one sample's forward pass with gradients
    x1 = test.tensors[0][:1]
    full = activation_bytes(tfno, x1, exclude=tfno)
    lean = MGPatchedOperator(**{**mg.config, "patch_batch": 1, "checkpoint": True})
    lean.load_state_dict(mg.state_dict())
    kept = activation_bytes(lean, x1, exclude=lean)  # the patch inputs, for the recomputation
    chunk = activation_bytes(lean.patch_model, lean.patch_inputs(x1)[:1], exclude=lean)
    print(f"activations per forward: TFNO {mebibytes(full)}; MG-TFNO one patch "
          f"{mebibytes(chunk)} ({chunk / full:.2f}x, what each training forward holds per "
          f"sample-patch); whole field one patch at a time with checkpointing "
          f"{mebibytes(kept + chunk)} ({(kept + chunk) / full:.2f}x)")

    # a pair after the initial transient: the first test trajectory at t = 2 -> 2.5
    x, y = test[min(4, len(test) - 1)]
    with torch.no_grad():
        predictions = {name: model.eval()(x[None])[0] for name, model in
                       (("TFNO", tfno), ("MG-TFNO", mg))}
    curves = {"TFNO": [r["test/rel_l2"] for r in tfno_history],
              "MG-TFNO": [r["test/rel_l2"] for r in mg_history]}
    fig = comparison_figure(
        grid, x[0], y[0], {k: v[0] for k, v in predictions.items()}, curves,
        f"Navier–Stokes nu = 1e-3, {resolution}x{resolution}, (w(t), f) -> w(t + 0.5): test rel L2 "
        f"TFNO {errors['TFNO']:.2e}, MG-TFNO {errors['MG-TFNO']:.2e}; activations "
        f"{mebibytes(full)} vs {mebibytes(chunk)} per patch",
    )
    fig.savefig(out / "navier_stokes_mgtfno.png", dpi=110)
    print(f"figure in {out}/ ({time.perf_counter() - start:.0f} s in all)")


if __name__ == "__main__":
    main()
