"""Bad input of every kind: one line `error: ...` naming the key/file/line, exit code 2, and no
run directory (nor any file outside --runs-dir). Real files, real adapters, no mocks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, TINY_LADYBUG, write_config


def one_line_error(r, *needles: str) -> str:
    """Assert exit 2, a single `error:` line holding every needle, no traceback; the line."""
    assert r.exit_code == 2, (r.exit_code, r.output)
    lines = [x for x in r.stderr.splitlines() if x.strip() and not x.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    assert "Traceback" not in r.output
    return lines[0]


def no_run_left(root: Path) -> None:
    """Nothing at all was created under the runs directory."""
    assert not root.exists() or not any(root.rglob("*")), list(root.rglob("*"))


def check_everywhere(cli, tmp_path: Path, config: Path, sets: list[str], *needles: str) -> None:
    """`config validate` and `train` both refuse the config, and train leaves nothing."""
    args = [a for s in sets for a in ("--set", s)]
    one_line_error(cli("config", "validate", config, *args), *needles)
    runs = tmp_path / "runs"
    one_line_error(cli("train", config, *args, "--runs-dir", runs), *needles)
    no_run_left(runs)


# ----------------------------------------------------------------------------- config values


@pytest.mark.parametrize(
    ("sets", "needles"),
    [
        (["train.loss=msee"], ["train.loss", "unknown loss 'msee'", "did you mean 'mse'"]),
        (["train.loss=binary_crossentropy"], ["train.loss", "not a regression loss"]),
        (["train.monitor=accuracy"], ["train.monitor", "loss, mae"]),
        (["train.monitor=dev_maee"], ["train.monitor", "did you mean 'mae'"]),
        (["train.optimizer=adamm"], ["train.optimizer", "got 'adamm' (did you mean 'adam'?)"]),
        (["metrics=classification"], ["metrics", "regression task"]),
        (["metrics=sequence_regression"], ["metrics", "gives series", "forecast or regression"]),
        (["train.learning_rate=.inf"], ["train.learning_rate", "finite"]),
        (["train.learning_rate=.nan"], ["train.learning_rate"]),
        (["train.learning_rate=-0.1"], ["train.learning_rate", "greater than or equal to 1e-10"]),
        (["train.learning_rate=0"], ["train.learning_rate", "greater than or equal to 1e-10"]),
        (["train.clipnorm=.inf"], ["train.clipnorm", "finite"]),
        (["data.max_t=-.inf"], ["data.max_t"]),
        (["seed=-1"], ["seed", "0..4294967295"]),
        (["seed=4294967296"], ["seed", "0..4294967295"]),
        (["data.trajectory_seed=-5"], ["data.trajectory_seed", "0..4294967295"]),
        (["seed=" + "9" * 50], ["seed", "50 digits"]),
        (["seed=" + "9" * 5000], ["seed", "5000 digits"]),
        (["train.epochs=" + "9" * 25], ["train.epochs", "too large"]),
        (["train.batch_size=1e30"], ["train.batch_size"]),
        (["model.units=1e308"], ["model.units", "too large for a whole number at", "got 1e+308"]),
        (["train.batch_size=3000000000"], ["train.batch_size", "tensor dimension"]),
        (["data.sequence_len=100000000"], ["data.sequence_len", "activations per batch"]),
        (["model.units=100000000"], ["model.units", "memory", "recurrent weights"]),
        (["model.units=30000", "model.layers=20"], ["model.units", "memory"]),
        (["data.delta_t=1e-12"], ["data.delta_t", "trajectory points", "memory"]),
        (["data.max_t=1e15"], ["data.max_t", "trajectory points"]),
        (["name=../x"], ["name", "'../x'", "not a valid name"]),
        (["name=/abs/x"], ["name", "'/abs/x'"]),
        (["name=a/b"], ["name", "'a/b'"]),
        (["name=."], ["name", "'.'"]),
        (["name=.."], ["name", "'..'"]),
        (["name=a\x00b"], ["name", "not a valid name"]),
        (["name=" + "x" * 300], ["name", "300 characters"]),
        (["name=''"], ["name", "is empty"]),
        (["seed=true"], ["seed", "not a boolean"]),
        (["model.units=false"], ["model.units", "not a boolean"]),
        (["model.head_units=[1000000,1000000]"], ["model.head_units[1]", "memory"]),
        (["model.head_units=[0]"], ["model.head_units.0", "greater than 0"]),
        (["model.arch=fcn", "model.filters=[-1, 4]"], ["model.filters.0", "greater than 0"]),
        (["model.arch=fcn", "model.filters=[]"], ["model.filters", "at least 1 item"]),
        (["train.loss=categorical_crossentropy"], ["train.loss", "regression loss"]),
        (["train.loss=crossentropy"], ["train.loss", "unknown loss"]),
        (["train.monitor=val_accuracy"], ["train.monitor", "regression model"]),
        (["metrics=nope"], ["metrics", "unknown metrics 'nope'"]),
    ],
)
def test_bad_values_fail_before_any_run(cli, tmp_path, sets, needles):
    check_everywhere(cli, tmp_path, write_config(tmp_path, TINY_LADYBUG), sets, *needles)


@pytest.mark.parametrize(
    ("config", "key", "value"),
    [
        ("mr-gru", "data.path", "''"),
        ("mr-gru", "data.path", "' '"),
        ("gunpoint-gru", "data.path", "''"),
        ("gunpoint-gru", "data.test_path", "' '"),
        ("weather-synop-3h", "data.path", "''"),
        ("weather-synop-3h", "data.path", "[a.csv, '']"),
        ("weather-nyc-3h", "data.path", "' '"),
        ("imdb-gru", "data.path", "''"),
    ],
)
def test_a_blank_path_is_refused_not_read_as_the_working_directory(
    cli, tmp_path, config, key, value
):
    """Path('') is '.': an empty path was reported as "is a directory" and a blank one as a
    file not found, with nothing to read after the colon."""
    sets = [f"{key}={value}"]
    if config != "imdb-gru" and key == "data.path":  # imdb has no sample
        sets.insert(0, "data.sample=null")
    path = ROOT / "configs" / f"{config}.yaml"
    check_everywhere(cli, tmp_path, path, sets, key, "is empty: give the file's path")


def test_a_blank_word_vector_path_is_refused(cli, tmp_path):
    raw = {
        "name": "pe",
        "data": {"adapter": "text_table", "sample": "mr-snippets", "label_column": "score"},
        "encoder": {"type": "pretrained_embedding", "path": " ", "sequence_len": 8},
        "model": {"arch": "gru", "units": 4},
    }
    config = write_config(tmp_path, raw)
    check_everywhere(cli, tmp_path, config, [], "encoder.path", "is empty: give the file's path")


@pytest.mark.parametrize(
    ("sets", "key"),
    [
        (["data.interpolate.max_gap=true"], "data.interpolate.max_gap"),
        (["data.group={origin: no}"], "data.group"),
        (["data.neighbours.series=[JFK, on]"], "data.neighbours.series"),
    ],
)
def test_a_yaml_boolean_for_text_or_a_number_is_refused(cli, tmp_path, sets, key):
    """pydantic read true as 1 for a key taking text or a number: max_gap: true filled gaps of
    1 step, a group value NO (YAML's false) looked for the series '0'."""
    path = ROOT / "configs" / "weather-nyc-3h.yaml"
    check_everywhere(cli, tmp_path, path, sets, key, "not a boolean", "quote it")


def test_hostile_names_in_the_file_write_nothing_anywhere(cli, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("../x", "/abs/x", "a/b", "", ".", "..", "x/../../y", "a\\b", "\x00"):
        config = write_config(work, dict(TINY_LADYBUG, name=name))
        r = cli("train", config, "--runs-dir", work / "runs")
        line = one_line_error(r, "name")
        assert f"{config}:1 name" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in work.iterdir()) == ["exp.yaml"]


def test_file_stem_that_is_not_a_name(cli, tmp_path):
    raw = {k: v for k, v in TINY_LADYBUG.items() if k != "name"}
    config = write_config(tmp_path, raw, "bad name!.yaml")
    one_line_error(cli("config", "validate", config), "not a valid name", "set 'name'")


def test_path_name_validator_is_shared_and_public():
    from seqrun.core.errors import UserError
    from seqrun.core.runs import check_path_name

    assert check_path_name("ladybug-gru_2.1") == "ladybug-gru_2.1"
    for bad in ("../x", "/abs/x", "a/b", "", ".", "..", "a\x00", "-x", "x" * 101, 3):
        with pytest.raises(UserError) as e:
            check_path_name(bad, "study")
        assert e.value.where == "study"


# ----------------------------------------------------------------------------- YAML


def test_duplicate_key_reports_both_lines(cli, tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(
        "name: dup\ndata:\n  adapter: ladybug\n  scale: 0.02\n  scale: 0.05\nmodel: {arch: gru}\n"
    )
    line = one_line_error(cli("config", "validate", path), "data.scale", "lines 4 and 5")
    assert f"{path}:5" in line
    path.write_text(
        "name: dup\ndata: {adapter: ladybug}\nmodel: {arch: gru}\nmodel: {arch: lstm}\n"
    )
    one_line_error(cli("train", path, "--runs-dir", tmp_path / "runs"), "'model'", "lines 3 and 4")
    no_run_left(tmp_path / "runs")


@pytest.mark.parametrize(
    ("model", "line", "needles"),
    [  # the lines after `model:` (line 4) in a file of 10 lines or so: line 6 is bad
        ('  arch: gru\n  units: "64', 6, ["quote opened on line 6 is never closed", "add the"]),
        ("  arch: gru\n  units: '64", 6, ["quote opened on line 6 is never closed"]),
        ("  arch: gru\n  units: [64, 32", 6, ["'[' opened on line 6 is not closed: add ']'"]),
        ("  arch: gru\n  units: {a: 1", 6, ["'{' opened on line 6 is not closed: add '}'"]),
        ("  arch: gru\n  units 64\n  layers: 1", 6, ["line 6 has no ': ' after its key"]),
        ("  arch: gru\n   units: 64", 6, ["indent this line like the keys beside it"]),
        ("  arch: gru\n units: 64", 6, ["indent this line like the keys beside it"]),
        ("  arch: gru\n  units: a: b", 6, ["quote a value that holds ': '"]),
        ("  arch: gru\n  units: @64", 6, ["'@' that cannot start any token (quote a value"]),
        ("  arch: gru\n  units: *big", 6, ["undefined alias 'big' (quote a value that starts"]),
        ("  arch: gru\n  units: !!python/object 3", 6, ["remove the '!' tag, or quote the"]),
        ("  arch: gru\n  units: 6\x014", 6, ["control character ('\\x01')", "delete it"]),
        ("  arch: gru\n  units: 64\n]", 7, ["closing ']' that no bracket opened: remove it"]),
        ("  arch: gru\n---\n  units: 64", 6, ["more than one YAML document", "remove the '---'"]),
    ],
)
def test_yaml_syntax_errors_name_the_opening_line_and_the_fix(cli, tmp_path, model, line, needles):
    """PyYAML gives up at the end of the file for an unclosed quote, on the next line for an
    unclosed bracket or a key without ':': the line named is where it was opened, and each
    message says what to write."""
    path = tmp_path / "bad.yaml"
    head = "name: y\nseed: 0\ndata: {adapter: ladybug, scale: 0.02}\nmodel:\n"
    tail = "train:\n  epochs: 1\n  batch_size: 64\nmetrics: regression\n"
    path.write_text(f"{head}{model}\n{tail}")
    error = one_line_error(cli("config", "validate", path), "invalid YAML", *needles)
    assert error.startswith(f"error: {path}:{line}: "), error


def _bomb(levels: int = 9, under: str = "") -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    if not under:
        return "\n".join(lines) + "\n"
    return f"{under}:\n" + "".join(f"  {x}\n" for x in lines)


@pytest.mark.parametrize(
    "text",
    [
        _bomb(),
        "name: bomb\nmodel: {arch: gru}\n" + _bomb(under="data"),
        "name: b\ndata: {adapter: ladybug}\nmodel: {arch: gru}\n" + _bomb(under="train"),
    ],
)
def test_alias_bomb_fails_fast_without_expanding(cli, tmp_path, text):
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    t0 = time.perf_counter()
    r = cli("config", "validate", path)
    assert time.perf_counter() - t0 < 1.0
    one_line_error(r, "alias", str(path))


def test_recursive_alias_and_bomb_in_a_sweep(cli, tmp_path):
    path = tmp_path / "rec.yaml"
    path.write_text("name: r\ndata: &d {adapter: ladybug, x: *d}\nmodel: {arch: gru}\n")
    one_line_error(cli("config", "validate", path), "refers to itself")
    write_config(tmp_path, TINY_LADYBUG, "base.yaml")
    sweep = tmp_path / "sw.yaml"
    sweep.write_text("base: base.yaml\n" + _bomb(under="grid"))
    t0 = time.perf_counter()
    r = cli("sweep", sweep, "--list")
    assert time.perf_counter() - t0 < 1.0
    one_line_error(r, "alias")


def test_long_integer_names_the_key(cli, tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(
        "name: long\ndata: {adapter: ladybug}\nmodel:\n  arch: gru\n  units: " + "7" * 4400 + "\n"
    )
    line = one_line_error(cli("config", "validate", path), "model.units", "4400 digits")
    assert f"{path}:5" in line and len(line) < 400


# ----------------------------------------------------------------------------- sweeps


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ("random: {train.learning_rate: {uniform: [0.1, 0.001]}}\ntrials: 2", ["above high"]),
        ("random: {model.units: {int: [64, 8]}}\ntrials: 2", ["int low 64 is above high 8"]),
        ("random: {train.learning_rate: {loguniform: [0.0, 0.1]}}", ["loguniform", "> 0"]),
        ("random: {model.units: {uniform: [a, 3]}}", ["must be numbers"]),
        ("random: {model.units: {int: [1.5, 3]}}", ["whole numbers"]),
        ("random: {model.units: {uniform: [0, .inf]}}", ["finite"]),
        ("random: {model.units: {normal: [0, 1]}}", ["uniform|loguniform|int|choice"]),
        ("random: {model.units: {choice: []}}", ["non-empty"]),
        ("seeds: []", ["seeds", "empty"]),
        ("seeds: [0, -1]", ["seeds", "outside"]),
        ("seeds: [1, 1]", ["seeds", "twice"]),
        ("trials: 0\nrandom: {model.units: {int: [1, 8]}}", ["trials", "greater than or equal"]),
        ("trials: 1000000\nrandom: {model.units: {int: [1, 8]}}", ["trials"]),
        ("grid: {model.units: []}", ["no values"]),
        ("grid: {model.units: [4, 8, 4]}", ["grid 'model.units' lists 4 twice"]),
        ("grid: {seed: [0, 1]}\nseeds: [0, 1]", ["seeds", "grid varies seed too"]),
        ("name: ../../escape", ["name", "not a valid name"]),
        ("name: /tmp/escape", ["name", "not a valid name"]),
        ("grid: {model.units: [4]}\ngrid: {model.units: [8]}", ["duplicate key 'grid'"]),
        (
            "grid: {model.units: [4, 8]}\nrandom: {model.units: {int: [1, 3]}}",
            ["'model.units' is in both grid and random"],
        ),
        ("grid: {model.units: [4, 8]}\nset: [model.units=16]", ["fixes 'model.units'"]),
        ("grid: {}", ["grid is empty"]),
        ("random: {model.units: {int: [1, 8]}}", ["random: needs trials: N"]),
        ("random: {}\ntrials: 2", ["random is empty"]),
        ("grid: {model.units: [4, 8]}\ntrials: 3", ["trials counts the draws of random:"]),
        (
            "space: {model.units: {int: [4, 8]}}",
            [":2 space", "a study file: run it with seqrun tune"],
        ),
        ("gird: {model.units: [4, 8]}", [":2 gird: unknown key 'gird' (did you mean 'grid'?)"]),
        (
            "grid: {model.units: ["
            + ",".join(str(i) for i in range(1, 201))
            + "]}\nseeds: "
            + str(list(range(60))),
            ["12,000 trials"],
        ),
    ],
)
def test_bad_sweep_files(cli, tmp_path, body, needles):
    write_config(tmp_path, TINY_LADYBUG, "base.yaml")
    sweep = tmp_path / "sw.yaml"
    sweep.write_text(f"base: base.yaml\n{body}\n")
    runs = tmp_path / "runs"
    line = one_line_error(cli("sweep", sweep, "--runs-dir", runs), *needles)
    assert str(sweep) in line
    no_run_left(runs)
    assert not (tmp_path.parent / "escape").exists()


def test_a_command_line_set_of_a_varied_key_is_refused(cli, tmp_path):
    """Each trial's own value would silently win over the --set (as set: in the file is refused)."""
    write_config(tmp_path, TINY_LADYBUG, "base.yaml")
    sweep = tmp_path / "sw.yaml"
    sweep.write_text("base: base.yaml\ngrid: {model.units: [4, 8]}\nseeds: [0, 1]\n")
    study = tmp_path / "st.yaml"
    study.write_text("base: base.yaml\nspace: {model.units: {int: [4, 8]}}\n")
    runs = tmp_path / "runs"
    for command, file, key in (
        ("sweep", sweep, "model.units"),
        ("sweep", sweep, "seed"),
        ("tune", study, "model.units"),
    ):
        what = "sweep" if command == "sweep" else "study"
        r = cli(command, file, "--set", f"{key}=3", "--runs-dir", runs)
        one_line_error(r, str(file), f"--set {key}=3 fixes '{key}', which the {what} varies")
    assert cli("sweep", sweep, "--set", "train.epochs=1", "--list").exit_code == 0
    no_run_left(runs)


@pytest.mark.parametrize(
    ("base", "needles"),
    [
        ("nope.yaml", ["nope.yaml not found (base: is relative to the {what} file's folder"]),
        ("''", ["is empty: give the experiment file's path, relative to the {what} file"]),
        ("' '", ["is empty"]),
        (".", ["is a directory"]),
    ],
)
def test_a_sweep_or_study_base_that_is_no_file_names_the_base_line(cli, tmp_path, base, needles):
    """It was reported for trial 0 (sweep) or the base path alone (study): neither the file
    nor the base: key was named, and an empty base read as the file's own folder."""
    write_config(tmp_path, TINY_LADYBUG, "base.yaml")
    sweep = tmp_path / "sw.yaml"
    sweep.write_text(f"# a sweep\nbase: {base}\ngrid: {{model.units: [4, 8]}}\n")
    study = tmp_path / "st.yaml"
    study.write_text(f"# a study\nbase: {base}\nspace: {{model.units: {{int: [4, 8]}}}}\n")
    runs = tmp_path / "runs"
    for args, file, what in (
        (("sweep", sweep, "--list"), sweep, "sweep"),
        (("config", "validate", sweep), sweep, "sweep"),
        (("tune", study, "--runs-dir", runs), study, "study"),
        (("config", "validate", study), study, "study"),
    ):
        r = cli(*args)
        one_line_error(r, f"{file}:2 base: ", *(n.format(what=what) for n in needles))
    no_run_left(runs)


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        (
            "grid: {model.units: [4, 8]}",
            [
                " base: missing required key 'base'",
                "add 'base:' (Experiment file, relative to the sweep",
            ],
        ),
        (
            "seeds: [0, 1]",
            [
                " base: missing required key 'base'",
                "add 'base:' (Experiment file, relative to the sweep",
            ],
        ),
        (
            "space: {model.units: {int: [4, 8]}}",
            [
                " base: missing required key 'base'",
                "add 'base:' (Experiment file, relative to the study",
            ],
        ),
        ("bsae: base.yaml\ngrid: {model.units: [4, 8]}", [":1 bsae: unknown key 'bsae' (did"]),
    ],
)
def test_config_validate_knows_a_sweep_or_study_without_its_base(cli, tmp_path, body, needles):
    """It was checked as an experiment file: "unknown section 'grid'; valid sections: name,
    seed, data, ...", saying nothing of base:."""
    write_config(tmp_path, TINY_LADYBUG, "base.yaml")
    path = tmp_path / "sw.yaml"
    path.write_text(body + "\n")
    line = one_line_error(cli("config", "validate", path), str(path), *needles)
    assert "unknown section" not in line
    one_line_error(cli("train", path, "--runs-dir", tmp_path / "runs"), "not an experiment")
    no_run_left(tmp_path / "runs")


