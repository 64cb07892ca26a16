"""Météo-France SYNOP exports (opendatasoft "données SYNOP essentielles OMM"), as the course uses.

Reads the real export format (see ``docs/synop-format.md``): ``;`` separator, a
header of column codes or of French labels, ISO dates with a UTC offset (parsed to UTC, then
sorted: the export is not in time order, and sorting the strings misorders rows around
daylight-saving changes), duplicates, several stations (``station:``), empty fields for missing
values (``mq`` too, as in the monthly archives), ``-0.1`` for trace precipitation, pressures in
Pa and temperatures in kelvin (converted to hPa and °C; the original units are recorded).
"""

from __future__ import annotations

import codecs
import glob
import io
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from seqrun.core.errors import UserError
from seqrun.core.text import read_file_bytes
from seqrun.data.forecast import ForecastAdapter, ForecastConfig, RawSeries
from seqrun.data.times import local_times_dropped
from seqrun.samples import check_one_source, sample_path

# (code, French label) in file order, as in a real export
SYNOP_COLUMNS: list[tuple[str, str]] = [
    ("numer_sta", "ID OMM station"),
    ("date", "Date"),
    ("pmer", "Pression au niveau mer"),
    ("tend", "Variation de pression en 3 heures"),
    ("cod_tend", "Type de tendance barométrique"),
    ("dd", "Direction du vent moyen 10 mn"),
    ("ff", "Vitesse du vent moyen 10 mn"),
    ("t", "Température"),
    ("td", "Point de rosée"),
    ("u", "Humidité"),
    ("vv", "Visibilité horizontale"),
    ("ww", "Temps présent"),
    ("w1", "Temps passé 1"),
    ("w2", "Temps passé 2"),
    ("n", "Nebulosité totale"),
    ("nbas", "Nébulosité  des nuages de l' étage inférieur"),
    ("hbas", "Hauteur de la base des nuages de l'étage inférieur"),
    ("cl", "Type des nuages de l'étage inférieur"),
    ("cm", "Type des nuages de l'étage moyen"),
    ("ch", "Type des nuages de l'étage supérieur"),
    ("pres", "Pression station"),
    ("niv_bar", "Niveau barométrique"),
    ("geop", "Géopotentiel"),
    ("tend24", "Variation de pression en 24 heures"),
    ("tn12", "Température minimale sur 12 heures"),
    ("tn24", "Température minimale sur 24 heures"),
    ("tx12", "Température maximale sur 12 heures"),
    ("tx24", "Température maximale sur 24 heures"),
    ("tminsol", "Température minimale du sol sur 12 heures"),
    ("sw", "Méthode de mesure Température du thermomètre mouillé"),
    ("tw", "Température du thermomètre mouillé"),
    ("raf10", "Rafale sur les 10 dernières minutes"),
    ("rafper", "Rafales sur une période"),
    ("per", "Periode de mesure de la rafale"),
    ("etat_sol", "Etat du sol"),
    ("ht_neige", "Hauteur totale de la couche de neige, glace, autre au sol"),
    ("ssfrai", "Hauteur de la neige fraîche"),
    ("perssfrai", "Periode de mesure de la neige fraiche"),
    ("rr1", "Précipitations dans la dernière heure"),
    ("rr3", "Précipitations dans les 3 dernières heures"),
    ("rr6", "Précipitations dans les 6 dernières heures"),
    ("rr12", "Précipitations dans les 12 dernières heures"),
    ("rr24", "Précipitations dans les 24 dernières heures"),
    ("phenspe1", "Phénomène spécial 1"),
    ("phenspe2", "Phénomène spécial 2"),
    ("phenspe3", "Phénomène spécial 3"),
    ("phenspe4", "Phénomène spécial 4"),
    ("nnuage1", "Nébulosité couche nuageuse 1"),
    ("ctype1", "Type nuage 1"),
    ("hnuage1", "Hauteur de base 1"),
    ("nnuage2", "Nébulosité couche nuageuse 2"),
    ("ctype2", "Type nuage 2"),
    ("hnuage2", "Hauteur de base 2"),
    ("nnuage3", "Nébulosité couche nuageuse 3"),
    ("ctype3", "Type nuage 3"),
    ("hnuage3", "Hauteur de base 3"),
    ("nnuage4", "Nébulosité couche nuageuse 4"),
    ("ctype4", "Type nuage 4"),
    ("hnuage4", "Hauteur de base 4"),
    ("coordonnees", "Coordonnees"),
    ("nom", "Nom"),
    ("type_de_tendance_barometrique", "Type de tendance barométrique.1"),
    ("temps_passe_1", "Temps passé 1.1"),
    ("temps_present", "Temps présent.1"),
    ("tc", "Température (°C)"),
    ("tn12c", "Température minimale sur 12 heures (°C)"),
    ("tn24c", "Température minimale sur 24 heures (°C)"),
    ("tx12c", "Température maximale sur 12 heures (°C)"),
    ("tx24c", "Température maximale sur 24 heures (°C)"),
    ("tminsolc", "Température minimale du sol sur 12 heures (en °C)"),
    ("altitude", "Altitude"),
    ("longitude", "Longitude"),
    ("latitude", "Latitude"),
    ("libgeo", "communes (name)"),
    ("codegeo", "communes (code)"),
    ("nom_epci", "EPCI (name)"),
    ("code_epci", "EPCI (code)"),
    ("nom_dept", "department (name)"),
    ("code_dep", "department (code)"),
    ("nom_reg", "region (name)"),
    ("code_reg", "region (code)"),
]
CODES = [c for c, _ in SYNOP_COLUMNS]

