"""Weather files as users bring them: exports re-arranged or re-saved by a spreadsheet, local
times across a daylight-saving change, and columns declared circular that hold no degrees."""

from __future__ import annotations

import csv
import gzip
import io
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqrun.core.config import config_from_dict
from seqrun.data.synop import SynopAdapter
from seqrun.data.timeseries_csv import TimeseriesCsvAdapter
from seqrun.samples import sample_path
from tests.conftest import write_config
from tests.synop_export import make_export


def synop(path: Path, **data) -> dict:
    return {
        "name": "formats",
        "seed": 0,
        "data": {"adapter": "synop", "path": str(path), "station": "07481", **data},
        "model": {"arch": "gru", "units": 4},
        "train": {"epochs": 1, "batch_size": 64},
    }


def read(path: Path, **data):
    return SynopAdapter(config_from_dict(synop(path, **data)).data).read()


def table(path: Path) -> list[list[str]]:
    return [line.split(";") for line in path.read_text(encoding="utf-8").splitlines()]


def test_repeated_labels_are_told_apart_by_their_values(tmp_path):
    """The label "Temps présent" heads both the ww codes and their text copy; the export
    writes the codes first, an export with its columns in another order does not: numbers
    are the codes."""
    export = make_export(tmp_path / "export.csv", quirks=False, days=10)
    rows = table(export.path)
    reversed_ = tmp_path / "reversed.csv"
    reversed_.write_text("\n".join(";".join(r[::-1]) for r in rows) + "\n", encoding="utf-8")
    a, b = read(export.path), read(reversed_)
    for code in ("cod_tend", "ww", "w1"):
        assert code in b.columns and code not in b.non_numeric, code
        np.testing.assert_array_equal(
            a.columns[code].sort_index().to_numpy(), b.columns[code].sort_index().to_numpy()
        )
    # an export of a few columns that holds the text copy only: no ww column, not a text one
    keep = [i for i, name in enumerate(rows[0]) if name in ("ID OMM station", "Date", "Nom")]
    keep.append(len(rows[0]) - 1 - rows[0][::-1].index("Temps présent"))  # the text copy
    keep.append(rows[0].index("Température"))
    subset = tmp_path / "subset.csv"
    subset.write_text("\n".join(";".join(r[i] for i in keep) for r in rows) + "\n")
    raw = read(subset)
    assert "ww" not in raw.columns and "ww" not in raw.non_numeric and "t" in raw.columns