def test_an_experiment_file_given_as_a_sweep_or_study(cli, tmp_path):
    cfg = write_config(tmp_path, TINY_LADYBUG)
    for command, what in (("sweep", "sweep"), ("tune", "study")):
        r = cli(command, cfg, "--runs-dir", tmp_path / "runs")
        one_line_error(r, str(cfg), f"this is an experiment file; a {what} file names one with")
    no_run_left(tmp_path / "runs")


# ----------------------------------------------------------------------------- encodings


FRENCH = [
    ("Un été très chaud à Orly, température élevée", 4.5),
    ("Le café était froid, quel dommage", 1.0),
    ("Noël à la neige: ça réchauffe le cœur", 5.0),
    ("Déçu par la mise en scène, trop long", 2.0),
]


def write_table(path: Path, encoding: str, rows: int = 40, extra: str = "") -> Path:
    body = ["text\tscore"]
    for i in range(rows):
        text, score = FRENCH[i % len(FRENCH)]
        body.append(f"{text} {i}\t{score if i % 2 else -score}")
    path.write_bytes(("\n".join(body) + "\n" + extra).encode(encoding))
    return path


def table_cfg(path: Path, **data) -> dict:
    return {
        "name": "table",
        "data": {"adapter": "text_table", "path": str(path), "label_column": "score", **data},
        "encoder": {"type": "multi_hot", "vocab_size": 50},
        "model": {"arch": "dense", "units": 4, "layers": 1},
        "train": {"epochs": 1, "batch_size": 8},
    }