# the course's features (SYNOP1/SYNOP2), after dropping the constant ``per``
COURSE_FEATURES = [
    "pmer", "tend", "cod_tend", "dd", "ff", "td", "u", "ww", "pres", "rafper", "rr1", "rr3", "tc"
]  # fmt: skip

PASCAL = ("pmer", "pres", "tend", "tend24", "niv_bar")  # Pa in the export, hPa here
KELVIN = ("t", "td", "tn12", "tn24", "tx12", "tx24", "tminsol", "tw")  # K in the export, °C here
PRECIPITATION = ("rr1", "rr3", "rr6", "rr12", "rr24")  # -0.1 = trace
CIRCULAR = ("dd",)  # degrees: encoded as sine and cosine
NONNEGATIVE = ("ff", "raf10", "rafper", "u", "vv", "n", "ht_neige", "ssfrai", *PRECIPITATION)
TEXT = ("numer_sta", "date", "coordonnees", "nom", "type_de_tendance_barometrique",
        "temps_passe_1", "temps_present", "libgeo", "codegeo", "nom_epci", "code_epci",
        "nom_dept", "code_dep", "nom_reg", "code_reg")  # fmt: skip
UNITS: dict[str, str] = {
    **{c: "hPa" for c in PASCAL},
    **{c: "°C" for c in KELVIN},
    **{c: "°C" for c in ("tc", "tn12c", "tn24c", "tx12c", "tx24c", "tminsolc")},
    **{c: "mm" for c in PRECIPITATION},
    **{c: "m/s" for c in ("ff", "raf10", "rafper")},
    **{c: "%" for c in ("u", "n")},
    **{c: "m" for c in ("vv", "hbas", "hnuage1", "hnuage2", "hnuage3", "hnuage4", "ht_neige",
                        "ssfrai", "altitude")},
    **{c: "octa" for c in ("nbas", "nnuage1", "nnuage2", "nnuage3", "nnuage4")},
    **{c: "code" for c in ("cod_tend", "ww", "w1", "w2", "cl", "cm", "ch", "sw", "etat_sol",
                           "phenspe1", "phenspe2", "phenspe3", "phenspe4", "ctype1", "ctype2",
                           "ctype3", "ctype4", "perssfrai")},
    "dd": "°",
    "per": "min",
    "geop": "m2/s2",
    "latitude": "°",
    "longitude": "°",
}  # fmt: skip


def _norm(label: str) -> str:
    """Label key: no accents, lower case, single spaces (exports vary in both)."""
    text = unicodedata.normalize("NFKD", str(label))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())


_BY_LABEL = {_norm(label): code for code, label in SYNOP_COLUMNS}
_BY_CODE = {code: code for code in CODES}


def header_codes(header: list[str]) -> list[str]:
    """Column codes for a header of codes or of French labels.

    A label that occurs twice in the real export ("Temps présent") names two columns: the
    first occurrence is the code column, the second (renamed "X.1" by pandas) the text one.
    """
    seen: dict[str, int] = {}
    out = []
    for name in header:
        key = _norm(name)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n and f"{key}.{n}" in _BY_LABEL:  # the header itself repeats the label
            key = f"{key}.{n}"
        out.append(_BY_CODE.get(str(name).strip()) or _BY_LABEL.get(key) or str(name).strip())
    return out


