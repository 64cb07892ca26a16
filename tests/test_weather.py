"""Weather forecasting: SYNOP exports, CSV time series, the bundled sample, cleaning, metrics."""

from __future__ import annotations

import gzip
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqrun.core.config import config_from_dict
from seqrun.core.errors import UserError
from seqrun.data.forecast import clean, time_feature_columns
from seqrun.data.synop import COURSE_FEATURES, SynopAdapter
from tests.conftest import last_json, write_config
from tests.synop_export import local_iso, make_export

TINY_MODEL = {"arch": "lstm", "units": 8}
TINY_TRAIN = {"epochs": 1, "batch_size": 64, "learning_rate": 0.01}


def synop_cfg(path: Path | str | list[str], **data) -> dict:
    path = path if isinstance(path, list) else str(path)
    return {
        "name": "tiny-synop",
        "seed": 1,
        "data": {"adapter": "synop", "path": path, "station": "07481", **data},
        "model": TINY_MODEL,
        "train": TINY_TRAIN,
    }


def nyc_cfg(**data) -> dict:
    return {
        "name": "tiny-nyc",
        "seed": 2,
        "data": {
            "adapter": "timeseries_csv",
            "sample": "nyc-weather-2013",
            "group": {"origin": "EWR"},
            "targets": "temp",
            "sequence_len": 12,
            "horizon": 3,
            "interpolate": {"method": "time", "max_gap": "12h"},
            **data,
        },
        "model": {"arch": "gru", "units": 8},
        "train": {"epochs": 1, "batch_size": 128, "learning_rate": 0.01},
    }


def expected_value(code: str, text: str) -> float:
    """What the adapter must make of one field of the export."""
    if text == "":
        return math.nan
    v = float(text)
    if code in ("pmer", "pres", "tend"):
        return v / 100.0  # Pa -> hPa
    if code in ("t", "td"):
        return v - 273.15  # K -> °C
    if code in ("rr1", "rr3") and v == -0.1:
        return 0.0  # trace
    return v


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return make_export(tmp_path_factory.mktemp("synop") / "synop-labels.csv")


# ----------------------------------------------------------------------------- parsing


def test_the_fixture_has_the_real_layout(export):
    head = export.path.read_text(encoding="utf-8").splitlines()[0].split(";")
    assert len(head) == 81 and head[:3] == ["ID OMM station", "Date", "Pression au niveau mer"]
    assert head.count("Temps présent") == 2  # a label written twice, as in the real export
    dates = [line.split(";")[1] for line in export.path.read_text().splitlines()[1:]]
    assert any("+01:00" in d for d in dates) and any("+02:00" in d for d in dates)
    assert dates != sorted(dates)  # shuffled


def test_synop_export_parsed_field_by_field(export):
    cfg = config_from_dict(synop_cfg(export.path))
    raw = SynopAdapter(cfg.data).read()
    times = raw.times.dt.tz_convert("UTC").dt.to_pydatetime()
    present = [t for t in export.times if t not in export.absent]
    assert sorted(set(times)) == present  # every row of 07481, parsed to UTC
    assert len(times) == len(present) + 1  # and its duplicate (dropped by the cleaning)
    checked = 0
    for r, t in enumerate(times):
        row = export.truth[("07481", t)]
        for code in [*COURSE_FEATURES, "t", "vv", "per"]:
            want = expected_value(code, row[code])
            got = raw.columns[code].iloc[r]
            if math.isnan(want):
                assert math.isnan(got), (t, code)
            else:
                assert got == pytest.approx(want, abs=1e-9), (t, code, row[code])
            checked += 1
    assert checked == len(times) * 16
    assert "nom" not in raw.columns and "coordonnees" not in raw.columns  # text columns
    assert raw.units["pmer"] == "hPa" and raw.units["td"] == "°C" and raw.units["tc"] == "°C"
    conv = raw.report["converted_units"]
    assert conv["pmer"] == {"from": "Pa", "to": "hPa"} and conv["td"] == {"from": "K", "to": "°C"}
    assert "tc" not in conv  # already in °C
    assert raw.report["station"] == "07481" and raw.report["station_name"] == "LYON-ST EXUPERY"
    assert raw.report["rows_other_stations"] == len(export.times)
    assert raw.report["trace_precipitation_values"] == len(export.traces)


def test_codes_header_reads_like_labels_header(export, tmp_path):
    codes = make_export(tmp_path / "synop-codes.csv", labels=False)
    assert codes.path.read_text().startswith("numer_sta;date;pmer;tend;cod_tend;")
    a = SynopAdapter(config_from_dict(synop_cfg(export.path)).data).read()
    b = SynopAdapter(config_from_dict(synop_cfg(codes.path)).data).read()
    pd.testing.assert_frame_equal(a.columns, b.columns)
    assert (a.times.to_numpy() == b.times.to_numpy()).all()


def test_dates_sorted_after_parsing_not_as_strings(tmp_path):
    # hourly rows across the October change: 02:00+02:00 is *before* 02:00+01:00
    exp = make_export(
        tmp_path / "dst.csv",
        start=datetime(2015, 10, 24, 20, tzinfo=UTC),
        days=1,
        step_hours=1,
        quirks=False,
    )
    strings = [local_iso(t) for t in exp.times]
    assert sorted(strings) != strings  # sorting the strings would misorder these rows
    raw = SynopAdapter(config_from_dict(synop_cfg(exp.path)).data).read()
    c = clean(raw.times, raw.columns[["tc"]], None, "linear", 0)
    got = [pd.Timestamp(t).tz_localize("UTC").to_pydatetime() for t in c.times]
    kept = [t for t in exp.times if t not in exp.absent]
    assert got == kept and c.report["freq"] == "1h"
    want = [float(exp.truth[("07481", t)]["tc"]) for t in kept]
    np.testing.assert_allclose(c.values[:, 0], want, atol=1e-6)


def test_cleaning_of_the_export(export):
    cfg = config_from_dict(synop_cfg(export.path, interpolate={"max_gap": "12h"}))
    data = SynopAdapter(cfg.data).load(("train", "dev", "test"))
    rep = data.report()
    assert rep["freq"] == "3h" and rep["grid_rows"] == len(export.times)
    assert rep["missing_timestamps"] == len(export.absent)  # 13 rows absent from the file
    assert rep["rows_dropped"] == {"duplicate_time": 1, "off_grid": 0, "unfilled_gap": 1}
    # 3 absent rows in short gaps are filled in every column, plus each column's own blanks;
    # ff's blank on the first row cannot be interpolated: that row is dropped instead
    assert rep["values_filled"]["pmer"] == 3 + 2
    assert rep["values_filled"]["td"] == 3 + 1
    assert rep["values_filled"]["tc"] == 3 + 3
    assert rep["values_filled"]["ff"] == 3
    assert rep["grid_rows_dropped"] == 1 + 10 and rep["segments"] == 2
    assert rep["rows_kept"] == len(export.times) - 11
    values = np.concatenate([data.splits[s].values for s in ("train", "dev", "test")])
    times = np.concatenate([data.splits[s].times for s in ("train", "dev", "test")])
    assert len(values) == rep["rows_kept"] and (np.diff(times) > np.timedelta64(0)).all()

    def at(t: datetime, code: str) -> float:
        i = int(np.flatnonzero(times == np.datetime64(t.replace(tzinfo=None), "ns"))[0])
        return float(values[i, data.feature_names.index(code)])

    lys = export.times
    truth = export.truth

    def true_value(k: int, code: str) -> float:
        return expected_value(code, truth[("07481", lys[k])][code])

    assert at(lys[20], "pmer") == pytest.approx(
        (true_value(19, "pmer") + true_value(21, "pmer")) / 2
    )
    for j, k in enumerate((80, 81, 82)):  # a 3-step gap, linear between rows 79 and 83
        a, b = true_value(79, "tc"), true_value(83, "tc")
        assert at(lys[k], "tc") == pytest.approx(a + (b - a) * (j + 1) / 4, abs=1e-5)
    assert at(lys[40], "u") == pytest.approx((true_value(39, "u") + true_value(41, "u")) / 2)
    # no window spans the 30 h outage or a split boundary
    span = np.timedelta64(3 * (data.sequence_len - 1 + data.horizon), "h")
    for name, s in data.splits.items():
        assert len(s.starts) > 0, name
        last = s.starts + data.sequence_len - 1 + data.horizon
        assert (last < len(s.values)).all()
        assert (s.times[last] - s.times[s.starts] == span).all(), name


def test_station_filter(export):
    orly = SynopAdapter(config_from_dict(synop_cfg(export.path, station="07149")).data).read()
    t0 = export.times[0]
    first = orly.columns["pmer"][orly.times == pd.Timestamp(t0)].iloc[0]
    assert first == pytest.approx(float(export.truth[("07149", t0)]["pmer"]) / 100)
    for station in (7481, "lyon-st exupery", "7481"):
        raw = SynopAdapter(config_from_dict(synop_cfg(export.path, station=station)).data).read()
        assert raw.report["station"] == "07481", station
    with pytest.raises(UserError) as e:
        SynopAdapter(config_from_dict(synop_cfg(export.path, station="07999")).data).read()
    msg = e.value.message
    assert "07999" in msg and "07481 LYON-ST EXUPERY" in msg and "07149 ORLY" in msg
    with pytest.raises(UserError, match="holds 2 stations, choose one"):
        SynopAdapter(config_from_dict(synop_cfg(export.path, station=None)).data).read()


def test_an_export_of_two_stations_without_data_station_gives_the_exact_fix(export):
    """The fix names a station of the export, quoted in YAML (its leading 0 counts)."""
    with pytest.raises(UserError) as e:
        SynopAdapter(config_from_dict(synop_cfg(export.path, station=None)).data).read()
    first = e.value.message.split("stations present: ")[1][:5]  # e.g. 07481
    assert first.startswith("0")
    assert f"data.station: '{first}'" in e.value.message
    assert f"--set data.station={first}" in e.value.message


# ----------------------------------------------------------------------------- cleaning


def test_clean_fills_short_gaps_and_splits_at_long_ones():
    t = pd.date_range("2020-01-01", periods=30, freq="1h", tz="UTC")
    x = np.arange(30, dtype=float) * 2.0
    x[5:7] = np.nan  # 2-step gap: filled
    x[15:20] = np.nan  # 5-step gap: too long
    frame = pd.DataFrame({"x": x})
    times = pd.Series(t)
    # a duplicate, an off-grid row and a missing timestamp (row 25)
    frame = pd.concat([frame, pd.DataFrame({"x": [6.0, 98.0]})], ignore_index=True)
    times = pd.concat([times, pd.Series([t[3], t[8] + pd.Timedelta("20min")])], ignore_index=True)
    frame, times = frame.drop(index=25).sample(frac=1, random_state=0), times.drop(index=25)
    times = times.loc[frame.index]
    c = clean(times, frame, None, "linear", 3)
    assert c.step_s == 3600
    r = c.report
    assert r["rows_dropped"] == {"duplicate_time": 1, "off_grid": 1, "unfilled_gap": 5}
    assert r["missing_timestamps"] == 1 and r["values_filled"] == {"x": 3}
    assert r["grid_rows_dropped"] == 5 and r["segments"] == 2
    np.testing.assert_allclose(c.values[:, 0], np.delete(np.arange(30) * 2.0, range(15, 20)))
    assert c.segments.tolist() == [[0, 15], [15, 25]]
    assert clean(times, frame, "1h", "linear", "2h").report["values_filled"] == {"x": 3}
    assert clean(times, frame, None, "linear", 0).report["segments"] == 4