def test_predict_from_an_export_with_its_columns_in_another_order(cli, tmp_path):
    export = make_export(tmp_path / "export.csv", quirks=False, days=12)
    cfg = synop(export.path, features=["cod_tend", "ww", "t"], targets="t", sequence_len=4)
    r = cli("train", write_config(tmp_path, cfg), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    run = Path(r.stdout.strip().splitlines()[-1].split('"run_dir": "')[1].split('"')[0])
    rows = table(export.path)
    reversed_ = tmp_path / "reversed.csv"
    reversed_.write_text("\n".join(";".join(r[::-1]) for r in rows) + "\n", encoding="utf-8")
    a = cli("predict", run, "--input", export.path)
    b = cli("predict", run, "--input", reversed_)
    assert a.exit_code == 0 and b.exit_code == 0, b.output
    assert a.stdout == b.stdout
    # the dates as a spreadsheet writes them: the fix is --set options, quoted for a shell
    dates = rows[0].index("Date")
    for r in rows[1:]:
        r[dates] = datetime.fromisoformat(r[dates]).strftime("%d/%m/%Y %H:%M")
    day_first = tmp_path / "day_first.csv"
    day_first.write_text("\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")
    r = cli("predict", run, "--input", day_first)
    said = " ".join(r.stderr.split())
    assert r.exit_code == 2 and '--set "data.time_format=%d/%m/%Y %H:%M"' in said, said
    assert "--set data.timezone=ZONE" in said and "set data.time_format:" not in said
    fixes = shlex.split('--set "data.time_format=%d/%m/%Y %H:%M" --set data.timezone=Europe/Paris')
    c = cli("predict", run, "--input", day_first, *fixes)
    assert c.exit_code == 0, c.output
    assert c.stdout == a.stdout


def test_a_quoted_header_decides_the_spreadsheet_encoding(tmp_path):
    """A spreadsheet that quotes every field: the labels still tell Mac Roman from cp1252."""
    export = make_export(tmp_path / "export.csv", quirks=False, days=10)
    frame = pd.read_csv(export.path, sep=";", dtype=str, keep_default_na=False)
    labels = ["ID OMM station", "Date", "Température", "Point de rosée", "Température (°C)"]
    path = tmp_path / "quoted.csv"
    frame[labels].to_csv(path, sep=";", index=False, quoting=csv.QUOTE_ALL, encoding="mac_roman")
    raw = read(path)
    assert raw.report["encoding"] == "mac_roman"
    assert {"t", "td", "tc"} <= set(raw.columns)
    truth = read(export.path)
    np.testing.assert_allclose(raw.columns["tc"].to_numpy(), truth.columns["tc"].to_numpy())


def test_excel_na_is_a_missing_value_and_counted(cli, tmp_path):
    export = make_export(tmp_path / "export.csv", quirks=False, days=10)
    rows = table(export.path)
    pmer = rows[0].index("Pression au niveau mer")
    lyon = [k for k, r in enumerate(rows) if r[0] == "07481"]
    for k, text in zip(lyon[5:10], ["#N/A", "#N/A", " #N/A", "NA", "NaN"], strict=True):
        rows[k][pmer] = text  # (NA, NaN: what R and pandas write)
    rows[lyon[12]][pmer] = "MQ"  # the archives' mq, in capitals: missing, not counted
    path = tmp_path / "na.csv"
    path.write_text("\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")
    raw = read(path)
    assert "pmer" in raw.columns and raw.report["spreadsheet_na"] == {"pmer": 5}
    assert int(raw.columns["pmer"].isna().sum()) == 6
    cfg = synop(path, features=["pmer", "t"], targets="t", sequence_len=4)
    r = cli("data", "describe", write_config(tmp_path, cfg))
    assert r.exit_code == 0, r.output
    assert "#N/A, NA, NaN, null, ... (texts for no value) read as missing: pmer 5" in r.stdout


def test_csv_na_texts_are_counted_like_the_synop_ones(cli, tmp_path):
    """pandas reads NA, N/A, null, -nan, ... as missing: the CSV reader counts them
    (spreadsheet_na) as the SYNOP reader counts #N/A, and a group named NA stays a name."""
    frame = pd.read_csv(sample_path("nyc-weather-2013")).groupby("origin").head(400)
    frame["origin"] = frame["origin"].replace("EWR", "NA")  # a group called NA
    texts = ["NA", "N/A", "null", "-nan", "#N/A", "None", " ", ""]  # (the last two: blank)
    temp = frame["temp"].astype(object)
    rows = frame.index[frame["origin"] == "NA"][40:48]
    temp[rows] = texts
    frame["temp"] = temp
    path = tmp_path / "na.csv"
    frame.to_csv(path, index=False)
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "time_hour"}
    data |= {"group": {"origin": "NA"}, "features": ["temp", "dewp"], "targets": "temp"}
    cfg = {"name": "na", "data": data, "model": {"arch": "gru", "units": 4}}
    raw = TimeseriesCsvAdapter(config_from_dict(cfg).data).read()
    assert raw.report["spreadsheet_na"] == {"temp": 6} and raw.report["group"] == {"origin": "NA"}
    assert int(raw.columns["temp"].isna().sum()) == 8 and len(raw.columns) == 400
    r = cli("data", "describe", write_config(tmp_path, cfg | {"data": data | {"sequence_len": 4}}))
    assert r.exit_code == 0, r.output
    assert "(texts for no value) read as missing: temp 6" in r.stdout


