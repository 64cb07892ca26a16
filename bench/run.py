"""seqrun's benchmarks: one table of figures, seqrun against plain Keras or another reference.

    python bench/run.py                 # every benchmark
    python bench/run.py --only cli      # one group (see --list)
    python bench/run.py --quick         # smaller data, for a smoke run of the script itself

Each benchmark returns rows (figure, seqrun value, reference value, ratio, note). Results are
also written to bench/out/results.json. Targets live here, not in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES: dict[str, Callable[[argparse.Namespace], list[dict]]] = {}


def bench(name: str):
    def register(fn):
        BENCHES[name] = fn
        return fn

    return register


def sh(cmd: list[str], env: dict | None = None, check: bool = True) -> tuple[float, str]:
    """Run a command from the repository root; (wall seconds, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    wall = time.perf_counter() - t0
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return wall, p.stdout


def seqrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "seqrun", *args]


def row(figure: str, ours, ref=None, ratio=None, note: str = "") -> dict:
    return {"figure": figure, "seqrun": ours, "reference": ref, "ratio": ratio, "note": note}


@bench("cli")
def bench_cli(args: argparse.Namespace) -> list[dict]:
    """Start-up time of commands that must not import TensorFlow."""
    rows = []
    for label, cmd in (
        ("seqrun --help (s)", seqrun("--help")),
        (
            "seqrun config validate ladybug-gru (s)",
            seqrun("config", "validate", "configs/ladybug-gru.yaml"),
        ),
        ("seqrun list (s)", seqrun("list")),
    ):
        times = [sh(cmd)[0] for _ in range(5)]
        best, med = min(times), statistics.median(times)
        rows.append(
            row(
                label,
                round(med, 3),
                0.5,
                round(med / 0.5, 2),
                f"median of 5, min {best:.3f}; target < 0.5 s",
            )
        )
    # a user error in the data: reported before TensorFlow is imported
    missing = seqrun(
        "train",
        "configs/weather-nyc-3h.yaml",
        "--set",
        "data.sample=null",
        "--set",
        "data.path=no-such-file.csv",
        "--set",
        "data.time_column=time",
    )
    times = [sh(missing, check=False)[0] for _ in range(5)]
    rows.append(
        row(
            "seqrun train, data file missing: the error (s)",
            round(statistics.median(times), 3),
            1.0,
            round(statistics.median(times) / 1.0, 2),
            f"median of 5, min {min(times):.3f}; target < 1 s",
        )
    )
    t_tf = [sh([sys.executable, "-c", "import tensorflow"])[0] for _ in range(2)]
    rows.append(
        row("python -c 'import tensorflow' (s)", None, round(min(t_tf), 2), None, "for scale")
    )
    return rows


@bench("ladybug")
def bench_ladybug(args: argparse.Namespace) -> list[dict]:
    """configs/ladybug-gru.yaml against bench/ladybug_plain.py (same data, model, epochs)."""
    scale = "0.1" if args.quick else "1.0"
    epochs = "1" if args.quick else "5"
    runs = tempfile.mkdtemp(prefix="seqrun-bench-")
    wall_plain, out = sh(
        [sys.executable, "bench/ladybug_plain.py", "--scale", scale, "--epochs", epochs]
    )
    plain = json.loads(out.strip().splitlines()[-1])
    wall_ours, out = sh(
        seqrun(
            "train",
            "configs/ladybug-gru.yaml",
            "--set",
            f"data.scale={scale}",
            "--set",
            f"train.epochs={epochs}",
            "--runs-dir",
            runs,
            "--json",
        )
    )
    res = json.loads(out)
    dev = res["metrics"]
    _, out = sh(seqrun("evaluate", res["run_dir"], "--json"))
    test = json.loads(out)["metrics"]
    return [
        row(
            "ladybug-gru train wall time (s)",
            round(wall_ours, 1),
            round(wall_plain, 1),
            round(wall_ours / wall_plain, 3),
            f"{epochs} epochs, scale {scale}; target ratio <= 1.10",
        ),
        row(
            "ladybug-gru dev MAE (normalised)",
            round(dev["mae_norm"], 4),
            round(plain["dev_mae_norm"], 4),
            round(dev["mae_norm"] / plain["dev_mae_norm"], 2),
            "reference: plain Keras, same split",
        ),
        row(
            "ladybug-gru test MAE (normalised)",
            round(test["mae_norm"], 4),
            0.02,
            round(test["mae_norm"] / 0.02, 2),
            "target <= 0.02",
        ),
        row(
            "ladybug-gru test MAE / persistence MAE",
            round(test["mae"] / test["persistence_mae"], 4),
            0.1,
            round(test["mae"] / test["persistence_mae"] / 0.1, 2),
            "target <= 0.1",
        ),
        row(
            "ladybug-gru test recursive MAE per step (normalised)",
            " ".join(f"{v:.3f}" for v in test.get("recursive_mae_norm_per_step", [])),
            None,
            None,
            "5 steps fed back",
        ),
    ]


