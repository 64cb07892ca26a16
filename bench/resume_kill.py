"""Resume at any instant: SIGKILL `seqrun train --resume auto` at random instants, rerun the same
command until the run completes, and compare it with the uninterrupted run.

    python bench/resume_kill.py                  # >= 24 random kills: "N/N identical"
    python bench/resume_kill.py --kills 40 --seed 1
    python bench/resume_kill.py --config my.yaml # another experiment (any config)

The kill instants are drawn uniformly over the life of an uninterrupted process (start-up,
TensorFlow import, data, every epoch, checkpoint writes, scoring); a run gets 1 to 3 kills, each
of a fresh process, like a preemptible cluster that requeues the same command. A run counts as
identical when it ends `completed` in one run directory, its dev metrics equal the uninterrupted
run's (relative 1e-5) and history.csv holds each epoch exactly once.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("mae", "rmse", "mae_norm", "rmse_norm", "skill", "accuracy", "loss", "log_loss", "auc")

# the tiny ladybug of tests/conftest.py, with what a resume must bring back: dropout RNG
# state, a cosine learning-rate schedule (optimizer step), shuffled order, early stopping state
CONFIG = {
    "name": "resume-kill",
    "seed": 3,
    "data": {"adapter": "ladybug", "scale": 0.03, "sequence_len": 8, "predict_len": 3},
    "encoder": {"type": "standardize", "mode": "scalar"},
    "model": {"arch": "gru", "units": 8, "dropout": 0.2, "recurrent_dropout": 0.1},
    "train": {
        "epochs": 4,
        "batch_size": 32,
        "optimizer": "adam",
        "learning_rate": 0.01,
        "lr_schedule": "cosine",
        "early_stopping": {"patience": 3},
    },
    "metrics": "regression",
}


def command(cfg: Path, runs: Path) -> list[str]:
    """The one command line a scheduler reruns."""
    return [sys.executable, "-m", "seqrun", "train", str(cfg), "--runs-dir", str(runs)] + [
        "--resume",
        "auto",
        "--json",
        "--quiet",
    ]


def launch(cfg: Path, runs: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command(cfg, runs),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def phase(runs: Path) -> str:
    """Where the killed run stood, from its files."""
    dirs = sorted(p for p in runs.glob("*/*") if p.is_dir())
    if not dirs:
        return "start-up (no run directory yet)"
    if not (dirs[-1] / "meta.json").is_file():
        return "start-up (run directory without meta.json)"
    meta = json.loads((dirs[-1] / "meta.json").read_text())
    if meta.get("status") == "completed":
        return "completed, not yet exited"
    ckpts = dirs[-1] / "checkpoints"
    torn = " (temporary files left)" if list(ckpts.glob(".*.tmp*")) else ""
    state = ckpts / "state.json"
    if not state.is_file():
        return "before the first checkpoint" + torn
    epoch = json.loads(state.read_text())["epoch"]
    return f"after epoch {epoch}'s checkpoint" + torn


def check(runs: Path, result: dict, expected: dict, epochs: int) -> list[str]:
    """Why this run differs from the uninterrupted one (empty: identical)."""
    problems = []
    dirs = [p for p in runs.glob("*/*") if p.is_dir()]
    if len(dirs) != 1:
        problems.append(f"{len(dirs)} run directories")
    for k in KEYS:
        a, b = result["metrics"].get(k), expected["metrics"].get(k)
        if isinstance(b, float) and not (
            isinstance(a, float) and math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-12)
        ):
            problems.append(f"{k}: {a} != {b}")
    with open(Path(result["run_dir"]) / "history.csv") as f:
        seen = [int(r["epoch"]) for r in csv.DictReader(f)]
    if seen != list(range(1, epochs + 1)):
        problems.append(f"history epochs {seen}")
    meta = json.loads((Path(result["run_dir"]) / "meta.json").read_text())
    if meta.get("status") != "completed":
        problems.append(f"status {meta.get('status')}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=24, help="Random SIGKILL instants, at least.")
    ap.add_argument("--seed", type=int, default=0, help="Seed of the kill instants.")
    ap.add_argument("--config", type=Path, help="Experiment file (default: a tiny ladybug).")
    ap.add_argument("--workdir", type=Path, help="Keep the runs here (default: a temp folder).")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="seqrun-resume-kill-"))
    work.mkdir(parents=True, exist_ok=True)
    cfg = args.config.resolve() if args.config else work / "resume-kill.yaml"
    if not args.config:
        cfg.write_text(yaml.safe_dump(CONFIG, sort_keys=False))

    t0 = time.perf_counter()
    ref = launch(cfg, work / "reference")
    out, err = ref.communicate()
    life = time.perf_counter() - t0
    if ref.returncode != 0:
        print(err, file=sys.stderr)
        return 1
    expected = json.loads(out)
    epochs = expected["epochs_completed"]
    print(f"uninterrupted: {life:.1f} s, {epochs} epochs, dev mae {expected['metrics'].get('mae')}")
    print(f"command: {' '.join(command(cfg, Path('RUNS')))}")

    kills = runs_done = identical = repeated = kills_ok = 0
    while kills < args.kills:
        runs = work / f"run-{runs_done:02d}"
        planned = 3 if runs_done == 0 else rng.choice((1, 1, 2, 3))
        where, out, err = [], "", ""
        for _ in range(planned):
            proc = launch(cfg, runs)
            at = rng.uniform(0.0, life)
            try:
                out, err = proc.communicate(timeout=at)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
                where.append(f"{at:.1f}s: {phase(runs)}")
                continue
            where.append(f"{at:.1f}s: finished first (exit {proc.returncode})")
            if proc.returncode == 0:  # completed: the scheduler has nothing to rerun
                break
        n = sum(1 for w in where if "finished first" not in w)
        kills += n
        repeated += n > 1
        done = bool(where) and where[-1].endswith("(exit 0)")
        for _attempt in range(0 if done else 5):  # the scheduler's reruns, uninterrupted now
            proc = launch(cfg, runs)
            out, err = proc.communicate()
            if proc.returncode == 0:
                done = True
                break
        if not done:
            print(f"run {runs_done}: never completed: {err.strip()[-500:]}")
            runs_done += 1
            continue
        problems = check(runs, json.loads(out), expected, epochs)
        identical += not problems
        kills_ok += n if not problems else 0
        status = "identical" if not problems else "DIFFERENT: " + "; ".join(problems)
        print(f"run {runs_done:2d}: {n} kill(s) [{' | '.join(where)}] -> {status}", flush=True)
        runs_done += 1
    print(
        f"{kills_ok}/{kills} identical (random SIGKILL instants whose run resumed to the "
        f"uninterrupted result; {identical}/{runs_done} runs, {repeated} of them killed more "
        f"than once; {time.perf_counter() - t0:.0f} s; {work})"
    )
    return 0 if identical == runs_done else 1


if __name__ == "__main__":
    sys.exit(main())
