"""A Météo-France SYNOP export generated in the real layout, with its ground truth.

Layout of the opendatasoft "données SYNOP essentielles OMM" export (see
docs/synop-format.md): every column in file order, ';' separator, French labels (or
codes) as header, with the labels that occur twice written twice; dates in local time with the
UTC offset (+01:00 in winter, +02:00 in summer); rows shuffled; missing values as empty fields;
pressures in Pa, temperatures in kelvin except the ``*c`` columns; -0.1 for trace rain; two
stations. ``make_export`` returns the truth per (station, UTC time) in the export's own units.
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from seqrun.data.synop import SYNOP_COLUMNS

STATIONS = {
    "07481": {"nom": "LYON-ST EXUPERY", "coordonnees": "45.726667, 5.077833", "alt": 235},
    "07149": {"nom": "ORLY", "coordonnees": "48.716833, 2.384333", "alt": 89},
}
# European summer time 2015: from 2015-03-29T01:00Z to 2015-10-25T01:00Z
DST = (datetime(2015, 3, 29, 1, tzinfo=UTC), datetime(2015, 10, 25, 1, tzinfo=UTC))


def local_iso(t: datetime) -> str:
    """The export's date: local French time with its UTC offset."""
    offset = 2 if DST[0] <= t < DST[1] else 1
    local = t + timedelta(hours=offset)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"+0{offset}:00"


@dataclass
class Export:
    path: Path
    times: list[datetime]  # UTC times of station 07481, in order, including absent ones
    truth: dict[tuple[str, datetime], dict[str, str]]  # raw text per column, export units
    absent: set[datetime] = field(default_factory=set)  # 07481 timestamps with no row
    blanks: dict[str, list[datetime]] = field(default_factory=dict)  # emptied 07481 fields
    traces: list[datetime] = field(default_factory=list)  # 07481 rows with rr1 = -0.1
    duplicated: datetime | None = None


def _row(station: str, t: datetime, i: int) -> dict[str, str]:
    """Plausible values for every column, in the export's units, as the export writes them."""
    s = STATIONS[station]
    shift = 0 if station == "07481" else 1
    temp_k = 283.15 + 6 * math.sin(2 * math.pi * (t.hour - 9) / 24) + 0.05 * i + shift
    dew_k = temp_k - 3 - 2 * math.cos(i / 7)
    pmer = 101300 + 40 * round(10 * math.sin(i / 15)) + 1000 * shift
    row = {code: "" for code, _ in SYNOP_COLUMNS}
    row.update(
        numer_sta=station,
        date=local_iso(t),
        pmer=str(pmer),
        tend=str(int(40 * round(3 * math.cos(i / 15)))),
        cod_tend=str(i % 9),
        dd=str(10 * (i % 36)),
        ff=f"{2 + 3 * abs(math.sin(i / 5)):.1f}",
        t=f"{temp_k:.2f}",
        td=f"{dew_k:.2f}",
        u=str(60 + i % 35),
        vv=str(10000 + 10 * i),
        ww=str([0, 2, 10, 61][i % 4]),
        w1=str(i % 3),
        w2="0",
        n=str(10 * (i % 11)),
        pres=str(pmer - 2800),
        raf10=f"{4 + (i % 5) * 0.5:.1f}",
        rafper=f"{5 + (i % 7) * 0.5:.1f}",
        per="-10",
        rr1=f"{(i % 5) * 0.2:.1f}" if i % 4 else "0.0",
        rr3=f"{(i % 6) * 0.4:.1f}",
        coordonnees=s["coordonnees"],
        nom=s["nom"],
        type_de_tendance_barometrique="En hausse, puis en baisse",
        temps_passe_1="Nuages couvrant plus de la moitié du ciel",
        temps_present="État du ciel inchangé dans l'ensemble",
        tc=f"{temp_k - 273.15:.1f}",
        altitude=str(s["alt"]),
        latitude=s["coordonnees"].split(",")[0],
        longitude=s["coordonnees"].split(",")[1].strip(),
        libgeo="Colombier-Saugnieu" if station == "07481" else "Paray-Vieille-Poste",
        codegeo="69299" if station == "07481" else "91479",
        nom_dept="Rhône" if station == "07481" else "Essonne",
        code_dep="69" if station == "07481" else "91",
        nom_reg="Auvergne-Rhône-Alpes" if station == "07481" else "Île-de-France",
        code_reg="84" if station == "07481" else "11",
    )
    return row


