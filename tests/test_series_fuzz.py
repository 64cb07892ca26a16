"""Series files damaged or re-written the ways a mutation pass over real exports found: each is
read right, or stopped with one line naming the file, the line and the fix (never a traceback,
never values under another column, a code read as a temperature or rows lost unsaid)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqrun.core.config import config_from_dict
from seqrun.core.errors import UserError
from seqrun.data.synop import SynopAdapter
from seqrun.data.timeseries_csv import TimeseriesCsvAdapter
from seqrun.samples import sample_path
from tests.synop_export import make_export, make_monthly

TINY = {"model": {"arch": "gru", "units": 4}, "train": {"epochs": 1}}


def synop(path: Path | str | list[str], **data) -> SynopAdapter:
    path = path if isinstance(path, list) else str(path)
    data = {"adapter": "synop", "path": path, "station": "07481", "sequence_len": 4, **data}
    return SynopAdapter(config_from_dict({"name": "fuzz", "data": data, **TINY}).data)


def csv(path: Path, **data) -> TimeseriesCsvAdapter:
    data = {
        "adapter": "timeseries_csv",
        "path": str(path),
        "time_column": "time_hour",
        "group": {"origin": "EWR"},
        "features": ["temp", "pressure"],
        "targets": "temp",
        "sequence_len": 6,
        **data,
    }
    return TimeseriesCsvAdapter(config_from_dict({"name": "fuzz", "data": data, **TINY}).data)


def error(adapter, load: bool = False) -> UserError:
    with pytest.raises(UserError) as e:
        adapter.load() if load else adapter.read()
    return e.value


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def nyc(tmp_path) -> tuple[pd.DataFrame, Path]:
    """Two weeks of the three airports' hours, as a CSV."""
    frame = pd.read_csv(sample_path("nyc-weather-2013"))
    frame = frame[frame["time_hour"] < "2013-01-15"].reset_index(drop=True)
    path = tmp_path / "nyc.csv"
    frame.to_csv(path, index=False)
    return frame, path


# ----------------------------------------------------------------------------- row lengths


