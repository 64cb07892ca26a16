"""Per-target forecast skill against persistence of weather configs, through the seqrun CLI.

Trains each config (with optional ``--set`` overrides, applied to every config), scores the
chosen split and prints one table per config: per target, the MAE, persistence MAE and skill
(``1 - mae / persistence_mae``) at the headline lead and, when the run has a multi-step
evaluation (recursive chaining or a direct / encoder-decoder model), the skill at each lead.
Circular targets (dd) are in circular degrees. Model choice belongs on dev; ``--split test``
reports the chosen recipes.

    python bench/weather_skill.py configs/weather-synop-3h.yaml configs/weather-synop-3h-best.yaml
    python bench/weather_skill.py configs/weather-synop-12h.yaml --split test
    python bench/weather_skill.py configs/weather-nyc-3h.yaml configs/weather-nyc-24h.yaml

Add ``--json`` for one JSON line per config instead of tables; ``--seeds 0,1,2`` trains each
config once per seed and reports the mean skill.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seqrun(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "seqrun", *args, "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_config(config: str, sets: list[str], split: str, seed: int, runs: Path) -> dict:
    over = [a for s in [*sets, f"seed={seed}"] for a in ("--set", s)]
    t0 = time.time()
    res = seqrun("train", config, "--runs-dir", str(runs), *over)
    run = res["run_dir"]
    metrics = res["metrics"] if split == "dev" else seqrun("evaluate", run, "--split", split)
    metrics = metrics.get("metrics", metrics)
    return {"run": run, "seconds": round(time.time() - t0, 1), "metrics": metrics}


def multistep(m: dict) -> tuple[str, dict] | None:
    for key in ("recursive", "direct"):
        if key in m:
            return key, m[key]
    return None


def table(name: str, results: list[dict]) -> str:
    m0 = results[0]["metrics"]
    targets = list(m0["per_target"])
    ms = multistep(m0)
    leads = ms[1]["lead"] if ms else []
    lead0 = "skill@" + m0.get("horizon", "")
    head = f"{'target':8} {'unit':5} {'mae':>9} {'persist':>9} {lead0:>10}"
    head += "".join(f" {'s@' + lead:>8}" for lead in leads)
    lines = [f"== {name}: {m0['split']} split, {ms[0] + ' ' if ms else ''}n={m0['n']}", head]

    def mean(vals):
        vals = [v for v in vals if v is not None]
        return sum(vals) / len(vals) if vals else float("nan")

    for t in targets:
        per = [r["metrics"]["per_target"][t] for r in results]
        row = f"{t:8} {per[0]['unit'] or '-':5} {mean([p['mae'] for p in per]):9.3f} "
        row += f"{mean([p['persistence_mae'] for p in per]):9.3f} "
        row += f"{mean([p['skill'] for p in per]):10.3f}"
        for k in range(len(leads)):
            row += f" {mean([multistep(r['metrics'])[1]['per_target'][t]['skill_per_step'][k] for r in results]):8.3f}"  # noqa: E501
        rain = per[0].get("rain")
        if rain:
            mod, pers = rain["model"], rain["persistence"]
            row += (
                f"   rain>{mod['threshold']:.3g}: hit {mod['hit_rate'] or 0:.2f} "
                f"FAR {mod['false_alarm_ratio'] or 0:.2f} (persistence hit "
                f"{pers['hit_rate'] or 0:.2f} FAR {pers['false_alarm_ratio'] or 0:.2f})"
            )
        lines.append(row)
    lines.append(
        f"{'all':8} {'norm':5} {mean([r['metrics']['mae_norm'] for r in results]):9.3f} "
        f"{mean([r['metrics']['persistence_mae_norm'] for r in results]):9.3f} "
        f"{mean([r['metrics']['skill'] for r in results]):10.3f}"
        f"   ({len(results)} seed(s), {mean([r['seconds'] for r in results]):.0f} s each)"
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="+")
    ap.add_argument("--split", choices=["dev", "test"], default="test")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="override a.b=v")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory(prefix="weather-skill-") as tmp:
        for config in args.configs:
            results = [
                run_config(config, args.sets, args.split, s, Path(tmp) / "runs") for s in seeds
            ]
            if args.json:
                print(json.dumps({"config": config, "sets": args.sets, "results": results}))
            else:
                label = config + (f" {' '.join(args.sets)}" if args.sets else "")
                print(table(label, results), flush=True)


if __name__ == "__main__":
    main()