def make_export(
    path: Path,
    *,
    labels: bool = True,
    start: datetime = datetime(2015, 3, 10, tzinfo=UTC),
    days: int = 40,
    step_hours: int = 3,
    seed: int = 0,
    quirks: bool = True,
) -> Export:
    """Write the export and return what it holds."""
    n = days * 24 // step_hours
    times = [start + timedelta(hours=step_hours * k) for k in range(n)]
    truth: dict[tuple[str, datetime], dict[str, str]] = {}
    rows: list[dict[str, str]] = []
    for station in STATIONS:
        for i, t in enumerate(times):
            truth[(station, t)] = _row(station, t, i)
    exp = Export(path=path, times=times, truth=truth)
    lys = [t for t in times]
    if not quirks:  # just the layout, the offsets and the shuffling
        for row in truth.values():
            rows.append(row)
        return _write(exp, rows, labels, seed)
    # quirks, all at station 07481
    exp.absent = {lys[40], lys[200], lys[201]}  # missing rows: one and two grid steps
    exp.absent |= set(lys[100:110])  # a 30 h outage: longer than any reasonable max_gap
    exp.blanks = {
        "pmer": [lys[20], lys[150]],  # isolated empty fields
        "td": [lys[60]],
        "tc": [lys[80], lys[81], lys[82]],  # a 9 h gap in one column
        "ff": [lys[0]],  # at the very start: cannot be interpolated
    }
    for code, ts in exp.blanks.items():
        for t in ts:
            truth[("07481", t)][code] = ""
    exp.traces = [lys[30], lys[31], lys[170]]
    for t in exp.traces:
        truth[("07481", t)]["rr1"] = "-0.1"
    for (station, t), row in truth.items():
        if station == "07481" and t in exp.absent:
            continue
        rows.append(row)
    exp.duplicated = lys[5]
    rows.append(dict(truth[("07481", lys[5])]))  # the same observation twice
    return _write(exp, rows, labels, seed)


def _write(exp: Export, rows: list[dict[str, str]], labels: bool, seed: int) -> Export:
    order = np.random.default_rng(seed).permutation(len(rows))
    rows = [rows[k] for k in order]
    header = [label.removesuffix(".1") if labels else code for code, label in SYNOP_COLUMNS]
    lines = [";".join(header)]
    lines += [";".join(r[code] for code, _ in SYNOP_COLUMNS) for r in rows]
    exp.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return exp


# Météo-France's own monthly archives (synop.YYYYMM.csv.gz): codes only, UTC dates
MONTHLY_COLUMNS = [
    "numer_sta", "date", "pmer", "tend", "cod_tend", "dd", "ff", "t", "td", "u", "vv", "ww",
    "w1", "w2", "n", "nbas", "hbas", "cl", "cm", "ch", "pres", "niv_bar", "geop", "tend24",
    "tn12", "tn24", "tx12", "tx24", "tminsol", "sw", "tw", "raf10", "rafper", "per",
    "etat_sol", "ht_neige", "ssfrai", "perssfrai", "rr1", "rr3", "rr6", "rr12", "rr24",
    "phenspe1", "phenspe2", "phenspe3", "phenspe4", "nnuage1", "ctype1", "hnuage1", "nnuage2",
    "ctype2", "hnuage2", "nnuage3", "ctype3", "hnuage3", "nnuage4", "ctype4", "hnuage4",
]  # fmt: skip


@dataclass
class Monthly:
    paths: list[Path]
    times: list[datetime]  # UTC times of station 07149, in order
    truth: dict[tuple[str, datetime], dict[str, str]]
    missing: dict[str, list[datetime]] = field(default_factory=dict)  # 'mq' fields of 07149


def make_monthly(
    folder: Path,
    months: tuple[tuple[int, int], ...] = ((2015, 1), (2015, 2)),
    gz: tuple[bool, ...] = (True, False),
) -> Monthly:
    """Write ``synop.YYYYMM.csv(.gz)`` files in the monthly-archive layout.

    Each file holds every station (three here, ids with their leading zero), 3-hourly rows of
    the whole month and the first row of the next month (an observation repeated in two
    files), a trailing ';' on every line, ``mq`` for missing values, ``date``
    as YYYYMMDDHHMMSS in UTC, no ``tc`` column.
    """
    stations = ["07149", "07481", "07005"]
    truth: dict[tuple[str, datetime], dict[str, str]] = {}
    paths, all_times = [], []
    missing: dict[str, list[datetime]] = {"pmer": [], "td": []}
    i = 0
    for (year, month), packed in zip(months, gz, strict=True):
        nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        start = datetime(year, month, 1, tzinfo=UTC)
        steps = (nxt - start) // timedelta(hours=3)
        times = [start + timedelta(hours=3 * k) for k in range(steps + 1)]  # + next month's
        lines = [";".join(MONTHLY_COLUMNS) + ";"]
        for t in times:
            for s, station in enumerate(stations):
                key = (station, t)
                if key not in truth:
                    row = _row("07149" if s == 0 else "07481", t, i)
                    row["numer_sta"] = station
                    row["date"] = t.strftime("%Y%m%d%H%M%S")
                    if s == 0 and i % 37 == 5:
                        row["pmer"] = "mq"
                        missing["pmer"].append(t)
                    if s == 0 and i % 53 == 7:
                        row["td"] = "mq"
                        missing["td"].append(t)
                    truth[key] = row
                row = truth[key]
                lines.append(";".join(row[c] or "mq" for c in MONTHLY_COLUMNS) + ";")
            if t not in all_times:
                all_times.append(t)
                i += 1
        name = f"synop.{year}{month:02d}.csv" + (".gz" if packed else "")
        text = ("\n".join(lines) + "\n").encode("ascii")
        path = folder / name
        path.write_bytes(gzip.compress(text) if packed else text)
        paths.append(path)
    return Monthly(paths=paths, times=sorted(all_times), truth=truth, missing=missing)
