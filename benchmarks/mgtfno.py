"""MG-TFNO on 128x128 Navier–Stokes: accuracy and activation memory against the plain TFNO.

Data: ``sciml.data.generate("navier_stokes")`` at 128x128 (``--nu``, default 1e-4, short
horizon); the operator maps the vorticity at ``t = --t-in`` to the vorticity at ``t =
--t-out``. Inputs and targets are scaled by one constant (the training inputs' standard
deviation), which leaves relative errors unchanged.

Models, all trained by the same :class:`sciml.train.Trainer` (Adam, relative L2 loss, cosine
schedule, ``--epochs`` epochs, batch ``--batch`` items, same seed):

- ``TFNO``: Tucker TFNO (rank 0.1) on the full 128x128 fields;
- ``MG-TFNO L=1`` and ``L=2``: :class:`sciml.neural.patching.MGPatchedOperator` with the same
  TFNO inside (input channels ``L + 1``, plus 4 global coordinate channels unless
  ``--no-coordinates``: the data's forcing depends on the absolute position, which a patch
  cannot otherwise see), trained on patches
  (:class:`~sciml.neural.patching.PatchedDataset`: ``4**L`` windows of ``128 / 2**L + 2 *
  padding`` points per sample, each with ``L`` coarse context levels) and evaluated on full
  fields (patch, predict, stitch).

Reported per model: test relative L2 on full fields (target: MG-TFNO within 1.2x of TFNO);
``activation`` = bytes autograd saves in one training forward pass of ``min(--batch,
--n-train)`` items, fields for TFNO and windows for MG-TFNO
(:func:`sciml.neural.patching.activation_bytes`, parameters excluded; target: MG-TFNO at
most 1/3 of TFNO); ``peak`` = peak memory of that forward plus backward pass above the
resting state (``benchmarks/_memory.py``); training seconds.

Usage::

    python benchmarks/mgtfno.py [--quick] [--n-train 48] [--n-test 12] [--epochs 12]
        [--hidden 24] [--modes 16] [--padding 4] [--levels 1 2] [--no-coordinates]
        [--seed 0] [--model-seed S] [--threads N]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from sciml.core.device import resolve_device, seed_everything
from sciml.data import generate
from sciml.data import open as open_data
from sciml.neural.fno import TFNO
from sciml.neural.patching import MGPatchedOperator, PatchedDataset, activation_bytes
from sciml.neural.spectral import count_parameters
from sciml.train import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the helper is a sibling module; the path entry also serves runs via importlib
from _memory import peak_memory

RESOLUTION = 128
MiB = 2.0**20


def load_data(args: argparse.Namespace) -> tuple[TensorDataset, TensorDataset, float]:
    """Train and test pairs ``(1, 128, 128)`` and the scale they were divided by."""
    n = args.n_train + args.n_test
    path = args.data_dir / (f"ns{RESOLUTION}_nu{args.nu:g}_t{args.t_out:g}_n{n}_s{args.seed}.h5")
    if not path.exists():
        args.data_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        generate("navier_stokes", path, n=n, resolution=RESOLUTION, seed=args.seed,
                 progress=not args.quick, nu=args.nu, t_end=float(args.t_out), dt_out=1.0,
                 device=args.device)
        print(f"generated {path} in {time.perf_counter() - start:.0f} s", flush=True)
    with open_data(path) as source:
        w = torch.as_tensor(source.field("vorticity")[:], dtype=torch.float32)
    # (sample, time, x, y, 1) -> (sample, 1, x, y)
    x = w[:, args.t_in, ..., 0].unsqueeze(1)
    y = w[:, args.t_out, ..., 0].unsqueeze(1)
    scale = float(x[: args.n_train].std())
    x, y = x / scale, y / scale
    train = TensorDataset(x[: args.n_train], y[: args.n_train])
    test = TensorDataset(x[args.n_train :], y[args.n_train :])
    return train, test, scale


def inner_config(args: argparse.Namespace, levels: int) -> dict:
    coordinates = 4 if levels and args.coordinates else 0
    return {"in_channels": levels + 1 + coordinates, "out_channels": 1,
            "n_modes": [args.modes, args.modes], "hidden_channels": args.hidden, "n_layers": 4,
            "factorization": "tucker", "rank": 0.1}


def memory(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
           device: torch.device) -> tuple[int, float]:
    """Activation bytes of one forward pass and peak bytes of forward plus backward."""
    model.train()
    saved = activation_bytes(model, x, exclude=model)

    def step() -> None:
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()

    model.zero_grad(set_to_none=True)
    peak = peak_memory(step, device)
    model.zero_grad(set_to_none=True)
    return saved, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run that checks the script")
    parser.add_argument("--n-train", type=int, default=48)
    parser.add_argument("--n-test", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch", type=int, default=8, help="items (fields or patches)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--hidden", type=int, default=24)
    parser.add_argument("--modes", type=int, default=16)
    parser.add_argument("--padding", type=int, default=4, help="fine points per patch side")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-coordinates", dest="coordinates", action="store_false",
                        help="patches without their global position (window-local only)")
    parser.add_argument("--nu", type=float, default=1e-4)
    parser.add_argument("--t-in", type=int, default=1)
    parser.add_argument("--t-out", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path("benchmarks/data"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0, help="seed of the data")
    parser.add_argument("--model-seed", type=int, default=None,
                        help="seed of the initialisation and batch order (default: --seed)")
    args = parser.parse_args(argv)
    if args.model_seed is None:
        args.model_seed = args.seed
    if args.quick:
        args.n_train, args.n_test, args.epochs = 4, 2, 1
        args.hidden, args.modes, args.t_in, args.t_out = 8, 8, 0, 1
    if not 0 <= args.t_in < args.t_out:
        parser.error("need 0 <= --t-in < --t-out")
    if any(level < 1 or RESOLUTION % 2**level for level in args.levels):
        parser.error("--levels must be positive with 2**levels dividing 128")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"MG-TFNO benchmark: Navier–Stokes {RESOLUTION}x{RESOLUTION}, nu={args.nu:g}, "
          f"w(t={args.t_in}) -> w(t={args.t_out}); {args.n_train} train / {args.n_test} test; "
          f"TFNO hidden {args.hidden}, modes {args.modes}, 4 layers, Tucker 0.1; "
          f"{args.epochs} epochs, batch {args.batch}, lr {args.lr:g}; padding {args.padding}, "
          f"model seed {args.model_seed}, "
          f"coordinates {'on' if args.coordinates else 'off'}")
    print(f"device {device} | {platform.processor() or platform.machine()} | torch "
          f"{torch.__version__} | threads {torch.get_num_threads()}", flush=True)

    train, test, scale = load_data(args)
    trainer_kwargs = {"epochs": args.epochs, "batch_size": args.batch, "lr": args.lr,
                      "weight_decay": 1e-4, "scheduler": "cosine", "loss": "l2",
                      "device": str(device), "seed": args.model_seed, "progress": False,
                      "eval_every": args.epochs}
    # memory is compared on equal numbers of items: `items` fields against `items` windows
    items = min(args.batch, len(train))
    x_fields, y_fields = (t[:items].to(device) for t in train.tensors)

    rows = []
    # plain TFNO on full fields
    seed_everything(args.model_seed)
    tfno = TFNO(**{k: v for k, v in inner_config(args, 0).items() if k != "factorization"})
    start = time.perf_counter()
    Trainer(**trainer_kwargs).fit(tfno, train)
    seconds = time.perf_counter() - start
    err = Trainer(**trainer_kwargs).evaluate(tfno, test)["rel_l2"]
    saved, peak = memory(tfno, x_fields, y_fields, device)
    rows.append(("TFNO", count_parameters(tfno), err, saved, peak, seconds, args.batch))
    print(f"TFNO: rel L2 {err:.4f} ({seconds:.0f} s)", flush=True)

    for levels in args.levels:
        seed_everything(args.model_seed)
        mg = MGPatchedOperator("TFNO", inner_config(args, levels), levels=levels,
                               padding=args.padding, coordinates=args.coordinates)
        patches = PatchedDataset(train, levels, args.padding, coordinates=args.coordinates)
        start = time.perf_counter()
        Trainer(**trainer_kwargs).fit(mg.patch_model, patches)
        seconds = time.perf_counter() - start
        err = Trainer(**trainer_kwargs).evaluate(mg, test)["rel_l2"]
        mg.to(device)
        xp = mg.patch_inputs(x_fields)[:items]
        yp = mg.patch_targets(y_fields)[:items]
        saved, peak = memory(mg.patch_model, xp, yp, device)
        name = f"MG-TFNO L={levels}"
        rows.append((name, count_parameters(mg), err, saved, peak, seconds, len(patches)))
        print(f"{name}: rel L2 {err:.4f} ({seconds:.0f} s)", flush=True)

    ref_err, ref_saved, ref_peak = rows[0][2], rows[0][3], rows[0][4]
    print(f"\nscale (train input std) {scale:.4g}; memory of one training forward pass of "
          f"{items} items (fields for TFNO, windows for MG-TFNO)")
    print("| model | params | train items | test rel L2 | vs TFNO | activation MiB | vs TFNO "
          "| peak MiB | vs TFNO | train s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, params, err, saved, peak, seconds, items in rows:
        print(f"| {name} | {params} | {items if name != 'TFNO' else len(train)} | {err:.4f} | "
              f"{err / ref_err:.2f} | {saved / MiB:.1f} | {saved / ref_saved:.2f} | "
              f"{peak / MiB:.1f} | {peak / ref_peak:.2f} | {seconds:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
