"""Kolmogorov flow with FactFormer: latent time marching, trained autoregressively, rolled out.

Generates 2-D Kolmogorov flow (vorticity form on the ``2 pi`` torus, forcing ``sin(4 y)``,
linear drag 0.1) with the pseudo-spectral reference solver at 64x64 from random initial
vorticity, and keeps the frames every 0.1 time units from t = 3 to t = 8: the first three
time units are spin-up (the noisy initial field decays into the forced bands, which then
break up), after which the flow stays in its chaotic forced state. The viscosity is
nu = 0.01, which a 64x64 grid resolves; at the turbulence benchmark's nu = 1e-3
(``datasets/kolmogorov.toml``, 256x256) a 64x64 grid holds about 9 % of the enstrophy in its
top wavenumbers and frames 0.2 apart differ by 70 %, too rough to learn in a few CPU
minutes. A FactFormer maps one vorticity frame to the next four: it encodes
the frame once and marches its latent propagator four steps (``out_steps=4``), decoding each
latent state. It is trained through :class:`~sciml.neural.NeuralOperatorSolver` with an
:class:`~sciml.train.AutoregressiveTrainer` (``frames_per_call=4``) on windows of one frame in
and four out, and then rolled out from the first frame of each test trajectory over the whole
horizon, feeding its predictions back every four frames. The error plot also shows
persistence (repeating the initial frame), the baseline a model must beat.

Saves to the output folder ``kolmogorov_factformer_rollout.gif`` (truth | prediction | error,
one frame per step), ``kolmogorov_factformer_frames.png`` (selected steps),
``kolmogorov_factformer_error.png`` (relative L2 error against time) and
``kolmogorov_factformer_history.png`` (training curves).

About three minutes on two CPU cores; ``--quick`` runs a tiny version in seconds.

    python examples/kolmogorov_factformer.py [--out examples/output] [--quick]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import sciml
from sciml.core.device import seed_everything
from sciml.data import WindowDataset, generate, split_indices, to_tensor_dataset, write
from sciml.data import open as open_data
from sciml.neural import FactFormer, NeuralOperatorSolver
from sciml.neural.spectral import count_parameters
from sciml.train import AutoregressiveTrainer, evaluate_rollout
from sciml.train.autoregressive import rollout_errors

#: Frames each model call predicts by latent marching.
FRAMES_PER_CALL = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples/output", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    if args.quick:
        n_train, n_test, resolution, spin_up, t_end, epochs, hidden = 4, 2, 32, 0.5, 2.0, 2, 16
    else:
        n_train, n_test, resolution, spin_up, t_end, epochs, hidden = 24, 6, 64, 3.0, 8.0, 8, 32
    raw = generate("kolmogorov", out / f"kolmogorov{resolution}_spinup.h5", n=n_train + n_test,
                   resolution=resolution, seed=0, t_end=t_end, dt_out=0.1, nu=1e-2, drag=0.1,
                   device="cpu", progress=not args.quick)
    raw_source = open_data(raw)
    first = int(np.searchsorted(raw_source.times, spin_up - 1e-9))
    path = write(out / f"kolmogorov{resolution}.h5",
                 {"vorticity": raw_source.field("vorticity")[:, first:]}, raw_source.grid,
                 attrs={"pde": "kolmogorov"}, times=raw_source.times[first:])
    source = open_data(path)
    horizon = source.field("vorticity").shape[1] - 1  # roll out over all kept frames
    train_idx, test_idx = split_indices(source.n_samples, n_train, n_test)

    # windows of one frame in and FRAMES_PER_CALL out (one model call each): every third
    # start for training (neighbouring starts are 0.1 apart and nearly alike),
    # non-overlapping ones on the test trajectories for the per-epoch check; the
    # full-horizon rollout from each test trajectory's first frame is evaluated at the end
    train = to_tensor_dataset(WindowDataset(source, "vorticity", k_in=1, m_out=FRAMES_PER_CALL,
                                     hop=3, indices=train_idx))
    test = to_tensor_dataset(WindowDataset(source, "vorticity", k_in=1, m_out=FRAMES_PER_CALL,
                                    hop=FRAMES_PER_CALL, indices=test_idx))
    long = to_tensor_dataset(WindowDataset(source, "vorticity", k_in=1, m_out=horizon,
                                    indices=test_idx))
    problem = sciml.OperatorProblem(train, {"test": test}, name="kolmogorov",
                                    grid=source.grid)

    seed_everything(0)
    model = FactFormer(in_channels=1, out_channels=FRAMES_PER_CALL, dim=2,
                       hidden_channels=hidden, n_layers=2, n_heads=4, norm_groups=4,
                       fourier_features=8, propagator_layers=1, out_steps=FRAMES_PER_CALL)
    print(f"FactFormer with {count_parameters(model)} parameters, {len(train)} training "
          f"windows of {resolution}x{resolution}")
    # teacher forcing with one call per window: each call marches FRAMES_PER_CALL latent
    # steps from a true frame, and the loss covers every decoded frame
    trainer = AutoregressiveTrainer(
        channels=1, mode="teacher_forcing", frames_per_call=FRAMES_PER_CALL, epochs=epochs,
        batch_size=8, lr=2e-3, weight_decay=1e-4, eval_every=max(1, epochs // 4),
        progress=not args.quick, device="auto",
    )
    solver = NeuralOperatorSolver(model, trainer).fit(problem)
    print(problem.evaluate(solver))

    evaluation = evaluate_rollout(solver.model_, long, **trainer.layout)
    x_long, y_long = long.tensors
    persistence = rollout_errors(x_long.repeat(1, horizon, 1, 1), y_long, 1).mean(0)
    times = source.times[1 : horizon + 1]
    print(f"rollout over t in ({spin_up:g}, {t_end:g}]: relative L2 {evaluation.total:.3f} "
          f"(first step {evaluation.per_step[0]:.3f}, last {evaluation.final:.3f}); "
          f"persistence {float(persistence.mean()):.3f} (first step {float(persistence[0]):.3f})")

    x0, truth = long[0]
    prediction = solver.rollout(x0, horizon)
    grid = source.grid
    title = f"Kolmogorov flow, FactFormer ({FRAMES_PER_CALL} latent steps per call)"
    sciml.plot.animate_rollout(truth, prediction, out / "kolmogorov_factformer_rollout.gif",
                               grid=grid, channels=1, times=times, fps=4, title=title)
    sciml.plot.plot_rollout(truth, prediction, grid=grid, channels=1, times=times,
                            title=title, path=out / "kolmogorov_factformer_frames.png")
    fig = sciml.plot.plot_rollout_error(
        {"FactFormer": evaluation, "persistence": persistence.numpy()}, times=times,
        title="rollout error (mean over test trajectories)")
    ax = fig.axes[0]
    # the model re-encodes its own prediction between frames b and b + 1
    for i, b in enumerate(range(FRAMES_PER_CALL, horizon, FRAMES_PER_CALL)):
        ax.axvline((times[b - 1] + times[b]) / 2, color="0.6", linewidth=0.8, linestyle=":",
                   label="new model call" if i == 0 else None)
    ax.legend(fontsize=9)
    fig.savefig(out / "kolmogorov_factformer_error.png", dpi=150)
    sciml.plot.history(solver.history_, path=out / "kolmogorov_factformer_history.png")
    print(f"figures in {out}/")


if __name__ == "__main__":
    main()
