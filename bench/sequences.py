"""Sequences benchmark (issue 12): test accuracy of the shipped BasicMotions and GunPoint
configs, and the epoch wall time of seqrun against a plain-Keras script on the same model and
data, in one invocation. Prints a table and one JSON line.

    nice python bench/sequences.py                      # every shipped config, 3 seeds
    nice python bench/sequences.py --seeds 0 --configs configs/gunpoint-fcn.yaml

Accuracy: ``seqrun train`` then ``seqrun evaluate`` (test split = the archive's TEST file;
best dev-loss checkpoint). Epoch time: the median over epochs 2.. of ``history.csv``
``seconds`` (seqrun: one epoch's fit, dev scoring and checkpoints) against the same FCN built
with plain Keras on the same arrays (own .ts reader, the same z-normalisation, batch size,
optimizer and dev split size), fitted with the dev split as validation data.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [
    "configs/basicmotions-fcn.yaml",
    "configs/basicmotions-gru.yaml",
    "configs/gunpoint-fcn.yaml",
    "configs/gunpoint-gru.yaml",
]
TARGETS = {"basicmotions": 1.00, "gunpoint": 0.97}


def seqrun(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "seqrun", *args], capture_output=True, text=True, env=env
    )
    if r.returncode != 0:
        raise SystemExit(f"seqrun {' '.join(args)} failed:\n{r.stderr[-2000:]}")
    return r.stdout


def run_config(config: str, seed: int, runs: Path) -> dict:
    seqrun("train", config, "--set", f"seed={seed}", "--runs-dir", str(runs), "--quiet")
    name = Path(config).stem
    run = sorted((runs / name).iterdir())[-1]
    seqrun("evaluate", str(run))
    test = json.loads((run / "metrics" / "test.json").read_text())
    with open(run / "history.csv", newline="") as f:
        secs = [float(r["seconds"]) for r in csv.DictReader(f)]
    return {
        "accuracy": test["accuracy"],
        "epochs": len(secs),
        "epoch_s": statistics.median(secs[1:]) if len(secs) > 1 else secs[0],
    }


def read_ts(path: Path):
    """A minimal .ts reader (equal lengths, labelled): (N, T, F) array and label strings."""
    import numpy as np

    xs, ys = [], []
    with gzip.open(path, "rt") as f:
        data = False
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.lower() == "@data":
                data = True
                continue
            if data:
                *dims, label = line.split(":")
                xs.append(np.array([[float(v) for v in d.split(",")] for d in dims]).T)
                ys.append(label)
    return np.stack(xs).astype("float32"), ys


def plain_keras_fcn(sample: str, epochs: int, batch: int, dev_share: float, seed: int) -> dict:
    """The FCN in plain Keras on the sample's TRAIN file (dev carved out), epoch seconds."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    x, y = read_ts(ROOT / "seqrun" / "samples" / f"{sample}_train.ts.gz")
    x = (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + 1e-8)
    names = sorted(set(y))
    yi = np.array([names.index(v) for v in y])
    perm = np.random.default_rng(seed).permutation(len(x))
    n_dev = int(round(len(x) * dev_share))
    dev, train = perm[:n_dev], perm[n_dev:]
    keras.utils.set_random_seed(seed)
    inp = keras.Input(x.shape[1:])
    h = inp
    for f, k in ((128, 8), (256, 5), (128, 3)):
        h = keras.layers.Conv1D(f, k, padding="same")(h)
        h = keras.layers.BatchNormalization(momentum=0.9)(h)
        h = keras.layers.Activation("relu")(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    binary = len(names) == 2
    out = keras.layers.Dense(
        1 if binary else len(names), activation="sigmoid" if binary else "softmax"
    )(h)
    model = keras.Model(inp, out)
    model.compile(
        keras.optimizers.Adam(1e-3),
        "binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    yy = yi.astype("float32")[:, None] if binary else yi
    model.fit(
        x[train],
        yy[train],
        batch_size=batch,
        epochs=epochs,
        validation_data=(x[dev], yy[dev]),
        verbose=0,
        callbacks=[Clock()],
    )
    return {"epoch_s": statistics.median(times[1:])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="*", default=CONFIGS)
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    ap.add_argument("--timing-epochs", type=int, default=30)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        for config in args.configs:
            accs, epoch_s = [], []
            for seed in args.seeds:
                r = run_config(config, seed, runs)
                accs.append(r["accuracy"])
                epoch_s.append(r["epoch_s"])
            sample = Path(config).stem.split("-")[0]
            rows.append(
                {
                    "config": config,
                    "test_accuracy": [round(a, 4) for a in accs],
                    "mean": round(statistics.mean(accs), 4),
                    "target": TARGETS.get(sample),
                    "epoch_s": round(statistics.median(epoch_s), 4),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        # epoch wall time: the FCN on GunPoint, seqrun vs plain Keras, same epochs and batch
        timing_cfg = ROOT / "configs" / "gunpoint-fcn.yaml"
        t_runs = runs / "timing"
        seqrun(
            "train",
            str(timing_cfg),
            "--set",
            f"train.epochs={args.timing_epochs}",
            "--set",
            "train.early_stopping.patience=null",
            "--set",
            "train.lr_schedule=constant",
            "--runs-dir",
            str(t_runs),
            "--quiet",
        )
        run = sorted((t_runs / "gunpoint-fcn").iterdir())[-1]
        with open(run / "history.csv", newline="") as f:
            ours = statistics.median(float(r["seconds"]) for r in list(csv.DictReader(f))[1:])
        meta = json.loads((run / "meta.json").read_text())
        sizes = meta["data"]["sizes"]
        dev_share = sizes["dev"] / (sizes["train"] + sizes["dev"])
        import yaml

        batch = yaml.safe_load(timing_cfg.read_text())["train"]["batch_size"]
        plain = plain_keras_fcn("gunpoint", args.timing_epochs, batch, dev_share, 0)
    print(f"{'config':34} {'test accuracy per seed':28} {'mean':>6} {'target':>6} {'epoch s':>8}")
    for r in rows:
        print(
            f"{r['config']:34} {str(r['test_accuracy']):28} {r['mean']:6.3f} "
            f"{r['target'] or '':>6} {r['epoch_s']:8.3f}"
        )
    ratio = ours / plain["epoch_s"]
    print(
        f"epoch wall time, FCN on GunPoint ({args.timing_epochs} epochs, batch {batch}): seqrun "
        f"{ours:.3f} s, plain Keras {plain['epoch_s']:.3f} s, ratio {ratio:.3f} (target <= 1.0)"
    )
    print(
        json.dumps(
            {
                "accuracy": rows,
                "epoch_s": {"seqrun": ours, "plain_keras": plain["epoch_s"], "ratio": ratio},
            }
        )
    )


if __name__ == "__main__":
    main()