def test_synop_rows_with_a_field_too_few_or_too_many_name_their_line(tmp_path):
    """Pandas pads a short row and takes a long first row's extra field for an index: every
    value after it lands under another column. A download cut mid-line ends in a short row."""
    exp = make_export(tmp_path / "export.csv", quirks=False, days=6)
    lines = lines_of(exp.path)
    assert len(synop(exp.path).read().columns) > 0
    cut = write(tmp_path / "cut.csv", [*lines[:-1], lines[-1][: len(lines[-1]) // 2]])
    e = error(synop(cut))
    assert e.where == str(cut) and re.search(
        rf"line {len(lines)} has \d+ of the header's", e.message
    )
    assert "is the line cut short? Remove it or download the file again" in e.message
    middle = lines[:]
    fields = middle[10].split(";")
    middle[10] = ";".join(fields[:5] + fields[6:])  # a field left out
    width = len(fields)
    e = error(synop(write(tmp_path / "middle.csv", middle)))
    assert f"line 11 has {width - 1} fields, the header {width}: with a field left out" in (
        e.message
    )
    longer = lines[:]
    longer[1] += ";x"  # the first row: pandas made the station column an index
    e = error(synop(write(tmp_path / "long.csv", longer)))
    assert f"line 2 has {width + 1} fields, the header {width}: a ';' inside a value" in e.message
    header = [lines[0].rsplit(";", 1)[0], *lines[1:]]  # a header without its last name
    e = error(synop(write(tmp_path / "header.csv", header)))
    assert "(every row: does the header lack a name?)" in e.message
    trailing = [line + ";" for line in lines[1:]]  # rows ending in ';', the header not
    raw = synop(write(tmp_path / "trailing.csv", [lines[0], *trailing])).read()
    assert np.allclose(raw.columns["pmer"], synop(exp.path).read().columns["pmer"], equal_nan=True)


def test_synop_archive_cut_mid_line_names_the_month(tmp_path):
    m = make_monthly(tmp_path, gz=(False, False))
    text = m.paths[1].read_bytes()
    m.paths[1].write_bytes(text[: len(text) // 2])  # a line of another station, cut
    e = error(synop(str(tmp_path / "synop.*"), station="07149"))
    assert e.where == "synop.201502.csv" and "is the line cut short" in e.message


def test_csv_rows_with_a_field_too_many_name_their_line(nyc, tmp_path):
    frame, path = nyc
    lines = lines_of(path)
    longer = [lines[0], lines[1] + ",5", *lines[2:]]  # pandas: 'origin' became an index
    e = error(csv(write(tmp_path / "long.csv", longer)))
    assert e.where.endswith("long.csv:2") and "12 fields, the header has 11" in e.message
    cut = write(tmp_path / "cut.csv", [*lines[:-1], lines[-1][:12]])
    e = error(csv(cut, group={"origin": "LGA"}))
    assert e.where.endswith(f"cut.csv:{len(lines)}") and "is the file cut short?" in e.message
    trailing = [lines[0], *(line + "," for line in lines[1:])]  # every row ends in ','
    raw = csv(write(tmp_path / "trailing.csv", trailing)).read()
    ewr = frame[frame["origin"] == "EWR"]
    assert np.allclose(raw.columns["temp"], ewr["temp"]) and "origin" not in raw.columns
    # R's write.table(sep = ","): row names first in every row, with no name in the header
    named = [lines[0], *(f'"{k}",{line}' for k, line in enumerate(lines[1:], start=1))]
    e = error(csv(write(tmp_path / "table.csv", named)))
    assert e.where.endswith("table.csv:2") and "every row has 12 fields, the header 11" in e.message
    assert 'add an empty name ("") in front of the header line' in e.message


# ----------------------------------------------------------------------------- values


def test_a_file_of_a_few_rows_says_it_is_too_short_not_constant(nyc, tmp_path):
    frame, _ = nyc
    for rows in (1, 2):
        path = tmp_path / f"rows{rows}.csv"
        frame[frame["origin"] == "EWR"].head(rows).to_csv(path, index=False)
        e = error(csv(path, freq="1h"), load=True)
        assert e.where == "data.sequence_len" and "constant" not in e.message
        assert f"holds {rows} usable row(s) on the 1h grid" in e.message
        assert e.message.startswith("a window needs 7 steps (6 past + 1 ahead) and ")
    e = error(csv(tmp_path / "rows1.csv"), load=True)  # no freq to infer from one time
    assert "1 distinct time(s): too few to infer the time step" in e.message


def test_synop_text_in_tc_or_t_is_an_error_not_a_silent_copy_of_t(tmp_path):
    """A text in tc made the whole column unreadable, and tc was then silently derived from
    t; in the monthly archives (no tc), text in t named only a missing tc."""
    exp = make_export(tmp_path / "export.csv", quirks=False, days=6)
    lines = lines_of(exp.path)
    tc = lines[0].split(";").index("Température (°C)")
    rows = [line.split(";") for line in lines]
    lyon = [k for k, r in enumerate(rows) if r[0] == "07481"]
    rows[lyon[3]][tc] = "abc"
    path = write(tmp_path / "text.csv", [";".join(r) for r in rows])
    e = error(synop(path, features=["tc"]), load=True)
    assert "'tc' is not numeric (e.g. 'abc' on line" in e.message
    m = make_monthly(tmp_path, gz=(False, False))
    archive = [line.split(";") for line in lines_of(m.paths[0])]
    t = archive[0].index("t")
    archive[1][t] = "-"
    write(m.paths[0], [";".join(r) for r in archive])
    e = error(synop([str(p) for p in m.paths], station="07149", features=["tc"]), load=True)
    assert "(e.g. in t, from which tc is derived: '-' on line 2 of synop.201501.csv" in e.message


def test_synop_codes_and_units_as_written(tmp_path):
    """9999 in t (kelvin) became 9725.85 °C, past the missing-code check; pmer in hPa beside
    pres in Pa left pres in Pa; tc in kelvin stayed 286 °C; '102.220' (a thousands dot) read
    as 102.22 hPa; year 9999 crashed (exit 1)."""
    m = make_monthly(tmp_path, gz=(False, False))
    archive = [line.split(";") for line in lines_of(m.paths[0])]
    t = archive[0].index("t")
    for row in archive[1:40:3]:
        row[t] = "9999"
    write(m.paths[0], [";".join(r) for r in archive])
    e = error(synop([str(p) for p in m.paths], station="07149", features=["tc"]), load=True)
    assert "column 'tc' of 2 files (as the file writes it: t, in K) holds 9999 in" in e.message
    assert "data.valid_range: {tc: [LOW, HIGH]} with the quantity's plausible limits in °C" in (
        e.message
    )
    exp = make_export(tmp_path / "export.csv", quirks=False, days=6, labels=False)
    plain = synop(exp.path).read()
    lines = lines_of(exp.path)
    head = lines[0].split(";")
    rows = [line.split(";") for line in lines[1:]]

    def rewritten(name: str, column: str, change) -> Path:
        k = head.index(column)
        out = [r[:k] + [change(r[k])] + r[k + 1 :] for r in rows]
        return write(tmp_path / name, [lines[0], *(";".join(r) for r in out)])

    raw = synop(rewritten("hpa.csv", "pmer", lambda v: f"{float(v) / 100:g}")).read()
    for code in ("pmer", "pres", "tend"):  # each in its own unit
        assert np.allclose(raw.columns[code], plain.columns[code]), code
    raw = synop(rewritten("kelvin.csv", "tc", lambda v: f"{float(v) + 273.15:.2f}")).read()
    assert np.allclose(raw.columns["tc"], plain.columns["tc"], atol=0.01)
    assert raw.report["converted_units"]["tc"] == {"from": "K", "to": "°C"}
    dot = rewritten("dot.csv", "pmer", lambda v: f"{v[:-3]}.{v[-3:]}")  # 101.300
    e = error(synop(dot, features=["pmer", "tc"]))
    assert "column 'pmer' (a pressure) has a median of 101" in e.message
    assert "thousands separators read as decimal marks" in e.message
    assert "pmer" not in synop(dot, features=["tc"]).read().columns  # unused: left out
    year = rewritten("year.csv", "date", lambda v: v.replace("2015", "9999"))
    e = error(synop(year))
    assert "outside the years seqrun reads, 1678 to 2261" in e.message and "line 2" in e.message


def test_csv_thousands_separators_blank_fields_and_group_ids(nyc, tmp_path):
    frame, _ = nyc
    changed = frame.copy()
    ewr = changed.index[changed["origin"] == "EWR"]
    pressure = changed["pressure"].astype(object)
    pressure[ewr[:5]] = [f"{v:,.1f}" for v in changed.loc[ewr[:5], "pressure"]]  # 1,012.0
    pressure[ewr[5]] = " "  # a blank field
    changed["pressure"] = pressure
    changed["origin"] = changed["origin"].replace("EWR", "07149")  # a WMO number as a group
    path = tmp_path / "thousands.csv"
    changed.to_csv(path, index=False)
    for group in ("07149", 7149, "7149"):
        raw = csv(path, group={"origin": group}).read()
        want = frame.loc[ewr, "pressure"].to_numpy().copy()
        want[5] = np.nan
        assert np.allclose(raw.columns["pressure"], want, equal_nan=True)
        assert raw.report["thousands_separator_columns"] == ["pressure"]
    pressure[ewr[:5]] = "1,013"  # a decimal comma or a thousands separator: not told
    changed["pressure"] = pressure
    changed.to_csv(path, index=False)
    e = error(csv(path, group={"origin": "07149"}), load=True)
    assert "if ',' separates thousands instead, save the numbers without it" in e.message
    e = error(csv(path, group={"origin": "07149"}, valid_range={"pressure": [900, 1100]}), True)
    # a feature's range check leaves it to the feature check, which names the fix
    assert e.where == "data.features" and "is not numeric (e.g. '1,013'" in e.message


def test_csv_french_thousands_dots_beside_plain_decimal_commas(tmp_path):
    """1.013,5 (a dot between thousands, a decimal comma) beside 3,5 in one column."""
    times = pd.date_range("2023-01-01", periods=60, freq="h", tz="UTC")
    values = [f"{1000 + k + 0.5:,.1f}".replace(",", " ").replace(".", ",") for k in range(60)]
    values = [v.replace(" ", ".") if k % 2 else v.replace(" ", "") for k, v in enumerate(values)]
    lines = ["time_hour;pressure;temp"]
    pairs = enumerate(zip(times, values, strict=True))
    lines += [f"{t:%Y-%m-%dT%H:%MZ};{v};{k % 7},5" for k, (t, v) in pairs]
    path = write(tmp_path / "fr.csv", lines)
    raw = csv(path, group=None, separator=";", decimal=",").read()
    assert values[1] == "1.001,5" and values[2] == "1002,5"
    assert np.allclose(raw.columns["pressure"], np.arange(60) + 1000.5)
    assert np.allclose(raw.columns["temp"], np.arange(60) % 7 + 0.5)
    assert raw.report["thousands_separator_columns"] == ["pressure"]


def test_an_input_or_a_target_constant_over_the_train_split_is_warned(nyc, tmp_path, capsys):
    """Zero standard deviation: the encoder divides by 1 and the model learns nothing."""
    frame, _ = nyc
    path = tmp_path / "flat.csv"
    frame.assign(pressure=1013.0).to_csv(path, index=False)
    csv(path).load(("train", "dev"))
    said = capsys.readouterr().err
    assert "input column 'pressure' of" in said and "holds 1013 in all" in said
    assert "rows of the train split: the model learns nothing from it" in said
    # a target flat over the train split (not the whole series: that is an error) is warned too
    early = frame["time_hour"] < "2013-01-12"  # the train split and more
    frame.assign(temp=frame["temp"].where(~early, 40.0)).to_csv(path, index=False)
    csv(path).load(("train", "dev"))
    said = capsys.readouterr().err
    assert "target column 'temp' of" in said and "holds 40 in all" in said
    assert "the model learns that one value" in said and "input column" not in said


def test_csv_file_given_twice_reads_as_once(nyc, tmp_path):
    """A file joined to itself repeats every time: not "several series" when the rows are
    the same (the cleaning drops the copies)."""
    frame, _ = nyc
    path = tmp_path / "twice.csv"
    pd.concat([frame, frame]).to_csv(path, index=False)
    data = csv(path).load(("train",))
    assert data.report()["rows_dropped"]["duplicate_time"] == int((frame["origin"] == "EWR").sum())


# ----------------------------------------------------------------------------- stations


def test_station_missing_from_some_monthly_archives_is_named(tmp_path, capsys):
    m = make_monthly(tmp_path, months=((2015, 1), (2015, 2), (2015, 3)), gz=(False,) * 3)
    lines = lines_of(m.paths[1])
    write(m.paths[1], [lines[0], *(x for x in lines[1:] if not x.startswith("07149;"))])
    write(m.paths[2], lines_of(m.paths[2])[:1])  # a month with its header only
    adapter = synop(str(tmp_path / "synop.*"), station="07149")
    adapter.load(("train",))
    said = capsys.readouterr().err
    assert (
        "station 07149 has no row in 2 of the 3 files (synop.201502.csv, synop.201503.csv); "
        "synop.201503.csv: no data rows at all" in said
    )
    raw = adapter.read()
    assert raw.report["station_absent_from"] == ["synop.201502.csv", "synop.201503.csv"]


def test_station_numbers_as_spreadsheets_and_pandas_write_them(tmp_path, capsys):
    exp = make_export(tmp_path / "export.csv", quirks=False, days=6, labels=False)
    lines = lines_of(exp.path)
    plain = synop(exp.path).read()
    rows = [line.split(";") for line in lines[1:]]
    floats = [[f"{int(r[0])}.0", *r[1:]] for r in rows]  # 7481.0: pandas, after a gap
    raw = synop(write(tmp_path / "float.csv", [lines[0], *map(";".join, floats)])).read()
    assert raw.report["station"] == "07481" and len(raw.times) == len(plain.times)
    lyon = [k for k, r in enumerate(rows) if r[0] == "07481"][:4]
    blank = [["" if k in lyon else r[0], *r[1:]] for k, r in enumerate(rows)]
    adapter = synop(write(tmp_path / "blank.csv", [lines[0], *map(";".join, blank)]))
    raw = adapter.read()
    lost = sum(1 for r in blank if not r[0])
    assert raw.report["rows_without_station"] == lost and len(raw.times) == len(plain.times) - lost
    adapter.load(("train",))
    assert f"{lost} row(s) without a station number (numer_sta)" in capsys.readouterr().err


# ----------------------------------------------------------------------------- whole files


@pytest.mark.parametrize(
    "content, says",
    [
        (b"", "the file is empty (not even a header)"),
        (b"ID OMM station;Date\n7149;2023\x00\x00\n", "line 2 holds NUL bytes: binary data"),
        (
            "ID OMM station\tDate\tNom\tHauteur totale de la couche de neige, glace, autre au "
            "sol\tAltitude\n7149\t2023\tORLY\t1\t89\n",  # (a label holding commas)
            "the header is separated by tabs, not ';'",
        ),
    ],
)
def test_files_that_are_no_export_say_what_they_are(tmp_path, content, says):
    path = tmp_path / "export.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert says in error(synop(path, station=None)).message


@pytest.mark.parametrize("adapter", [synop, csv])
def test_a_data_path_that_is_a_symlink_loop_says_so(tmp_path, adapter):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.symlink_to(b)
    b.symlink_to(a)
    e = error(adapter(a))
    assert e.where == "data.path" and f"symbolic link loop ({a} -> {b} -> {a})" in e.message


def test_a_folder_as_synop_path_names_a_glob(tmp_path):
    e = error(synop([str(tmp_path)]))
    assert e.where == "data.path" and f"{tmp_path} is a folder: give the export file" in e.message
    assert f"'{tmp_path}/synop.*.csv.gz'" in e.message


@pytest.mark.parametrize(
    "override",
    [
        "data.neighbours.series=[JFK, LGA, JFK]",  # was: ValueError from numpy at describe
        "data.neighbours.features=[temp, temp]",  # was: TypeError from float()
        f"data.timezone={'x' * 300}",  # was: the zoneinfo file path 'File name too long'
    ],
)
def test_a_neighbour_listed_twice_or_a_long_zone_name_is_one_config_line(cli, override):
    r = cli("config", "validate", "configs/weather-nyc-3h.yaml", "--set", override)
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert ("listed twice" in line) or ("unknown time zone" in line), line


def test_a_split_of_a_few_windows_is_warned(cli):
    # was: data.stride=100000 trained and scored on one window per split, silently
    r = cli("data", "describe", "configs/weather-nyc-3h.yaml", "--set", "data.stride=100000")
    assert r.exit_code == 0, r.output
    for split in ("train", "dev", "test"):
        assert f"the {split} split holds only 1 window(s)" in r.stderr, r.stderr
    assert "data.stride is 100000" in r.stderr
    r = cli("data", "describe", "configs/weather-nyc-3h.yaml")
    assert r.exit_code == 0 and "holds only" not in r.stderr, r.stderr
