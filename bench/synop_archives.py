"""Time and peak memory of reading years of Météo-France monthly SYNOP archives for one station.

    python bench/synop_archives.py [--years 15] [--stations 62] [--folder DIR]

Writes ``synop.YYYYMM.csv(.gz)`` files in the archives' layout (codes header, trailing ';',
YYYYMMDDHHMMSS UTC dates, 'mq' for missing, every station in each file, gz and plain in turn)
from the bundled ORLY 2023 export, its year repeated, its rows copied to ``--stations``
station numbers. Then, one process each, reads station 07149 as `seqrun train` does
(``SynopAdapter.read``: only the rows of the stations the config names are parsed) and every
row of the files (what the adapter did before). Prints one JSON line: files, rows, seconds and
peak resident memory (MiB) of each read.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_archives(folder: Path, years: int, stations: int) -> tuple[int, int]:
    """The archives in ``folder``; (files, data rows)."""
    import pandas as pd

    from seqrun.data.synop import header_codes
    from seqrun.samples import sample_path

    text = gzip.decompress(sample_path("synop-orly-2023").read_bytes()).decode("mac_roman")
    df = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    df.columns = header_codes(list(df.columns))
    df = df.loc[:, ~df.columns.duplicated()]
    times = pd.to_datetime(df["date"], format="ISO8601", utc=True)
    codes = [c for c in df.columns if c not in ("nom", "tc", "coordonnees") and "." not in c]
    files = rows = 0
    for y in range(years):
        year = 2023 - years + 1 + y
        for month in range(1, 13):
            part = df.loc[times.dt.month == month, codes].copy()
            stamp = times[times.dt.month == month].dt.strftime(f"{year}%m%d%H%M%S")
            part["date"] = stamp.to_numpy()
            lines = [";".join(codes) + ";"]
            for k in range(stations):
                part["numer_sta"] = "07149" if k == 0 else f"{7000 + k:05d}"
                for values in part.to_numpy().tolist():
                    lines.append(";".join(v if v else "mq" for v in values) + ";")
            data = ("\n".join(lines) + "\n").encode("ascii", "replace")
            name = f"synop.{year}{month:02d}.csv" + (".gz" if month % 2 else "")
            (folder / name).write_bytes(gzip.compress(data) if month % 2 else data)
            files, rows = files + 1, rows + len(lines) - 1
    return files, rows


def _read(folder: str, every_row: bool) -> None:
    """One read in this process; prints seconds and peak MiB."""
    from seqrun.core.config import config_from_dict
    from seqrun.data.synop import SynopAdapter

    data = {"adapter": "synop", "path": f"{folder}/synop.*", "station": "07149"}
    adapter = SynopAdapter(
        config_from_dict({"name": "b", "data": data, "model": {"arch": "gru"}}).data
    )
    t0 = time.perf_counter()
    if every_row:
        df, _ = adapter._parse_files()  # every station's rows, as before
        n = len(df)
    else:
        n = len(adapter.read().times)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows_parsed": n, "seconds": round(seconds, 2), "peak_mib": round(peak)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--stations", type=int, default=62)
    ap.add_argument("--folder", type=Path, default=None, help="keep the archives here")
    ap.add_argument("--read", choices=["station", "every-row"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.read:
        _read(str(args.folder), args.read == "every-row")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files, rows = write_archives(folder, args.years, args.stations)
        out = {"files": files, "rows": rows, "stations": args.stations}
        for how in ("station", "every-row"):
            cmd = [sys.executable, __file__, "--read", how, "--folder", str(folder)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            out[how] = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(out))


if __name__ == "__main__":
    main()