def test_a_station_whose_every_row_is_mq_is_named_not_one_column(cli, tmp_path):
    """The monthly archives list every station of the network, some with nothing but mq:
    the error names the station to change, not one column to drop (then the next, ...)."""
    from tests.synop_export import make_monthly

    m = make_monthly(tmp_path, gz=(False, False))
    for path in m.paths:
        lines = path.read_text().splitlines()
        for k, line in enumerate(lines):
            if line.startswith("07005;"):
                fields = line.split(";")
                lines[k] = ";".join(fields[:2] + ["mq"] * (len(fields) - 3) + [""])
        path.write_text("\n".join(lines) + "\n")
    cfg = synop(tmp_path / "synop.2015*.csv", station="07005", sequence_len=4)
    r = cli("data", "describe", write_config(tmp_path, cfg))
    assert r.exit_code == 2
    line = r.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert line.startswith("error: data.station: none of the 13 listed columns")
    assert "of 07005 in 2 files" in line and "drop it" not in line
    cfg["data"]["station"] = "07149"  # the other stations of the same files read as before
    assert cli("data", "describe", write_config(tmp_path, cfg)).exit_code == 0


@pytest.mark.parametrize("adapter", ["synop", "timeseries_csv"])
def test_dates_a_spreadsheet_wrote_in_scientific_notation_are_said_lost(cli, tmp_path, adapter):
    """A spreadsheet shows the archives' 20150101000000 as 2,01501E+13 and saves it so: no
    data.time_format reads the days and hours back, so none is suggested."""
    from tests.synop_export import make_monthly

    m = make_monthly(tmp_path, gz=(False, False))
    path = m.paths[0]
    lines = path.read_text().splitlines()
    lines[1:] = [re.sub(r"^(\d+);\d+;", r"\1;2,01501E+13;", line) for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n")
    if adapter == "synop":
        cfg = synop(path, station="07149", sequence_len=4)
    else:
        data = {"adapter": "timeseries_csv", "path": str(path), "separator": ";"}
        data |= {"time_column": "date", "time_format": "%Y%m%d%H%M%S", "targets": "t"}
        cfg = synop(path) | {"data": data | {"group": {"numer_sta": "07149"}}}
        cfg["data"]["missing_values"] = ["mq"]
    r = cli("data", "describe", write_config(tmp_path, cfg))
    assert r.exit_code == 2
    line = r.output.strip()
    assert len(line.splitlines()) == 1 and "'2,01501E+13' on line 2" in line
    assert "scientific notation" in line and "are lost" in line and "set data" not in line


def test_csv_blank_lines_and_empty_rows_are_skipped_and_lines_stay_right(cli, tmp_path):
    """A spreadsheet ends a CSV with rows of empty fields (',,,'), an edit leaves a blank
    line: both are left out (as the SYNOP reader does) and counted, and an error after a
    blank line names the file's own line."""
    lines = sample_path("nyc-weather-2013").read_bytes()
    lines = gzip.decompress(lines).decode().splitlines()[:61]  # header + 60 hours of EWR
    width = lines[0].count(",")
    rows = [*lines[:11], "", *lines[11:], "," * width, "," * width]
    path = tmp_path / "blank.csv"
    path.write_text("\r\n".join(rows) + "\r\n")
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "time_hour"}
    data |= {"features": ["temp", "dewp"], "targets": "temp", "sequence_len": 4}
    cfg = {"name": "blank", "data": data, "model": {"arch": "gru", "units": 4}}
    raw = TimeseriesCsvAdapter(config_from_dict(cfg).data).read()
    assert len(raw.columns) == 60 and raw.report["rows_skipped"] == {"empty": 3}
    assert cli("data", "describe", write_config(tmp_path, cfg)).exit_code == 0
    fields = rows[20].split(",")  # line 21 of the file
    rows[20] = ",".join([fields[0], "a time?", *fields[2:]])
    path.write_text("\r\n".join(rows) + "\r\n")
    r = cli("data", "describe", write_config(tmp_path, cfg))
    assert r.exit_code == 2 and f"{path}:21: cannot read the time 'a time?' on line 21 " in r.output


