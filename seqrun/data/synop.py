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

from seqrun.core.errors import UserError, broken_link
from seqrun.core.text import allow_long_csv_fields, read_file_bytes
from seqrun.data.forecast import ForecastAdapter, ForecastConfig, RawSeries, series_key
from seqrun.data.quality import without_na_texts
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
CELSIUS = ("tc", "tn12c", "tn24c", "tx12c", "tx24c", "tminsolc")  # °C (kelvin is converted)
ABSOLUTE_PRESSURES = ("pmer", "pres", "niv_bar")  # hundreds of hPa, unlike a tendency
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


_station_key = series_key  # 7149 is 07149 (and 7149.0), ORLY is orly


SampleName = Literal["synop-orly-2023"]  # bundled exports (seqrun.samples), as found in the wild

# encodings tried, in order, when data.encoding is not given and the file is not UTF-8
SPREADSHEET_ENCODINGS = ("cp1252", "mac_roman")
_ID_DATE = ("numer_sta", "date", "nom")  # not observations (codes: labels are renamed)

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
            if hits[0].is_dir():
                raise UserError(
                    f"{entry} is a folder: give the export file, or a glob of the files in it "
                    f"(e.g. '{os.path.join(entry, 'synop.*.csv.gz')}')",
                    where=where,
                )
            if not hits[0].is_file():
                link = broken_link(hits[0])
                fix = f" is {link}; point it at the export" if link else ""
                raise UserError(f"SYNOP export not found: {entry}{fix}", where=where)
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

    def _missing_code_fix(self, name: str, code: float) -> str:
        """Blank fields (or mq), or data.valid_range in the units seqrun reads."""
        unit = UNITS.get(name, "")
        return (
            "blank those fields (an empty field or mq is a missing value), or set "
            f"data.valid_range: {{{name}: [LOW, HIGH]}} with the quantity's plausible limits"
            + (f" in {unit}" if unit else "")
        )

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
        self._file_rows: dict[str, int] = {}  # data rows of each file, every station's
        for path in paths:
            text, enc = read_text(path, d.encoding)
            encodings[path.name] = enc
            name = path.name if len(paths) > 1 else str(path)  # as errors name the file
            if not text or text.isspace():
                raise UserError(
                    "the file is empty (not even a header): give the SYNOP export itself, or "
                    "download it again",
                    where=name,
                )
            if "\x00" in text[:65536]:  # (binary data: a zip, an image, a broken download)
                line = text.count("\n", 0, text.index("\x00")) + 1
                raise UserError(
                    f"line {line} holds NUL bytes: binary data, not the text of an export (a "
                    "damaged download, or another format?); download the file again",
                    where=name,
                )
            lines = None
            if stations is not None:
                text, lines, rows = _rows_of(text, stations, name)
                rows_in_files += rows
                self._file_rows[path.name] = rows
            if lines is None:  # every row is parsed
                numbers = _check_fields(text, name)
                self._file_rows[path.name] = len(numbers)
            try:
                df = pd.read_csv(
                    io.StringIO(text),
                    sep=";",
                    dtype=str,
                    keep_default_na=False,
                    na_values=["", "mq"],
                    index_col=False,  # rows ending in ';' (the header not): no index column
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
                sep, what = max(((",", "commas"), ("\t", "tabs")), key=lambda p: first.count(p[0]))
                if len(df.columns) == 1 and first.count(sep) >= 2:
                    raise UserError(
                        f"not a SYNOP export: the header is separated by {what}, not ';' "
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
            df["__file"] = name
            if lines is None:  # every row read
                rows_in_files += len(df)
                lines = numbers  # (pandas skips blank lines)
            if len(lines) != len(df):  # (a quoted newline)
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
        notes: list[str] = []
        df = self._one_station(df, report, series, notes=notes)
        times, dropped = self._times(df, report)
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
            col = pd.to_numeric(given, errors="coerce")
            bad = (col.isna() & given.notna()).to_numpy()
            na = 0
            if bad.any():  # no value: mq in any case, blank fields, #N/A, NA, NaN, null, ...
                mq = given.str.strip().str.casefold().eq("mq")
                given, na = without_na_texts(given.mask(mq))
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
                    f"{_shown(given.iloc[i])} on line {df['__line'].iloc[i]} of "
                    f"{df['__file'].iloc[i]}; an empty field or mq is a missing value"
                )
                continue
            if na:
                report.setdefault("spreadsheet_na", {})[code] = na
            numeric[code] = col.astype("float64")
        for code in PRECIPITATION:
            if code in numeric:
                trace = numeric[code] == -0.1
                traces += int(trace.sum())
                numeric[code] = numeric[code].mask(trace, d.trace_precipitation)
        written: dict[str, np.ndarray] = {}  # converted columns as the file writes them
        for code, in_pa in _pressures_in_pascal(numeric).items():
            source_units[code] = "Pa" if in_pa else "hPa"
            if in_pa:
                written[code] = numeric[code].to_numpy()
                numeric[code] = numeric[code] / 100.0
        self._check_pressures(numeric, source_units, report)
        for code in (*KELVIN, *CELSIUS):  # a spreadsheet's tc may be in kelvin too
            if code in numeric:
                med = numeric[code].median()
                kelvin = bool(med == med and med > 150)
                source_units[code] = "K" if kelvin else "°C"
                if kelvin:
                    written[code] = numeric[code].to_numpy()
                    numeric[code] = numeric[code] - 273.15
        if "t" in non_numeric and "tc" not in df.columns:
            non_numeric["tc"] = f"in t, from which tc is derived: {non_numeric['t']}"
        if "t" in numeric:  # the monthly archives have no tc: °C from t (also when read
            # together with an export that has it, whose tc is its t in °C)
            if "tc" not in numeric and "tc" not in non_numeric:
                numeric["tc"] = numeric["t"].copy()
                if "t" in written:
                    written["tc"] = written["t"]
                report["derived"] = {"tc": "t converted to °C (the file has no tc column)"}
            elif "__tc_absent" in df.columns and "tc" in numeric:
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
            + (
                ["tc"]
                if "tc" not in df.columns and ("tc" in numeric or "tc" in non_numeric)
                else []
            ),
            non_numeric=non_numeric,
            circular=[c for c in CIRCULAR if c in numeric],
            nonnegative=[c for c in NONNEGATIVE if c in numeric],
            warnings=notes,
            precipitation={c: 0.1 for c in PRECIPITATION if c in numeric},
            source_values={
                c: (v, _as_written(c, df.columns, source_units))
                for c, v in written.items()
                if c in table.columns
            },
        )

    def _check_pressures(self, numeric: dict, units: dict[str, str], report: dict) -> None:
        """A UserError when a listed absolute pressure (pmer, pres, niv_bar) is neither in Pa
        nor in hPa, e.g. 102.22 for 102 220 Pa: thousands separators ('102.220' or
        '102,220') read as decimal marks. Such a column that is not used is left out."""
        d = self.data_cfg
        listed = {*(d.features or COURSE_FEATURES)}
        listed |= set(d.targets) if isinstance(d.targets, list) else {d.targets}
        if d.neighbours is not None:
            listed |= set(d.neighbours.features or [])
        for code in ABSOLUTE_PRESSURES:
            med = numeric[code].median() if code in numeric else float("nan")
            if med != med or 250 <= med <= 1200:  # hPa, after Pa were converted
                continue
            if code not in listed:
                del numeric[code], units[code]
                continue
            raise UserError(
                f"column '{code}' (a pressure) has a median of {med:g} {units.get(code, '')}: "
                "neither Pa (about 101 300 at sea level) nor hPa (about 1013); were "
                "thousands separators read as decimal marks ('102.220' or '102,220' for "
                "102 220 Pa)? Save the numbers without thousands separators, or leave the "
                f"column out of data.features",
                where=str(report.get("source", "data.path")),
            )

    def _times(self, df: Any, report: dict) -> tuple[Any, Any]:
        """UTC times of the rows: the monthly archives' YYYYMMDDHHMMSS (UTC) wherever a date
        is written so, else ISO 8601 with an offset (or data.time_format / data.timezone);
        and a mask of the local times that data.timezone skips or repeats ambiguously."""
        import pandas as pd

        from seqrun.data.times import OFFSET, outside_years, parse_times, time_format_hint

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

        def in_years(parsed: Any, rows: np.ndarray) -> Any:
            """``parsed`` (the times of ``rows``), or a UserError for a year that nanosecond
            times cannot hold (they end in 2262)."""
            years = outside_years(parsed)
            if years.any():
                i = int(np.flatnonzero(rows)[years.argmax()])
                raise UserError(
                    f"the date {df['date'].iloc[i]!r} on line {df['__line'].iloc[i]} "
                    f"({int(years.sum())} such row(s)) is outside the years seqrun reads, 1678 "
                    "to 2261: a placeholder date or a misread layout; fix those rows, or set "
                    "data.time_format to the file's layout",
                    where=str(df["__file"].iloc[i]),
                )
            return parsed

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
            parsed = pd.to_datetime(dates[monthly], format=fmt, utc=True, errors="coerce")
            times[monthly] = in_years(parsed, monthly)
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
            times[rest] = in_years(parsed, rest)
            dropped[rest] = lost
        bad = (times.isna().to_numpy() & ~dropped).nonzero()[0]
        if len(bad) and bare(bad[:1])[0]:
            raise cut_short(int(bad[0]), f"the date {df['date'].iloc[int(bad[0])]!r}")
        if len(bad):
            i = int(bad[0])
            zone = ", and data.timezone to the zone of those times (e.g. Europe/Paris)"
            if self.keys_on_command_line:
                zone = f", and {self.set_key('timezone', 'ZONE')}, the zone of those times"
            hint = time_format_hint(
                dates[~monthly],
                d.time_format,
                expected="ISO 8601 with an offset as in the exports, e.g. "
                "2015-06-12T17:00:00+02:00, or YYYYMMDDHHMMSS in UTC as in the monthly "
                "archives",
                zone=zone if d.timezone is None else "",
                set_key=self.set_key,
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
                    f"drops the export's +01:00): {self.set_key('timezone', 'ZONE')}, the "
                    "zone those times are in, e.g. Europe/Paris for French local times, or UTC",
                    where=str(df["__file"].iloc[i]),
                )
        return times, dropped

    def _one_station(
        self,
        df,
        report: dict,
        series: str | int | None = None,
        every_row: bool = False,
        notes: list[str] | None = None,
    ):
        """The rows of the config's station (or ``series``); ``every_row``: ``df`` holds every
        station's rows, not just those the config names. ``notes`` gets the warnings: rows
        without a station number, files (months) without a row of the station."""
        notes = [] if notes is None else notes
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
        blank = (ids == "").to_numpy(copy=True)
        if blank.all():
            blank[:] = False  # no station numbers at all: one station
        present = keys[~blank].unique().tolist()
        if station is None:
            if len(present) > 1:
                first = _station_id(ids[~blank].iloc[0])
                fix = f"--set data.station={first}"
                if not self.keys_on_command_line:
                    fix = f"data.station: '{first}' (quoted: a leading 0 counts) or {fix}"
                raise UserError(
                    f"the export holds {len(present)} stations, choose one with {fix}; "
                    f"stations present: {_describe_stations(ids, names)}",
                    where="data.station",
                )
            report["station"] = _station_id(ids[~blank].iloc[0]) if present else None
            notes += self._station_notes(df, ~blank, blank, report)
            return df.loc[~blank] if blank.any() else df
        for key in _station_keys(station):  # its number first, then its octal reading
            keep = keys == key
            if keep.any():
                break
        if names is not None and not keep.any():
            keep = names.map(lambda s: s.strip().casefold()) == str(station).strip().casefold()
        if not keep.any() and self._only_stations is not None and not every_row:
            # the rows of the named stations only were read: read them all to list them
            every = self._parse_files()[0]
            return self._one_station(every, report, series, every_row=True, notes=notes)
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
        notes += self._station_notes(df, keep.to_numpy(), blank & ~keep.to_numpy(), report)
        return df.loc[keep]

    def _station_notes(self, df, keep: np.ndarray, blank: np.ndarray, report: dict) -> list[str]:
        """Warnings about the rows of a station (``keep``): rows left out for having no
        station number (``blank``), and, with several files, the files (months of the
        monthly archives) that hold no row of it."""
        notes = []
        if blank.any():
            i = int(blank.argmax())
            report["rows_without_station"] = int(blank.sum())
            notes.append(
                f"{df['__file'].iloc[i]}: {int(blank.sum())} row(s) without a station number "
                f"(numer_sta), first on line {df['__line'].iloc[i]}, are left out; fill in "
                "their station number to keep them"
            )
        files = [Path(f).name for f in report.get("files", [])]
        if len(files) > 1:
            have = set(df["__file"].to_numpy()[keep])
            absent = [f for f in files if f not in have]
            if absent:
                report["station_absent_from"] = absent
                empty = [f for f in absent if self._file_rows.get(f) == 0]
                shown = ", ".join(absent[:6]) + (", ..." if len(absent) > 6 else "")
                why = f"; {', '.join(empty)}: no data rows at all" if empty else ""
                station = report.get("station") or "?"
                notes.append(
                    f"station {station} has no row in {len(absent)} of the {len(files)} "
                    f"files ({shown}){why}: those periods are missing from its series (a "
                    "station that did not report then, or a file cut short or of another "
                    "network?)"
                )
        return notes


