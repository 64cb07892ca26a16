"""The three multi-step strategies on the same data and horizon: 12 h ahead on a SYNOP station.

From one recipe (default: configs/weather-synop-3h-best.yaml, the bundled ORLY 2023 export,
3-hourly), trains
- recursive: the one-step model, its forecasts fed back as inputs 4 times (recursive_steps: 4);
- direct: the same network with an (4 steps x targets) Dense head (output_steps: 4);
- encoder_decoder: a recurrent encoder (return_state) whose states start a recurrent decoder
  emitting the 4 steps, each step fed the previous forecast (model.arch: encoder_decoder);
and prints, per target, the skill against persistence at every lead (3, 6, 9, 12 h) on the
chosen split (circular degrees for dd).

    python bench/weather_multistep.py --split test
    python bench/weather_multistep.py configs/other-station.yaml --split dev --seeds 0,1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from weather_skill import multistep, run_config  # noqa: E402

STRATEGIES = {
    "recursive": ["data.recursive_steps=4", "data.output_steps=1"],
    "direct": ["data.recursive_steps=0", "data.output_steps=4"],
    "encoder_decoder": [
        "data.recursive_steps=0",
        "data.output_steps=4",
        "model.arch=encoder_decoder",
    ],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default="configs/weather-synop-3h-best.yaml")
    ap.add_argument("--split", choices=["dev", "test"], default="test")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--set", dest="sets", action="append", default=[])
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    skills: dict[str, dict[str, list[float]]] = {}
    leads: list[str] = []
    with tempfile.TemporaryDirectory(prefix="weather-multistep-") as tmp:
        for name, sets in STRATEGIES.items():
            runs = [
                run_config(args.config, [*args.sets, *sets], args.split, s, Path(tmp))
                for s in seeds
            ]
            per: dict[str, list[float]] = {}
            for r in runs:
                _, ms = multistep(r["metrics"])
                leads = ms["lead"]
                for t, v in ms["per_target"].items():
                    per.setdefault(t, []).append(v["skill_per_step"])
            skills[name] = {
                t: [sum(s[k] for s in v) / len(v) for k in range(len(leads))]
                for t, v in per.items()
            }
            secs = sum(r["seconds"] for r in runs) / len(runs)
            print(f"# {name}: {' '.join(sets)} ({secs:.0f} s per run)", flush=True)
    print(f"\n{args.config}, {args.split} split, skill vs persistence, {len(seeds)} seed(s)")
    head = "".join(f" {n[:15]:>15}" for n in STRATEGIES)
    print(f"{'target':9}{head}   (skill at {leads[-1]})")
    for t in next(iter(skills.values())):
        print(f"{t:9}" + "".join(f" {skills[n][t][-1]:15.3f}" for n in STRATEGIES))
    print("\nper lead (" + ", ".join(leads) + "):")
    for t in next(iter(skills.values())):
        cells = ["/".join(f"{v:.2f}" for v in skills[n][t]) for n in STRATEGIES]
        print(f"{t:9} " + "  ".join(f"{c:>23}" for c in cells))


if __name__ == "__main__":
    main()
