"""`seqrun predict --input FILE` on a forecasting run: the forecast from the end of a series.

The checks compare predict's numbers with the ones evaluate (or the recursive evaluation)
computes for the same window of the whole series: a file cut just after that window must give
the same forecast, value for value.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqrun.core.runs import Run
from seqrun.data.base import open_adapter
from seqrun.engine import archive
from seqrun.samples import sample_path
from tests.conftest import last_json, write_config

SAMPLE_LINES = gzip.decompress(sample_path("nyc-weather-2013").read_bytes()).decode().splitlines()
INPUTS = ["temp", "dewp", "pressure", "wind_speed"]


def nyc(**data) -> dict:
    """A tiny EWR temperature run on the bundled sample (neighbours, hour, change mode)."""
    return {
        "name": "tiny-forecast",
        "seed": 3,
        "data": {
            "adapter": "timeseries_csv",
            "sample": "nyc-weather-2013",
            "group": {"origin": "EWR"},
            "features": INPUTS,
            "targets": "temp",
            "sequence_len": 12,
            "horizon": 3,
            "interpolate": {"method": "time", "max_gap": "12h"},
            "time_features": ["hour"],
            "target_mode": "change",
            "neighbours": {"series": ["JFK", "LGA"], "features": ["temp"]},
            **data,
        },
        "model": {"arch": "gru", "units": 8},
        "train": {"epochs": 1, "batch_size": 128, "learning_rate": 0.01},
    }


def train(cli, tmp_path: Path, cfg: dict) -> Path:
    r = cli("train", write_config(tmp_path, cfg), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    return Path(last_json(r.stdout)["run_dir"])


def cut_sample(tmp_path: Path, first: str, last: str, name: str = "new.csv") -> Path:
    """The bundled sample's rows (every airport) with first <= time <= last, as a new file."""
    rows = [line for line in SAMPLE_LINES[1:] if first <= line.split(",")[1] <= last]
    path = tmp_path / name
    path.write_text("\n".join([SAMPLE_LINES[0], *rows]) + "\n")
    return path


def iso(t: np.datetime64) -> str:
    return str(np.datetime_as_string(t, unit="s")) + "Z"


def observed_hours() -> set[str]:
    """Hours at which every input of the main series and the neighbours' temperature are in
    the file (a window ending there is cleaned alike in a cut file and in the whole one)."""
    df = pd.read_csv(sample_path("nyc-weather-2013"))
    ewr = df[df.origin == "EWR"].dropna(subset=INPUTS).time_hour
    near = [set(df[(df.origin == o) & df.temp.notna()].time_hour) for o in ("JFK", "LGA")]
    return set(ewr) & near[0] & near[1]


def forecast(cli, run: Path, path: Path) -> list[dict]:
    r = cli("predict", run, "--input", path, "--json")
    assert r.exit_code == 0, r.output
    return last_json(r.stdout)["predictions"]


def test_forecast_from_a_cut_file_equals_the_evaluated_one(cli, tmp_path):
    run = train(cli, tmp_path, nyc())
    dev = np.load(run / "predictions" / "dev.npz")
    ok = observed_hours()
    picked = 0
    for i in range(100, len(dev["target_times"]), 150):
        issued = dev["target_times"][i] - np.timedelta64(3, "h")
        earlier = [iso(issued - np.timedelta64(h, "h")) for h in range(12)]
        if not all(t in ok for t in earlier):
            continue
        new = cut_sample(tmp_path, iso(issued - np.timedelta64(2, "D")), iso(issued))
        (row,) = forecast(cli, run, new)
        assert row["series"] == "EWR" and row["lead"] == "3h"
        assert row["issued"] == iso(issued)
        assert row["valid"] == iso(dev["target_times"][i])
        assert row["prediction"]["temp"] == pytest.approx(float(dev["y_pred"][i, 0]), abs=1e-3)
        picked += 1
    assert picked >= 3
    # a hand-edited meta.json whose 'data' is no object: the same forecast (was AttributeError)
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "data": "x"}))
    assert forecast(cli, run, new) == [row]


def test_direct_multistep_forecast_gives_every_lead(cli, tmp_path):
    run = train(cli, tmp_path, nyc(horizon=1, output_steps=3, neighbours=None))
    dev = np.load(run / "predictions" / "dev.npz")  # the headline: the last lead (3 h)
    i = 400
    issued = dev["target_times"][i] - np.timedelta64(3, "h")
    assert iso(issued) in observed_hours()
    new = cut_sample(tmp_path, iso(issued - np.timedelta64(2, "D")), iso(issued))
    rows = forecast(cli, run, new)
    assert [r["lead"] for r in rows] == ["1h", "2h", "3h"]
    assert [r["valid"] for r in rows] == [iso(issued + np.timedelta64(h, "h")) for h in (1, 2, 3)]
    assert rows[-1]["prediction"]["temp"] == pytest.approx(float(dev["y_pred"][i, 0]), abs=1e-3)
    r = cli("predict", run, "--input", new)  # a line per lead: the values, then where and when
    lines = r.stdout.strip().splitlines()
    assert r.exit_code == 0 and len(lines) == 3
    assert lines[0].startswith("temp=") and lines[0].endswith(f"{rows[0]['valid']} 1h")