def load_table(raw: dict):
    from seqrun.core.config import config_from_dict
    from seqrun.data.text_table import TextTableAdapter

    return TextTableAdapter(config_from_dict(raw).data).load(("train", "dev", "test"))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_bom_selects_the_encoding(tmp_path, encoding, capsys):
    if encoding == "utf-16-be":  # the codec writes no BOM: add one
        path = tmp_path / "t.tsv"
        write_table(path, encoding)
        path.write_bytes(b"\xfe\xff" + path.read_bytes())
    else:
        path = write_table(tmp_path / "t.tsv", encoding)
    data = load_table(table_cfg(path))
    texts = [t for s in data.splits.values() for t in s.texts]
    assert any("été très chaud" in t for t in texts), texts[:3]
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["cp1252", "mac_roman"])
def test_spreadsheet_export_names_data_encoding_and_the_likely_one(cli, tmp_path, encoding):
    path = write_table(tmp_path / "t.tsv", encoding)
    config = write_config(tmp_path, table_cfg(path))
    runs = tmp_path / "runs"
    line = one_line_error(
        cli("train", config, "--runs-dir", runs), "data.encoding", f"set data.encoding: {encoding}"
    )
    assert f"{path}:2" in line
    no_run_left(runs)
    data = load_table(table_cfg(path, encoding=encoding))  # and the fix works
    assert any("Noël" in t for s in data.splits.values() for t in s.texts)


