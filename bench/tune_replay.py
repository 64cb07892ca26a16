"""Replay a recorded grid through Optuna's TPE + Hyperband for many study seeds, without training.

`bench/tune_bench.py` trains its 27-point grid once; every run's `history.csv` then holds the dev
accuracy after each epoch. Training is deterministic (same config and seed, same numbers), so a
trial of the same point in a study would report the same values. This script asks Optuna's
sampler for points, reports the recorded per-epoch values to its pruner, and so measures how
often a budget of trials reaches the grid's best, for far more study seeds than training allows.
It mirrors `seqrun tune`: a fresh sampler per trial seeded with seed + trial number, Hyperband's
max_resource = the epochs, the budget counted in finished (complete + pruned) trials, the best
value over complete trials.

    python bench/tune_replay.py RUNS_DIR/mr-best [--trials 11 12] [--startup 3 10] [--seeds 45]

RUNS_DIR is the folder `tune_bench.py --runs-dir DIR` wrote (DIR/runs). Prints one line per
(trials, startup) pair: median gap to the grid's best in points, the share of seeds within
0.3 points, the median epochs and their ratio to the grid's.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

import yaml

KEYS = ("train.learning_rate", "model.units", "model.dropout")


def _get(cfg: dict, dotted: str):
    for part in dotted.split("."):
        cfg = cfg[part]
    return cfg


def read_grid(folder: Path, study: str = "grid") -> dict[tuple, list[float]]:
    """(learning rate, units, dropout) -> the dev accuracy after each epoch, from the runs of
    ``study`` (the folder also holds the tune studies' trials)."""
    table = {}
    for run in sorted(p for p in folder.iterdir() if (p / "history.csv").is_file()):
        if json.loads((run / "meta.json").read_text()).get("study") != study:
            continue
        cfg = yaml.safe_load((run / "config.yaml").read_text())
        with open(run / "history.csv", newline="") as f:
            curve = [float(r["dev_accuracy"]) for r in csv.DictReader(f)]
        table[tuple(_get(cfg, k) for k in KEYS)] = curve
    return table


def replay(table: dict, seed: int, trials: int, startup: int) -> tuple[float, int]:
    """(best complete value, epochs trained) of one replayed study."""
    import optuna
    from optuna.trial import TrialState

    epochs = max(len(c) for c in table.values())
    values = [sorted({k[i] for k in table}) for i in range(len(KEYS))]
    choice = optuna.distributions.CategoricalDistribution
    dists = {k: choice(v) for k, v in zip(KEYS, values, strict=True)}
    study = optuna.create_study(  # named: Hyperband's brackets hash the study name
        study_name=f"replay-{seed}",
        direction="maximize",
        pruner=optuna.pruners.HyperbandPruner(max_resource=epochs),
    )
    while sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials) < trials:
        study.sampler = optuna.samplers.TPESampler(
            seed=seed + len(study.trials), n_startup_trials=startup, constant_liar=True
        )
        trial = study.ask(dists)
        curve = table[tuple(trial.params[k] for k in KEYS)]
        for epoch, value in enumerate(curve, start=1):
            trial.report(value, epoch)
            if trial.should_prune():
                study.tell(trial, state=TrialState.PRUNED)
                break
        else:
            study.tell(trial, max(curve))
    complete = [t.value for t in study.trials if t.state == TrialState.COMPLETE]
    epochs_trained = sum(len(t.intermediate_values) for t in study.trials)
    return max(complete, default=float("nan")), epochs_trained


def main() -> None:
    import optuna

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("grid_runs", type=Path, help="the grid's run folder (RUNS_DIR/mr-best)")
    p.add_argument("--trials", type=int, nargs="+", default=[11, 12])
    p.add_argument("--startup", type=int, nargs="+", default=[3, 10])
    p.add_argument("--seeds", type=int, default=45)
    p.add_argument("--study", default="grid", help="the grid study's name in the runs' meta")
    args = p.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    table = read_grid(args.grid_runs, args.study)
    best = max(max(c) for c in table.values())
    grid_epochs = sum(len(c) for c in table.values())
    print(f"grid: {len(table)} points, best {best:.4f}, {grid_epochs} epochs")
    for trials in args.trials:
        for startup in args.startup:
            res = [replay(table, s, trials, startup) for s in range(args.seeds)]
            gaps = [100 * (best - b) for b, _ in res]
            eps = [e for _, e in res]
            near = sum(g <= 0.3 + 1e-9 for g in gaps) / len(gaps)
            print(
                f"trials {trials} startup {startup}: median gap {statistics.median(gaps):.2f} "
                f"points, within 0.3 in {near:.0%} of {args.seeds} seeds, median epochs "
                f"{statistics.median(eps)} ({statistics.median(eps) / grid_epochs:.3f} of the grid)"
            )


if __name__ == "__main__":
    main()