def test_time_features():
    times = np.array(["2013-01-01T06:00", "2013-07-02T18:00"], dtype="datetime64[ns]")
    names, cols = time_feature_columns(times, ["hour", "day_of_year"])
    assert names == ["hour_sin", "hour_cos", "doy_sin", "doy_cos"]
    np.testing.assert_allclose(cols[:, 0], [1.0, -1.0], atol=1e-6)  # 6 h and 18 h
    np.testing.assert_allclose(cols[:, 1], [0.0, 0.0], atol=1e-6)
    assert cols[0, 3] == pytest.approx(math.cos(2 * math.pi * 0.25 / 365.2425), abs=1e-6)
    assert cols[1, 2] == pytest.approx(math.sin(2 * math.pi * 182.75 / 365.2425), abs=1e-6)


# ----------------------------------------------------------------------------- windows


def test_windows_respect_segments_and_residual_targets():
    from seqrun.core.windows import WindowGeometry
    from seqrun.data.series import SeriesData, SeriesSplit
    from seqrun.encoders.numeric import Identity

    values = np.arange(40, dtype=np.float32).reshape(20, 2)
    values[:, 1] *= -1
    segs = np.array([[0, 8], [8, 20]])
    starts = WindowGeometry(4, 2, 1).segment_starts(segs)
    assert starts.tolist() == [0, 1, 2, 8, 9, 10, 11, 12, 13, 14]  # none crosses row 8
    split = SeriesSplit(values, starts, segments=segs)
    data = SeriesData({"train": split}, ["a", "b"], ["b"], sequence_len=4, horizon=2, residual=True)
    data.fit_encoder(Identity())
    w = data.batches("train")
    batches = [(a.numpy(), b.numpy()) for a, b in w.dataset(3)]
    x, y = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(x[3], values[8:12])
    np.testing.assert_array_equal(y[:, 0], values[starts + 5, 1] - values[starts + 3, 1])
    np.testing.assert_array_equal(w.targets()[:, 0], values[starts + 5, 1])


def test_windows_share_memory_with_tensorflow():
    from seqrun.data.series import _shared_tensor, aligned_empty

    a = aligned_empty((1000, 3))
    a[:] = 1.0
    t = _shared_tensor(a)
    a[10, 1] = 7.0
    assert float(t[10, 1]) == 7.0  # the tensor is the array: no copy


def test_forecast_metrics_against_both_baselines():
    from seqrun.metrics import ForecastMetrics

    y = np.array([[1.0], [2.0], [3.0], [5.0]])
    m = ForecastMetrics().compute(
        {
            "y_true": y,
            "y_pred": y + 0.5,
            "persistence": y - 1.0,
            "daily_persistence": np.array([[np.nan], [0.0], [1.0], [1.0]]),
            "scale": np.array([2.0]),
            "target_names": ["tc"],
            "units": ["°C"],
            "horizon": 4,
            "step": "3h",
        }
    )
    t = m["per_target"]["tc"]
    assert t["mae"] == 0.5 and t["persistence_mae"] == 1.0 and t["skill"] == 0.5
    assert t["daily_persistence_mae"] == pytest.approx((2 + 2 + 4) / 3) and t["daily_n"] == 3
    assert t["daily_skill"] == pytest.approx(1 - 0.5 / (8 / 3))
    assert m["horizon"] == "12h" and m["skill"] == 0.5 and m["mae_norm"] == 0.25