@bench("multiworker")
def bench_multiworker(args: argparse.Namespace) -> list[dict]:
    """ladybug-gru on 2 local workers (--nproc 2) against 1 process, same global batch."""
    scale = "0.05" if args.quick else "0.2"
    common = ["--set", f"data.scale={scale}", "--set", "train.epochs=2"]
    common += ["--set", "train.batch_size=64", "--json"]
    runs = tempfile.mkdtemp(prefix="seqrun-bench-")
    wall_one, out = sh(
        seqrun("train", "configs/ladybug-gru.yaml", *common, "--runs-dir", f"{runs}/one")
    )
    one = json.loads(out)["metrics"]
    wall_two, out = sh(
        seqrun(
            "train",
            "configs/ladybug-gru.yaml",
            *common,
            "--runs-dir",
            f"{runs}/two",
            "--nproc",
            "2",
        )
    )
    two = json.loads(out)["metrics"]
    note = f"GRU(200), scale {scale}, 2 epochs, global batch 64 (32 per worker), 2 CPU cores"
    return [
        row(
            "2 local workers vs 1 process: train wall time (s)",
            round(wall_two, 1),
            round(wall_one, 1),
            round(wall_two / wall_one, 2),
            note + "; no speed-up expected on 2 cores",
        ),
        row(
            "2 local workers vs 1 process: dev MAE (normalised)",
            round(two["mae_norm"], 6),
            round(one["mae_norm"], 6),
            round(two["mae_norm"] / one["mae_norm"], 6),
            "same global batch: equal to rel 1e-4 expected",
        ),
    ]


@bench("runs")
def bench_runs(args: argparse.Namespace) -> list[dict]:
    """`seqrun runs list` over 1,000 run directories (no TensorFlow import)."""
    from seqrun.core.runs import Run, write_json

    root = Path(tempfile.mkdtemp(prefix="seqrun-bench-runs-"))
    n = 200 if args.quick else 1000
    for i in range(n):
        run = Run(root / f"exp{i % 10}" / f"20260101-000000-{i:06x}")
        write_json(
            run.meta_path,
            {
                "status": "completed",
                "overrides": [f"seed={i}"],
                "duration_s": 12.5,
                "started_at": "2026-01-01T00:00:00",
            },
        )
        write_json(run.metrics_path("dev"), {"mae": 0.1, "rmse": 0.2, "skill": 0.5})
        write_json(run.metrics_path("test"), {"mae": 0.1, "rmse": 0.2, "skill": 0.5})
    rows = []
    for fmt in ([], ["--json"]):
        times = [sh(seqrun("runs", "list", "--runs-dir", str(root), *fmt))[0] for _ in range(3)]
        rows.append(
            row(
                f"seqrun runs list {' '.join(fmt)} over {n} runs (s)".replace("  ", " "),
                round(statistics.median(times), 3),
                1.0,
                round(statistics.median(times) / 1.0, 2),
                "median of 3; target < 1 s",
            )
        )
    return rows