# labels the export writes twice: the code column, then its text copy ("Temps présent")
REPEATED_LABELS = {"cod_tend": "type_de_tendance_barometrique", "ww": "temps_present",
                   "w1": "temps_passe_1"}  # fmt: skip


def _repeated_by_content(df: Any, names: list[str], codes: list[str]) -> list[str]:
    """``codes`` with the columns of a label written twice told apart by what they hold:
    numbers are the code column, text its copy. The export writes the code column first, but
    an export with its columns in another order (or with one of the two) does not."""
    import pandas as pd

    out = list(codes)
    for code, text in REPEATED_LABELS.items():
        # the columns a label names (a header of codes names each column itself)
        at = [i for i, c in enumerate(codes) if c in (code, text) and names[i].strip() != c]
        kinds: dict[int, str] = {}
        for i in at:
            values = df.iloc[:, i].dropna().astype(str).str.strip()
            values = values[values != ""]
            if not values.empty:
                numeric = pd.to_numeric(values, errors="coerce").notna().all()
                kinds[i] = code if numeric else text
        if len(at) == 2 and len(kinds) == 1:  # the other one is empty: the other column
            ((i, kind),) = kinds.items()
            kinds[at[1] if at[0] == i else at[0]] = text if kind == code else code
        if len(set(kinds.values())) == len(kinds) and len(at) <= 2:
            for i, kind in kinds.items():
                out[i] = kind
    return out


def _station_key(value: object) -> str:
    text = str(value).strip()
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text.casefold()


SampleName = Literal["synop-orly-2023"]  # bundled exports (seqrun.samples), as found in the wild

# encodings tried, in order, when data.encoding is not given and the file is not UTF-8
SPREADSHEET_ENCODINGS = ("cp1252", "mac_roman")
_ID_DATE = ("numer_sta", "date", "nom")  # not observations (codes: labels are renamed)

SPREADSHEET_NA = ("#N/A",)  # what a spreadsheet writes for a missing value (=NA())
_MONTHLY_DATE = re.compile(r"^\d{14}$")  # 20150101000000, the monthly archives' UTC dates
_GLOB = re.compile(r"[*?\[]")
_THOUSANDS = r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))"  # 102 220: a space between thousands