def test_local_times_a_daylight_saving_change_drops_are_warned(cli, tmp_path, capsys):
    # 2015-10-25: 02:00 local is both 00:00Z (summer time) and 01:00Z; a 3-hourly series
    # holds it once, so no order tells which one it is
    export = make_export(
        tmp_path / "export.csv", quirks=False, days=12, start=datetime(2015, 10, 20, tzinfo=UTC)
    )
    rows = table(export.path)
    date = rows[0].index("Date")
    for r in rows[1:]:
        r[date] = r[date][:16].replace("T", " ")  # a re-save drops the offset
    path = tmp_path / "local.csv"
    path.write_text("\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")
    raw = read(path, timezone="Europe/Paris")
    assert raw.report["local_times_dropped"] == 1
    cfg = synop(path, timezone="Europe/Paris", features=["t"], sequence_len=4)
    r = cli("data", "describe", write_config(tmp_path, cfg))
    assert r.exit_code == 0, r.output
    assert "rows dropped: 1 whose local time (data.timezone)" in r.stdout
    assert "1 row(s) left out, whose local time Europe/Paris skips or repeats" in r.stderr
    assert "'2015-10-25 02:00' on line" in r.stderr

    # timeseries_csv: 2013-03-10 02:30 does not exist in New York
    times = pd.date_range("2013-03-09 00:30", periods=48, freq="1h")
    csv_path = tmp_path / "ny.csv"
    pd.DataFrame({"time": times.strftime("%Y-%m-%d %H:%M"), "temp": np.arange(48.0)}).to_csv(
        csv_path, index=False
    )
    d = {
        "adapter": "timeseries_csv",
        "path": str(csv_path),
        "time_column": "time",
        "timezone": "America/New_York",
        "sequence_len": 3,
    }
    capsys.readouterr()
    TimeseriesCsvAdapter(config_from_dict({**synop(path), "data": d}).data).load()
    assert "'2013-03-10 02:30' on line 28" in capsys.readouterr().err
    raw = TimeseriesCsvAdapter(config_from_dict({**synop(path), "data": d}).data).read()
    assert raw.report["local_times_dropped"] == 1 and len(raw.times) == 47


def nyc_as_r_writes_it(tmp_path: Path, start: str, end: str) -> tuple[Path, pd.Series]:
    """The sample's rows from ``start`` to ``end`` (UTC) as R's write.csv writes the
    nycflights13 table: the row names first, under an empty name, quoted strings, NA for
    missing, and time_hour as New York local time without an offset. Also the UTC times."""
    frame = pd.read_csv(sample_path("nyc-weather-2013"))
    utc = pd.to_datetime(frame.pop("time_hour"), utc=True)
    keep = ((utc >= start) & (utc < end)).to_numpy()
    frame, utc = frame[keep], utc[keep]
    frame["time_hour"] = utc.dt.tz_convert("America/New_York").dt.strftime("%Y-%m-%d %H:%M:%S")
    frame.index = range(1, len(frame) + 1)
    path = tmp_path / "weather.csv"
    frame.to_csv(path, index_label="", na_rep="NA", quoting=csv.QUOTE_NONNUMERIC)
    return path, utc


def test_local_times_without_a_zone_are_an_error_naming_data_timezone(cli, tmp_path):
    """Local times read as UTC would be 5 h off (4 h in summer) and a step would cross two
    hours at each daylight-saving change: the autumn hour written twice gives them away."""
    path, utc = nyc_as_r_writes_it(tmp_path, "2013-10-25", "2013-11-10")
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "time_hour"}
    data |= {"group": {"origin": "EWR"}, "features": ["temp"], "sequence_len": 4}
    cfg = {"name": "local", "data": data, "model": {"arch": "gru", "units": 4}}
    r = cli("data", "describe", write_config(tmp_path, cfg))
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1, r.output
    assert "2013-11-03 01:00 comes twice (lines" in r.output
    assert "set data.timezone: America/New_York" in r.output
    # with the zone, the times are the sample's UTC ones; with UTC, the file's as written
    zoned = {**cfg, "data": data | {"timezone": "America/New_York"}}
    raw = TimeseriesCsvAdapter(config_from_dict(zoned).data).read()
    ewr = utc[(pd.read_csv(path)["origin"] == "EWR").to_numpy()]
    assert list(raw.times) == list(ewr)
    as_utc = {**cfg, "data": data | {"timezone": "UTC"}}
    assert len(TimeseriesCsvAdapter(config_from_dict(as_utc).data).read().times) == len(ewr)