def test_a_series_constant_over_dev_has_no_skill_against_either_baseline(cli, tmp_path):
    # both baselines are exact (error 0) where the target repeats itself: no skill, not the
    # -1e8 that a daily baseline read from raw values gave (the truth carries float32 rounding)
    n = 600
    t = pd.date_range("2020-01-01", periods=n, freq="1h")
    temp = 10 + 5 * np.sin(np.arange(n) / 24 * 2 * np.pi) + np.random.default_rng(0).normal(0, 1, n)
    temp[420:] = 7.0  # dev and test: constant
    df = pd.DataFrame({"time": t.strftime("%Y-%m-%d %H:%M"), "temp": temp.round(2)})
    df.to_csv(tmp_path / "const.csv", index=False)
    data = {"adapter": "timeseries_csv", "path": str(tmp_path / "const.csv")}
    data |= {"time_column": "time", "targets": "temp", "freq": "1h", "sequence_len": 12}
    cfg = {"name": "const", "data": data, "model": {"arch": "gru", "units": 2}}
    cfg["train"] = {"epochs": 1, "batch_size": 128}
    r = cli("train", write_config(tmp_path, cfg), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    dev = json.loads((Path(last_json(r.stdout)["run_dir"]) / "metrics" / "dev.json").read_text())
    assert dev["persistence_mae"] == 0 and dev["daily_persistence_mae"] == 0
    assert dev["skill"] is None and dev["daily_skill"] is None and dev["mae"] > 0.1


# ----------------------------------------------------------------------------- end to end


def test_bundled_sample_end_to_end(cli, tmp_path):
    cfg = write_config(tmp_path, nyc_cfg(time_features=["hour"]))
    runs = tmp_path / "runs"
    r = cli("train", cfg, "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    run = Path(last_json(r.stdout)["run_dir"])
    r = cli("evaluate", run, "--json")
    assert r.exit_code == 0, r.output
    test = json.loads((run / "metrics" / "test.json").read_text())
    temp = test["per_target"]["temp"]
    assert temp["unit"] == "°F" and test["horizon"] == "3h"
    for key in ("mae", "rmse", "persistence_mae", "skill", "daily_persistence_mae", "daily_skill"):
        assert isinstance(temp[key], float), key
    assert temp["skill"] == pytest.approx(1 - temp["mae"] / temp["persistence_mae"])
    assert 2.5 < temp["persistence_mae"] < 3.5  # EWR, 3 h ahead, last 15 % of 2013 (2.92 °F)
    meta = json.loads((run / "meta.json").read_text())["data"]
    assert meta["values_filled"]["pressure"] == 962 and meta["missing_timestamps"] == 27
    assert meta["rows_dropped_total"] == 0 and meta["group"] == {"origin": "EWR"}
    assert meta["features"][-2:] == ["hour_sin", "hour_cos"]
    enc = json.loads((run / "preprocessing" / "encoder.json").read_text())
    # one mean/std per column; wind_dir is fed as its sine and cosine
    assert len(enc["mean"]) == 11 and len(set(enc["std"])) == 11
    assert {"wind_dir_sin", "wind_dir_cos"} <= set(meta["features"])
    assert (run / "plots" / "test.png").stat().st_size > 10_000


def test_synop_recursive_end_to_end(cli, export, tmp_path):
    raw = synop_cfg(
        export.path,
        interpolate={"max_gap": "12h"},
        sequence_len=8,
        recursive_steps=4,
        time_features=["hour"],
    )
    cfg = write_config(tmp_path, raw)
    r = cli("train", cfg, "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    res = last_json(r.stdout)
    dev = res["metrics"]
    assert set(dev["per_target"]) == set(COURSE_FEATURES)
    assert dev["per_target"]["pmer"]["unit"] == "hPa"
    rec = dev["recursive"]
    assert (
        rec["lead"] == ["3h", "6h", "9h", "12h"]
        and len(rec["per_target"]["tc"]["mae_per_step"]) == 4
    )
    assert len(dev["recursive_mae_norm_per_step"]) == 4
    r = cli("evaluate", res["run_dir"], "--split", "dev", "--json")
    again = json.loads(r.stdout)["metrics"]
    assert again["per_target"]["tc"]["mae"] == pytest.approx(dev["per_target"]["tc"]["mae"])


# ----------------------------------------------------------------------------- bad input


def _one_line_error(r) -> str:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


def test_bad_input_one_line_exit_2(cli, export, tmp_path):
    not_synop = tmp_path / "weather.csv"
    not_synop.write_text("origin,time_hour,temp\nEWR,2013-01-01T06:00:00Z,39.02\n")
    cases = {
        "not a SYNOP export": synop_cfg(not_synop),
        "'07000' is not in synop-labels.csv; stations present:": synop_cfg(
            export.path, station="07000"
        ),
        "target column 'tmp' is absent (did you mean 'temp'?)": nyc_cfg(targets="tmp"),
        "no window of 15 steps (12 past + 3 ahead) fits": nyc_cfg(
            features=["temp", "wind_gust"], interpolate={"max_gap": 0}
        ),
        "no row has origin = 'XYZ'; values present: ": nyc_cfg(group={"origin": "XYZ"}),
        # longer than dev: it was an UnboundLocalError (exit 1) once the model had trained
        "too few for the recursive evaluation of 5000 steps after a window of 12": nyc_cfg(
            features=["temp"], targets="all", horizon=1, recursive_steps=5000
        ),
    }
    for i, (expected, raw) in enumerate(cases.items()):
        cfg = write_config(tmp_path, raw, name=f"bad{i}.yaml")
        line = _one_line_error(cli("train", cfg, "--runs-dir", tmp_path / "runs"))
        assert expected in line, line
        if "stations present" in expected:
            assert "07481 LYON-ST EXUPERY (" in line and "07149 ORLY (" in line
        if "no window" in expected:
            assert "wind_gust" in line  # names the column that causes the gaps
    assert not (tmp_path / "runs").exists()  # no run directory for bad input


def test_config_errors_before_reading(cli, tmp_path):
    raw = nyc_cfg(recursive_steps=4)  # horizon 3: cannot chain
    line = _one_line_error(cli("config", "validate", write_config(tmp_path, raw)))
    assert "data.recursive_steps" in line and "horizon 1" in line
    raw = nyc_cfg(output_steps=2)
    raw["model"]["return_sequences"] = True  # it crashed while scoring after epoch 1
    line = _one_line_error(cli("config", "validate", write_config(tmp_path, raw, "s.yaml")))
    assert "model.return_sequences" in line and "data.output_steps > 1" in line
    raw = nyc_cfg(freq="3 fortnights")
    line = _one_line_error(cli("config", "validate", write_config(tmp_path, raw, "f.yaml")))
    assert "data.freq" in line
    raw = nyc_cfg(path="x.csv")
    line = _one_line_error(cli("config", "validate", write_config(tmp_path, raw, "p.yaml")))
    assert "exactly one of data.path and data.sample" in line


def test_weather_configs_validate_without_heavy_imports():
    from tests.test_cli_fast import _modules_after

    for name in (
        "weather-nyc-3h",
        "weather-nyc-24h",
        "weather-synop-3h",
        "weather-synop-12h",
        "weather-synop-3h-best",
    ):
        mods = _modules_after(["config", "validate", f"configs/{name}.yaml"])
        assert not {"pandas", "tensorflow", "keras", "matplotlib"} & mods, name


# ----------------------------------------------------------------------------- real layouts


def test_orly_export_as_found_in_the_wild():
    # Mac Roman, CRLF, no final newline, station "7149" without its leading zero
    cfg = config_from_dict(
        {**synop_cfg(Path("unused")), "data": {"adapter": "synop", "sample": "synop-orly-2023"}}
    )
    raw = SynopAdapter(cfg.data).read()
    assert raw.report["encoding"] == "mac_roman" and raw.report["station"] == "07149"
    assert raw.report["rows_in_file"] == 2673 and "tc" in raw.columns
    assert raw.units["pres"] == "hPa" and 950 < raw.columns["pres"].median() < 1050
    for station in ("07149", "7149", 7149, "ORLY"):
        d = {"adapter": "synop", "sample": "synop-orly-2023", "station": station}
        assert SynopAdapter(config_from_dict({**synop_cfg(Path("x")), "data": d}).data).read()


def test_synop_decimal_commas_of_a_french_spreadsheet(tmp_path):
    import re

    from seqrun.samples import sample_path

    d = {"adapter": "synop", "sample": "synop-orly-2023"}
    plain = SynopAdapter(config_from_dict({**synop_cfg(Path("x")), "data": d}).data).read()
    text = gzip.decompress(sample_path("synop-orly-2023").read_bytes()).decode("mac_roman")
    # every decimal point between digits becomes a comma (the coordinates too: "48,716833, 2,...")
    path = tmp_path / "orly-fr.csv"
    path.write_text(re.sub(r"(?<=\d)\.(?=\d)", ",", text), encoding="mac_roman")
    raw = SynopAdapter(config_from_dict(synop_cfg(path, station="07149")).data).read()
    assert {"tc", "t", "ff"} <= set(raw.report["decimal_comma_columns"])
    assert "coordonnees" not in raw.columns  # text stays text
    for code in ("tc", "pmer", "ff", "rr3", "td"):
        a, b = plain.columns[code].to_numpy(), raw.columns[code].to_numpy()
        assert np.allclose(a, b, equal_nan=True), code


def test_course_config_trains_on_the_orly_export(cli, tmp_path):
    over = ["--set", "train.epochs=1", "--set", "model.units=8", "--set", "data.recursive_steps=2"]
    r = cli("train", "configs/weather-synop-3h.yaml", "--runs-dir", tmp_path / "r", "--json", *over)
    assert r.exit_code == 0, r.output
    dev = last_json(r.stdout)["metrics"]
    assert set(dev["per_target"]) == set(COURSE_FEATURES)
    dd = dev["per_target"]["dd"]
    assert dd["circular"] and dd["unit"] == "°" and 0 < dd["mae"] <= 180
    assert 0 < dev["n"] - dd["n_scored"] < 40  # calm truths or persistence forecasts
    rain = dev["per_target"]["rr3"]["rain"]
    assert rain["model"]["threshold"] == 0.1 and rain["model"]["observed_events"] > 0
    run = Path(last_json(r.stdout)["run_dir"])
    preds = np.load(run / "predictions" / "dev.npz")
    names = list(dev["per_target"])
    for t in ("ff", "rafper", "u", "rr1", "rr3"):  # bounded at 0 by the model itself
        assert preds["y_pred"][:, names.index(t)].min() >= 0, t
    assert ((preds["y_pred"][:, names.index("dd")] >= 0) & (preds["y_pred"][:, 3] < 360)).all()
    calm = np.isnan(preds["y_true"][:, names.index("dd")])  # the model always gives an angle
    assert calm.any() and not np.isnan(preds["y_pred"]).any()


@pytest.mark.parametrize("encoding", ["mac_roman", "cp1252", "utf-8-sig", "utf-16"])
def test_spreadsheet_encodings_are_detected(export, tmp_path, encoding):
    text = export.path.read_text(encoding="utf-8").replace("\n", "\r\n").rstrip("\r\n")
    text = text.replace(";07481;", ";7481;").replace("\n07481;", "\n7481;")  # leading 0 lost
    path = tmp_path / f"export-{encoding}.csv"
    path.write_bytes(text.encode(encoding))
    a = SynopAdapter(config_from_dict(synop_cfg(export.path)).data).read()
    b = SynopAdapter(config_from_dict(synop_cfg(path)).data).read()
    pd.testing.assert_frame_equal(
        a.columns.reset_index(drop=True), b.columns.reset_index(drop=True)
    )
    assert b.report["station"] == "07481" and b.report["station_name"] == "LYON-ST EXUPERY"
    want = {"utf-8-sig": "utf-8-sig", "utf-16": "utf-16"}.get(encoding, encoding)
    assert b.report["encoding"] == want


def test_wrong_encoding_names_the_option(cli, export, tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(export.path.read_text(encoding="utf-8").encode("mac_roman"))
    cfg = write_config(tmp_path, synop_cfg(path, encoding="utf-8"))
    line = _one_line_error(cli("train", cfg, "--runs-dir", tmp_path / "runs"))
    assert "data.encoding" in line and "mac_roman" in line and "mac.csv is not utf-8" in line
    cfg = write_config(tmp_path, synop_cfg(path, encoding="klingon"), name="k.yaml")
    assert "unknown text encoding" in _one_line_error(cli("train", cfg))
    assert not (tmp_path / "runs").exists()


def test_monthly_archives_read_as_one_series(tmp_path, monkeypatch):
    from tests.synop_export import make_monthly

    m = make_monthly(tmp_path)
    assert [p.name for p in m.paths] == ["synop.201501.csv.gz", "synop.201502.csv"]
    first = gzip_lines(m.paths[0])
    assert (
        first[0].startswith("numer_sta;date;pmer;tend;cod_tend;dd;ff;t;td;") and first[0][-1] == ";"
    )
    assert first[1].startswith("07149;20150101000000;") and ";mq;" in first[1]
    for path in (str(tmp_path / "synop.2015*"), [str(p) for p in reversed(m.paths)]):
        cfg = config_from_dict(synop_cfg(path, station="7149"))
        raw = SynopAdapter(cfg.data).read()
        times = list(raw.times.dt.to_pydatetime())
        assert sorted(set(times)) == m.times  # both months, parsed as UTC
        assert len(times) == len(m.times) + 1  # the row both files hold (dropped when cleaning)
        assert raw.report["rows_other_stations"] == 2 * len(times)
        r = times.index(m.times[40])
        want = m.truth[("07149", m.times[40])]
        assert raw.columns["tc"].iloc[r] == pytest.approx(float(want["t"]) - 273.15)  # from t
        assert raw.columns["pmer"].iloc[r] == pytest.approx(float(want["pmer"]) / 100)
        for t in m.missing["pmer"]:
            assert math.isnan(raw.columns["pmer"].iloc[times.index(t)])
    data = SynopAdapter(
        config_from_dict(synop_cfg(str(tmp_path / "synop.*.csv*"), station=7149)).data
    ).load(("train", "dev"))
    assert data.report()["rows_dropped"]["duplicate_time"] == 1
    assert data.report()["segments"] == 1  # the two months join without a gap
    # other stations of the same archives (neighbours, also_train_on) are not read again
    from seqrun.data import synop

    opened = []

    def counting(path, encoding):
        opened.append(path.name)
        return read_text(path, encoding)

    read_text = synop.read_text
    monkeypatch.setattr(synop, "read_text", counting)
    paths = [str(p) for p in m.paths]
    for more in ({"neighbours": {"series": ["07481"]}}, {"also_train_on": ["07481", "07005"]}):
        opened.clear()
        data = SynopAdapter(config_from_dict(synop_cfg(paths, station="07149", **more)).data)
        report = data.load(("train", "dev")).report()
        assert sorted(opened) == sorted(p.name for p in m.paths)
        assert report["station"] == "07149" and report["rows_other_stations"] == 2 * len(times)
    with pytest.raises(UserError, match="no file matches") as e:
        SynopAdapter(config_from_dict(synop_cfg("nowhere/synop.*.csv")).data).read()
    assert e.value.where == "data.path"


def test_an_export_read_with_archives_gets_tc_in_every_row(tmp_path):
    """The export has tc, the monthly archives do not: their rows take tc from t."""
    from tests.synop_export import make_monthly

    m = make_monthly(tmp_path)  # January and February 2015
    exp = make_export(tmp_path / "export.csv", days=10, quirks=False)  # from 2015-03-10
    paths = [str(exp.path), *(str(p) for p in m.paths)]
    raw = SynopAdapter(config_from_dict(synop_cfg(paths, station="07149")).data).read()
    times = list(raw.times.dt.to_pydatetime())
    assert raw.columns["tc"].notna().all()
    jan = times.index(m.times[40])
    assert raw.columns["tc"].iloc[jan] == pytest.approx(
        float(m.truth[("07149", m.times[40])]["t"]) - 273.15
    )
    march = times.index(exp.times[5])
    assert raw.columns["tc"].iloc[march] == float(exp.truth[("07149", exp.times[5])]["tc"])
    assert "rows of files without a tc column" in raw.report["derived"]["tc"]


def gzip_lines(path: Path) -> list[str]:
    import gzip

    return gzip.decompress(path.read_bytes()).decode().splitlines()


def test_gap_across_a_split_boundary_uses_no_future_value():
    t = pd.Series(pd.date_range("2020-01-01", periods=20, freq="1h", tz="UTC"))
    x = np.arange(20, dtype=float) * 10.0
    x[12:15] = np.nan  # grid rows 12, 13, 14 missing; the dev split starts at row 14
    frame = pd.DataFrame({"x": x})
    both = clean(t, frame, None, "linear", 5)
    np.testing.assert_allclose(both.values[12:15, 0], [120, 130, 140])  # from both sides
    c = clean(t, frame, None, "linear", 5, split_starts=lambda n: [14])
    np.testing.assert_allclose(c.values[12:14, 0], [110, 110])  # train side: last value only
    assert c.values[14, 0] == pytest.approx(140)  # dev side: past and present values only
    assert c.report["values_forward_filled_at_split_boundaries"] == 2
    assert c.report["values_filled"] == {"x": 3}


@pytest.mark.parametrize("method", ["pchip", "akima", "linear"])
def test_gap_before_a_split_boundary_is_filled_without_later_splits(method):
    """pchip and akima use points beyond a gap's ends: a train gap that ends just before
    the dev split must not take the shape of dev's values."""
    t = pd.Series(pd.date_range("2020-01-01", periods=20, freq="1h", tz="UTC"))
    filled = []
    for dev in (0.0, 1000.0):
        x = np.arange(20, dtype=float)
        x[11:13] = np.nan  # train rows 11 and 12; row 13 observed; dev starts at row 14
        x[14:] = dev + np.arange(6)
        c = clean(t, pd.DataFrame({"x": x}), "1h", method, 6, split_starts=lambda n: [14])
        filled.append(c.values[11:13, 0])
        assert c.report["values_forward_filled_at_split_boundaries"] == 0
    np.testing.assert_allclose(filled[0], filled[1])
    np.testing.assert_allclose(filled[0], [11, 12], atol=0.5)


def test_circular_and_rain_metrics():
    from seqrun.metrics import ForecastMetrics, rain_scores

    y = np.array([[359.0, 0.0], [10.0, 2.0], [180.0, 0.0], [90.0, 0.5]])
    m = ForecastMetrics().compute(
        {
            "y_true": y,
            "y_pred": np.array([[1.0, 0.3], [350.0, 1.0], [0.0, 0.0], [90.0, 0.0]]),
            "persistence": np.array([[340.0, 0.0], [359.0, 0.0], [170.0, 0.2], [80.0, 2.0]]),
            "scale": np.array([90.0, 1.0]),
            "target_names": ["dd", "rr3"],
            "units": ["°", "mm"],
            "circular": [True, False],
            "precipitation": {"rr3": 0.1},
        }
    )
    dd = m["per_target"]["dd"]
    assert dd["mae"] == pytest.approx((2 + 20 + 180 + 0) / 4)  # 359 vs 1 is 2 degrees
    assert dd["persistence_mae"] == pytest.approx((19 + 11 + 10 + 10) / 4)
    rain = m["per_target"]["rr3"]["rain"]["model"]
    assert rain == rain_scores(y[:, 1], np.array([0.3, 1.0, 0.0, 0.0]), 0.1)
    # observed rain in rows 1 and 3; forecast in rows 0 and 1: 1 hit, 1 miss, 1 false alarm
    assert rain["hit_rate"] == 0.5 and rain["false_alarm_ratio"] == 0.5
    assert rain["false_alarm_rate"] == 0.5 and rain["observed_events"] == 2
    pers = m["per_target"]["rr3"]["rain"]["persistence"]  # rain forecast in rows 2 and 3
    assert pers["hit_rate"] == 0.5 and pers["false_alarm_ratio"] == 0.5


def test_calm_wind_has_no_direction_to_score():
    from seqrun.metrics import ForecastMetrics

    # row 1: calm truth; row 2: calm last observation (persistence): neither is scored, for
    # the model as for persistence; the other target keeps every row
    m = ForecastMetrics().compute(
        {
            "y_true": np.array([[350.0, 1.0], [np.nan, 2.0], [90.0, 3.0], [180.0, 4.0]]),
            "y_pred": np.array([[10.0, 1.0], [200.0, 2.0], [120.0, 3.0], [170.0, 0.0]]),
            "persistence": np.array([[340.0, 0.0], [0.0, 0.0], [np.nan, 0.0], [180.0, 0.0]]),
            "scale": np.array([90.0, 1.0]),
            "target_names": ["dd", "ff"],
            "units": ["°", "m/s"],
            "circular": [True, False],
        }
    )
    dd, ff = m["per_target"]["dd"], m["per_target"]["ff"]
    assert dd["n_scored"] == 2 and m["n"] == 4
    assert dd["mae"] == pytest.approx((20 + 10) / 2)
    assert dd["persistence_mae"] == pytest.approx((10 + 0) / 2)
    assert ff["mae"] == pytest.approx(1.0) and ff["persistence_mae"] == pytest.approx(2.5)


def test_regression_metrics_score_a_direction_as_the_forecast_set_does():
    # metrics: regression on a series with wind direction: circular degrees, calm left out
    # (every error was null from the calm NaN, and 359 vs 1 would have been 358 degrees)
    from seqrun.metrics import ForecastMetrics, RegressionMetrics

    y = np.array([[359.0, 1.0], [np.nan, 2.0], [90.0, 3.0], [180.0, 4.0]])
    rec_y = np.stack([y, y], axis=1)  # (items, steps, targets)
    p = {
        "y_true": y,
        "y_pred": np.array([[1.0, 1.0], [200.0, 2.0], [120.0, 3.0], [170.0, 0.0]]),
        "persistence": np.array([[340.0, 0.0], [0.0, 0.0], [np.nan, 0.0], [180.0, 0.0]]),
        "scale": np.array([90.0, 1.0]),
        "target_names": ["dd", "ff"],
        "units": ["°", "m/s"],
        "circular": [True, False],
        "recursive": {"y_true": rec_y, "y_pred": rec_y + [2.0, 1.0], "persistence": y},
    }
    r, f = RegressionMetrics().compute(p), ForecastMetrics().compute(p)
    for name in ("dd", "ff"):
        for k in ("mae", "rmse", "persistence_mae"):
            assert r["per_target"][name][k] == pytest.approx(f["per_target"][name][k])
    assert r["per_target"]["dd"]["mae"] == pytest.approx((2 + 10) / 2)
    assert r["mae_norm"] == pytest.approx(f["mae_norm"])
    assert r["recursive_mae_per_step"] == pytest.approx([1.5, 1.5])


@pytest.mark.parametrize("calm", [True, False])
def test_calm_is_a_zero_vector_not_north(calm):
    # Orly reports 37 calms as dd = 0 with ff = 0, and north as 360 (WMO convention)
    d = {"adapter": "synop", "sample": "synop-orly-2023", "features": ["dd", "ff"]}
    cfg = config_from_dict({**synop_cfg(Path("x")), "data": {**d, "calm": calm}})
    raw = SynopAdapter(cfg.data).read()
    assert int((raw.columns["dd"] == 0).sum()) == 37
    assert ((raw.columns["dd"] == 0) == (raw.columns["ff"] == 0)).all()
    data = SynopAdapter(cfg.data).load(("train",))
    names = data.feature_names
    v = data.splits["train"].values
    zero = (v[:, names.index("dd_sin")] == 0) & (v[:, names.index("dd_cos")] == 0)
    if calm:
        assert data.report()["calm_rows"] == {"dd": 37} and zero.sum() >= 10
        angles = data.collapse(v[:, [names.index(c) for c in data.target_names]], observed=True)
        assert np.isnan(angles[zero, 0]).all() and not np.isnan(angles[~zero, 0]).any()
    else:
        assert "calm_rows" not in data.report() and zero.sum() == 0


def test_missing_features_dropped_with_a_warning_or_an_error(capsys):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    # EWR reports gusts in 21 % of its hours; the NYC sample has no snow column
    raw = nyc_cfg(features=["temp", "wind_gust", "snow", "dewp"], missing_features="drop")
    data = TimeseriesCsvAdapter(config_from_dict(raw).data).load(("train",))
    assert "wind_gust" not in data.feature_names and "snow" not in data.feature_names
    assert {"temp", "dewp"} <= set(data.feature_names) and data.target_names == ["temp"]
    dropped = data.report()["dropped_features"]
    assert dropped == {"wind_gust": "values in 21% of the rows", "snow": "absent"}
    assert (
        "left out wind_gust (values in 21% of the rows), snow (absent)" in capsys.readouterr().err
    )
    with pytest.raises(UserError, match="feature column 'snow' is absent") as e:
        TimeseriesCsvAdapter(config_from_dict(nyc_cfg(features=["temp", "snow"])).data).load()
    assert e.value.where == "data.features"
    # targets 'all' (the recipes'): the error named data.targets, which lists no column, and
    # said nothing of the fix for a station without that sensor
    raw = nyc_cfg(features=["temp", "snow"], targets="all", horizon=1)
    with pytest.raises(UserError, match="feature column 'snow' is absent") as e:
        TimeseriesCsvAdapter(config_from_dict(raw).data).load()
    assert e.value.where == "data.features"
    assert "(leave it out of data.features), or with data.missing_features: drop" in str(e.value)
    # targets 'all' on SYNOP: the columns ORLY does not report (geop: never; tn12: 25 %) go
    d = {"adapter": "synop", "sample": "synop-orly-2023", "missing_features": "drop"}
    d |= {"features": ["tc", "geop", "td", "tn12"], "targets": "all"}
    data = SynopAdapter(config_from_dict({**synop_cfg(Path("x")), "data": d}).data).load()
    assert data.target_names == ["tc", "td"] and data.report()["dropped_features"] == {
        "geop": "values in 0% of the rows",
        "tn12": "values in 25% of the rows",
    }
    # the only target missing: nothing is dropped, the usual error says why
    d |= {"features": ["geop"], "targets": "geop"}
    with pytest.raises(UserError, match="'geop' has no values"):
        SynopAdapter(config_from_dict({**synop_cfg(Path("x")), "data": d}).data).load()


def test_a_constant_target_is_dropped_like_a_missing_one(tmp_path, capsys):
    # an export of a dry spell (or a gauge that writes 0.0 every time): rr1 constant. The
    # recipes (targets all, missing_features: drop) stopped with "choose other data.targets",
    # a key they do not list; drop now leaves it out like a column without values
    from seqrun.data.synop import header_codes

    lines = _orly_lines()
    rr1 = header_codes(lines[0].split(";")).index("rr1")
    path = tmp_path / "export.csv"
    path.write_text("\r\n".join(_rewrite(lines, rr1, lambda i, v: "0.0")), encoding="mac_roman")
    d = {"features": ["pmer", "rr1", "tc"], "targets": "all", "missing_features": "drop"}
    data = SynopAdapter(config_from_dict(synop_cfg(path, station=None, **d)).data).load()
    assert data.target_names == ["pmer", "tc"] and "rr1" not in data.feature_names
    assert data.report()["dropped_features"] == {"rr1": "constant: 0 in every row"}
    assert "left out rr1 (constant: 0 in every row)" in capsys.readouterr().err
    with pytest.raises(UserError, match="'rr1' of .* is constant") as e:  # the error's fix
        cfg = synop_cfg(path, station=None, **{**d, "missing_features": "error"})
        SynopAdapter(config_from_dict(cfg).data).load()
    assert e.value.where == "data.features" and "leave it out of data.features" in str(e.value)
    with pytest.raises(UserError, match="is constant .* choose other data.targets"):
        cfg = synop_cfg(path, station=None, **{**d, "targets": "rr1"})  # the only target
        SynopAdapter(config_from_dict(cfg).data).load()


def test_lower_bound_layer_keeps_outputs_nonnegative():
    from seqrun.models.layers import LowerBound

    out = np.array([[-9.0, -9.0], [3.0, 3.0]], dtype=np.float32)
    window = np.zeros((2, 4, 2), dtype=np.float32)
    window[:, -1, 0] = [1.0, -0.5]
    y = np.asarray(LowerBound({0: -1.0}, [0, 1])([out, window]))
    assert y[0, 0] > -1.0 and y[0, 1] == -9.0  # only column 0 is bounded
    assert y[1, 0] == pytest.approx(3.0, abs=0.02)  # about the identity far above the bound
    # residual: the output is a change; last + change never goes below the bound
    y = np.asarray(LowerBound({0: -1.0}, [0, 1], residual=True)([out, window]))
    assert (window[:, -1, 0] + y[:, 0] > -1.0).all()


@pytest.mark.parametrize("arch, ensemble", [("encoder_decoder", 1), ("gru", 1), ("gru", 2)])
def test_direct_multistep_forecasts(cli, export, tmp_path, arch, ensemble):
    raw = synop_cfg(
        export.path,
        interpolate={"max_gap": "12h"},
        sequence_len=8,
        output_steps=4,
        target_mode="change",
        time_features=["hour"],
    )
    raw["model"] = {"arch": arch, "units": 8, "ensemble": ensemble}
    cfg = write_config(tmp_path, raw)
    r = cli("train", cfg, "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    res = last_json(r.stdout)
    dev = res["metrics"]
    assert dev["horizon"] == "12h" and dev["direct"]["lead"] == ["3h", "6h", "9h", "12h"]
    if ensemble > 1:  # the recipe's shape: members stacked as (batch, 2, 4 steps, targets)
        summary = (Path(res["run_dir"]) / "model.txt").read_text()
        assert "member_1" in summary and "(None, 2, 4," in summary
    tc = dev["direct"]["per_target"]["tc"]
    assert tc["mae_per_step"][-1] == pytest.approx(dev["per_target"]["tc"]["mae"])
    r = cli("evaluate", res["run_dir"], "--split", "dev", "--json")  # reloads custom layers
    assert r.exit_code == 0, r.output
    again = json.loads(r.stdout)["metrics"]
    assert again["direct"]["mae_norm_per_step"] == pytest.approx(dev["direct"]["mae_norm_per_step"])
    summary = (Path(res["run_dir"]) / "model.txt").read_text()
    if arch == "encoder_decoder":
        assert "encoder" in summary and "decoder" in summary


def test_headline_step_picks_the_lead_of_the_headline_metrics(cli, export, tmp_path):
    raw = synop_cfg(
        export.path,
        interpolate={"max_gap": "12h"},
        sequence_len=8,
        output_steps=4,
        headline_step=1,
        target_mode="change",
    )
    raw["model"] = {"arch": "gru", "units": 8}
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    dev = last_json(r.stdout)["metrics"]
    assert dev["horizon"] == "3h" and dev["direct"]["lead"][0] == "3h"
    for t in ("tc", "pmer"):
        per_step = dev["direct"]["per_target"][t]["mae_per_step"]
        assert dev["per_target"][t]["mae"] == pytest.approx(per_step[0])
        assert per_step[0] != pytest.approx(per_step[-1])
    # every lead is in predictions/dev.npz too, the headline one as y_pred
    (run,) = (tmp_path / "runs").glob("*/*")
    with np.load(run / "predictions" / "dev.npz") as z:
        steps, head = z["direct_y_pred"], z["y_pred"]
        assert steps.shape == (len(head), 4, head.shape[1]) == z["direct_y_true"].shape
        np.testing.assert_allclose(steps[:, 0, :], head)
    raw["data"]["headline_step"] = 5
    r = cli("config", "validate", write_config(tmp_path, raw, "bad.yaml"))
    assert r.exit_code == 2 and "headline_step 5 is beyond the 4 step(s)" in r.stderr


def test_multistep_windows_targets():
    from seqrun.data.series import SeriesWindows

    values = np.arange(30, dtype=np.float32).reshape(15, 2)
    w = SeriesWindows(values, np.array([0, 3]), 4, 1, [1], residual=True, output_steps=3)
    x, y = next(iter(w.dataset(8)))
    assert tuple(y.shape) == (2, 3, 1)
    np.testing.assert_array_equal(y.numpy()[1, :, 0], values[7:10, 1] - values[6, 1])
    assert w.target_rows().tolist() == [6, 9]


def test_also_train_on_adds_other_series_to_train_only(export):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    splits = ("train", "dev", "test")
    one = TimeseriesCsvAdapter(config_from_dict(nyc_cfg()).data).load(splits)
    cfg = config_from_dict(nyc_cfg(also_train_on=["JFK", "LGA"]))
    pooled = TimeseriesCsvAdapter(cfg.data).load(splits)
    for name in ("dev", "test"):  # the main series' dev and test, unchanged
        a, b = one.splits[name], pooled.splits[name]
        assert np.array_equal(a.values, b.values) and np.array_equal(a.starts, b.starts)
    own, train = one.splits["train"], pooled.splits["train"]
    n = len(own.values)
    assert np.array_equal(train.values[:n], own.values)
    report = pooled.report()["also_train_on"]
    assert list(report) == ["JFK", "LGA"]
    rows = [report[k]["rows"] for k in ("JFK", "LGA")]
    assert len(train.values) == n + sum(rows) and rows == [n, n]  # three gap-free stretches
    assert len(train.starts) == 3 * len(own.starts)
    # JFK's rows follow EWR's: its first temperature, and nothing at or after the dev split
    jfk = pd.read_csv(sample_csv(), compression="gzip").query("origin == 'JFK'")
    assert train.values[n, 0] == pytest.approx(jfk["temp"].iloc[0])
    dev_start = np.datetime64(pooled.bounds["dev"]["first_time"].rstrip("Z"))
    assert (train.times[n:] < dev_start).all()
    assert report["LGA"]["last_time"] < pooled.bounds["dev"]["first_time"]
    # no window spans two series: each starts and ends inside one segment
    lo, hi = train.segment_lo_hi(train.starts)
    span = 12 + 3
    assert (train.starts + span <= hi).all() and (train.starts >= lo).all()
    assert np.isin([n, n + rows[0]], train.bounds()[:, 0]).all()
    # the other series' windows, numbered after EWR's train rows, are not leakage into the
    # dev and test rows of EWR (a false alarm at every train before)
    from seqrun.engine import leakage

    found = leakage.check(pooled)
    assert not found["found"], found["issues"]
    assert "time-series windows whose targets fall in another split" in found["checked"]
    # the SYNOP adapter: another station of the same export
    data = SynopAdapter(config_from_dict(synop_cfg(export.path, also_train_on=["07149"])).data)
    alone = SynopAdapter(config_from_dict(synop_cfg(export.path)).data).load(splits)
    both = data.load(splits)
    assert both.report()["also_train_on"]["07149"]["series"] == "07149"
    assert len(both.splits["train"].starts) > 1.5 * len(alone.splits["train"].starts)
    assert np.array_equal(both.splits["test"].values, alone.splits["test"].values)


def sample_csv() -> Path:
    from seqrun.samples import sample_path

    return sample_path("nyc-weather-2013")


def test_also_train_on_errors(cli, export, tmp_path):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    bad = nyc_cfg(also_train_on=["JFK"])
    del bad["data"]["group"]
    r = cli("config", "validate", write_config(tmp_path, bad))
    assert r.exit_code == 2 and "set data.group too" in r.stderr
    for key, message in (("EWR", "is the main series itself"), ("BOS", "no row has origin")):
        with pytest.raises(UserError, match=message) as e:
            TimeseriesCsvAdapter(config_from_dict(nyc_cfg(also_train_on=[key])).data).load()
        assert e.value.where == "data.also_train_on"
    with pytest.raises(UserError, match="station '07999' is not in") as e:
        SynopAdapter(config_from_dict(synop_cfg(export.path, also_train_on=["07999"])).data).load()
    assert e.value.where == "data.also_train_on"
    # trains end to end; the run's meta says what was pooled
    raw = synop_cfg(export.path, also_train_on=["ORLY"], interpolate={"max_gap": "12h"})
    r = cli("train", write_config(tmp_path, raw, "ok.yaml"), "--runs-dir", tmp_path / "r", "--json")
    assert r.exit_code == 0, r.output
    meta = json.loads((Path(last_json(r.stdout)["run_dir"]) / "meta.json").read_text())
    assert meta["data"]["also_train_on"]["ORLY"]["series"] == "07149"


def test_csv_times_and_numbers_as_spreadsheets_write_them(cli, tmp_path):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    TINY = {"name": "p", "model": TINY_MODEL, "train": TINY_TRAIN}
    # hourly Paris local times across the autumn change (02:00-03:00 happens twice), written
    # day first with decimal commas and ';' fields, as a French spreadsheet saves them
    utc = pd.date_range("2023-10-27T00:00", periods=120, freq="h", tz="UTC")
    local = utc.tz_convert("Europe/Paris").strftime("%d/%m/%Y %H:%M")
    temps = np.round(10 + 5 * np.sin(np.arange(120) / 4), 2)
    lines = ["date;temp;vent"] + [
        f"{t};{str(v).replace('.', ',')};{i % 7}"
        for i, (t, v) in enumerate(zip(local, temps, strict=True))
    ]
    lines.append("26/03/2023 02:30;9,5;1")  # the spring change skips 02:00-03:00: no such time
    path = tmp_path / "paris.csv"
    path.write_text("\n".join(lines) + "\n")
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "date"}
    data |= {"separator": ";", "targets": "temp", "sequence_len": 6}
    good = {"decimal": ",", "time_format": "%d/%m/%Y %H:%M", "timezone": "Europe/Paris"}
    raw = TimeseriesCsvAdapter(config_from_dict({**TINY, "data": data | good}).data).read()
    assert local.duplicated().sum() == 1 and raw.report["local_times_dropped"] == 1
    assert (raw.times.to_numpy() == utc.to_numpy()).all()  # the repeated hour told apart
    assert np.allclose(raw.columns["temp"].to_numpy(), temps)
    # dates alone (daily rows) are local midnights; a time with an offset keeps it
    from seqrun.data.times import parse_times

    column = pd.Series(["2023-07-01", "2023-07-02", "2023-07-02T12:00:00+00:00"])
    times, dropped = parse_times(column, None, "Europe/Paris")
    assert [str(t) for t in times] == [
        "2023-06-30 22:00:00+00:00", "2023-07-01 22:00:00+00:00", "2023-07-02 12:00:00+00:00"
    ]  # fmt: skip
    assert not dropped.any()
    # the repeated autumn hour, oldest first and newest first (as many exports list rows)
    utc_hours = pd.date_range("2023-10-29T00:00Z", periods=4, freq="h")  # 02:00 CEST .. 03:00
    written = utc_hours.tz_convert("Europe/Paris").strftime("%Y-%m-%d %H:%M")
    assert list(written).count("2023-10-29 02:00") == 2
    for rows in (list(written), list(written)[::-1]):
        times, dropped = parse_times(pd.Series(rows), None, "Europe/Paris")
        assert sorted(times) == list(utc_hours) and not dropped.any()
        assert list(times) == (list(utc_hours) if rows[0] < rows[-1] else list(utc_hours)[::-1])
    # seconds since 1970
    epoch = tmp_path / "epoch.csv"
    epoch.write_text(
        "t,temp\n" + "".join(f"{int(t.timestamp())},{v}\n" for t, v in zip(utc, temps, strict=True))
    )
    unix = {"path": str(epoch), "time_column": "t", "separator": ",", "time_format": "unix"}
    raw = TimeseriesCsvAdapter(config_from_dict({**TINY, "data": data | unix}).data).read()
    assert (raw.times.to_numpy() == utc.to_numpy()).all()
    # the date and the time of day in two columns
    split = tmp_path / "split.csv"
    split.write_text(
        "Date,Heure,temp\n"
        + "".join(f"{t:%d/%m/%Y},{t:%H:%M},{v}\n" for t, v in zip(utc, temps, strict=True))
    )
    two = {"path": str(split), "time_column": ["Date", "Heure"], "separator": ","}
    two["time_format"] = "%d/%m/%Y %H:%M"
    raw = TimeseriesCsvAdapter(config_from_dict({**TINY, "data": data | two}).data).read()
    assert (raw.times.to_numpy() == utc.to_numpy()).all() and list(raw.columns) == ["temp"]
    # each missing option is one line naming what to set
    cases = [
        ({**good, "time_format": None}, "it reads as '%d/%m/%Y %H:%M': set data.time_format"),
        ({**good, "decimal": "."}, "decimal commas: set data.decimal: ','"),
        (
            {**good, "separator": ",", "decimal": "."},
            "looks ';'-separated: set data.separator: ';'",
        ),
        ({**unix, "time_format": None}, "seconds since 1970: set data.time_format: unix"),
    ]
    for i, (options, message) in enumerate(cases):
        config = write_config(tmp_path, {**TINY, "data": data | options}, f"c{i}.yaml")
        r = cli("train", config, "--runs-dir", tmp_path / "runs")
        assert r.exit_code == 2 and message in r.stderr, r.output
        assert len(r.stderr.strip().splitlines()) == 1
    # a range check of that column leaves it to the target check (was: data.valid_range.temp)
    ranged = data | good | {"decimal": ".", "valid_range": {"temp": [-50, 50]}}
    r = cli("data", "describe", write_config(tmp_path, {**TINY, "data": ranged}, "vr.yaml"))
    assert r.exit_code == 2 and r.stderr.startswith("error: data.targets: "), r.output
    assert "decimal commas: set data.decimal: ','" in r.stderr
    for options, message in (
        ({"timezone": "Europe/Pariss"}, "unknown time zone 'Europe/Pariss'"),
        ({"decimal": ",", "separator": ","}, "decimal and data.separator are both ','"),
        ({"time_format": "%d/%m/%Y %Q"}, "unknown directive %Q"),
        ({"time_format": "dd/mm/yyyy"}, "no % directive"),
    ):
        config = write_config(tmp_path, {**TINY, "data": data | options}, "bad.yaml")
        r = cli("config", "validate", config)
        assert r.exit_code == 2 and message in r.stderr, r.output


def test_neighbours_columns_are_inputs_at_the_main_series_times(cli, export, tmp_path, capsys):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    splits = ("train", "dev", "test")
    near = {"series": ["JFK", "LGA"], "features": ["temp", "wind_dir"]}
    cfg = config_from_dict(nyc_cfg(features=["temp"], neighbours=near))
    data = TimeseriesCsvAdapter(cfg.data).load(splits)
    names = data.feature_names
    assert names[:3] == ["temp", "temp@JFK", "wind_dir_sin@JFK"] and "wind_dir_cos@LGA" in names
    assert data.report()["neighbours"]["JFK"]["columns"] == [
        "temp@JFK", "wind_dir_sin@JFK", "wind_dir_cos@JFK"
    ]  # fmt: skip
    # each row holds JFK's observation of the same hour
    df = pd.read_csv(sample_csv(), compression="gzip")
    jfk = df[df.origin == "JFK"].set_index("time_hour")["temp"]
    test = data.splits["test"]
    stamps = [str(np.datetime_as_string(t, unit="s")) + "Z" for t in test.times[:200]]
    observed = jfk.reindex(stamps).to_numpy()
    column = test.values[:200, names.index("temp@JFK")]
    has = ~np.isnan(observed)
    assert has.sum() > 190 and np.allclose(column[has], observed[has])
    assert data.target_names == ["temp"]  # inputs, never targets
    # errors: one line, the key to change
    for near, where, message in (
        ({"series": ["EWR"]}, "data.neighbours.series", "is the main series itself"),
        ({"series": ["BOS"]}, "data.neighbours.series", "no row has origin = 'BOS'"),
        ({"series": ["JFK"], "features": ["tmp"]}, "data.neighbours.features", "did you mean"),
    ):
        with pytest.raises(UserError, match=message) as e:
            TimeseriesCsvAdapter(config_from_dict(nyc_cfg(neighbours=near)).data).load()
        assert e.value.where == where
    # missing_features: drop: what is not there is left out with a warning (one recipe, any file)
    near = {"series": ["EWR", "BOS", "JFK"], "features": ["temp", "wind_gust", "snow"]}
    cfg = config_from_dict(nyc_cfg(features=["temp"], neighbours=near, missing_features="drop"))
    data = TimeseriesCsvAdapter(cfg.data).load()
    assert data.feature_names == ["temp", "temp@JFK"]
    left = data.report()["neighbours"]["left_out"]
    assert set(left) == {"EWR", "BOS", "wind_gust@JFK", "snow@JFK"}
    assert "main series itself" in left["EWR"] and left["snow@JFK"] == "absent"
    assert "neighbours left out: EWR" in capsys.readouterr().err
    bad = synop_cfg(export.path, neighbours={"series": ["07149"]}, recursive_steps=2)
    r = cli("config", "validate", write_config(tmp_path, bad, "bad.yaml"))
    assert r.exit_code == 2 and "neighbours' columns are not forecast" in r.stderr
    # SYNOP: the other station's temperature as an input, trained and scored again
    raw = synop_cfg(
        export.path,
        targets=["tc", "pmer"],
        neighbours={"series": ["ORLY"]},
        interpolate={"max_gap": "12h"},
    )
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    run = last_json(r.stdout)["run_dir"]
    meta = json.loads((Path(run) / "meta.json").read_text())
    assert meta["data"]["neighbours"]["ORLY"]["columns"] == ["tc@ORLY", "pmer@ORLY"]
    assert "tc@ORLY" in meta["data"]["features"]
    r = cli("evaluate", run, "--split", "test", "--json")
    assert r.exit_code == 0, r.output


def test_constant_target_after_a_circular_feature_is_an_error(tmp_path):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    # the wind direction takes two columns (sine, cosine): the check must still look at temp
    times = pd.date_range("2023-01-01", periods=300, freq="h", tz="UTC")
    path = tmp_path / "flat.csv"
    pd.DataFrame(
        {
            "t": times.strftime("%Y-%m-%dT%H:%MZ"),
            "wind_dir": (np.arange(300) * 37) % 360 + 1,
            "temp": 12.5,
        }
    ).to_csv(path, index=False)
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "t"}
    data |= {"features": ["wind_dir", "temp"], "targets": "temp", "circular": ["wind_dir"]}
    cfg = config_from_dict({"name": "f", "data": data, "model": TINY_MODEL, "train": TINY_TRAIN})
    with pytest.raises(UserError, match="target column 'temp' .* is constant"):
        TimeseriesCsvAdapter(cfg.data).load()


@pytest.mark.parametrize("freq", ["1h", None])  # None: the step inferred from the times
def test_neighbours_observed_a_little_earlier_are_taken_later_ones_never(tmp_path, freq):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    hours = pd.date_range("2023-01-01", periods=200, freq="h", tz="UTC")
    rows = [("A", t, 10.0 + np.sin(i / 5)) for i, t in enumerate(hours)]
    rows += [("B", t - pd.Timedelta("10min"), 100.0 + i) for i, t in enumerate(hours)]
    rows += [("C", t + pd.Timedelta("10min"), 500.0 + i) for i, t in enumerate(hours)]
    path = tmp_path / "three.csv"
    pd.DataFrame(
        [(g, t.strftime("%Y-%m-%dT%H:%M:%SZ"), v) for g, t, v in rows], columns=["id", "t", "x"]
    ).to_csv(path, index=False)
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "t", "freq": freq}
    data |= {"group": {"id": "A"}, "targets": "x", "sequence_len": 4}

    def load(**more):
        cfg = {"name": "n", "data": data | more, "model": TINY_MODEL, "train": TINY_TRAIN}
        return TimeseriesCsvAdapter(config_from_dict(cfg).data).load(("train",))

    # B reports 10 min before each of A's hours: its value is taken, unchanged
    train = load(neighbours={"series": ["B"]}).splits["train"]
    assert np.array_equal(train.values[:, 1], 100.0 + np.arange(len(train.values)))
    # C reports 10 min after: never used (a later value would leak the future)
    with pytest.raises(UserError, match="has values at 0% of the main series' times") as e:
        load(neighbours={"series": ["C"]})
    assert e.value.where == "data.neighbours.features"
    data_c = load(neighbours={"series": ["B", "C"]}, missing_features="drop")
    assert data_c.feature_names == ["x", "x@B"]
    assert data_c.report()["neighbours"]["left_out"] == {"x@C": "values at 0% of the times"}


def test_a_direction_column_not_declared_circular_gets_a_hint(tmp_path, capsys):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    hours = pd.date_range("2023-01-01", periods=60, freq="h", tz="UTC")
    frame = pd.DataFrame({"valid": hours.strftime("%Y-%m-%dT%H:%MZ"), "tmpf": np.arange(60.0)})
    frame["drct"] = (np.arange(60) * 37) % 360  # an ASOS export's wind direction
    frame["relh"] = 50 + (np.arange(60) % 40)  # a percentage: no hint
    path = tmp_path / "asos.csv"
    frame.to_csv(path, index=False)
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "valid"}
    data |= {"targets": "tmpf", "sequence_len": 4, "features": ["tmpf", "drct", "relh"]}

    def load(**more):
        cfg = {"name": "n", "data": data | more, "model": TINY_MODEL, "train": TINY_TRAIN}
        return TimeseriesCsvAdapter(config_from_dict(cfg).data).load(("train",))

    assert "drct" in load().feature_names
    err = capsys.readouterr().err
    assert "column 'drct' looks like a direction in degrees" in err and "relh" not in err
    assert load(circular=["drct"]).feature_names[1:3] == ["drct_sin", "drct_cos"]
    load(circular=[])
    assert "looks like a direction" not in capsys.readouterr().err


def test_a_column_missing_in_many_rows_is_warned(tmp_path, capsys):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    hours = pd.date_range("2023-01-01", periods=100, freq="h", tz="UTC")
    frame = pd.DataFrame({"t": hours.strftime("%Y-%m-%dT%H:%MZ"), "x": np.arange(100.0)})
    frame["p"] = np.where(np.arange(100) < 70, 1000.0, np.nan)  # lost for the last 30 hours
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "t"}
    data |= {"targets": "x", "sequence_len": 4, "features": ["x", "p"]}
    data |= {"split": {"train": 0.5, "dev": 0.2, "test": 0.3}}
    cfg = {"name": "n", "data": data, "model": TINY_MODEL, "train": TINY_TRAIN}
    TimeseriesCsvAdapter(config_from_dict(cfg).data).load(("train",))
    assert "p in 30 (30%); those rows are left out" in capsys.readouterr().err