def test_recursive_forecast_feeds_itself_like_the_recursive_evaluation(cli, tmp_path):
    cfg = nyc(
        features=["temp", "dewp"],
        targets="all",
        horizon=1,
        recursive_steps=4,
        neighbours=None,
        target_mode="value",
    )
    run = train(cli, tmp_path, cfg)
    config, encoder, model = archive.load(Run(run))
    data = open_adapter(config).load(("train", "dev"))
    data.set_encoder(encoder)
    rec = data.recursive(model, "dev", 4)
    times = data.splits["dev"].times
    k = 300
    start = int(rec["starts"][k])
    issued = times[start + 11]
    new = cut_sample(tmp_path, iso(issued - np.timedelta64(2, "D")), iso(issued))
    rows = forecast(cli, run, new)
    assert [r["lead"] for r in rows] == ["1h", "2h", "3h", "4h"]
    assert rows[0]["issued"] == iso(issued)
    got = np.array([[r["prediction"]["temp"], r["prediction"]["dewp"]] for r in rows])
    np.testing.assert_allclose(got, rec["y_pred"][k], atol=1e-3)


def test_forecast_input_errors_are_one_line(cli, tmp_path):
    run = train(cli, tmp_path, nyc(missing_features="drop", valid_range={"wind_speed": [0, 100]}))
    short = cut_sample(tmp_path, "2013-03-01T00:00:00Z", "2013-03-01T05:00:00Z")
    r = cli("predict", run, "--input", short)
    assert r.exit_code == 2
    assert "holds 6 row(s)" in r.output and "data.sequence_len = 12" in r.output
    assert "Traceback" not in r.output and "before it" not in r.output  # the file is short
    frame = pd.read_csv(cut_sample(tmp_path, "2013-12-05T07:00:00Z", "2013-12-07T06:00:00Z"))
    hours = pd.to_datetime(frame["time_hour"])
    cut = (frame.origin == "EWR") & hours.between("2013-12-06T10:00Z", "2013-12-06T23:00Z")
    frame.loc[cut, "pressure"] = None  # 14 hours: longer than max_gap (12 h)
    frame.to_csv(gap := tmp_path / "gap.csv", index=False)
    r = cli("predict", run, "--input", gap)
    assert r.exit_code == 2 and "the last gap-free stretch" in r.output
    assert "before it pressure is missing at 2013-12-0" in r.output
    lines = cut_sample(tmp_path, "2013-03-01", "2013-03-03").read_text().splitlines()
    alone = tmp_path / "ewr.csv"  # the neighbours' rows are missing
    alone.write_text("\n".join(x for x in lines if not x.startswith(("JFK", "LGA"))) + "\n")
    r = cli("predict", run, "--input", alone)
    assert r.exit_code == 2 and "has no values of temp@JFK, temp@LGA: the model reads" in r.output
    frame = pd.read_csv(cut_sample(tmp_path, "2013-03-01", "2013-03-03"))
    frame.loc[frame.origin == "EWR", "wind_speed"] = 500.0  # in other units: out of range
    frame.to_csv(fast := tmp_path / "fast.csv", index=False)
    r = cli("predict", run, "--input", fast)
    assert r.exit_code == 2 and "has no values of wind_speed (wind_speed: " in r.stderr
    assert "outside data.valid_range [0, 100]): the model reads" in r.stderr
    bad = tmp_path / "bad.csv"
    cells = lines[-1].split(",")
    cells[1] = "03/03/2013 01:00"
    bad.write_text("\n".join([*lines[:-1], ",".join(cells)]) + "\n")
    r = cli("predict", run, "--input", bad)
    assert r.exit_code == 2 and f"--input {bad}:{len(lines)}: cannot read the time" in r.output
    assert '--set "data.time_format=%d/%m/%Y %H:%M"' in r.output  # the fix as typed
    assert "seqrun predict takes" not in r.output
    cells = lines[-1].split(",")
    cells[SAMPLE_LINES[0].split(",").index("temp")] = "warm"
    worded = tmp_path / "worded.csv"  # the advice names the keys predict takes with --set
    worded.write_text("\n".join([*lines[:-1], ",".join(cells)]) + "\n")
    r = cli("predict", run, "--input", worded)
    assert r.exit_code == 2 and "--set \"data.missing_values=['warm']\"" in r.output
    assert "--set \"data.text_values={'warm': 0}\"" in r.output
    assert "set data.missing_values:" not in r.output and "predict takes" not in r.output
    r = cli("predict", run, "--input", worded, "--set", "data.missing_values=[warm]")
    assert r.exit_code == 0, r.output
    cut = tmp_path / "cut.csv"  # a download cut mid-line: the error keeps its line
    cut.write_text("\n".join([*lines[:-1], lines[-1][:15]]))
    r = cli("predict", run, "--input", cut)
    assert r.exit_code == 2 and f"--input {cut}:{len(lines)}: " in r.output
    assert "is the file cut short?" in r.output
    dmy = tmp_path / "dmy.csv"  # every time as a spreadsheet writes it: --set reads it
    frame = pd.read_csv(cut_sample(tmp_path, "2013-03-01", "2013-03-03"))
    frame["time_hour"] = pd.to_datetime(frame["time_hour"]).dt.strftime("%d/%m/%Y %H:%M")
    frame.to_csv(dmy, index=False)
    fmt = "data.time_format=%d/%m/%Y %H:%M"
    r = cli("predict", run, "--input", dmy, "--set", fmt, "--set", "data.timezone=UTC", "--json")
    assert r.exit_code == 0, r.output
    same = forecast(cli, run, cut_sample(tmp_path, "2013-03-01", "2013-03-03"))
    assert last_json(r.stdout)["predictions"] == same
    r = cli("predict", run, "--input", dmy, "--set", "model.units=3")
    assert r.exit_code == 2 and "predict cannot change model.units" in r.output
    header = tmp_path / "header.csv"
    header.write_text(SAMPLE_LINES[0] + "\n")
    r = cli("predict", run, "--input", header)
    assert r.exit_code == 2 and "has no data rows, only its header" in r.output
    r = cli("predict", run, "--input", tmp_path)
    assert r.exit_code == 2 and "is a directory" in r.output
    r = cli("predict", run, "--input", tmp_path / "absent.csv")
    assert r.exit_code == 2 and "no such file" in r.output
    r = cli("predict", run, "a text")
    assert r.exit_code == 2 and "--input FILE" in r.output


