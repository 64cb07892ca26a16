"""The data bundled with seqrun: intact, licensed, and read offline by the shipped recipes."""

from __future__ import annotations

import gzip
import hashlib

import pytest
import yaml

from seqrun.samples import SAMPLES, SAMPLES_DIR, sample_path
from tests.conftest import ROOT


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_is_intact_and_credited(name):
    sample = SAMPLES[name]
    raw = sample.path.read_bytes()
    if sample.file.endswith(".gz"):
        raw = gzip.decompress(raw)
    assert hashlib.sha256(raw).hexdigest() == sample.sha256
    readme = (SAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    assert f"`{name}`" in readme and sample.file in readme  # listed with its licence line


def test_no_shipped_file_reads_outside_the_repository():
    """A user's clone has nothing beside it: no package, config, test or bench file reads the
    folder of shared data that lies beside our own checkouts, nor our own machine's folders."""
    # spelled in pieces so that this file does not match itself
    outside = ("../" + "shared", "/" + "work/")
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("seqrun", "tests", "configs", "bench", ".ci")
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
        and p.suffix in {".py", ".yaml", ".yml", ".md", ".sh", ".toml", ""}
        and any(o in p.read_text(encoding="utf-8", errors="replace") for o in outside)
    ]
    assert offenders == []


def test_every_data_file_of_the_package_is_in_its_package_data():
    """A wheel (``pip install .``, not ``-e``) holds only the modules and the files that
    pyproject's package-data names: any other file under seqrun/ (a sample, a template, py.typed)
    would be missing from a reviewer's install."""
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]["seqrun"]
    package = ROOT / "seqrun"
    data_files = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    ]
    assert "py.typed" in data_files and any(f.startswith("samples/") for f in data_files)
    listed = {p.relative_to(package).as_posix() for pat in patterns for p in package.glob(pat)}
    unlisted = [f for f in data_files if f not in listed]
    assert unlisted == []
    for sample in SAMPLES.values():  # and every sample a config can name is one of them
        assert sample.path.relative_to(package).as_posix() in data_files


def test_the_source_distribution_holds_what_the_suite_reads():
    """setuptools puts only test_*.py of tests/ in an sdist: without MANIFEST.in the suite there
    has no conftest.py, no helper modules and no configs/, and cannot run."""
    import re

    grafted = {
        line.split()[1]
        for line in (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
        if line.startswith("graft ")
    }
    read = {"tests"} | {
        m.group(1).split("/")[0]
        for p in (ROOT / "tests").glob("*.py")
        for m in re.finditer(r'ROOT / "([^"]+)"', p.read_text(encoding="utf-8"))
    }
    folders = {name for name in read if (ROOT / name).is_dir() and name != "seqrun"}
    assert {"tests", "configs"} <= folders and folders <= grafted


def test_a_bare_pytest_collects_the_suite(tmp_path):
    """`pytest`, not only the README's `python -m pytest`, finds the suite's helper modules
    (`from tests.conftest import ...`): the console script does not put the current folder on
    sys.path (-P drops it here the same way)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run(
        [sys.executable, "-P", "-m", "pytest", "--collect-only", "-p", "no:cacheprovider"]
        + ["tests/test_samples.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout[-2000:]
    assert "test_a_bare_pytest_collects_the_suite" in r.stdout


def test_mr_snippets_sample_brings_its_columns(cli, tmp_path):
    from seqrun.core.config import config_from_dict

    raw = yaml.safe_load((ROOT / "configs" / "mr-pooling.yaml").read_text(encoding="utf-8"))
    for key in ("label_column", "label_type", "id_column"):
        raw["data"].pop(key, None)  # the sample's defaults fill them in
    cfg = config_from_dict(raw)
    assert (cfg.data.label_column, cfg.data.label_type, cfg.data.id_column) == (
        "score",
        "score",
        "id",
    )
    assert cfg.data.source == str(sample_path("mr-snippets"))
    raw["data"]["path"] = "elsewhere.tsv"
    path = tmp_path / "both.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    r = cli("config", "validate", path)
    assert r.exit_code == 2
    assert "exactly one of data.path and data.sample" in r.output
    # a recipe on the sample pointed at the user's file: the error names the fix
    config = ROOT / "configs" / "mr-multihot.yaml"
    r = cli("config", "validate", config, "--set", "data.path=tweets_GroundTruth.txt")
    assert r.exit_code == 2 and "--set data.sample=null" in r.stderr, r.output
    assert len([x for x in r.stderr.splitlines() if x.strip()]) == 1, r.stderr


def test_gzip_tables_are_read_like_plain_ones(tmp_path):
    from seqrun.core.errors import UserError
    from seqrun.data.text_table import read_table

    plain = tmp_path / "t.tsv"
    plain.write_text("id\tscore\ttext\n1\t2.5\tgood\n2\t-1\tbad\n", encoding="utf-8")
    packed = tmp_path / "t.tsv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_table(str(packed)) == read_table(str(plain))
    broken = tmp_path / "b.tsv.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    with pytest.raises(UserError, match="not a readable gzip file"):
        read_table(str(broken))