def test_a_column_reported_every_other_step_is_warned_as_interpolated(tmp_path, capsys):
    # a station that reports its 3 h rain only at 00, 06, 12 and 18 UTC: on the recipes' 3 h
    # grid every other rr3 value was made up by interpolation (rain too), fed and scored
    # as if observed, without a word
    from seqrun.data.synop import header_codes

    lines = _orly_lines()
    codes = header_codes(lines[0].split(";"))
    date, rr3 = codes.index("date"), codes.index("rr3")
    hours = [pd.Timestamp(line.split(";")[date]).tz_convert("UTC").hour if line else 0
             for line in lines[1:]]  # fmt: skip
    off = {i for i, hour in enumerate(hours) if hour % 6}
    lines = _rewrite(lines, rr3, lambda i, v: "" if i in off else v)
    path = tmp_path / "export.csv"
    path.write_text("\r\n".join(lines), encoding="mac_roman")
    cfg = synop_cfg(path, station=None, features=["pmer", "rr3", "tc"], targets="all")
    data = SynopAdapter(config_from_dict(cfg).data).load(("train",))
    err = capsys.readouterr().err
    assert re.search(r"make up much of the \d+ rows kept: rr3 in \d+ \(50%\)", err), err
    assert "pmer in" not in err and data.report()["values_filled"]["rr3"] > 1000