class SynopConfig(ForecastConfig):
    """Options of the SYNOP export adapter."""

    adapter: Literal["synop"] = Field("synop", description="A Météo-France SYNOP export.")
    path: str | list[str] | None = Field(
        None,
        description="The export(s), relative to the working directory: one ';'-separated CSV "
        "(optionally .gz), a glob such as 'synop.2015*.csv.gz' (Météo-France's monthly "
        "archives), or a list of files/globs; several files are read as one series (sorted "
        "by time, duplicates dropped).",
    )
    sample: SampleName | None = Field(
        None,
        description="A SYNOP export bundled with seqrun instead of `path`: 'synop-orly-2023' "
        "(ORLY, 2023-01 to 2023-12, 3-hourly, re-saved by a spreadsheet: Mac Roman, "
        "Météo-France open data, Licence Ouverte / Etalab 2.0).",
    )
    encoding: str | None = Field(
        None,
        description="Text encoding of the file(s); null detects it: a byte-order mark, else "
        "UTF-8, else the spreadsheet encodings cp1252 / mac_roman (the one that reads the "
        "French header labels).",
    )
    station: int | str | None = Field(
        None,
        description="Station to keep: its WMO number (numer_sta, e.g. '07481': quote it, "
        "YAML reads a leading 0 as octal; '7481' matches too) or its name (nom); null if the "
        "export has one.",
    )
    trace_precipitation: float = Field(
        0.0, description="Value given to -0.1 (trace) in the rr1..rr24 precipitation columns."
    )
    sequence_len: int = Field(16, ge=1, description="Past grid steps in each input window.")

    @field_validator("station", mode="before")
    @classmethod
    def _not_a_boolean(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError(
                f"station {str(v).lower()}: give a WMO number such as '07149' or a station "
                "name, or null for an export holding one station"
            )
        return v

    @model_validator(mode="after")
    def _one_source(self) -> SynopConfig:
        check_one_source(self.path, self.sample)
        if isinstance(self.path, list) and not self.path:
            raise ValueError("data.path lists no file")
        return self


def expand_paths(path: str | list[str], where: str = "data.path") -> list[Path]:
    """The files named by a path, a glob, or a list of them (globs sorted; no repeats)."""
    out: list[Path] = []
    for entry in [path] if isinstance(path, str) else path:
        entry = os.path.expanduser(entry)  # ~/exports/... as a shell would read it
        if _GLOB.search(entry):
            hits = sorted(Path(p) for p in glob.glob(entry) if Path(p).is_file())
            if not hits:
                raise UserError(f"no file matches {entry!r}", where=where)
        else:
            hits = [Path(entry)]
            if not hits[0].is_file():
                raise UserError(f"SYNOP export not found: {entry}", where=where)
        out += [h for h in hits if h not in out]
    return out


def read_text(path: Path, encoding: str | None) -> tuple[str, str]:
    """The text of a (possibly gzipped) export and the encoding that read it.

    Without ``encoding``: a byte-order mark decides, else UTF-8, else the spreadsheet encoding
    (cp1252 or mac_roman) under which most header names are known SYNOP labels.
    """
    try:
        data = read_file_bytes(path)
    except OSError as e:
        raise UserError(f"cannot read the file ({e})", where=str(path)) from None
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise UserError(f"unknown text encoding {encoding!r}", where="data.encoding") from None
        except UnicodeDecodeError as e:
            raise UserError(
                f"{path.name} is not {encoding} (byte {e.start}: {data[e.start : e.start + 1]!r}); "
                f"set data.encoding to the file's encoding (e.g. utf-8, "
                f"{', '.join(SPREADSHEET_ENCODINGS)}) or null to detect it",
                where="data.encoding",
            ) from None
        return text.removeprefix("\ufeff"), encoding
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            try:
                return data.decode(name).removeprefix("\ufeff"), name
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[int, str, str] | None = None
    for name in SPREADSHEET_ENCODINGS:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        header = text.split("\n", 1)[0].rstrip("\r").split(";")
        header = [h.strip().strip('"').strip() for h in header]  # a spreadsheet quotes them
        known = sum(1 for h in header if _norm(h) in _BY_LABEL or h in _BY_CODE)
        if best is None or known > best[0]:
            best = (known, name, text)
    if best is None:
        raise UserError(
            f"cannot tell the text encoding of {path.name} (neither UTF-8 nor "
            f"{' nor '.join(SPREADSHEET_ENCODINGS)}); set data.encoding",
            where="data.encoding",
        )
    return best[2], best[1]


class SynopAdapter(ForecastAdapter):
    """Météo-France SYNOP export (opendatasoft or monthly archives): ';' CSV, Pa/K converted."""

    Config = SynopConfig
    predict_keys = (*ForecastAdapter.predict_keys, "data.station")

    def _read_files(self) -> tuple[Any, dict]:
        """Every file as one table of codes, with ``__file`` and ``__line`` per row: the rows
        of the stations the config names (main, neighbours, also_train_on) when it names them
        all by number, as in the monthly archives' dozens of stations, else every row."""
        stations = self._only_stations = self._named_stations()
        return self._read_once(lambda: self._parse_files(stations))

    def _named_stations(self) -> set[str] | None:
        """Keys of the stations the config names, or None if one is a name or none is given."""
        d = self.data_cfg
        if d.station is None:
            return None
        more = [*(d.neighbours.series if d.neighbours else []), *d.also_train_on]
        keys = set()
        for given in [d.station, *more]:
            if not str(given).strip().isdigit():
                return None
            keys.update(_station_keys(given))
        return keys

    def _parse_files(self, stations: set[str] | None = None) -> tuple[Any, dict]:
        """The files' rows (those of ``stations`` only, if given) and the read's report."""
        import pandas as pd

        d = self.data_cfg
        paths = [sample_path(d.sample)] if d.sample else expand_paths(d.path)
        if self.input_paths:  # seqrun predict: new files in the same layout
            paths = list(self.input_paths)
        frames, encodings = [], {}
        skipped = {"empty": 0, "header": 0}
        rows_in_files = 0
        for path in paths:
            text, enc = read_text(path, d.encoding)
            encodings[path.name] = enc
            lines = None
            if stations is not None:
                text, lines, rows = _rows_of(text, stations)
                rows_in_files += rows
            try:
                df = pd.read_csv(
                    io.StringIO(text),
                    sep=";",
                    dtype=str,
                    keep_default_na=False,
                    na_values=["", "mq"],
                )
            except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
                msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise UserError(f"not a SYNOP export ({msg})", where=str(path)) from None
            names = [str(c) for c in df.columns]
            codes = _repeated_by_content(df, names, header_codes(names))
            # the monthly archives end every line with ';': an unnamed, empty last column
            keep = [
                i
                for i, c in enumerate(codes)
                if not (c.startswith("Unnamed:") and df.iloc[:, i].isna().all())
            ]
            df = df.iloc[:, keep]
            df.columns = [codes[i] for i in keep]
            if "date" not in df.columns:
                head = ", ".join(map(str, list(df.columns)[:4]))
                first = str(df.columns[0]) if len(df.columns) else ""
                for sep, name in ((",", "commas"), ("\t", "tabs")):
                    if len(df.columns) == 1 and first.count(sep) >= 2:
                        raise UserError(
                            f"not a SYNOP export: the header is separated by {name}, not ';' "
                            "(a spreadsheet re-save?); save it again with ';' as the field "
                            "separator, as Météo-France's files are",
                            where=str(path),
                        )
                raise UserError(
                    "not a SYNOP export: no 'date' (or 'Date') column in the header "
                    f"(starts with: {head}); expected a ';'-separated Météo-France SYNOP export "
                    "whose header is 'numer_sta;date;pmer;...' or the French labels",
                    where=str(path),
                )
            df["__file"] = path.name if len(paths) > 1 else str(path)
            if lines is None:  # every row read
                rows_in_files += len(df)
            if lines is None or len(lines) != len(df):  # (or a quoted newline)
                lines = np.arange(2, len(df) + 2)
            df["__line"] = lines
            # rows a spreadsheet or a concatenation leaves: empty ones (';;;'), the header again
            fields = [c for c in df.columns if not c.startswith("__")]
            empty = df[fields].isna().all(axis=1)
            header = df["date"].fillna("").astype(str).str.strip().str.casefold() == "date"
            if (empty | header).any():
                skipped["empty"] += int(empty.sum())
                skipped["header"] += int((header & ~empty).sum())
                df = df.loc[~(empty | header)]
            df["__tc_absent"] = "tc" not in df.columns
            frames.append(df)
        df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        source = None if self.input_paths else d.sample
        source = source or (str(paths[0]) if len(paths) == 1 else f"{len(paths)} files")
        report: dict = {
            "source": source,
            "format": "synop",
            "rows_in_file": rows_in_files - sum(skipped.values()),
            "encoding": encodings[paths[0].name] if len(paths) == 1 else encodings,
        }
        if len(paths) > 1:
            report["files"] = [str(p) for p in paths]
        if any(skipped.values()):
            report["rows_skipped"] = {
                "empty": skipped["empty"],
                "repeated_header": skipped["header"],
            }
        if df.empty and stations is None:
            junk = sum(skipped.values())
            raise UserError(
                "the export has no data rows, only its header"
                + (f" ({junk} empty or repeated-header rows)" if junk else ""),
                where=str(paths[0]) if len(paths) == 1 else "data.path",
            )
        return df.reset_index(drop=True), report

    def read(self, series: str | int | None = None) -> RawSeries:
        """Read the export(s), keep one station (or ``series``), convert units, parse dates
        to UTC."""
        import pandas as pd

        d = self.data_cfg
        df, report = self._read_files()
        df = self._one_station(df, report, series)
        times, dropped = self._times(df, report)
        notes = []
        if dropped.any():  # local times that do not exist or repeat (daylight-saving changes)
            report["local_times_dropped"] = int(dropped.sum())
            notes.append(
                local_times_dropped(df["date"], dropped, df["__line"], d.timezone, report["source"])
            )
            df, times = df.loc[~dropped], times[~dropped]
        numeric = {}
        non_numeric: dict[str, str] = {}
        source_units: dict[str, str] = {}
        traces = 0
        for code in df.columns:
            if code in TEXT or code in numeric or code.startswith("__"):
                continue
            given = df[code]  # (the table is shared: not changed in place)
            na = given.str.strip().isin(SPREADSHEET_NA)  # a spreadsheet's "no value" (=NA())
            given = given.mask(na)
            col = pd.to_numeric(given, errors="coerce")
            bad = (col.isna() & given.notna()).to_numpy()
            if bad.any():
                # a spreadsheet in French (and other locales) writes 102 220,5: a space
                # (often a no-break one) between thousands, a decimal comma
                text, used = given, []
                for key, pattern, by in (
                    ("thousands_separator_columns", _THOUSANDS, ""),
                    ("decimal_comma_columns", ",", "."),
                ):
                    if text.str.contains(pattern).any():
                        text, used = text.str.replace(pattern, by, regex=True), [*used, key]
                fixed = pd.to_numeric(text, errors="coerce")
                if used and not (fixed.isna() & given.notna()).any():
                    col, bad = fixed, np.zeros_like(bad)
                    for key in used:
                        report.setdefault(key, []).append(code)
            if bad.any():  # a text column (names, labels): not a candidate feature
                i = int(bad.argmax())
                non_numeric[code] = (
                    f"{given.iloc[i]!r} on line {df['__line'].iloc[i]} of {df['__file'].iloc[i]}"
                )
                continue
            if na.any():
                report.setdefault("spreadsheet_na", {})[code] = int(na.sum())
            numeric[code] = col.astype("float64")
        for code in PRECIPITATION:
            if code in numeric:
                trace = numeric[code] == -0.1
                traces += int(trace.sum())
                numeric[code] = numeric[code].mask(trace, d.trace_precipitation)
        pressure_pa = _looks_like_pascal(numeric)
        for code in PASCAL:
            if code in numeric:
                source_units[code] = "Pa" if pressure_pa else "hPa"
                if pressure_pa:
                    numeric[code] = numeric[code] / 100.0
        for code in KELVIN:
            if code in numeric:
                med = numeric[code].median()
                kelvin = bool(med == med and med > 150)
                source_units[code] = "K" if kelvin else "°C"
                if kelvin:
                    numeric[code] = numeric[code] - 273.15
        if "t" in numeric:  # the monthly archives have no tc: °C from t (also when read
            # together with an export that has it, whose tc is its t in °C)
            if "tc" not in numeric:
                numeric["tc"] = numeric["t"].copy()
                report["derived"] = {"tc": "t converted to °C (the file has no tc column)"}
            elif "__tc_absent" in df.columns:
                absent = df["__tc_absent"].fillna(False).astype(bool).to_numpy()
                numeric["tc"] = numeric["tc"].mask(absent, numeric["t"])
                report["derived"] = {
                    "tc": f"t converted to °C in the {int(absent.sum())} rows of files "
                    "without a tc column"
                }
        table = pd.DataFrame(numeric, index=df.index)
        report["trace_precipitation_values"] = traces
        report["converted_units"] = {
            c: {"from": source_units[c], "to": UNITS[c]}
            for c in source_units
            if source_units[c] != UNITS[c]
        }
        units = {c: UNITS.get(c, "") for c in table.columns}
        return RawSeries(
            times=times,
            columns=table,
            units=units,
            default_features=list(COURSE_FEATURES),
            report=report,
            all_columns=[c for c in df.columns if not c.startswith("__")]
            + (["tc"] if "tc" not in df.columns and "tc" in numeric else []),
            non_numeric=non_numeric,
            circular=[c for c in CIRCULAR if c in numeric],
            nonnegative=[c for c in NONNEGATIVE if c in numeric],
            warnings=notes,
            precipitation={c: 0.1 for c in PRECIPITATION if c in numeric},
        )

    def _times(self, df: Any, report: dict) -> tuple[Any, Any]:
        """UTC times of the rows: the monthly archives' YYYYMMDDHHMMSS (UTC) wherever a date
        is written so, else ISO 8601 with an offset (or data.time_format / data.timezone);
        and a mask of the local times that data.timezone skips or repeats ambiguously."""
        import pandas as pd

        from seqrun.data.times import OFFSET, parse_times, time_format_hint

        d = self.data_cfg
        dates = df["date"].fillna("").astype(str).str.strip()
        values = [c for c in df.columns if not c.startswith("__") and c not in _ID_DATE]

        def bare(rows: Any) -> np.ndarray:
            """Whether the rows have no field after the date (only asked on a bad date)."""
            return df.iloc[rows][values].isna().all(axis=1).to_numpy()

        def cut_short(i: int, what: str, why: str = "which has no field after it") -> UserError:
            """A line a download or a copy stopped in."""
            return UserError(
                f"{what} on line {df['__line'].iloc[i]}, {why}: is the line cut short? Remove "
                "it or download the file again",
                where=str(df["__file"].iloc[i]),
            )

        empty = (dates == "").to_numpy()
        if empty.any():
            i = int(empty.argmax())
            if bare([i])[0]:
                raise cut_short(i, "no date")
            raise UserError(
                f"line {df['__line'].iloc[i]} has no date ({int(empty.sum())} such row(s)); "
                "every observation needs its date",
                where=str(df["__file"].iloc[i]),
            )
        monthly = np.zeros(len(df), dtype=bool)
        if d.time_format is None:
            monthly = dates.str.match(_MONTHLY_DATE).to_numpy()
        times = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
        dropped = np.zeros(len(df), dtype=bool)
        if monthly.any():
            fmt = "%Y%m%d%H%M%S"
            times[monthly] = pd.to_datetime(dates[monthly], format=fmt, utc=True, errors="coerce")
            # among archive dates, other runs of digits are cut lines, not ISO dates
            cut = (monthly & times.isna().to_numpy()) | (
                ~monthly & dates.str.fullmatch(r"\d+").to_numpy()
            )
            if cut.any():
                i = int(cut.argmax())
                raise cut_short(
                    i,
                    f"cannot read the date {df['date'].iloc[i]!r}",
                    f"unlike the other dates, YYYYMMDDHHMMSS as in the monthly archives "
                    f"({int(cut.sum())} such row(s))",
                )
        if monthly.all():
            report["date_format"] = "YYYYMMDDHHMMSS (UTC)"
        else:
            rest = ~monthly
            parsed, lost = parse_times(dates[rest], d.time_format, d.timezone)
            times[rest] = parsed
            dropped[rest] = lost
        bad = (times.isna().to_numpy() & ~dropped).nonzero()[0]
        if len(bad) and bare(bad[:1])[0]:
            raise cut_short(int(bad[0]), f"the date {df['date'].iloc[int(bad[0])]!r}")
        if len(bad):
            i = int(bad[0])
            zone = ", and data.timezone to the zone of those times (e.g. Europe/Paris)"
            hint = time_format_hint(
                dates[~monthly],
                d.time_format,
                expected="ISO 8601 with an offset as in the exports, e.g. "
                "2015-06-12T17:00:00+02:00, or YYYYMMDDHHMMSS in UTC as in the monthly "
                "archives",
                zone=zone if d.timezone is None else "",
            )
            raise UserError(
                f"cannot read the date {df['date'].iloc[i]!r} on line {df['__line'].iloc[i]}{hint}",
                where=str(df["__file"].iloc[i]),
            )
        if d.timezone is None and not monthly.all():
            naive = ~monthly & ~dates.str.contains(OFFSET).to_numpy()
            if naive.any() and bare(np.flatnonzero(naive)).all():  # only cut lines lack it
                raise cut_short(
                    int(naive.argmax()), f"the date {df['date'].iloc[int(naive.argmax())]!r}"
                )
            if naive.any():
                i = int(naive.argmax())
                raise UserError(
                    f"the date {df['date'].iloc[i]!r} on line {df['__line'].iloc[i]} has no "
                    f"UTC offset ({int(naive.sum())} of {len(df)} rows; a spreadsheet re-save "
                    "drops the export's +01:00): set data.timezone to the zone those times "
                    "are in, e.g. Europe/Paris for French local times, or UTC",
                    where=str(df["__file"].iloc[i]),
                )
        return times, dropped

    def _one_station(
        self, df, report: dict, series: str | int | None = None, every_row: bool = False
    ):
        """The rows of the config's station (or ``series``); ``every_row``: ``df`` holds every
        station's rows, not just those the config names."""
        d = self.data_cfg
        station = d.station if series is None else series
        if "numer_sta" not in df.columns:
            if station is not None:
                fix = "remove data.station" if series is None else "it holds one station"
                raise UserError(
                    "the export has no station column (numer_sta / 'ID OMM station') to "
                    f"filter on; {fix}",
                    where="data.station",
                )
            return df
        ids = df["numer_sta"].fillna("").astype(str).str.strip()
        names = df["nom"].fillna("").astype(str) if "nom" in df.columns else None
        keys = ids.map({i: _station_key(i) for i in ids.unique()})  # 7149 is 07149
        present = keys.unique().tolist()
        if station is None:
            if len(present) > 1:
                raise UserError(
                    f"the export holds {len(present)} stations, choose one with data.station; "
                    f"stations present: {_describe_stations(ids, names)}",
                    where="data.station",
                )
            report["station"] = _station_id(ids.iloc[0]) if present else None
            return df
        for key in _station_keys(station):  # its number first, then its octal reading
            keep = keys == key
            if keep.any():
                break
        if names is not None and not keep.any():
            keep = names.map(lambda s: s.strip().casefold()) == str(station).strip().casefold()
        if not keep.any() and self._only_stations is not None and not every_row:
            # the rows of the named stations only were read: read them all to list them
            return self._one_station(self._parse_files()[0], report, series, every_row=True)
        if not keep.any():
            named = (
                ""
                if names is not None or str(station).strip().isdigit()
                else (
                    " (the files name no station, as in the monthly archives: give its WMO "
                    "number, e.g. '07149' for Orly)"
                )
            )
            if isinstance(station, int) and station >= 8 and len(f"{station:o}") <= 4:
                octal = f"0{station:o}"  # what the user wrote, if YAML read it as octal
                named += (
                    f" (or {octal}, if that is what was written: YAML reads a leading 0 as octal)"
                )
            raise UserError(
                f"station {station!r} is not in {Path(report['source']).name}{named}; "
                f"stations present: {_describe_stations(ids, names)}",
                where="data.station",
            )
        report["station"] = _station_id(ids[keep].iloc[0])
        if names is not None:
            report["station_name"] = names[keep].iloc[0].strip()
        report["rows_other_stations"] = int(report["rows_in_file"] - keep.sum())
        return df.loc[keep]


def _station_keys(station: str | int) -> list[str]:
    """The keys a configured station may match, in order: its own, then, for a number, that
    of its octal digits (YAML reads an unquoted 07401 as the octal number 3841)."""
    keys = [_station_key(station)]
    if isinstance(station, int):
        keys.append(_station_key(format(station, "o")))
    return keys


def _rows_of(text: str, stations: set[str]) -> tuple[str, np.ndarray | None, int]:
    """The export's header and the rows of ``stations`` (keys), their line numbers and the
    number of rows in all; the whole text (and no line numbers) without a station column."""
    lines = text.splitlines()
    if not lines:
        return text, None, 0
    codes = header_codes(lines[0].split(";"))
    if "numer_sta" not in codes:
        return text, None, 0
    column = codes.index("numer_sta")
    keys: dict[str, bool] = {}  # a station field -> kept
    kept, numbers, rows = [lines[0]], [], 0
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        rows += 1
        parts = line.split(";", column + 1)
        field = parts[column].strip() if len(parts) > column else ""
        keep = keys.get(field)
        if keep is None:
            keep = keys[field] = _station_key(field) in stations
        if keep:
            kept.append(line)
            numbers.append(n)
    return "\n".join(kept) + "\n", np.asarray(numbers, dtype=np.int64), rows


def _station_id(text: str) -> str:
    """A WMO station number with its leading zeros (a spreadsheet drops them: 7149 -> 07149)."""
    return text.zfill(5) if text.isdigit() and len(text) < 5 else text


def _looks_like_pascal(numeric: dict) -> bool:
    """Pressures in Pa (the export's unit) unless pmer/pres already read like hPa."""
    for code in ("pmer", "pres"):
        if code in numeric:
            med = numeric[code].median()
            if med == med:
                return bool(med > 2000)
    return True


def _describe_stations(ids, names) -> str:
    ids = ids.map({i: _station_id(i) for i in ids.unique()})  # 7149 and 07149: one station
    counts = ids.value_counts(sort=False)
    parts = []
    for sid, n in counts.items():
        label = ""
        if names is not None:
            first = names[ids == sid]
            label = f" {first.iloc[0].strip()}" if len(first) and first.iloc[0].strip() else ""
        parts.append(f"{sid}{label} ({n} rows)")
    return ", ".join(parts)
