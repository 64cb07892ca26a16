"""Would refitting on train + dev help the NYC recipes? A check that never reads the test split.

Chollet's advice (train the final model on training and validation data, for the number of
epochs chosen on validation) is tested one block earlier in time: the bundled sample is cut
where the test split starts, so that the *dev* period of the shipped configs becomes a
stand-in test period. On that cut series:

- selected: train on the first 64.7 %, choose the best epoch on the next 17.6 %, score the
  last 17.6 % (the shipped configs' dev period);
- refit: train on the first 81.4 % (the same train and dev periods; a 1 % dev split is left
  because seqrun needs one) for the chosen number of epochs, keep the last epoch, score the
  same period.

    python bench/weather_refit.py configs/weather-nyc-{3,24}h.yaml --seeds 0,1

Prints one JSON line per config and seed: the best epoch, the dev ratio (model MAE /
persistence MAE) and the stand-in test ratio of both ways.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
from pathlib import Path

from weather_skill import ROOT, seqrun  # bench/ is on the path of a bench script

TEST_START = "2013-11-06T10:00:00Z"  # the shipped configs' first test hour (seqrun data describe)


def ratio(metrics: dict) -> float:
    metrics = metrics.get("metrics", metrics)
    return round(metrics["mae"] / metrics["persistence_mae"], 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="+")
    ap.add_argument("--seeds", default="0,1")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="weather-refit-") as tmp:
        sample = ROOT / "seqrun" / "samples" / "nyc_weather_2013.csv.gz"
        lines = gzip.decompress(sample.read_bytes()).decode().splitlines()
        cut = Path(tmp) / "nyc_before_test.csv"
        kept = [x for x in lines[1:] if x.split(",")[1] < TEST_START]
        cut.write_text("\n".join([lines[0], *kept]) + "\n")
        source = ["--set", "data.sample=null", "--set", f"data.path={cut}"]
        source += ["--set", "data.time_column=time_hour", "--runs-dir", str(Path(tmp) / "runs")]
        for config in args.configs:
            for seed in (int(s) for s in args.seeds.split(",")):
                common = [config, *source, "--set", f"seed={seed}"]
                a = seqrun(
                    "train",
                    *common,
                    "--set",
                    "data.split={train: 0.6472, dev: 0.1764, test: 0.1764}",
                )
                epochs = a["best_epoch"]
                b = seqrun(
                    "train",
                    *common,
                    "--set",
                    "data.split={train: 0.8136, dev: 0.01, test: 0.1764}",
                    "--set",
                    f"train.epochs={epochs}",
                    "--set",
                    "train.early_stopping.restore_best=false",
                )
                out = {
                    "config": config,
                    "seed": seed,
                    "best_epoch": epochs,
                    "dev": ratio(a["metrics"]),
                    "selected": ratio(seqrun("evaluate", a["run_dir"], "--split", "test")),
                    "refit": ratio(seqrun("evaluate", b["run_dir"], "--split", "test")),
                }
                print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