def _station_keys(station: str | int) -> list[str]:
    """The keys a configured station may match, in order: its own, then, for a number, that
    of its octal digits (YAML reads an unquoted 07401 as the octal number 3841)."""
    keys = [_station_key(station)]
    if isinstance(station, int):
        keys.append(_station_key(format(station, "o")))
    return keys


def _check_fields(text: str, where: str) -> np.ndarray:
    """The line numbers of the export's data rows (blank lines left out), after checking that
    each row has as many fields as the header (see :func:`_check_odd_rows`)."""
    from itertools import repeat

    end = text.find("\n")
    if end >= 0:  # quick, two passes over the text: every line as wide as the header (a
        # blank line or a short one would make the count fall short, a long one exceed it)
        rows = text.count("\n") - (1 if text.endswith("\n") else 0)
        if text.count(";") == text[:end].count(";") * (rows + 1):
            return np.arange(2, rows + 2, dtype=np.int64)
    lines = text.splitlines()
    if not lines:
        return np.zeros(0, dtype=np.int64)
    n = len(lines) - 1
    counts = np.fromiter(map(str.count, lines[1:], repeat(";")), dtype=np.int64, count=n)
    filled = np.fromiter(map(len, lines[1:]), dtype=np.int64, count=n) > 0
    numbers = np.flatnonzero(filled) + 2
    odd = np.flatnonzero((counts != lines[0].count(";")) & filled) + 1
    _check_odd_rows(lines, odd.tolist(), int(numbers[-1]) if len(numbers) else 0, where)
    return numbers


