"""Peak memory and epoch time of windowing a long series, without a model (one process per run).

    python bench/windowing_mem.py seqrun [--steps 1000000] [--features 10] [--window 48]
    python bench/windowing_mem.py keras  [...]   # keras.utils.timeseries_dataset_from_array

``seqrun``: the raw float32 (T, F) array -> SeriesData -> per-column standardisation fitted on
it -> SeriesWindows.training_dataset (one shuffled epoch) -> iterate every batch.
``keras``: the same array normalised with numpy, then Keras' own windowing utility (what a plain
Keras script would use short of materialising every window).

Peak memory is the process' peak resident set size (VmHWM, reset through
/proc/self/clear_refs after TensorFlow is imported and warmed up) minus the resident size just
before the raw array is created; so it counts the raw array itself, every copy, TensorFlow's
buffers and allocator slack. The numpy-only peak from tracemalloc is reported beside it. Prints
one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def seqrun_epochs(raw: np.ndarray, window: int, batch: int, epochs: int) -> tuple[float, int]:
    from seqrun.core.config import config_from_dict  # noqa: F401  (registry, pydantic: as in a run)
    from seqrun.core.windows import WindowGeometry
    from seqrun.data.series import SeriesData, SeriesSplit
    from seqrun.encoders.numeric import Standardize, StandardizeConfig

    names = [f"f{i}" for i in range(raw.shape[1])]
    split = SeriesSplit(raw, WindowGeometry(window, 1).starts(len(raw)))
    data = SeriesData({"train": split}, names, names[:1], sequence_len=window, horizon=1)
    data.fit_encoder(Standardize(StandardizeConfig(mode="per_column")))
    w = data.batches("train")
    t0 = time.perf_counter()
    n = 0
    for _x, _y in w.training_dataset(batch, seed=0, first_epoch=0, last_epoch=epochs):
        n += 1
    return (time.perf_counter() - t0) / epochs, n // epochs


def keras_epochs(raw: np.ndarray, window: int, batch: int, epochs: int) -> tuple[float, int]:
    import keras

    norm = (raw - raw.mean(0)) / raw.std(0)
    ds = keras.utils.timeseries_dataset_from_array(
        norm[:-1], norm[window:, 0], sequence_length=window, batch_size=batch, shuffle=True, seed=0
    )
    t0 = time.perf_counter()
    n = 0
    for _ in range(epochs):
        for _x, _y in ds:
            n += 1
    return (time.perf_counter() - t0) / epochs, n // epochs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["seqrun", "keras"])
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--window", type=int, default=48)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args()
    run = seqrun_epochs if args.mode == "seqrun" else keras_epochs

    # warm up TensorFlow and tf.data (thread pools, kernels) on a tiny series
    run(np.ones((500, args.features), np.float32), args.window, 32, 1)
    gc.collect()
    exact = reset_peak()
    base_kb = status_kb("VmRSS")
    tracemalloc.start()
    raw = np.random.default_rng(0).standard_normal((args.steps, args.features), dtype=np.float32)
    epoch_s, batches = run(raw, args.window, args.batch, args.epochs)
    _, numpy_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_kb = status_kb("VmHWM")
    raw_mb = raw.nbytes / 1e6
    print(
        json.dumps(
            {
                "mode": args.mode,
                "raw_mb": round(raw_mb, 1),
                "peak_rss_mb": round((peak_kb - base_kb) * 1024 / 1e6, 1),
                "peak_rss_ratio": round((peak_kb - base_kb) * 1024 / raw.nbytes, 2),
                "numpy_peak_ratio": round(numpy_peak / raw.nbytes, 2),
                "peak_is_exact": exact,
                "epoch_s": round(epoch_s, 2),
                "batches": batches,
                "batch_size": args.batch,
                "tensorflow": tf.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