def test_missing_value_markers_codes_and_implausible_values(cli, tmp_path, capsys):
    """An ASOS-style 'M', a logger's -9999 and the sample's 1048 mph wind: each is read as
    missing when the config says so, and is a clear error or warning when it does not."""
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    hours = pd.date_range("2023-01-01", periods=400, freq="h", tz="UTC")
    temps = np.round(10 + 5 * np.sin(np.arange(400) / 5), 2)
    wind = np.round(3 + 2 * np.cos(np.arange(400) / 7), 2)
    table = pd.DataFrame({"valid": hours.strftime("%Y-%m-%d %H:%M"), "tmpf": temps, "wv": wind})
    table = table.astype({"tmpf": object, "wv": object})
    table.loc[[5, 50], "tmpf"] = "M"  # ASOS: M for missing
    table.loc[[100, 101, 300], "wv"] = -9999.0  # a logger's missing-value code
    path = tmp_path / "station.csv"
    table.to_csv(path, index=False)
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "valid"}
    data |= {"features": ["tmpf", "wv"], "targets": "tmpf", "sequence_len": 6}
    tiny = {"name": "m", "model": TINY_MODEL, "train": TINY_TRAIN}

    def load(**options):
        raw = {**tiny, "data": data | options}
        return TimeseriesCsvAdapter(config_from_dict(raw).data).load(("train", "dev", "test"))

    with pytest.raises(UserError, match=r"'M' on line 7; if 'M' means missing, set data\.missing"):
        load()
    with pytest.raises(UserError) as e:
        load(missing_values="M")  # one marker needs no list
    assert "column 'wv' of " in e.value.message and "-9999 in 3 rows" in e.value.message
    assert "first at 2023-01-05T04:00Z" in e.value.message
    assert "set data.missing_values: [-9999]" in e.value.message
    loaded = load(missing_values=["M", "-9999"])  # a number matches -9999.0 too
    assert loaded.report()["missing_values"] == {"tmpf": 2, "wv": 3}
    values = np.concatenate([s.values for s in loaded.splits.values()])
    assert values[:, 1].min() > 0  # interpolated between real winds, no -9999 left
    # a French spreadsheet's copy: ';' fields, decimal commas, 'M' beside them
    french = tmp_path / "station-fr.csv"
    commas = table.assign(wv=table["wv"].replace(-9999.0, "M"))
    for c in ("tmpf", "wv"):
        commas[c] = commas[c].astype(str).str.replace(".", ",")
    commas.to_csv(french, sep=";", index=False)
    assert "10,99;4,98" in french.read_text()
    fr = load(path=str(french), separator=";", decimal=",", missing_values=["M"])
    assert fr.report()["missing_values"] == {"tmpf": 2, "wv": 3}
    assert np.allclose(fr.splits["train"].values[:5, :2], np.stack([temps, wind], 1)[:5])
    # ASOS writes T for a trace of rain: text that stands for a number
    table.loc[[7, 8], "wv"] = " T"
    table.to_csv(path, index=False)
    with pytest.raises(UserError, match=r"' T' on line 9; .*data\.text_values: \{'T': 0\}"):
        load(missing_values=["M", -9999])
    traced = load(missing_values=["M", -9999], text_values={"T": 0.25})
    assert traced.report()["text_values"] == {"wv": 2}
    assert traced.splits["train"].values[7, 1] == 0.25
    # the CLI: one line, exit 2
    r = cli("data", "describe", write_config(tmp_path, {**tiny, "data": data}))
    assert r.exit_code == 2 and "missing_values: ['M']" in r.stderr, r.output

    # a value far beyond all others (the sample's 1048 mph wind at EWR) is a warning naming
    # data.valid_range; with a range, it is missing and counted
    nyc = config_from_dict(nyc_cfg(features=["temp", "wind_speed"]))
    capsys.readouterr()
    TimeseriesCsvAdapter(nyc.data).load()
    err = capsys.readouterr().err
    assert "column 'wind_speed' of nyc-weather-2013 holds 1 value (e.g. 1048)" in err
    assert "first at 2013-02-12T08:00Z" in err and "data.valid_range: {wind_speed:" in err
    ranged = nyc_cfg(features=["temp", "wind_speed"], valid_range={"wind_speed": [0, 100]})
    loaded = TimeseriesCsvAdapter(config_from_dict(ranged).data).load()
    assert "wind_speed" not in capsys.readouterr().err
    assert loaded.report()["out_of_range"] == {"wind_speed": 1}
    assert np.nanmax(loaded.splits["train"].values[:, 1]) < 100
    r = cli("data", "describe", write_config(tmp_path, ranged, "ranged.yaml"))
    assert "outside data.valid_range, made missing: wind_speed 1" in r.stdout, r.output
    typo = config_from_dict(nyc_cfg(valid_range={"wind_sped": [0, 100]}))
    with pytest.raises(UserError, match="'wind_sped' is not a numeric .*mean 'wind_speed'") as e:
        TimeseriesCsvAdapter(typo.data).load()
    assert e.value.where == "data.valid_range.wind_sped"
    typo.data.missing_features = "drop"  # a station without that column: nothing to check
    assert TimeseriesCsvAdapter(typo.data).load().report().get("out_of_range") is None
    for bounds, message in (([5, 5], "low 5 is not below high 5"), ([5], "takes [low, high]")):
        r = cli("config", "validate", write_config(tmp_path, nyc_cfg(valid_range={"temp": bounds})))
        assert r.exit_code == 2 and message in r.stderr, r.output