def test_unknown_encoding_and_stray_bytes(cli, tmp_path, capsys):
    path = write_table(tmp_path / "t.tsv", "utf-8")
    config = write_config(tmp_path, table_cfg(path, encoding="utf-9"))
    one_line_error(cli("config", "validate", config), "data.encoding", "'utf-9'")
    one_line_error(cli("train", config, "--runs-dir", tmp_path / "r"), "data.encoding", "utf-9")
    path.write_bytes(path.read_bytes() + b"stray \xff\xfe bytes\t1\n")
    load_table(table_cfg(path))
    err = capsys.readouterr().err
    assert "2 undecodable byte(s)" in err and "line 42" in err and "data.encoding" in err


def test_utf8_file_read_as_cp1252_warns(tmp_path, capsys):
    path = write_table(tmp_path / "t.tsv", "utf-8")
    load_table(table_cfg(path, encoding="cp1252"))
    assert "valid UTF-8" in capsys.readouterr().err


def series_csv(path: Path, values: np.ndarray, encoding: str = "utf-8", extra: str = "") -> Path:
    times = np.datetime64("2023-01-01T00:00") + np.arange(len(values)) * np.timedelta64(1, "h")
    lines = [f"heure{extra};température;pression"]
    for t, v in zip(times, values, strict=True):
        lines.append(f"{t}Z;{v:.2f};{1013 + v / 10:.1f}")
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def series_cfg(path: Path, **data) -> dict:
    return {
        "name": "series",
        "data": {
            "adapter": "timeseries_csv",
            "path": str(path),
            "time_column": "heure",
            "separator": ";",
            "sequence_len": 4,
            **data,
        },
        "model": {"arch": "gru", "units": 4},
        "train": {"epochs": 1},
    }


def load_series(raw: dict):
    from seqrun.core.config import config_from_dict
    from seqrun.data.timeseries_csv import TimeseriesCsvAdapter

    return TimeseriesCsvAdapter(config_from_dict(raw).data).load(("train", "dev", "test"))


def test_timeseries_csv_encodings(cli, tmp_path):
    temps = 10 + 5 * np.sin(np.arange(200) / 8)
    for enc in ("utf-16", "utf-8-sig"):
        data = load_series(series_cfg(series_csv(tmp_path / f"{enc}.csv", temps, enc)))
        assert data.feature_names == ["température", "pression"]
    path = series_csv(tmp_path / "mac.csv", temps, "mac_roman")
    config = write_config(tmp_path, series_cfg(path))
    line = one_line_error(
        cli("train", config, "--runs-dir", tmp_path / "runs"), "set data.encoding: mac_roman"
    )
    assert f"{path}:1" in line
    no_run_left(tmp_path / "runs")
    assert load_series(series_cfg(path, encoding="mac_roman")).feature_names[0] == "température"


def test_home_folder_in_data_path_and_runs_dir(cli, tmp_path, monkeypatch):
    """'~/...' means the home folder for every adapter and --runs-dir, as in a shell."""
    from seqrun.data.synop import expand_paths

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    temps = 10 + 5 * np.sin(np.arange(200) / 8)
    series_csv(tmp_path / "home" / "s.csv", temps)
    data = load_series(series_cfg(Path("~/s.csv")))
    assert data.feature_names == ["température", "pression"]
    assert expand_paths(["~/s.csv", "~/*.csv"]) == [tmp_path / "home" / "s.csv"]
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, TINY_LADYBUG)
    r = cli("train", config, "--runs-dir", "~/runs", "--quiet")
    assert r.exit_code == 0, r.output
    assert list((tmp_path / "home" / "runs").glob("*/*/meta.json"))
    assert not (tmp_path / "~").exists()


def _as_a_user_bound_by_permissions(args: list) -> subprocess.CompletedProcess:
    """``python -m seqrun ARGS`` bound by file permissions: as root, without the capabilities
    that bypass them (setpriv); skipped where that cannot be done."""
    cmd = [sys.executable, "-m", "seqrun", *map(str, args)]
    if os.geteuid() == 0:
        caps = "-dac_override,-dac_read_search,-fowner"
        if not shutil.which("setpriv"):
            pytest.skip("root, and no setpriv to drop the capabilities that bypass permissions")
        cmd = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--", *cmd]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if "setpriv:" in p.stderr:
        pytest.skip(f"setpriv cannot drop capabilities here: {p.stderr.strip()}")
    return p


def test_a_data_file_this_user_may_not_read_is_a_user_error(tmp_path):
    """A data file (or data folder) without read permission is exit 2 and one line naming the
    path, the key that gave it and the fix (it was 'error: PATH: Permission denied', exit 1),
    whatever the format."""
    temps = 10 + 5 * np.sin(np.arange(200) / 8)
    table = series_csv(tmp_path / "s.csv", temps)
    folder = tmp_path / "gunpoint"
    folder.mkdir()
    ts = folder / "train.ts.gz"
    shutil.copy(ROOT / "seqrun" / "samples" / "gunpoint_train.ts.gz", ts)
    gunpoint = ["--set", "data.sample=null", "--set", f"data.path={ts}"]
    cases = [
        ([write_config(tmp_path, series_cfg(table))], table, "data.path", "file"),
        ([ROOT / "configs" / "gunpoint-gru.yaml", *gunpoint], ts, "--set data.path", "file"),
        ([ROOT / "configs" / "gunpoint-gru.yaml", *gunpoint], folder, "--set data.path", "folder"),
    ]
    for args, blocked, key, what in cases:
        blocked.chmod(0)
        try:
            p = _as_a_user_bound_by_permissions(["data", "describe", *args])
        finally:
            blocked.chmod(0o755)
        assert p.returncode == 2, p.stderr
        (line,) = p.stderr.strip().splitlines()
        assert line.startswith(f"error: {key}: ") or key == "data.path", line
        assert f"{blocked}: permission denied: this user may not read the {what}" in line
        assert "chmod a+r" in line and "Traceback" not in p.stderr


