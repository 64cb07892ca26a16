"""Benchmark of `seqrun tune` on the movie-review recipe: a full grid against TPE + Hyperband.

1. grid: every one of the 27 points of a 3 x 3 x 3 space (learning rate, units, dropout) trained
   all its epochs (`seqrun tune` with sampler grid and pruner none);
2. tune: TPE + Hyperband over the same 27 points with a budget of --trials finished trials, once
   per study seed (--seeds), reporting the median over seeds of the best dev accuracy and of the
   epochs trained, against the grid's best and its total epochs;
3. workers: one study (random sampler, no pruning, --parallel-trials trials) with --workers 2
   and with --workers 1, alternated --repeats times; the median wall-time ratio, and the CPU
   seconds (user + system, all processes) that each took: a ratio near cpu_1 / (2 x wall_1)
   means one trial alone already kept both cores busy.

Every figure comes from the studies' storages. Prints one JSON object (and a line per part).

    python bench/tune_bench.py [--base configs/mr-best.yaml] [--set KEY=VALUE ...] \
        [--epochs 10] [--trials 15] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPACE = {
    "train.learning_rate": {"choice": [1.0e-4, 3.0e-4, 1.0e-3]},
    "model.units": {"choice": [16, 32, 64]},
    "model.dropout": {"choice": [0.0, 0.25, 0.5]},
}


def study_file(folder: Path, name: str, base: Path, **fields) -> Path:
    path = folder / f"{name}.yaml"
    spec = {"base": str(base.resolve()), "name": name, "space": SPACE, **fields}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def tune(study: Path, runs: Path, sets: list[str], *extra: str) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "seqrun", "tune", str(study), "--runs-dir", str(runs), "--json"]
    for s in sets:
        cmd += ["--set", s]
    t0 = time.time()
    out = subprocess.run([*cmd, *extra], capture_output=True, text=True, cwd=ROOT)
    wall = time.time() - t0
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="configs/mr-best.yaml")
    p.add_argument("--set", action="append", default=[], dest="sets")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--trials", type=int, default=15)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--parallel-trials", type=int, default=6)
    p.add_argument("--repeats", type=int, default=1, help="workers part: pairs of runs")
    p.add_argument("--skip", nargs="*", default=[], choices=["grid", "tune", "workers"])
    p.add_argument("--runs-dir", default=None)
    args = p.parse_args()
    base = Path(args.base)
    sets = [*args.sets, f"train.epochs={args.epochs}"]
    folder = Path(args.runs_dir or tempfile.mkdtemp(prefix="tune-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    runs = folder / "runs"
    result: dict = {
        "base": str(base),
        "set": sets,
        "space": SPACE,
        "cpus": os.cpu_count(),
        "load_avg_start": os.getloadavg(),
    }
    if "grid" not in args.skip:
        grid = study_file(folder, "grid", base, sampler="grid", pruner="none", trials=27)
        info, wall = tune(grid, runs, sets)
        result["grid"] = {
            "best_dev_accuracy": info["best_value"],
            "best_params": info["best_params"],
            "epochs": info["epochs"],
            "counts": info["counts"],
            "wall_s": round(wall, 1),
        }
        print("grid:", json.dumps(result["grid"]), file=sys.stderr, flush=True)
    if "tune" not in args.skip:
        per_seed = []
        for seed in args.seeds:
            study = study_file(
                folder,
                f"tpe-hb-{seed}",
                base,
                sampler="tpe",
                pruner="hyperband",
                trials=args.trials,
                seed=seed,
            )
            info, wall = tune(study, runs, sets)
            per_seed.append(
                {
                    "seed": seed,
                    "best_dev_accuracy": info["best_value"],
                    "best_params": info["best_params"],
                    "epochs": info["epochs"],
                    "counts": info["counts"],
                    "wall_s": round(wall, 1),
                }
            )
            print("tune:", json.dumps(per_seed[-1]), file=sys.stderr, flush=True)
        best = statistics.median(s["best_dev_accuracy"] for s in per_seed)
        epochs = statistics.median(s["epochs"] for s in per_seed)
        result["tune"] = {"per_seed": per_seed, "median_best": best, "median_epochs": epochs}
        if "grid" in result:
            g = result["grid"]
            result["tune"]["gap_points"] = round(100 * (g["best_dev_accuracy"] - best), 3)
            result["tune"]["epochs_ratio"] = round(epochs / g["epochs"], 3)
    if "workers" not in args.skip:
        walls: dict[int, list[float]] = {2: [], 1: []}
        cpus: dict[int, list[float]] = {2: [], 1: []}
        for rep in range(args.repeats):
            for workers in (2, 1):
                study = study_file(
                    folder,
                    f"workers-{workers}-{rep}",
                    base,
                    sampler="random",
                    pruner="none",
                    trials=args.parallel_trials,
                )
                cpu0 = children_cpu()
                info, wall = tune(study, runs, sets, "--workers", str(workers))
                walls[workers].append(round(wall, 1))
                cpus[workers].append(round(children_cpu() - cpu0, 1))
                print(
                    f"workers {workers}: {wall:.1f}s wall, {cpus[workers][-1]}s CPU "
                    f"{info['counts']}",
                    file=sys.stderr,
                    flush=True,
                )
        ratios = [round(a / b, 3) for a, b in zip(walls[2], walls[1], strict=True)]
        result["workers"] = {
            "trials": args.parallel_trials,
            "wall_s": walls,
            "cpu_s": cpus,
            "ratios_2_over_1": ratios,
            "ratio_2_over_1": statistics.median(ratios),
        }
    result["load_avg_end"] = os.getloadavg()
    result["runs_dir"] = str(runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