def test_the_row_names_r_writes_are_not_a_default_feature(tmp_path, capsys):
    path, _ = nyc_as_r_writes_it(tmp_path, "2013-01-01", "2013-01-10")
    data = {"adapter": "timeseries_csv", "path": str(path), "time_column": "time_hour"}
    data |= {"group": {"origin": "EWR"}, "targets": "temp"}
    cfg = {"name": "r", "data": data, "model": {"arch": "gru"}}
    raw = TimeseriesCsvAdapter(config_from_dict(cfg).data).read()
    assert raw.all_columns[0] == "Unnamed: 0" and "Unnamed: 0" not in raw.default_features
    assert {"temp", "dewp", "wind_gust"} <= set(raw.default_features)
    assert raw.report["spreadsheet_na"]["wind_gust"] > 0  # NA: missing, not a text column
    assert "column(s) 1 have no header name (the row names R's write.csv" in raw.warnings[0]


def nyc_with_radians(tmp_path: Path) -> Path:
    text = gzip.decompress(sample_path("nyc-weather-2013").read_bytes()).decode()
    frame = pd.read_csv(io.StringIO(text))
    frame = frame[frame.origin == "EWR"].assign(wd_rad=lambda f: np.deg2rad(f.wind_dir))
    path = tmp_path / "ewr.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("pressure", "not degrees of a direction"),
        ("wd_rad", "radians? data.circular reads degrees"),
        ("wind_dir", None),
    ],
)
def test_a_circular_column_that_holds_no_degrees_is_warned(tmp_path, capsys, column, message):
    d = {
        "adapter": "timeseries_csv",
        "path": str(nyc_with_radians(tmp_path)),
        "time_column": "time_hour",
        "features": ["temp", column],
        "targets": "temp",
        "circular": [column],
        "interpolate": {"max_gap": "12h"},
    }
    capsys.readouterr()
    TimeseriesCsvAdapter(config_from_dict({**synop(tmp_path), "data": d}).data).load()
    err = capsys.readouterr().err
    if message is None:
        assert "data.circular holds values" not in err
    else:
        assert f"column '{column}' of data.circular holds values from" in err
        assert message in err and f"remove '{column}' from data.circular" in err


def test_times_that_end_in_utc_are_read(tmp_path):
    """'2013-03-01 00:00:00 UTC' (BigQuery's CSV exports, many loggers): UTC, as written."""
    times = pd.date_range("2013-03-01", periods=30, freq="1h", tz="UTC")
    path = tmp_path / "bq.csv"
    frame = pd.DataFrame({"time": times.strftime("%Y-%m-%d %H:%M:%S UTC"), "temp": range(30)})
    frame.to_csv(path, index=False)
    d = {"adapter": "timeseries_csv", "path": str(path), "time_column": "time"}
    raw = TimeseriesCsvAdapter(config_from_dict({**synop(path), "data": d}).data).read()
    assert list(raw.times) == list(times) and raw.report["time_offsets"] is True


@pytest.mark.parametrize(("freq", "warned"), [("3h", True), ("1h", False)])
def test_rows_off_a_coarser_grid_are_warned(tmp_path, capsys, freq, warned):
    """An hourly file read with data.freq: 3h leaves two rows in three out: said on the
    console (it was only in meta.json and `data describe`)."""
    times = pd.date_range("2013-03-01", periods=300, freq="1h", tz="UTC")
    path = tmp_path / "hourly.csv"
    temp = 10 + np.sin(np.arange(300) / 4)
    frame = pd.DataFrame({"time": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "temp": temp})
    frame.to_csv(path, index=False)
    d = {
        "adapter": "timeseries_csv",
        "path": str(path),
        "time_column": "time",
        "freq": freq,
        "sequence_len": 4,
    }
    capsys.readouterr()
    TimeseriesCsvAdapter(config_from_dict({**synop(path), "data": d}).data).load()
    err = capsys.readouterr().err
    assert ("200 of the 300 rows (67%) lie off the 3h time grid" in err) is warned, err


def test_describe_shows_values_carried_to_a_split_boundary():
    """meta.json counted them; `data describe` said nothing of them."""
    from seqrun.data.series_describe import _gap_lines

    gaps = {"interpolation": {"method": "time", "max_gap_steps": 12}, "values_filled": {"t": 5}}
    assert not any("split boundary" in line for line in _gap_lines(gaps))
    gaps["values_forward_filled_at_split_boundaries"] = 3
    (line,) = [x for x in _gap_lines(gaps) if "split boundary" in x]
    assert line.endswith("(nothing from the later split is used): 3")