def _check_odd_rows(lines: list[str], odd: list[int], last: int, where: str) -> None:
    """A UserError for the first row that has fewer fields than the header (a line cut short
    at the end of a download, or a field left out: every later value would be read under the
    column before its own) or more (a ';' inside a value, or a header that lacks a name).
    ``odd``: the indices in ``lines`` (0, the header) of the rows whose number of ';' is not
    the header's; ``last``: the line number of the file's last row."""
    import csv

    odd = [i for i in odd if lines[i].strip("; \t")]  # (a spreadsheet's empty rows: skipped)
    if not odd:
        return
    allow_long_csv_fields()  # a long field: csv.Error, an internal error
    header = next(csv.reader([lines[0]], delimiter=";"))
    needed = len(header)
    while needed and not header[needed - 1].strip():
        needed -= 1
    bad = []
    for i in odd:
        fields = next(csv.reader([lines[i]], delimiter=";"), [])
        if len(fields) < needed or any(f.strip() for f in fields[len(header) :]):
            bad.append((i + 1, fields))
    if not bad:
        return  # quoted values holding ';'
    line, fields = bad[0]
    more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
    if len(fields) > len(header):
        every = len(bad) == sum(1 for x in lines[1:] if x.strip("; \t"))
        raise UserError(
            f"line {line} has {len(fields)} fields, the header {len(header)}{more}"
            + (" (every row: does the header lack a name?)" if every else "")
            + ": a ';' inside a value, or a field too many? The values after it would be read "
            "under the wrong columns",
            where=where,
        )
    if line == last and len(bad) == 1:  # the file's last row: a cut download
        codes = header_codes([h.strip().strip('"') for h in header])
        at = codes.index("date") if "date" in codes else len(fields)
        date = fields[at].strip() if at < len(fields) else ""
        if not any(f.strip() for f in fields[at + 1 :]):
            what = f"the date {date!r} on line {line}" if date else f"no date on line {line}"
            what += ", which has no field after it"
        else:
            what = f"line {line} has {len(fields)} of the header's {len(header)} fields"
        raise UserError(
            f"{what}: is the line cut short? Remove it or download the file again", where=where
        )
    raise UserError(
        f"line {line} has {len(fields)} fields, the header {len(header)}{more}: with a field "
        "left out, the values after it would be read under the wrong columns; write a missing "
        "value as an empty field (;;) or mq",
        where=where,
    )


