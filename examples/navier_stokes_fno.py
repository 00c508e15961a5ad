"""2-D Navier–Stokes at nu = 1e-3: an FNO predicts the vorticity autoregressively from 10 frames.

Generates vorticity trajectories of the FNO benchmark (``w_t + u.grad w = nu Lap w + f`` on
the unit torus, ``nu = 1e-3``, 64x64, frames at ``t = 0, 1, ..., 20``) with the
pseudo-spectral reference solver, trains a 2-D FNO that maps 10 frames to the next one by
the pushforward trick on windows of 4 target frames, and then, from the first 10 frames
(``t = 0..9``) of every test trajectory, predicts the rest (``t = 10..20``) by feeding its
predictions back. Prints the error at each step and over the whole horizon, and saves
``navier_stokes_rollout.gif`` (truth | prediction | error, one frame per step),
``navier_stokes_rollout.png`` (four of those steps) and ``navier_stokes_rollout_error.png``
(error against time) to the output folder; the data file is kept there and reused.

This is the setting of the FNO paper's Navier–Stokes table (10 frames in, autoregressive,
64x64, nu = 1e-3) shrunk to a CPU budget: 40 trajectories to ``t = 20`` instead of 1200 to
``t = 50``, so 11 predicted steps instead of 40 (measured: 0.020 relative L2 over
``t = 10..20``, against the paper's 0.0128 over ``t = 10..50``; the per-step error grows
from 0.012 to 0.030 across the horizon).

About 3 minutes on one free CPU core, a fifth of it generating the data (measured: 2.6
CPU-minutes with ``OMP_NUM_THREADS=1``); ``--quick`` runs a tiny version in about 10 s.

    python examples/navier_stokes_fno.py [--out examples/output] [--quick]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import sciml
from sciml.core.device import seed_everything
from sciml.data import WindowDataset, generate, to_tensor_dataset
from sciml.data import open as open_data
from sciml.neural import FNO, NeuralOperatorSolver
from sciml.train import AutoregressiveTrainer, evaluate_rollout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples/output", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    if args.quick:
        n_train, n_test, resolution, t_end, k_in, epochs, hidden = 6, 2, 16, 6.0, 3, 2, 8
    else:
        n_train, n_test, resolution, t_end, k_in, epochs, hidden = 32, 8, 64, 20.0, 10, 25, 24
    m_out = 4
    path = generate(
        "navier_stokes", out / f"navier_stokes{resolution}_nu1e-3_n{n_train + n_test}"
        f"_t{t_end:g}.h5", n=n_train + n_test, resolution=resolution, seed=0,
        progress=not args.quick, reuse=True, nu=1e-3, t_end=t_end, dt_out=1.0,
    )
    with open_data(path) as data:
        grid, times = data.grid, data.times
    steps = len(times) - k_in
    print(f"data: {path} ({time.perf_counter() - start:.0f} s)")

    train_idx, test_idx = range(n_train), range(n_train, n_train + n_test)
    train = to_tensor_dataset(WindowDataset(path, "vorticity", k_in=k_in, m_out=m_out,
                                    indices=train_idx))
    short = to_tensor_dataset(WindowDataset(path, "vorticity", k_in=k_in, m_out=m_out,
                                            hop=len(times), indices=test_idx))
    # one window per test trajectory: the first k_in frames in, every later frame as target
    long = to_tensor_dataset(WindowDataset(path, "vorticity", k_in=k_in, m_out=steps,
                                   indices=test_idx))
    problem = sciml.OperatorProblem(train, {"test": short}, name="navier_stokes")
    print(f"{len(train)} training windows of {k_in} -> {m_out} frames at "
          f"{resolution}x{resolution}; rollouts of {steps} steps on {n_test} test trajectories")

    seed_everything(0)
    model = FNO(in_channels=k_in, out_channels=1, n_modes=(12, 12), hidden_channels=hidden,
                n_layers=4)
    trainer = AutoregressiveTrainer(
        channels=1, mode="pushforward", epochs=epochs, batch_size=8, lr=3e-3,
        weight_decay=1e-4, eval_every=epochs, seed=0, progress=not args.quick,
    )
    tic = time.perf_counter()
    solver = NeuralOperatorSolver(model, trainer).fit(problem)
    print(f"trained in {time.perf_counter() - tic:.0f} s")
    evaluation = evaluate_rollout(solver.model_, long, channels=1, batch_size=8)
    for s in range(steps):
        print(f"  t = {times[k_in + s]:4.1f} (step {s + 1:2d}): rel L2 "
              f"{evaluation.per_step[s]:.3e}")
    print(f"rollout rel L2 over t = {times[k_in]:g}..{times[-1]:g}: {evaluation.total:.3e} "
          f"(FNO paper, 1000 trajectories to t = 50: 0.0128)")

    x0, truth = long[0]
    prediction = solver.rollout(x0, steps)
    title = f"FNO, vorticity from {k_in} frames, nu = 1e-3, {resolution}x{resolution}"
    sciml.plot.animate_rollout(truth, prediction, out / "navier_stokes_rollout.gif", grid,
                               times=times[k_in:], title=title, fps=3)
    sciml.plot.plot_rollout(truth, prediction, grid=grid, times=times[k_in:], title=title,
                            path=out / "navier_stokes_rollout.png")
    sciml.plot.plot_rollout_error(
        {"FNO, pushforward": evaluation}, times=times[k_in:],
        path=out / "navier_stokes_rollout_error.png",
        title=f"rollout error, mean over {n_test} test trajectories",
    )
    print(f"figures in {out}/ ({time.perf_counter() - start:.0f} s in all)")


if __name__ == "__main__":
    main()