def test_timeseries_csv_empty_file_semicolons_and_a_target_twice(tmp_path):
    from seqrun.core.errors import UserError

    temps = 10 + 5 * np.sin(np.arange(200) / 8)
    path = series_csv(tmp_path / "s.csv", temps)
    text = path.read_text(encoding="utf-8")
    cases = [
        ("", {}, "the file is empty (no header row)"),
        # a spreadsheet's ';' export with decimal commas, read with the default separator
        (text.replace(".", ","), {"separator": ","}, "set data.separator: ';' (and data.decimal"),
        (text, {"targets": ["pression", "pression"]}, "targets listed twice: pression"),
    ]
    rows = text.splitlines()
    dated = [rows[0].replace("heure", "heure;poste")] + [
        f"{r[:10]};A;{r.split(';', 1)[1]}"
        for r in rows[1:]  # the hours cut off
    ]
    cases += [
        ("Relevés horaires\n" + text, {}, "the header seems to be on line 2: delete the line"),
        ("\n".join(dated), {"group": {"poste": "A"}}, "are the hours missing from the time"),
        (text, {"separator": ";;"}, "set data.separator: ';'"),  # a regex: no pandas warning
    ]
    for content, data, needle in cases:
        path.write_text(content, encoding="utf-8")
        with pytest.raises(UserError) as e, warnings.catch_warnings():
            warnings.simplefilter("error")  # one line: no warning leaks out
            load_series(series_cfg(path, **data))
        assert needle in e.value.message, (needle, e.value.message)


def test_timeseries_csv_row_with_a_field_left_out(cli, tmp_path):
    """pandas would pad the row at its end: the pressure would be read as the temperature."""
    temps = 10 + 5 * np.sin(np.arange(200) / 8)
    path = series_csv(tmp_path / "short.csv", temps)
    lines = path.read_text(encoding="utf-8").splitlines()
    for i in (120, 130):  # lines 121 and 131: the temperature left out
        t, _, p = lines[i].split(";")
        lines[i] = f"{t};{p}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = write_config(tmp_path, series_cfg(path))
    line = one_line_error(
        cli("train", config, "--runs-dir", tmp_path / "runs"),
        "2 fields, the header has 3 (and 1 more rows)",
        "write a missing value as an empty field",
    )
    assert f"{path}:121" in line
    no_run_left(tmp_path / "runs")
    lines[120] = lines[120].replace(";", ";;")  # an empty field is a missing value
    lines[130] = lines[130].replace(";", ";;")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert load_series(series_cfg(path)).feature_names == ["température", "pression"]


def test_timeseries_csv_old_mac_line_ends_and_a_long_extra_field(cli, tmp_path):
    """A file whose lines end in CR alone reads as the LF one (it was an internal error, exit
    1); a row with an extra field longer than csv's default limit is refused like a short one
    (the limit's csv.Error left the row-length check unmade: the field was dropped)."""
    import csv

    temps = 10 + 5 * np.sin(np.arange(200) / 8)
    path = series_csv(tmp_path / "s.csv", temps)
    text = path.read_text(encoding="utf-8")
    expected = load_series(series_cfg(path))
    limit = csv.field_size_limit(131_072)  # csv's default (another reader may have raised it)
    try:
        path.write_text(text.replace("\n", "\r"), encoding="utf-8", newline="")
        got = load_series(series_cfg(path))
        assert got.feature_names == expected.feature_names and got.sizes() == expected.sizes()
        lines = text.splitlines()
        lines[1] += ";" + "x" * 200_000  # the first row: pandas drops the field unsaid
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        config = write_config(tmp_path, series_cfg(path))
        line = one_line_error(
            cli("data", "describe", config), f"{path}:2", "4 fields, the header has 3"
        )
        assert len(line) < 400
    finally:
        csv.field_size_limit(limit)


def test_synop_row_with_a_field_over_the_csv_limit(cli, tmp_path):
    """An internal error (exit 1: "field larger than field limit (131072)") in the row-length
    check; now the row is named like one with a short extra field."""
    import csv
    import gzip

    raw = gzip.decompress((ROOT / "seqrun" / "samples" / "synop_orly_2023.csv.gz").read_bytes())
    lines = raw.decode("latin-1").split("\n")
    lines[1] = lines[1].rstrip("\r") + ";" + "x" * 200_000 + "\r"
    path = tmp_path / "synop.csv"
    path.write_bytes("\n".join(lines).encode("latin-1"))
    config = ROOT / "configs" / "weather-synop-3h.yaml"
    limit = csv.field_size_limit(131_072)  # csv's default (another reader may have raised it)
    try:
        r = cli(
            "data", "describe", config, "--set", "data.sample=null", "--set", f"data.path={path}"
        )
    finally:
        csv.field_size_limit(limit)
    line = one_line_error(r, str(path), "line 2 has 83 fields, the header 82")
    assert len(line) < 400