def test_quality_checks_leave_plausible_extremes_alone():
    from seqrun.data.quality import gross_outliers, missing_code

    rng = np.random.default_rng(0)
    # visibility in metres: 9999 is the usual "10 km or more", not a missing-value code
    visibility = np.where(rng.random(2000) < 0.7, 9999.0, rng.uniform(100, 9000, 2000))
    assert missing_code(visibility) is None
    # mostly-zero rain with a few downpours; a gust of 40 m/s among 5-25 m/s
    rain = np.where(rng.random(2000) < 0.9, 0.0, rng.exponential(2.0, 2000))
    rain[7] = 60.0
    assert gross_outliers(rain) is None and missing_code(rain) is None
    gusts = np.append(rng.uniform(5, 25, 2000), 40.0)
    assert gross_outliers(gusts) is None
    # a -999 temperature is a code; a pressure in hPa among pascals is an outlier
    temps = np.append(rng.normal(12, 6, 500), -999.0)
    assert missing_code(temps)[1] == -999.0
    pressure = np.append(rng.normal(101300, 900, 2000), 1013.0)
    first, what, low, high = gross_outliers(pressure)
    assert first == 2000 and "1 value (e.g. 1013)" in what and low > 90000


def test_repeated_times_with_other_values_and_empty_times_are_reported(cli, tmp_path):
    from seqrun.data.series_describe import _gap_lines

    hours = pd.date_range("2023-01-01", periods=50, freq="h", tz="UTC")
    times = pd.Series(hours.append(hours[[10, 20]]))
    temps = np.arange(52, dtype=float)
    temps[50] = 10.0  # the same value again: a plain duplicate
    c = clean(times, pd.DataFrame({"t": temps}), "1h", "linear", 2)
    assert c.report["rows_dropped"]["duplicate_time"] == 2
    assert c.report["duplicate_times_differing"] == 1  # 20:00 says 51, the first row 20
    assert c.report["first_differing_duplicate"] == "2023-01-01T20:00:00Z"
    assert c.values[20, 0] == 20.0  # the first row of a time is kept
    line = "\n".join(_gap_lines(c.report))
    assert "rows dropped: 2 repeating a time (1 with other values" in line
    path = tmp_path / "holes.csv"
    path.write_text("t,temp\n2023-01-01T00:00Z,1\n,2\n2023-01-01T02:00Z,3\n")
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "t", "targets": "temp"}
    raw = {"name": "h", "data": data, "model": TINY_MODEL}
    r = cli("data", "describe", write_config(tmp_path, raw))
    assert _one_line_error(r).endswith(
        f"{path}:3: the time on line 3 is empty: fill it in or remove the row (rows without a "
        "time: 1)"
    )