@bench("sweep")
def bench_sweep(args: argparse.Namespace) -> list[dict]:
    """A 4-trial ladybug sweep with --workers 2 against the same 4 trials one after another."""
    folder = Path(tempfile.mkdtemp(prefix="seqrun-bench-sweep-"))
    path = _sweep_file(folder, args.quick)
    seq, _ = sh(seqrun("sweep", str(path), "--runs-dir", str(folder / "seq"), "--workers", "1"))
    par, _ = sh(seqrun("sweep", str(path), "--runs-dir", str(folder / "par"), "--workers", "2"))
    return [
        row(
            "4-trial sweep wall time, --workers 2 vs 1 (s)",
            round(par, 1),
            round(seq, 1),
            round(par / seq, 3),
            "ladybug GRU(16|32) x 2 seeds, 3 epochs; expect < 0.8 on 2 cores",
        )
    ]


def _sweep_file(folder: Path, quick: bool) -> Path:
    import yaml

    spec = {
        "base": str(ROOT / "configs" / "ladybug-gru.yaml"),
        "grid": {"model.units": [16, 32]},
        "seeds": [0, 1],
        "set": [f"data.scale={0.02 if quick else 0.2}", "train.epochs=3"],
    }
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@bench("ray")
def bench_ray(args: argparse.Namespace) -> list[dict]:
    """The same 4-trial sweep through the Ray executor against the local one (--workers 2)."""
    folder = Path(tempfile.mkdtemp(prefix="seqrun-bench-ray-"))
    path = _sweep_file(folder, args.quick)
    local, _ = sh(seqrun("sweep", str(path), "--runs-dir", str(folder / "local"), "-w", "2"))
    ray, _ = sh(
        seqrun(
            "sweep", str(path), "--runs-dir", str(folder / "ray"), "-w", "2", "--executor", "ray"
        )
    )
    return [
        row(
            "4-trial sweep wall time, Ray vs local executor, 2 workers (s)",
            round(ray, 1),
            round(local, 1),
            round(ray / local, 3),
            "Ray start-up and shutdown included",
        )
    ]


TEXT_MODELS = ("multihot", "pooling", "lstm", "gru", "bigru")


@bench("text")
def bench_text(args: argparse.Namespace) -> list[dict]:
    """Film-review snippets: 5 text models, seqrun vs plain Keras, and the best shipped recipe."""
    runs = tempfile.mkdtemp(prefix="seqrun-bench-text-")
    quick = ["--set", "train.epochs=1"] if args.quick else []
    rows = []

    def ours(config: str) -> tuple[float, dict, dict]:
        wall, out = sh(seqrun("train", config, "--runs-dir", runs, "--json", *quick))
        res = json.loads(out)
        _, out = sh(seqrun("evaluate", res["run_dir"], "--json"))
        return wall, res["metrics"], json.loads(out)["metrics"]

    for name in TEXT_MODELS:
        config = f"configs/mr-{name}.yaml"
        plain_cmd = [sys.executable, "bench/text_plain.py", config]
        plain_cmd += ["--epochs", "1"] if quick else []
        walls, walls_plain = [], []
        for i in range(args.repeat):  # alternate the order (ABBA) so drift hits both sides
            if i % 2 == 0:
                wall_p, out = sh(plain_cmd)
                wall_s, dev, test = ours(config)
            else:
                wall_s, dev, test = ours(config)
                wall_p, out = sh(plain_cmd)
            walls.append(wall_s)
            walls_plain.append(wall_p)
        plain = json.loads(out.strip().splitlines()[-1])
        wall, wall_plain = statistics.median(walls), statistics.median(walls_plain)
        rows.append(
            row(
                f"mr {name}: test accuracy",
                round(test["accuracy"], 4),
                round(plain["test_accuracy"], 4),
                round(test["accuracy"] / plain["test_accuracy"], 3),
                f"dev {dev['accuracy']:.4f} vs {plain['dev_accuracy']:.4f}; "
                f"majority {test['majority_accuracy']:.3f}",
            )
        )
        rows.append(
            row(
                f"mr {name}: train wall time (s)",
                round(wall, 1),
                round(wall_plain, 1),
                round(wall / wall_plain, 3),
                f"whole process, median of {args.repeat}; plain fit {plain['fit_s']} s; "
                "target ratio <= 1.10",
            )
        )
    wall, dev, test = ours("configs/mr-best.yaml")
    rows.append(
        row(
            "mr best recipe (mr-best.yaml): test accuracy",
            round(test["accuracy"], 4),
            0.79,
            round(test["accuracy"] / 0.79, 3),
            f"target >= 0.79; dev {dev['accuracy']:.4f}, f1 {test['f1']:.4f}, "
            f"auc {test['auc']:.4f}, train {wall:.0f} s",
        )
    )
    return rows