@pytest.mark.parametrize(
    ("config", "sample", "sets"),
    [
        ("mr-gru", "mr_snippets.tsv.gz", []),
        ("weather-nyc-3h", "nyc_weather_2013.csv.gz", ["data.time_column=time_hour"]),
        ("weather-synop-3h", "synop_orly_2023.csv.gz", []),
        ("gunpoint-gru", "gunpoint_train.ts.gz", []),
    ],
)
def test_a_gzip_cut_short_says_so_and_what_to_do(cli, tmp_path, config, sample, sets):
    """zlib's words alone ("Compressed file ended before the end-of-stream marker was
    reached") said neither that the file is incomplete nor what to do."""
    data = (ROOT / "seqrun" / "samples" / sample).read_bytes()
    path = tmp_path / sample.replace("_train", "_TRAIN")
    path.write_bytes(data[: len(data) // 2])
    args = [a for s in ["data.sample=null", f"data.path={path}", *sets] for a in ("--set", s)]
    one_line_error(
        cli("data", "describe", ROOT / "configs" / f"{config}.yaml", *args),
        f"{path}: not a readable gzip file",
        "it is cut short (an interrupted copy or download?); copy or download it again",
    )
    path.write_bytes(data[:100] + bytes(64) + data[164:])  # damaged inside
    one_line_error(
        cli("data", "describe", ROOT / "configs" / f"{config}.yaml", *args),
        "not a readable gzip file (Error -3 while decompressing data",
        "it is damaged; copy or download it again",
    )


def test_a_ts_file_cut_inside_its_last_line_says_so(cli, tmp_path):
    """A .ts file cut short (a download or copy) failed on its last line with "no label after
    the values" or "2 dimension(s), @dimensions says 6" alone."""
    import gzip

    raw = gzip.decompress((ROOT / "seqrun" / "samples" / "basicmotions_train.ts.gz").read_bytes())
    path = tmp_path / "BasicMotions_TRAIN.ts"
    config = ROOT / "configs" / "basicmotions-gru.yaml"
    test = ROOT / "seqrun" / "samples" / "basicmotions_test.ts.gz"
    args = ["--set", "data.sample=null", "--set", f"data.path={path}"]
    args += ["--set", f"data.test_path={test}"]
    cut = raw[: len(raw) * 2 // 3]
    path.write_bytes(cut)
    last = len(cut.decode().splitlines())
    one_line_error(
        cli("data", "describe", config, *args),
        f"{path}:{last}: ",
        "; the file ends inside this line: is it cut short? Copy or download it again",
    )
    path.write_bytes(cut + b"\n")  # a line end after it: a bad line, not a cut file
    line = one_line_error(cli("data", "describe", config, *args), f"{path}:{last}: ")
    assert "cut short" not in line


# ----------------------------------------------------------------------------- labels, targets


def test_one_non_number_in_a_score_column_names_the_line(cli, tmp_path):
    # (n/a, NaN, null... are missing labels, dropped with a warning like empty ones)
    path = write_table(tmp_path / "t.tsv", "utf-8", rows=60, extra="un film sans note\tunrated\n")
    config = write_config(tmp_path, table_cfg(path))
    line = one_line_error(
        cli("train", config, "--runs-dir", tmp_path / "runs"), "'unrated'", "data.label_type"
    )
    assert f"{path}:62" in line
    no_run_left(tmp_path / "runs")
    original = path.read_text()
    for bad in ("inf",):
        path.write_text(original.replace("\tunrated", f"\t{bad}"))
        one_line_error(cli("train", config, "--runs-dir", tmp_path / "runs"), repr(bad))


def test_too_many_classes_names_the_column_count_and_fix(cli, tmp_path):
    path = tmp_path / "many.tsv"
    rows = [f"text number {i}\tclass{i % 1418}" for i in range(3000)]
    path.write_text("text\tlabel\n" + "\n".join(rows) + "\n")
    raw = table_cfg(path, label_column="label")
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    one_line_error(r, "data.label_column", "'label'", "1,418", "too many classes")
    no_run_left(tmp_path / "runs")
    path.write_text("text\tscore\n" + "".join(f"t {i}\t{i}.5\n" for i in range(60)))
    raw = table_cfg(path, label_type="names")
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    one_line_error(r, "60 distinct values", "data.label_type: score")


def test_constant_target_is_an_error(cli, tmp_path):
    path = series_csv(tmp_path / "c.csv", np.full(200, 7.0))
    config = write_config(tmp_path, series_cfg(path, targets="température"))
    one_line_error(
        cli("train", config, "--runs-dir", tmp_path / "runs"), "data.targets", "constant"
    )
    no_run_left(tmp_path / "runs")


def test_mixed_units_in_a_column_are_flagged(tmp_path, capsys):
    rng = np.random.default_rng(0)
    celsius = 12 + 6 * np.sin(np.arange(400) / 20) + rng.normal(0, 1, 400)
    mixed = np.where(np.arange(400) < 250, celsius + 273.15, celsius)  # kelvin, then °C
    load_series(series_cfg(series_csv(tmp_path / "m.csv", mixed)))
    err = capsys.readouterr().err
    assert "warning: column 'température'" in err and "mix units" in err
    load_series(series_cfg(series_csv(tmp_path / "ok.csv", celsius)))
    assert "mix units" not in capsys.readouterr().err


def test_mixed_units_detector_on_real_sample_is_quiet():
    import gzip

    from seqrun.data.quality import mixed_units
    from seqrun.data.timeseries_csv import sample_path

    lines = gzip.decompress(sample_path("nyc-weather-2013").read_bytes()).decode().splitlines()
    header = lines[0].split(",")
    rows = [x.split(",") for x in lines[1:]]
    for j, name in enumerate(header):
        try:
            col = np.array([float(r[j]) if r[j] not in ("", "NA") else np.nan for r in rows])
        except ValueError:
            continue
        assert mixed_units(col) is None, name
    temp = np.array([float(r[header.index("temp")]) for r in rows if r[header.index("temp")]])
    kelvin = (temp - 32) * 5 / 9 + 273.15
    assert "around" in mixed_units(np.concatenate([kelvin[:3000], (temp[3000:] - 32) * 5 / 9]))


def test_auc_monitor_on_three_classes_fails_before_the_run(cli, tmp_path):
    path = tmp_path / "three.tsv"
    words = {"a": "good great fine", "b": "bad awful poor", "c": "meh average so so"}
    rows = [f"{words[c]} {i}\t{c}" for i in range(60) for c in "abc"]
    path.write_text("text\tlabel\n" + "\n".join(rows) + "\n")
    raw = table_cfg(path, label_column="label")
    raw["train"] = {"epochs": 1, "monitor": "auc"}
    config = write_config(tmp_path, raw)
    assert cli("config", "validate", config).exit_code == 0  # the class count needs the data
    r = cli("train", config, "--runs-dir", tmp_path / "runs")
    one_line_error(r, "train.monitor", "3-class", "loss, accuracy")
    no_run_left(tmp_path / "runs")


@pytest.mark.parametrize("loss", ["binary_crossentropy", "hinge", "squared_hinge"])
def test_a_two_class_loss_on_three_classes_fails_before_the_run(cli, tmp_path, loss):
    """hinge on a softmax broadcast (batch,) against (batch, 3) into a TensorFlow stack dump."""
    path = tmp_path / "three.tsv"
    rows = [f"word{c} text {i}\t{c}" for i in range(30) for c in "abc"]
    path.write_text("text\tlabel\n" + "\n".join(rows) + "\n")
    raw = table_cfg(path, label_column="label")
    raw["train"] = {"epochs": 1, "loss": loss}
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    one_line_error(r, "train.loss", f"'{loss}'", "3-class", "sparse_categorical_crossentropy")
    no_run_left(tmp_path / "runs")


# ----------------------------------------------------------------------------- runs on disk


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from seqrun.core.config import config_from_dict
    from seqrun.engine.trainer import train

    root = tmp_path_factory.mktemp("trained")
    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=1))
    result = train(config_from_dict(raw), root / "runs", quiet=True)
    return Path(result["run_dir"])


def _copy_run(trained: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "runs" / trained.parent.name / trained.name
    shutil.copytree(trained, dest)
    return dest


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_checkpoint_one_line_status_unchanged(cli, trained, tmp_path, damage):
    run = _copy_run(trained, tmp_path)
    best = run / "checkpoints" / "best.keras"
    data = best.read_bytes()
    best.write_bytes(
        {"truncate": data[: len(data) // 2], "garbage": b"\x00junk" * 100, "empty": b""}[damage]
    )
    meta_before = (run / "meta.json").read_text()
    line = one_line_error(cli("evaluate", run, "--split", "dev"), str(best), "corrupt")
    assert "not found" not in line
    assert (run / "meta.json").read_text() == meta_before
    assert not (run / "metrics" / "dev-best.json").exists()


def test_an_evaluate_whose_predictions_cannot_be_written_leaves_the_split_unscored(
    cli, trained, tmp_path
):
    """A write of evaluate that fails (a full disk; here a folder where predictions/test.npz
    goes) is one line naming the file, and metrics/test.json, what the tables show, is not
    written (it was, before the failure: runs list showed test scores of a failed evaluate)."""
    run = _copy_run(trained, tmp_path)
    blocked = run / "predictions" / "test.npz"
    (blocked / "x").mkdir(parents=True)
    meta_before = (run / "meta.json").read_text()
    r = cli("evaluate", run, "--split", "test")
    assert r.exit_code == 1, r.output
    lines = [x for x in r.stderr.splitlines() if x.startswith("error: ")]
    assert lines == [f"error: {blocked}: Is a directory"], r.stderr
    assert not (run / "metrics" / "test.json").exists()
    assert (run / "meta.json").read_text() == meta_before
    rows = json.loads(cli("runs", "list", "--runs-dir", tmp_path / "runs", "--json").stdout)
    assert [row["status"] for row in rows] == ["completed"] and not rows[0].get("test")


def test_a_checkpoint_this_user_may_not_read_is_not_called_corrupt(trained, tmp_path):
    """An unreadable best.keras was 'truncated or corrupt ... use the other checkpoint' (exit
    2, a wrong cause and fix); it is a permission to give, named with its path."""
    run = _copy_run(trained, tmp_path)
    best = run / "checkpoints" / "best.keras"
    best.chmod(0)
    try:
        p = _as_a_user_bound_by_permissions(["evaluate", run, "--split", "dev"])
    finally:
        best.chmod(0o644)
    assert p.returncode == 2, p.stderr
    line = p.stderr.strip().splitlines()[-1]
    assert f"{best}: permission denied: this user may not read the file" in line, line
    assert "corrupt" not in line and "Traceback" not in p.stderr


def test_corrupt_checkpoint_on_resume_keeps_the_status(cli, trained, tmp_path):
    run = _copy_run(trained, tmp_path)
    meta = json.loads((run / "meta.json").read_text())
    meta["status"] = "interrupted"
    (run / "meta.json").write_text(json.dumps(meta))
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    ckpt = run / "checkpoints" / state["checkpoint"]
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    r = cli("train", "--resume", run)
    line = one_line_error(r, ckpt.name, "corrupt")
    assert "not found" not in line
    assert json.loads((run / "meta.json").read_text())["status"] == "interrupted"
    (run / "checkpoints" / "state.json").write_text("{not json")
    one_line_error(cli("train", "--resume", run), "state.json", "unreadable")
    assert json.loads((run / "meta.json").read_text())["status"] == "interrupted"


@pytest.mark.parametrize("content", ["{trunc", "", "[1, 2]", "{}", '{"status": 5}'])
def test_unreadable_meta_refuses_resume_and_warns_elsewhere(cli, trained, tmp_path, content):
    run = _copy_run(trained, tmp_path)
    (run / "meta.json").write_text(content)
    one_line_error(cli("train", "--resume", run), str(run), "cannot be continued")
    assert (run / "meta.json").read_text() == content  # not rewritten without its provenance
    r = cli("runs", "show", run)
    assert r.exit_code == 0 and "status and provenance are unknown" in r.stderr


def test_a_meta_json_section_of_the_wrong_type_is_not_a_crash(cli, trained, tmp_path):
    """meta.json whose 'data' is not an object (a hand edit) was an AttributeError (exit 1) in
    evaluate and a ValueError in report: the run is still scored and reported."""
    run = _copy_run(trained, tmp_path)
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "data": "x"}))
    r = cli("evaluate", run, "--split", "dev")
    assert r.exit_code == 0, r.output
    r = cli("report", run)
    assert r.exit_code == 0 and (run / "report.html").is_file(), r.output


def test_runs_list_skips_unreadable_meta_with_a_warning(cli, trained, tmp_path):
    good = _copy_run(trained, tmp_path)
    runs = tmp_path / "runs"
    for i, content in enumerate(["{trunc", "[1, 2]", "", "\xff\xfe"]):
        bad = runs / "broken" / f"20240101-00000{i}-abcdef"
        bad.mkdir(parents=True)
        (bad / "meta.json").write_text(content, encoding="latin-1")
    odd = runs / "odd" / "20240101-000009-abcdef"
    odd.mkdir(parents=True)
    (odd / "meta.json").write_text(json.dumps({"status": 3, "pid": "x", "overrides": 5}))
    r = cli("runs", "list", "--runs-dir", runs)
    assert r.exit_code == 0, r.output
    assert good.name in r.stdout and odd.name in r.stdout
    warnings = [x for x in r.stderr.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 4 and all("meta.json" in w for w in warnings), r.stderr
    r = cli("runs", "list", "--runs-dir", runs, "--json")
    assert {row["id"] for row in json.loads(r.stdout)} == {good.name, odd.name}


def test_runs_list_warns_about_a_completed_run_missing_its_files(cli, trained, tmp_path):
    run = _copy_run(trained, tmp_path)
    r = cli("runs", "list", "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0 and "warning" not in r.stderr, r.output
    (run / "checkpoints" / "best.keras").unlink()
    (run / "metrics" / "dev.json").write_text("{trunc", encoding="utf-8")
    r = cli("runs", "list", "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0 and run.name in r.stdout, r.output  # still listed
    (warning,) = [x for x in r.stderr.splitlines() if x.startswith("warning:")]
    assert str(run) in warning and "completed, but" in warning
    assert "checkpoints/best.keras is missing" in warning
    assert "metrics/dev.json is unreadable" in warning


def test_corrupt_config_sweep_and_study_files_are_one_line(cli, trained, tmp_path):
    run = _copy_run(trained, tmp_path)
    (run / "config.yaml").write_text("name: [unclosed\n")
    for args in (("report", run), ("runs", "compare", trained, run)):
        one_line_error(cli(*args), f"{run / 'config.yaml'}:", "invalid YAML")
    (run / "config.yaml").write_bytes(b"\xff\xfe\x00")
    for args in (("report", run), ("runs", "compare", trained, run)):
        one_line_error(cli(*args), f"{run / 'config.yaml'}", "not UTF-8")
    sweep = tmp_path / "runs" / "_sweeps" / "s"
    sweep.mkdir(parents=True)
    for content, needle in (('{"trials": {"0": {"st', "unreadable (JSONDecodeError"),
                            ("[]", "does not hold a JSON object")):  # fmt: skip
        (sweep / "sweep.json").write_text(content)
        r = cli("runs", "compare", "--sweep", sweep)
        one_line_error(r, str(sweep / "sweep.json"), needle, "rerunning the sweep skips")
    study = tmp_path / "runs" / "_studies" / "st"
    study.mkdir(parents=True)
    (study / "study.json").write_text("{")
    one_line_error(cli("report", study), str(study / "study.json"), "unreadable")
    for content in ('{"x": 5}', '{"study_file": 5}'):  # was a KeyError, a TypeError (exit 1)
        (study / "study.json").write_text(content)
        one_line_error(cli("report", study), str(study / "study.json"), "no usable study_file")


def test_sweep_json_entries_of_another_shape_are_skipped(cli, trained, tmp_path):
    """sweep.json with a trial that is not an object, a key that is not a trial number or a
    run_dir that is not a path (hand edits; `seqrun sweep` keeps and skips them) was an
    AttributeError, ValueError or TypeError (exit 1) in `runs compare --sweep` and `runs list`;
    the good trials are still read."""
    run = _copy_run(trained, tmp_path)
    sweep = tmp_path / "runs" / "_sweeps" / "s"
    sweep.mkdir(parents=True)
    good = {"status": "completed", "run_dir": str(run)}
    trials = {"0": good, "1": "x", "abc": good, "2": {"status": "completed", "run_dir": 5}}
    (sweep / "sweep.json").write_text(json.dumps({"trials": trials}))
    r = cli("runs", "list", "--runs-dir", sweep, "--json")
    assert r.exit_code == 0, r.output
    assert [row["id"] for row in json.loads(r.stdout)] == [run.name]
    r = cli("runs", "compare", "--sweep", sweep, trained)
    assert r.exit_code == 0, r.output


def test_predict_on_a_series_run_is_one_line(cli, trained, tmp_path):
    """A series run cannot predict new examples: its adapter cannot read them from a file and
    its encoder cannot encode them alone; each says so in one line, and the run is untouched."""
    run = _copy_run(trained, tmp_path)
    before = (run / "meta.json").read_text()
    inputs = tmp_path / "new.txt"
    inputs.write_text("1 2\n3 4\n")
    one_line_error(cli("predict", run, "--input", inputs), "--input", "cannot predict from a file")
    one_line_error(cli("predict", run, "0.5 0.5"), "predict", "seqrun evaluate")
    assert (run / "meta.json").read_text() == before
    assert not (run / "predictions" / "test.npz").exists()


def test_more_local_processes_than_cpus(cli, tmp_path):
    """--nproc / --workers of 999 would start 999 TensorFlow processes on this machine."""
    import yaml

    config = write_config(tmp_path, TINY_LADYBUG)
    runs = tmp_path / "runs"
    sweep = tmp_path / "sw.yaml"
    sweep.write_text(yaml.safe_dump({"base": config.name, "grid": {"model.units": [4, 8]}}))
    study = tmp_path / "st.yaml"
    space = {"model.units": {"int": [4, 8]}}
    study.write_text(yaml.safe_dump({"base": config.name, "space": space, "trials": 2}))
    for args in (
        ["train", config, "--nproc", "999"],
        ["sweep", sweep, "--workers", "999"],
        ["tune", study, "--workers", "999"],
    ):
        one_line_error(cli(*args, "--runs-dir", runs), "999 processes are more than", "CPUs")
    no_run_left(runs)


def test_runs_dir_that_is_a_file(cli, tmp_path):
    config = write_config(tmp_path, TINY_LADYBUG)
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    one_line_error(cli("train", config, "--runs-dir", blocker), "--runs-dir", str(blocker))
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("payload", "needles"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, ["zip archive", ".xlsx"]),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, [".xls"]),
        (b"text\tscore\nabc\x00\x01\x02\x03\x00\t1\n", ["binary file", "export the data as TSV"]),
        ("text\tscore\nnice film\t1\n".encode("utf-16-le"), ["set data.encoding: utf-16-le"]),
    ],
)
def test_binary_and_bomless_utf16_tables(cli, tmp_path, payload, needles):
    path = tmp_path / "t.tsv"
    path.write_bytes(payload)
    r = cli("train", write_config(tmp_path, table_cfg(path)), "--runs-dir", tmp_path / "runs")
    one_line_error(r, str(path), *needles)
    no_run_left(tmp_path / "runs")


def test_unclosed_quote_names_its_line_and_valid_multiline_rows_pass(cli, tmp_path):
    from seqrun.core.errors import UserError
    from seqrun.data.text_table import parse_table

    rows = [f"nice film {i},{i % 2}" for i in range(20)]
    rows[7] = '"a quote never closed, 1'
    text = "text,score\n" + "\n".join(rows) + "\n"
    with pytest.raises(UserError, match="never closed: the 13 lines to the end") as e:
        parse_table(text, "t.csv", "csv")
    assert e.value.where == "t.csv:9"
    ok = 'text,score\nfine,1\n"a text over\ntwo lines, ""quoted""",0\n'
    columns, parsed, lines = parse_table(ok, "t.csv", "csv")
    assert parsed[-1]["text"] == 'a text over\ntwo lines, "quoted"' and lines == [2, 3]
    path = tmp_path / "t.csv"
    path.write_text(text)
    cfg = write_config(tmp_path, table_cfg(path))
    one_line_error(cli("data", "describe", cfg), f"{path}:9", "never closed")


@pytest.mark.parametrize("nl, end", [("\n", "\n"), ("\n", ""), ("\r\n", "\r\n")])
def test_unclosed_quote_on_the_last_line_alone(nl, end):
    """A quote opened on the file's last line swallows no other line, yet the row is still
    malformed (its label read into the text): the same error, not a silent row."""
    from seqrun.core.errors import UserError
    from seqrun.data.text_table import parse_table

    text = f'text,score{nl}fine,1{nl}"never closed, 0{end}'
    with pytest.raises(UserError, match="never closed; close the quote") as e:
        parse_table(text, "t.csv", "csv")
    assert e.value.where == "t.csv:3"
    ok = f'text,score{nl}fine,1{nl}"quoted, fine",0{end}'
    assert parse_table(ok, "t.csv", "csv")[1][-1] == {"text": "quoted, fine", "score": "0"}


def test_classes_listed_twice(cli, tmp_path):
    path = write_table(tmp_path / "t.tsv", "utf-8")
    raw = table_cfg(path, label_type="names", classes=["a", "a"])
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    one_line_error(r, "data.classes", "twice")


def test_a_class_without_training_examples_is_warned(tmp_path, capsys):
    from seqrun.data.base import warn_untrained_classes

    path = write_table(tmp_path / "t.tsv", "utf-8")
    found = load_table(table_cfg(path, label_type="names"))
    warn_untrained_classes(found)
    assert capsys.readouterr().err == ""
    classes = [*found.class_names, "9.0"]
    warn_untrained_classes(load_table(table_cfg(path, label_type="names", classes=classes)))
    err = capsys.readouterr().err
    assert "class 9.0 has no training example (1 of 5 classes)" in err


def test_corrupt_preprocessing_one_line(cli, trained, tmp_path):
    run = _copy_run(trained, tmp_path)
    for f in (run / "preprocessing").iterdir():
        f.write_text("{broken")
    meta_before = (run / "meta.json").read_text()
    one_line_error(cli("evaluate", run, "--split", "dev"), "preprocessing", "corrupt")
    assert (run / "meta.json").read_text() == meta_before


def test_several_problems_still_one_line(cli, tmp_path):
    raw = dict(TINY_LADYBUG, model={"arch": "gru", "unitz": 3, "layerz": 2, "units": -1})
    line = one_line_error(cli("config", "validate", write_config(tmp_path, raw)), "also")
    assert "model.unitz" in line and "model.layerz" in line and "model.units" in line


def test_size_checks_are_not_too_strict(cli):
    # the vocabulary keeps at most the distinct training words: a large cap is harmless
    r = cli("config", "validate", "configs/imdb-gru.yaml", "--set", "data.num_words=1000000000")
    assert r.exit_code == 0, r.output
    r = cli("config", "validate", "configs/ladybug-gru.yaml", "--set", "data.delta_t=1e-12")
    one_line_error(r, "data.delta_t = 1e-12", "raise data.delta_t")


def test_bad_thread_count_in_the_environment_names_the_variable(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQRUN_THREADS", "abc")
    r = cli("train", write_config(tmp_path, TINY_LADYBUG), "--runs-dir", tmp_path / "runs")
    line = one_line_error(r, "environment variable SEQRUN_THREADS")
    assert "'abc' is not a whole number of at least 1" in line
    assert not (tmp_path / "runs").exists()  # checked before any run directory


def test_runs_show_prints_a_bracketed_path_as_written(cli, trained, tmp_path):
    """rich read '[red]' in a runs directory's name as a style (the name lost it) and a
    closing tag as an error (MarkupError, exit 1)."""
    for name in ("a[red]b", "a[red]b[/red][/red]"):
        run = shutil.copytree(trained, tmp_path / name / trained.name)
        r = cli("runs", "show", run)
        assert r.exit_code == 0, r.output
        assert name in r.stdout


LONG = "x" * 5000


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (
            ["data", "describe", "configs/gunpoint-fcn.yaml", "--set", f"data.test_path={LONG}"],
            "--set data.test_path",
        ),
        (["data", "describe", "TABLE", "--set", f"data.path=/tmp/{LONG}/t.tsv"], "--set data.path"),
        (["runs", "list", "--runs-dir", LONG], "--runs-dir"),
        (["train", "CONFIG", "--runs-dir", f"{LONG}/runs"], "--runs-dir"),
        (["config", "validate", f"{LONG}.yaml"], "config"),
    ],
)
def test_a_path_too_long_for_the_file_system_names_its_option(cli, tmp_path, args, where):
    """ENAMETOOLONG is bad input (exit 2), not a failure: the line names the option or key,
    cuts the path to its ends and says to shorten it."""
    swap = {
        "TABLE": write_config(tmp_path, table_cfg(tmp_path / "t.tsv"), "table.yaml"),
        "CONFIG": write_config(tmp_path, TINY_LADYBUG),
    }
    line = one_line_error(cli(*[swap.get(a, a) for a in args]), f"error: {where}: ", "too long")
    assert "shorter path" in line and "xxx...xxx" in line and len(line) < 400, line


def test_predict_input_too_long_names_the_option(cli, tmp_path):
    table = write_table(tmp_path / "t.tsv", "utf-8")
    r = cli("train", write_config(tmp_path, table_cfg(table)), "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    run = next((tmp_path / "runs").glob("table/*/meta.json")).parent
    line = one_line_error(cli("predict", run, "--input", LONG), "error: --input: ", "too long")
    assert "shorter path" in line, line