def test_forecast_starts_from_the_last_complete_row_with_a_warning(cli, tmp_path):
    run = train(cli, tmp_path, nyc())
    new = cut_sample(tmp_path, "2013-03-01T00:00:00Z", "2013-03-03T10:00:00Z")
    lines = new.read_text().splitlines()
    last_ewr = max(i for i, line in enumerate(lines) if line.startswith("EWR"))
    cells = lines[last_ewr].split(",")
    cells[2] = ""  # no temperature at the last hour
    lines[last_ewr] = ",".join(cells)
    new.write_text("\n".join(lines) + "\n")
    r = cli("predict", run, "--input", new, "--json")
    assert r.exit_code == 0, r.output
    (row,) = last_json(r.stdout)["predictions"]
    assert row["issued"] == "2013-03-03T09:00:00Z"
    assert "later rows (up to 2013-03-03T10:00:00Z) lack values" in r.output


def test_a_column_is_kept_when_its_window_is_filled(cli, tmp_path):
    """missing_features: drop leaves out a column with values in under half of the training
    rows; a forecast needs them only in its window (EWR's pressure: 48 % of these 48 hours)."""
    run = train(cli, tmp_path, nyc(missing_features="drop"))
    end = "2013-12-07T06:00:00Z"
    two_days = forecast(cli, run, cut_sample(tmp_path, "2013-12-05T07:00:00Z", end, "a.csv"))
    ten_days = forecast(cli, run, cut_sample(tmp_path, "2013-11-27T07:00:00Z", end, "b.csv"))
    assert two_days == ten_days and two_days[0]["issued"] == end


def test_synop_forecast_for_the_station_the_run_learnt(cli, tmp_path):
    """A run trained on a one-station export (data.station: null) forecasts that station from
    a file holding several, refuses a file without it, and --set data.station picks another."""
    from tests.synop_export import make_export

    both = tmp_path / "both.csv"
    make_export(both, quirks=False, days=20)
    lines = both.read_text(encoding="utf-8").splitlines()
    orly, lyon = tmp_path / "orly.csv", tmp_path / "lyon.csv"
    orly.write_text("\n".join([lines[0], *[x for x in lines[1:] if "ORLY" in x]]) + "\n")
    lyon.write_text("\n".join([lines[0], *[x for x in lines[1:] if "ORLY" not in x]]) + "\n")
    cfg = {
        "name": "tiny-synop",
        "seed": 1,
        "data": {"adapter": "synop", "path": str(orly), "features": ["t", "td"], "targets": "t"},
        "model": {"arch": "gru", "units": 4},
        "train": {"epochs": 1, "batch_size": 64},
    }
    run = train(cli, tmp_path, cfg)
    rows = forecast(cli, run, both)
    assert rows[0]["series"] == "07149" and rows == forecast(cli, run, orly)
    r = cli("predict", run, "--input", lyon)
    assert r.exit_code == 2 and "station '07149' is not in" in r.output
    r = cli("predict", run, "--input", lyon, "--set", "data.station='07481'", "--json")
    assert r.exit_code == 0, r.output
    assert last_json(r.stdout)["predictions"][0]["series"] == "07481"
    r = cli("predict", run, "--input", lyon, "--set", "data.separator=,")  # not a synop key
    assert r.exit_code == 2 and "predict cannot change data.separator" in r.output
    assert "(data.encoding, data.time_format, data.timezone, data.station)" in r.output