def test_repeated_synop_rows_with_other_values_are_warned(tmp_path, capsys):
    # an export that repeats 3 observations with another pressure (a corrected report sent
    # again): the first row of each time was kept and training said nothing of it
    lines = _orly_lines()
    again = _rewrite(lines[:4], 2, lambda i, v: str(int(v) + 500))[1:]
    path = tmp_path / "export.csv"
    path.write_text("\r\n".join([*lines, *again]), encoding="mac_roman")
    cfg = synop_cfg(path, station=None, features=["pmer", "tc"], targets="all")
    data = SynopAdapter(config_from_dict(cfg).data).load(("train",))
    err = capsys.readouterr().err
    assert "3 row(s) repeat the time of an earlier row with other values (first at 2023-" in err
    assert data.report()["duplicate_times_differing"] == 3
    path.write_text("\r\n".join([*lines, *lines[1:4]]), encoding="mac_roman")  # the same values
    SynopAdapter(config_from_dict(cfg).data).load(("train",))
    assert "repeat the time" not in capsys.readouterr().err


def test_missing_value_code_in_a_neighbour_or_pooled_series_names_it(tmp_path):
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    table = pd.read_csv(sample_csv())
    table.loc[table.index[(table["origin"] == "JFK").to_numpy()][100], "temp"] = -9999.0
    path = tmp_path / "nyc.csv"
    table.to_csv(path, index=False)
    base = {"sample": None, "path": str(path), "time_column": "time_hour"}
    base |= {"features": ["temp", "dewp"], "valid_range": {"wind_speed": [0, 100]}}
    for option, where in (
        ({"neighbours": {"series": ["JFK"], "features": ["temp"]}}, "data.neighbours.features"),
        ({"also_train_on": ["JFK"]}, "data.also_train_on"),
    ):
        cfg = config_from_dict(nyc_cfg(**base, **option))
        with pytest.raises(UserError, match=r"column 'temp' of .*nyc.csv \(JFK\) holds -9999") as e:
            TimeseriesCsvAdapter(cfg.data).load()
        assert e.value.where == where
    # the main series (EWR) alone has no code: it loads
    TimeseriesCsvAdapter(config_from_dict(nyc_cfg(**base)).data).load()


def test_missing_value_code_in_a_synop_export_names_valid_range(tmp_path):
    exp = make_export(tmp_path / "export.csv", labels=False, quirks=False)
    lines = exp.path.read_text(encoding="utf-8").splitlines()
    ff = lines[0].split(";").index("ff")
    changed = 0
    for i, line in enumerate(lines[1:], start=1):
        fields = line.split(";")
        if fields[0] == "07481" and changed < 3:
            fields[ff] = "-9999"
            lines[i], changed = ";".join(fields), changed + 1
    exp.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="ff.*holds -9999 in 3 rows") as e:
        SynopAdapter(config_from_dict(synop_cfg(exp.path)).data).load()
    assert "data.valid_range: {ff: [LOW, HIGH]}" in e.value.message  # the synop adapter's fix
    assert "missing_values" not in e.value.message  # a timeseries_csv key
    fixed = synop_cfg(exp.path, valid_range={"ff": [0, 100]})
    data = SynopAdapter(config_from_dict(fixed).data).load()
    assert data.report()["out_of_range"] == {"ff": 3}


def _orly_lines() -> list[str]:
    from seqrun.samples import sample_path

    text = gzip.decompress(sample_path("synop-orly-2023").read_bytes()).decode("mac_roman")
    return text.split("\r\n")


def _rewrite(lines: list[str], column: int, change) -> list[str]:
    """``lines`` with field ``column`` of every data row (index, value) -> changed value."""
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        fields = line.split(";")
        fields[column] = change(i, fields[column])
        out.append(";".join(fields))
    return out


def test_synop_outlier_warning_gives_the_units_data_valid_range_takes(tmp_path, capsys):
    # the export writes pmer in Pa, seqrun reads it in hPa and applies data.valid_range there:
    # the warning said "every other value lies in 9.719e+04 to 1.042e+05", and those bounds
    # made every pressure missing (but the outlier's 1e5 hPa)
    lines = _orly_lines()
    lines = _rewrite(lines, 2, lambda i, v: "9999999" if i == 100 else v)
    path = tmp_path / "export.csv"
    path.write_text("\r\n".join(lines), encoding="mac_roman")
    cfg = synop_cfg(path, station=None, features=["pmer", "tc"], targets="tc")
    SynopAdapter(config_from_dict(cfg).data).load()
    err = capsys.readouterr().err
    assert "column 'pmer' of" in err and "(e.g. 1e+05)" in err
    assert "every other value lies in 971.9 to 1042 hPa)" in err


