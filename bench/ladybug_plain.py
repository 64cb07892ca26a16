"""Plain Keras reference for configs/ladybug-gru.yaml: the course's LADYB1 notebook, as a script.

Same trajectory (seed 16), same chronological 70/10/20 split, one scalar mean/std from train,
windows of 20 points predicting the next, GRU(200, relu) -> Dense(2), rmsprop, mse, batch 32,
5 epochs, dev split as validation data. Prints one JSON line with the figures.

    python bench/ladybug_plain.py [--epochs 5] [--scale 1.0] [--units 200] [--arch gru]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time

T0 = time.time()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def trajectory(seed: int = 16, max_t: float = 1000.0, delta_t: float = 0.02) -> np.ndarray:
    random.seed(seed)
    px = [random.gauss(0.0, 1.0) for _ in range(8)]
    py = [random.gauss(0.0, 1.0) for _ in range(8)]
    ax1, ax2, ax3, ax4, kx1, kx2, kx3, kx4 = px
    ay1, ay2, ay3, ay4, ky1, ky2, ky3, ky4 = py
    t = np.arange(0, max_t, delta_t)
    x = (
        ax1 * np.sin(t * (kx1 + 20))
        + ax2 * np.cos(t * (kx2 + 10))
        + ax3 * np.sin(t * (kx3 + 5))
        + ax4 * np.cos(t * (kx4 + 5))
    )
    y = (
        ay1 * np.cos(t * (ky1 + 20))
        + ay2 * np.sin(t * (ky2 + 10))
        + ay3 * np.cos(t * (ky3 + 5))
        + ay4 * np.sin(t * (ky4 + 5))
    )
    return np.stack([x, y], axis=1).astype(np.float32)


def windows(a: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.lib.stride_tricks.sliding_window_view(a[:-1], n, axis=0).transpose(0, 2, 1)
    return np.ascontiguousarray(x), a[n:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--arch", default="gru", choices=["gru", "lstm"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import keras  # after the arguments, so that --help answers at once

    keras.utils.set_random_seed(args.seed)

    data = trajectory()
    n = int(len(data) * args.scale)
    data = data[:n]
    n_train, n_dev = math.floor(n * 0.7), math.floor(n * 0.1)
    train, dev = data[:n_train], data[n_train : n_train + n_dev]
    mean, std = train.mean(), train.std()
    train, dev = (train - mean) / std, (dev - mean) / std
    x_train, y_train = windows(train, 20)
    x_dev, y_dev = windows(dev, 20)

    layer = keras.layers.GRU if args.arch == "gru" else keras.layers.LSTM
    model = keras.Sequential(
        [keras.Input((20, 2)), layer(args.units, activation="relu"), keras.layers.Dense(2)]
    )
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    t_fit = time.time()
    hist = model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=32,
        validation_data=(x_dev, y_dev),
        verbose=0,
    )
    fit_s = time.time() - t_fit
    dev_mae = float(np.mean(np.abs(model.predict(x_dev, verbose=0) - y_dev)))
    persistence = float(np.mean(np.abs(x_dev[:, -1, :] - y_dev)))
    print(
        json.dumps(
            {
                "train_windows": len(x_train),
                "fit_s": round(fit_s, 2),
                "wall_s": round(time.time() - T0, 2),
                "dev_mae_norm": dev_mae,
                "dev_persistence_mae_norm": persistence,
                "best_val_mae": float(min(hist.history["val_mae"])),
            }
        )
    )


if __name__ == "__main__":
    main()