def test_times_off_the_runs_grid_are_warned_about(cli, tmp_path):
    run = train(cli, tmp_path, nyc())
    frame = pd.read_csv(cut_sample(tmp_path, "2013-03-01", "2013-03-03"))
    frame["time_hour"] = (pd.to_datetime(frame["time_hour"]) + pd.Timedelta("30min")).dt.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    shifted = tmp_path / "shifted.csv"
    frame.to_csv(shifted, index=False)
    r = cli("predict", run, "--input", shifted, "--json")
    assert r.exit_code == 0, r.output
    assert "issued at 2013-03-02T23:30Z, off the run's 1h grid" in r.output
    extra = (
        frame[frame.origin == "EWR"]
        .tail(1)
        .assign(  # a quarter later: off the grid
            time_hour=lambda f: (
                pd.to_datetime(f["time_hour"]) + pd.Timedelta("15min")
            ).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    )
    pd.concat([frame, extra]).to_csv(shifted, index=False)
    r = cli("predict", run, "--input", shifted, "--json")
    assert r.exit_code == 0, r.output
    assert "later rows (up to 2013-03-02T23:45:00Z) lie off the 1h grid" in r.output


def test_an_input_that_differs_from_a_complete_file_is_an_error_or_warned(cli, tmp_path):
    """Times without their UTC offset (a spreadsheet's re-save), a time on two rows with other
    values, a missing hour in the window, the main series stopping before its neighbours: each
    an error or a warning, never a silently different forecast."""
    run = train(cli, tmp_path, nyc())
    assert Run(run).meta()["data"]["time_offsets"] is True
    end = "2013-03-03T10:00:00Z"
    base = cut_sample(tmp_path, "2013-03-01T00:00:00Z", end)
    lines = base.read_text().splitlines()
    r = cli("predict", run, "--input", base, "--json")
    assert r.exit_code == 0 and "warning" not in r.stderr, r.output
    (expected,) = last_json(r.stdout)["predictions"]

    def variant(name: str, rows: list[str]) -> Path:
        path = tmp_path / name
        path.write_text("\n".join(rows) + "\n")
        return path

    def local(line: str) -> str:  # the time as New York wall-clock time, no offset
        cells = line.split(",")
        t = pd.Timestamp(cells[1]).tz_convert("America/New_York")
        cells[1] = f"{t:%Y-%m-%d %H:%M:%S}"
        return ",".join(cells)

    naive = variant("naive.csv", [lines[0], *map(local, lines[1:])])
    r = cli("predict", run, "--input", naive)
    assert r.exit_code == 2 and "have no UTC offset" in r.stderr, r.output
    assert "--set data.timezone=ZONE" in r.stderr
    r = cli("predict", run, "--input", naive, "--set", "data.timezone=America/New_York", "--json")
    assert r.exit_code == 0, r.output
    assert last_json(r.stdout)["predictions"] == [expected]  # the same hours, the same forecast
    mixed = variant("mixed.csv", [*lines[:-1], local(lines[-1])])
    r = cli("predict", run, "--input", mixed)
    assert r.exit_code == 2 and "1 of" in r.stderr and "have no UTC offset" in r.stderr
    ewr = [i for i, line in enumerate(lines) if line.startswith("EWR")]
    cells = lines[ewr[-2]].split(",")
    cells[2] = str(float(cells[2]) + 40)
    twice = variant("twice.csv", [lines[0], ",".join(cells), *lines[1:]])  # the odd one first
    r = cli("predict", run, "--input", twice)
    assert r.exit_code == 0 and "on several rows with different values" in r.stderr, r.output
    gap = variant("gap.csv", [x for i, x in enumerate(lines) if i != ewr[-3]])
    r = cli("predict", run, "--input", gap)
    assert r.exit_code == 0 and "filled by interpolation (temp 1," in r.stderr, r.output
    stops = variant("stops.csv", [x for i, x in enumerate(lines) if i != ewr[-1]])
    r = cli("predict", run, "--input", stops, "--json")
    assert r.exit_code == 0 and f"goes on to {end}" in r.stderr, r.output
    assert last_json(r.stdout)["predictions"][0]["issued"] == "2013-03-03T09:00:00Z"