def test_synop_export_after_a_spreadsheet(tmp_path, cli):
    """What a spreadsheet does to the export: dates without their offset or day first, the
    station number with and without its leading zero, empty rows, the header twice (two exports
    joined), spaces between thousands, another separator, a workbook, no data rows."""
    lines = _orly_lines()
    date, pmer = lines[0].split(";").index("Date"), 2

    def read(lines_or_path, **data):
        path = lines_or_path
        if isinstance(lines_or_path, list):
            path = tmp_path / "export.csv"
            path.write_text("\r\n".join(lines_or_path), encoding="mac_roman")
        return SynopAdapter(config_from_dict(synop_cfg(path, station=None, **data)).data).read()

    plain = read(lines)
    utc = set(plain.times)
    # local times without an offset: an error naming data.timezone, then read in that zone
    local = _rewrite(lines, date, lambda i, v: v[:19].replace("T", " "))
    with pytest.raises(UserError, match=r"'2023-01-06 07:00:00' on line 2 has no UTC offset") as e:
        read(local)
    assert "set data.timezone" in e.value.message and e.value.where.endswith("export.csv")
    paris = read(local, timezone="Europe/Paris")
    assert set(paris.times) <= utc and len(utc) - len(set(paris.times)) <= 1  # 29 Oct 02:00
    assert paris.times.iloc[0] == plain.times.iloc[0]  # 07:00 in Paris in January: 06:00Z
    # day first: the error names the layout and the zone, which then read it
    dmy = _rewrite(local, date, lambda i, v: f"{v[8:10]}/{v[5:7]}/{v[:4]} {v[11:16]}")
    with pytest.raises(UserError, match=r"'06/01/2023 07:00' on line 2") as e:
        read(dmy)
    assert "set data.time_format: '%d/%m/%Y %H:%M', and data.timezone" in e.value.message
    again = read(dmy, time_format="%d/%m/%Y %H:%M", timezone="Europe/Paris")
    with pytest.raises(UserError, match="set data.time_format: '%d/%m/%Y %H:%M'"):
        read(dmy, time_format="%m/%d/%Y %H:%M", timezone="Europe/Paris")  # month first: no
    with pytest.raises(UserError, match="the times are ISO 8601, which null reads: remove"):
        read(lines, time_format="%d/%m/%Y %H:%M")
    assert list(again.times) == list(paris.times)
    # 7149 and 07149 are one station; empty rows and a second header are skipped, counted
    zeros = _rewrite(lines, 0, lambda i, v: v.zfill(5) if i % 2 else v)
    junk = zeros[:100] + [";" * 20, lines[0]] + zeros[100:] + [";" * 20, ""]
    raw = read(junk)
    assert raw.report["station"] == "07149" and list(raw.times) == list(plain.times)
    assert raw.report["rows_skipped"] == {"empty": 2, "repeated_header": 1}
    # 102 220 (a no-break space between thousands): the number
    spaced = _rewrite(lines, pmer, lambda i, v: f"{v[:-3]}\u00a0{v[-3:]}" if len(v) > 3 else v)
    raw = read(spaced)
    assert raw.report["thousands_separator_columns"] == ["pmer"]
    assert np.allclose(raw.columns["pmer"], plain.columns["pmer"], equal_nan=True)
    # bad files: one line each, exit 2
    commas = tmp_path / "commas.csv"
    commas.write_text("\n".join(line.replace(";", ",") for line in lines[:50]), encoding="utf-8")
    workbook = tmp_path / "export.xlsx"
    workbook.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    header = tmp_path / "header.csv"
    header.write_text(lines[0] + "\n", encoding="utf-8")
    for path, says in (
        (commas, "the header is separated by commas, not ';'"),
        (workbook, "export.xlsx is a .xlsx workbook (a zip archive), not a text file: save"),
        (header, "the export has no data rows, only its header"),
    ):
        cfg = write_config(tmp_path, synop_cfg(path, station=None), "bad.yaml")
        assert says in _one_line_error(cli("data", "describe", cfg))
    cfg = write_config(tmp_path, synop_cfg(commas, station=True), "bad.yaml")
    assert "give a WMO number such as '07149'" in _one_line_error(cli("config", "validate", cfg))


def test_monthly_archives_cut_short_or_with_an_export(tmp_path):
    from tests.synop_export import make_monthly

    m = make_monthly(tmp_path, gz=(False, False))
    text = m.paths[1].read_text()
    last = len(text.splitlines()) + 1
    # only the named stations' rows are parsed (dozens in a real archive): lines still count
    cfg = synop_cfg(str(tmp_path / "synop.*"), station="07149", neighbours={"series": [7481]})
    # a download cut short: '20150228' alone would read as an ISO date
    for cut in ("2015022", "20150228", "201502281", "", ";"):
        m.paths[1].write_text(text + f"07149;{cut}")
        with pytest.raises(UserError, match=rf"on line {last}.*is the line cut short") as e:
            SynopAdapter(config_from_dict(cfg).data).read()
        assert e.value.where == "synop.201502.csv"  # the file with the bad line
    with pytest.raises(UserError, match=r"station '07999' is not in .*07149 .*07481 .*07005"):
        SynopAdapter(config_from_dict(synop_cfg(str(m.paths[0]), station="07999")).data).read()
    with pytest.raises(UserError, match=r"station 3687 .*\(or 07147, if that is what was wr"):
        SynopAdapter(config_from_dict(synop_cfg(str(m.paths[0]), station=0o7147)).data).read()
    m.paths[1].write_text(text)
    exp = make_export(tmp_path / "export.csv", days=3, quirks=False)
    whole = exp.path.read_text()
    for cut in ("2015-03-11T", "2015-03-11T11:00:00+0"):  # an export's ISO date cut short
        exp.path.write_text(whole + f"07149;{cut}")
        with pytest.raises(UserError, match=rf"'{re.escape(cut)}' on line \d+, which has no field"):
            SynopAdapter(config_from_dict(synop_cfg(str(exp.path), station="07149")).data).read()
    # neighbours: [07005] unquoted is the octal 3589 for YAML: the station, named 07005
    octal = synop_cfg(str(tmp_path / "synop.*"), station="07149", neighbours={"series": [0o7005]})
    near = SynopAdapter(config_from_dict(octal).data).load().report()["neighbours"]
    assert near["07005"]["series"] == "07005" and "tc@07005" in near["07005"]["columns"]
    # an export (ISO dates with offsets, station names) read with the archives
    lines = _orly_lines()
    (tmp_path / "orly.csv").write_text("\r\n".join(lines), encoding="mac_roman")
    both = [str(m.paths[0]), str(tmp_path / "orly.csv")]
    raw = SynopAdapter(config_from_dict(synop_cfg(both, station="07149")).data).read()
    assert raw.times.min().year == 2015 and raw.times.max().year == 2023
    # a station name where the files have none: say to give its number
    with pytest.raises(UserError, match="the files name no station.*give its WMO number"):
        SynopAdapter(config_from_dict(synop_cfg(str(m.paths[0]), station="ORLY")).data).read()


def test_a_nonnegative_target_holding_negative_values(tmp_path):
    """data.nonnegative on a column with values below 0: the bound could never predict them."""
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    table = pd.read_csv(sample_csv()).query("origin == 'EWR'").head(300)
    table.loc[table.index[[50, 60, 70]], "dewp"] = [-1.0, -3.5, -2.0]
    path = tmp_path / "ewr.csv"
    table.to_csv(path, index=False)
    data = {"sample": None, "group": None, "path": str(path), "time_column": "time_hour"}
    data |= {"features": ["temp", "dewp"], "targets": ["temp", "dewp"]}
    cfg = config_from_dict(nyc_cfg(**data, nonnegative=["dewp"]))
    with pytest.raises(UserError) as e:
        TimeseriesCsvAdapter(cfg.data).load()
    assert e.value.where == "data.nonnegative"
    assert "'dewp' holds 3 negative value(s) (min -3.5" in e.value.message
    assert "drop 'dewp' from data.nonnegative" in e.value.message
    table.loc[table.index[[50, 60, 70]], "dewp"] = 1.0
    table.to_csv(path, index=False)
    data = TimeseriesCsvAdapter(config_from_dict(nyc_cfg(**data, nonnegative=["dewp"])).data)
    assert data.load(("train",)).report()["nonnegative_targets"] == ["dewp"]


def test_series_errors_name_the_cause(tmp_path):
    """An infinite value, a year-1 placeholder, a window longer than its split, a header-only
    file and a valid_range that excludes every value: each names its key and its fix."""
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    table = pd.read_csv(sample_csv()).query("origin == 'EWR'").head(300)
    base = {"sample": None, "group": None, "time_column": "time_hour", "features": ["temp"]}

    def error(frame: pd.DataFrame, **data) -> UserError:
        path = tmp_path / "ewr.csv"
        frame.to_csv(path, index=False)
        cfg = config_from_dict(nyc_cfg(**{**base, "path": str(path), **data}))
        with pytest.raises(UserError) as e:
            TimeseriesCsvAdapter(cfg.data).load()
        return e.value

    inf = table.copy()
    inf.loc[inf.index[100], "temp"] = float("inf")
    e = error(inf)
    assert "holds inf in 1 row(s)" in e.message and "data.missing_values: [inf]" in e.message
    huge = table.copy()  # finite as float64, infinite as the model's float32
    huge.loc[huge.index[[100, 200]], "temp"] = -1e39
    e = error(huge)
    assert "holds -1e+39 in 2 row(s)" in e.message and "32-bit floats" in e.message
    year1 = table.assign(time_hour=table["time_hour"].str.replace("2013-", "0001-"))
    e = error(year1)
    assert "0001-01-01T06:00 (data row 1, 300 such rows) is outside the years" in e.message
    e = error(table, horizon=1000)
    assert (
        e.where == "data.horizon"
        and "a window needs 1012 steps (12 past + 1000 ahead)" in e.message
    )
    e = error(table.head(40))  # 12 + 1 steps fit the series but not its 15 % dev split
    assert e.where == "data.split" and "the dev split has 6 rows" in e.message
    e = error(table.head(0))
    assert e.message.endswith("has no data rows, only its header")
    e = error(table[["time_hour", "temp", "dewp", "temp"]])  # pandas would read temp.1
    assert "column 'temp' appears twice in the header (columns 2 and 4)" in e.message
    e = error(table, valid_range={"temp": [100, 200]})
    assert e.where == "data.valid_range.temp" and "every value of 'temp'" in e.message


def test_evaluate_from_another_directory_and_on_changed_data(cli, tmp_path, monkeypatch):
    """A relative data.path is read from the directory the run was trained in; a file that
    changed since is scored with a warning."""
    work = tmp_path / "work"
    work.mkdir()
    table = pd.read_csv(sample_csv()).query("origin == 'EWR'").head(400)
    table.to_csv(work / "ewr.csv", index=False)
    raw = nyc_cfg(sample=None, group=None, path="ewr.csv", time_column="time_hour")
    monkeypatch.chdir(work)
    r = cli("train", write_config(work, raw), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    run = last_json(r.stdout)["run_dir"]
    monkeypatch.chdir(tmp_path)  # ewr.csv is not here
    r = cli("evaluate", run, "--split", "dev", "--json")
    assert r.exit_code == 0, r.output
    assert "differ from those the run was trained on" not in r.stderr
    table.assign(temp=table["temp"] + 10).to_csv(work / "ewr.csv", index=False)
    r = cli("evaluate", run, "--split", "dev", "--json")
    assert r.exit_code == 0 and "the data differ from those the run was trained on" in r.stderr