# published 10-fold CV accuracies on the sentence-polarity corpus
# (Kim 2014, Table 2; Wang & Manning 2012)
PUBLISHED_MR = {"CNN-rand": 0.761, "NBSVM-bi": 0.794, "CNN non-static (word2vec)": 0.815}


@bench("cv")
def bench_cv(args: argparse.Namespace) -> list[dict]:
    """10-fold CV of configs/mr-best.yaml on all of mr_snippets.tsv: mean +- std."""
    runs = tempfile.mkdtemp(prefix="seqrun-bench-cv-")
    folds = "2" if args.quick else "10"
    extra = ["--set", "train.epochs=1"] if args.quick else []
    # test: 0 folds every row (the literature's protocol): each held-out fold is the evaluation
    wall, out = sh(
        seqrun(
            "train", "configs/mr-best.yaml", "--folds", folds, "--set", "data.split.test=0",
            "--runs-dir", runs, "--json", "--quiet", *extra,
        )
    )  # fmt: skip
    res = json.loads(out)
    acc = res["cv"]["accuracy"]
    # the best epoch is chosen on the held-out fold itself; the last epoch involves no choice
    _, out = sh(
        seqrun("evaluate", res["run_dir"], "--split", "dev", "--checkpoint", "last", "--json")
    )
    last = json.loads(out)["metrics"]
    ref = PUBLISHED_MR["NBSVM-bi"]
    published = ", ".join(f"{k} {v:.3f}" for k, v in PUBLISHED_MR.items())
    return [
        row(
            f"mr-best {folds}-fold CV accuracy, best epoch (mean +- std)",
            f"{acc['mean']:.4f} +- {acc['std']:.4f}",
            ref,
            round(acc["mean"] / ref, 3),
            f"reference NBSVM-bi (published 10-fold: {published}); best epoch selected on the "
            f"held-out fold; folds min {acc['min']:.4f} max {acc['max']:.4f}; {wall:.0f} s",
        ),
        row(
            f"mr-best {folds}-fold CV accuracy, last epoch (mean +- std)",
            f"{last['accuracy']:.4f} +- {last['std']['accuracy']:.4f}",
            ref,
            round(last["accuracy"] / ref, 3),
            "every fold's final epoch: no choice made on the held-out fold",
        ),
    ]


@bench("describe")
def bench_describe(args: argparse.Namespace) -> list[dict]:
    """Wall time of `seqrun data describe` (no TensorFlow) on the MR and NYC configs."""
    rows = []
    for label, config in (
        ("mr-best (mr_snippets.tsv)", "configs/mr-best.yaml"),
        ("weather-nyc-3h (NYC sample)", "configs/weather-nyc-3h.yaml"),
    ):
        times = [sh(seqrun("data", "describe", config, "--json"))[0] for _ in range(5)]
        med = statistics.median(times)
        rows.append(
            row(
                f"seqrun data describe {label} (s)",
                round(med, 3),
                3.0,
                round(med / 3.0, 3),
                f"median of 5, min {min(times):.3f}; target < 3 s; whole process",
            )
        )
    return rows