def _rows_of(text: str, stations: set[str], where: str) -> tuple[str, np.ndarray | None, int]:
    """The export's header and the rows of ``stations`` (keys), their line numbers and the
    number of rows in all; the whole text (and no line numbers) without a station column.
    Every row's fields are counted on the way (:func:`_check_odd_rows`, ``where`` the file)."""
    lines = text.splitlines()
    if not lines:
        return text, None, 0
    codes = header_codes(lines[0].split(";"))
    if "numer_sta" not in codes:
        return text, None, 0
    column = codes.index("numer_sta")
    width = lines[0].count(";")
    keys: dict[str, bool] = {}  # a station field -> kept
    kept, numbers, rows, odd, last = [lines[0]], [], 0, [], 0
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        rows += 1
        last = n
        if line.count(";") != width:
            odd.append(n - 1)
        parts = line.split(";", column + 1)
        field = parts[column].strip() if len(parts) > column else ""
        keep = keys.get(field)
        if keep is None:
            # (rows without a number too: they are counted and said, not lost unsaid)
            keep = keys[field] = not field or _station_key(field) in stations
        if keep:
            kept.append(line)
            numbers.append(n)
    _check_odd_rows(lines, odd, last, where)
    return "\n".join(kept) + "\n", np.asarray(numbers, dtype=np.int64), rows


def _station_id(text: str) -> str:
    """A WMO station number with its leading zeros (a spreadsheet drops them: 7149 -> 07149,
    and pandas writes 7149.0 for a column with a gap)."""
    if re.fullmatch(r"\d+\.0*", text):
        text = text.split(".")[0]
    return text.zfill(5) if text.isdigit() and len(text) < 5 else text


# a tendency whose usual size (90th percentile of |value|) is above this is in Pa: 20 hPa in
# 3 hours, 100 hPa in 24 hours are beyond any storm
_TENDENCY_PA = {"tend": 20.0, "tend24": 100.0}


def _pressures_in_pascal(numeric: dict) -> dict[str, bool]:
    """Whether each pressure column is in Pa (the export's unit) or already in hPa, each by
    its own values (a spreadsheet may have converted one column): an absolute pressure by its
    median, a tendency by its usual size; a column without values as the first other one."""
    found = {}
    for code in PASCAL:
        values = numeric[code].dropna().to_numpy() if code in numeric else np.zeros(0)
        if code in _TENDENCY_PA and len(values) >= 10:
            found[code] = bool(np.percentile(np.abs(values), 90) > _TENDENCY_PA[code])
        elif code not in _TENDENCY_PA and len(values):
            found[code] = bool(np.median(values) > 2000)
    first = next(iter(found.values()), True)
    return {c: found.get(c, first) for c in PASCAL if c in numeric}


def _as_written(code: str, columns: Any, units: dict[str, str]) -> str:
    """Which column of the file holds ``code``'s values (tc derived from t) and in what."""
    column = code if code in columns else "t"
    return f"{column}, in {units.get(column, '')}"


def _shown(value: object, width: int = 40) -> str:
    """``repr(value)``, cut to about ``width`` characters (a line of binary junk)."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 5]}...{text[-1]}"


def _describe_stations(ids, names) -> str:
    ids = ids.map({i: _station_id(i) for i in ids.unique()})  # 7149 and 07149: one station
    counts = ids.value_counts(sort=False)
    parts = []
    for sid, n in counts.items():
        label = ""
        if names is not None:
            first = names[ids == sid]
            label = f" {first.iloc[0].strip()}" if len(first) and first.iloc[0].strip() else ""
        parts.append(f"{sid or '(no number)'}{label} ({n} rows)")
    return ", ".join(parts)