@bench("weather")
def bench_weather(args: argparse.Namespace) -> list[dict]:
    """NYC sample, EWR temperature 3 h and 24 h ahead: seqrun configs vs plain Keras GRUs."""
    runs = tempfile.mkdtemp(prefix="seqrun-bench-weather-")
    epochs = ["--set", "train.epochs=2"] if args.quick else []
    targets = {3: 0.70, 24: 0.84}  # issue 14
    rows = []
    for horizon, target in targets.items():
        config = f"configs/weather-nyc-{horizon}h.yaml"
        times = "hour,day_of_year" if horizon == 3 else "hour"  # the config's time_features
        plain_args = ["--horizon", str(horizon), "--time-features", times]
        plain_args += ["--epochs", "2"] if args.quick else []
        plain_args += ["--units", "128", "--max-wind-speed", "100"]  # data.valid_range
        if horizon == 3:
            plain_args += ["--neighbours", "JFK,LGA"]  # the config's data.neighbours
        if horizon == 24:
            plain_args += ["--dropout", "0.3", "--lr", "3e-4", "--batch", "64"]
        wall_plain, out = sh([sys.executable, "bench/weather_plain.py", *plain_args])
        plain = json.loads(out.strip().splitlines()[-1])
        wall, out = sh(seqrun("train", config, "--runs-dir", runs, "--json", *epochs))
        res = json.loads(out)
        _, out = sh(seqrun("evaluate", res["run_dir"], "--json"))
        test = json.loads(out)["metrics"]["per_target"]["temp"]
        ratio = test["mae"] / test["persistence_mae"]
        plain_ratio = plain["test_mae"] / plain["test_persistence_mae"]
        rows += [
            row(
                f"NYC EWR temp {horizon}h ahead: test MAE (°F)",
                round(test["mae"], 3),
                round(plain["test_mae"], 3),
                round(test["mae"] / plain["test_mae"], 3),
                f"reference: plain Keras GRU(128), same data/split/inputs; persistence "
                f"{test['persistence_mae']:.3f} (plain {plain['test_persistence_mae']:.3f}), "
                f"same hour yesterday {test['daily_persistence_mae']:.3f}",
            ),
            row(
                f"NYC EWR temp {horizon}h ahead: test MAE / persistence MAE",
                round(ratio, 3),
                round(plain_ratio, 3),
                round(ratio / target, 3),
                f"target <= {target}: ratio column is seqrun / target; "
                f"train {wall:.0f} s vs plain {wall_plain:.0f} s",
            ),
        ]
    return rows


@bench("windowing")
def bench_windowing(args: argparse.Namespace) -> list[dict]:
    """1,000,000 x 10 float32 series, 48-step windows: peak memory and one epoch, no model."""
    steps = "100000" if args.quick else "1000000"
    rows = []
    results = {}
    for mode in ("seqrun", "keras"):
        _, out = sh([sys.executable, "bench/windowing_mem.py", mode, "--steps", steps])
        results[mode] = json.loads(out.strip().splitlines()[-1])
    ours, ref = results["seqrun"], results["keras"]
    rows.append(
        row(
            "windowing 1M x 10, 48 steps: peak memory / raw array",
            ours["peak_rss_ratio"],
            ref["peak_rss_ratio"],
            round(ours["peak_rss_ratio"] / 3.0, 3),
            f"target <= 3 (ratio column: seqrun / 3); peak RSS above the pre-array baseline, "
            f"raw {ours['raw_mb']} MB incl.; numpy-only peak {ours['numpy_peak_ratio']}x; "
            f"reference: keras.utils.timeseries_dataset_from_array; materialised windows "
            f"would be 48x",
        )
    )
    rows.append(
        row(
            "windowing 1M x 10, 48 steps: one shuffled epoch, batch 256 (s)",
            ours["epoch_s"],
            ref["epoch_s"],
            round(ours["epoch_s"] / ref["epoch_s"], 3),
            f"{ours['batches']} batches, no model; reference: keras.utils."
            "timeseries_dataset_from_array on the same array",
        )
    )
    return rows


def render(rows: list[dict]) -> str:
    cols = ["figure", "seqrun", "reference", "ratio", "note"]
    cells = [[("" if r[c] is None else str(r[c])) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(x.ljust(w) for x, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks")
    ap.add_argument(
        "--quick", action="store_true", help="small sizes: check the script, not the figures"
    )
    ap.add_argument(
        "--repeat", type=int, default=1, help="time each text pair N times (ABBA), take medians"
    )
    args = ap.parse_args()
    if args.list:
        for name, fn in BENCHES.items():
            print(f"{name:12s} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return
    names = args.only or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    rows = []
    for name in names:
        print(f"# {name} ...", file=sys.stderr, flush=True)
        rows.extend(BENCHES[name](args))
    print(render(rows))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps({"quick": args.quick, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
