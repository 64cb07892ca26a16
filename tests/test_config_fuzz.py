"""Cases a config fuzzer found: each mutation of a valid experiment file (or its --set) is either
accepted or refused in one `error:` line that names the key and where it was written (exit 2),
never a traceback, an exit 1 or a silently accepted value that trains nothing."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import TINY_LADYBUG, write_config
from tests.test_bad_inputs import one_line_error

TINY_FCN = {
    "name": "tiny-fcn",
    "data": {"adapter": "sequences", "sample": "gunpoint"},
    "model": {"arch": "fcn", "filters": [4, 4, 4], "kernels": [3, 3, 3]},
    "metrics": "sequence_classification",
}


def _validate(cli, tmp_path, raw: dict, *sets: str):
    config = write_config(tmp_path, raw)
    return cli("config", "validate", config, *[x for s in sets for x in ("--set", s)])


# ----------------------------------------------------------------------------- component names


@pytest.mark.parametrize(
    ("sets", "needles"),
    [
        (["data.adapter=[ladybug]"], ["--set data.adapter=[ladybug]", "expected an adapter name"]),
        (["encoder.type={a: 1}"], ["--set encoder.type", "expected an encoder name", "dict"]),
        (
            ["model.arch=[gru, lstm]"],
            ["--set model.arch", "expected an arch name", "lstm, pooling"],
        ),
        (["model.arch=null"], ["model.arch", "got nothing (null)", "gru"]),
        (["data.adapter=LADYBUG"], ["data.adapter", "did you mean 'ladybug'"]),
        (["metrics=REGRESSION"], ["metrics", "did you mean 'regression'"]),
        (["model=null"], ["--set model=null", "empty section 'model'"]),
        (["metrics=null"], ["--set metrics=null", "empty key 'metrics'", "regression"]),
        (["train=[]"], ["--set train=[]", "expected a mapping for 'train'"]),
    ],
)
def test_component_names_that_are_not_names(cli, tmp_path, sets, needles):
    # was: a list/mapping name gave "TypeError: unhashable type: 'list'", exit 1; null gave
    # "unknown arch 'None'"; `train: []` was taken as no train section
    one_line_error(_validate(cli, tmp_path, TINY_LADYBUG, *sets), *needles)


def test_a_list_as_component_name_in_the_file_names_its_line(cli, tmp_path):
    path = write_config(tmp_path, dict(TINY_LADYBUG, model={"arch": ["gru"], "units": 8}))
    line = one_line_error(cli("config", "validate", path), "expected an arch name")
    assert f"{path}:" in line and "model.arch" in line


# ----------------------------------------------------------------------------- one short line


@pytest.mark.parametrize("key", ["model.units", "data.adapter", "name", "train.loss"])
def test_a_long_value_is_shown_cut(cli, tmp_path, key):
    # was: the whole 5,000-character --set was printed twice in the error line
    r = _validate(cli, tmp_path, TINY_LADYBUG, f"{key}={'x' * 5000}")
    line = one_line_error(r, key, "(5,000 characters)")
    assert len(line) < 500, len(line)


def test_control_characters_in_a_set_stay_on_one_line(cli, tmp_path):
    # was: the key's newline was printed as is, splitting the error over two lines
    r = _validate(cli, tmp_path, TINY_LADYBUG, "mo\ndel.units=5")
    one_line_error(r, "unknown section", "mo\\ndel")


def test_an_empty_file_says_so(cli, tmp_path):
    path = tmp_path / "empty.yaml"
    for text in ("", "# only a comment\n", "  \n\n"):
        path.write_text(text)
        one_line_error(cli("config", "validate", path), str(path), "holds no settings")


def test_a_file_too_large_for_a_config_is_not_read(cli, tmp_path, monkeypatch):
    """A data file given in place of the experiment file (or /dev/zero) was read whole and
    parsed as YAML: minutes and gigabytes before an unrelated error, or never an end."""
    from seqrun.core import config

    monkeypatch.setattr(config, "MAX_YAML_BYTES", 2000)
    path = tmp_path / "data.csv"
    path.write_text("time,temp\n" + "2024-01-01 00:00,1.5\n" * 200)
    for command in (("config", "validate"), ("sweep",), ("tune",)):
        one_line_error(cli(*command, path), f"{path}: the file is over 2,000 bytes", "a data file?")
    ok = write_config(tmp_path, TINY_LADYBUG)
    assert cli("config", "validate", ok).exit_code == 0


def test_deep_nesting_is_named(cli, tmp_path):
    path = write_config(tmp_path, TINY_LADYBUG)
    path.write_text(path.read_text() + "x: " + "[" * 5000 + "]" * 5000 + "\n")
    one_line_error(cli("config", "validate", path), "nested too deeply")


def test_a_scalar_for_a_list_shows_the_list(cli, tmp_path):
    r = _validate(cli, tmp_path, TINY_LADYBUG, "model.head_units=8,8")
    one_line_error(r, "model.head_units", "written in brackets: [8,8]")


def test_a_whole_section_check_names_the_set_that_broke_it(cli, tmp_path):
    r = _validate(cli, tmp_path, TINY_FCN, "model.filters=[4, 4]")
    one_line_error(r, ":5 model (with --set model.filters=[4, 4])", "3 sizes for 2 blocks")


def test_a_whole_section_check_names_only_a_set_it_can_blame(cli, tmp_path):
    # of two --set in the section, the one the message names
    r = _validate(cli, tmp_path, TINY_FCN, "model.filters=[4, 4]", "model.dropout=0.1")
    one_line_error(r, "(with --set model.filters=[4, 4])", "3 sizes for 2 blocks")
    assert "dropout" not in r.output
    # a message blaming another key of the section names no --set (was: the last one)
    raw = {
        "name": "t",
        "data": {"adapter": "timeseries_csv", "path": "x.csv", "targets": "temp"},
        "model": {"arch": "gru"},
        "metrics": "forecast",
    }
    r = _validate(cli, tmp_path, raw, "data.neighbours=null")
    one_line_error(r, "data.time_column is required")
    assert "--set" not in r.output
    r = _validate(cli, tmp_path, raw, "data.time_column=null")
    one_line_error(r, "(with --set data.time_column=null)")


def test_a_cross_key_check_names_the_set_that_broke_it(cli, tmp_path):
    raw = {
        "name": "i",
        "data": {"adapter": "imdb"},
        "encoder": "embedding",
        "model": {"arch": "gru"},
    }
    r = _validate(cli, tmp_path, raw, "data.index_from=1000000")
    one_line_error(r, "data.num_words (with --set data.index_from=1000000)")


def test_yaml_1_2_exponents_are_numbers_in_studies_and_sweeps(cli, tmp_path):
    # was: `1e-4` (YAML 1.1 text) made a study refuse "loguniform bounds must be numbers"
    base = write_config(tmp_path, TINY_LADYBUG, "base.yaml")
    sweep = tmp_path / "sw.yaml"
    sweep.write_text(
        f"base: {base.name}\nrandom:\n  train.learning_rate: {{loguniform: [1e-4, 1e-2]}}\n"
        "grid:\n  model.dropout: [1e-1]\ntrials: 2\n"
    )
    r = cli("sweep", sweep, "--list")
    assert r.exit_code == 0, r.output
    assert "--set model.dropout=0.1" in r.stdout
    from seqrun.core.config import load_config

    cfg = load_config(write_config(tmp_path, dict(TINY_LADYBUG, name="1e3x")))
    assert cfg.name == "1e3x"


# ----------------------------------------------------------------- values that train nothing


@pytest.mark.parametrize(
    ("sets", "needles"),
    [
        (["train.learning_rate=1e-300"], ["greater than or equal to 1e-10", "float32 rounding"]),
        (["train.learning_rate=0"], ["train.learning_rate", "greater than or equal to 1e-10"]),
        (["train.learning_rate=1e6"], ["less than or equal to 10", "diverges"]),
        (["train.learning_rate=1e308"], ["train.learning_rate", "less than or equal to 10"]),
        (["train.clipnorm=1e-300"], ["train.clipnorm", "move no weight"]),
        (["model.layers=1000000"], ["model.layers", "at most 100"]),
        (["model.arch=dense", "model.layers=101"], ["model.layers", "at most 100"]),
        (["model.head_units=[" + ",".join(["4"] * 101) + "]"], ["model.head_units", "100 items"]),
        (["model.head_units=[true]"], ["model.head_units", "not booleans"]),
    ],
)
def test_values_that_cannot_train_are_refused(cli, tmp_path, sets, needles):
    # was: accepted; learning_rate 1e-300 and clipnorm 1e-300 trained nothing (dev metrics
    # equal to the untrained model's), 1e308 failed after TensorFlow's start with a ValueError
    one_line_error(_validate(cli, tmp_path, TINY_LADYBUG, *sets), *needles)


def test_booleans_are_not_literal_numbers(cli, tmp_path):
    raw = {
        "name": "t",
        "data": {"adapter": "text_table", "sample": "mr-snippets"},
        "encoder": {"type": "multi_hot"},
        "model": {"arch": "dense"},
    }
    r = _validate(cli, tmp_path, raw, "encoder.ngrams=true")
    one_line_error(r, "encoder.ngrams", "not a boolean")
    r = _validate(cli, tmp_path, raw, "encoder.weighting=nb", "encoder.nb_alpha=1e308")
    one_line_error(r, "encoder.nb_alpha", "less than or equal to 1000", "close to 0")


@pytest.mark.parametrize(
    ("sets", "needles"),
    [
        (
            ["model.filters=[1000000, 1000000, 1000000]"],
            ["model.filters[1]", "convolution weights"],
        ),
        (["model.kernels=[1000000000, 3, 3]"], ["model.kernels[0]", "convolution weights"]),
        (["encoder.max_length=100000000"], ["encoder.max_length", "activations per batch"]),
        (["model={arch: conv_gru, kernel: 1000000000}"], ["model.kernel", "convolution weights"]),
        (["model={arch: conv_gru, units: 10000000}"], ["model.units", "recurrent weights"]),
    ],
)
def test_convolution_sizes_are_checked_before_training(cli, tmp_path, sets, needles):
    # was: accepted by config validate (no memory estimate for fcn / conv_gru)
    one_line_error(_validate(cli, tmp_path, TINY_FCN, *sets), *needles, "memory", "--set")


def test_options_of_the_default_encoder(cli, tmp_path):
    # was: "missing required key 'encoder.type'" for a config that leaves the encoder to the
    # adapter (a section made by --set held only max_length)
    r = _validate(cli, tmp_path, TINY_FCN, "encoder.max_length=64")
    assert r.exit_code == 0, r.output
    assert "encoder sequence_standardize" in r.stdout


def test_a_deep_stack_that_does_not_fit_blames_the_layers(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQRUN_MEMORY_BYTES", str(2**20))
    r = _validate(cli, tmp_path, TINY_LADYBUG, "model.layers=100", "model.units=32")
    one_line_error(r, "model.layers = 100", "(100 layers)", "lower model.layers")


# ----------------------------------------------------------------------------- warnings at fit


def test_a_max_length_that_cuts_most_steps_is_warned(capsys):
    from seqrun.encoders.sequences import SequenceStandardize, SequenceStandardizeConfig

    series = [np.arange(150, dtype=float).reshape(-1, 1) for _ in range(6)]
    enc = SequenceStandardize(SequenceStandardizeConfig(max_length=1))
    enc.fit(series, np.array([0, 1] * 3), ["a", "b"], ["x"])
    err = capsys.readouterr().err
    assert "encoder.max_length 1 cuts 6 of 6 training series" in err and "1%" in err
    enc = SequenceStandardize(SequenceStandardizeConfig(max_length=120))
    enc.fit(series, np.array([0, 1] * 3), ["a", "b"], ["x"])
    assert "max_length" not in capsys.readouterr().err


def test_a_sequence_len_that_cuts_most_tokens_is_warned(capsys):
    from seqrun.encoders.text import Embedding, EmbeddingConfig

    ids = [list(range(2, 40))] * 5
    Embedding(EmbeddingConfig(sequence_len=1))._fit(ids, np.zeros(5, dtype=int), None)
    err = capsys.readouterr().err
    assert "encoder.sequence_len 1 cuts 5 of 5 training texts" in err and "3%" in err
    Embedding(EmbeddingConfig(sequence_len=30))._fit(ids, np.zeros(5, dtype=int), None)
    assert "sequence_len" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("sets", "needles"),
    [
        # was: "input should be a valid string at 'data.split.str' ... (also ... 'list[str].0'
        # ...; ... 'list[str].1' ...)", pydantic's union members as if they were keys
        (["data={adapter: timeseries_csv, targets: [1, 2]}"], ["expected text or a list of"]),
        (["data.split=5"], ["expected a mapping of keys (train, dev, test, kfold, fold)"]),
    ],
)
def test_union_and_section_types_are_said_in_words(cli, tmp_path, sets, needles):
    line = one_line_error(_validate(cli, tmp_path, TINY_LADYBUG, *sets), *needles)
    assert "list[str]" not in line and "also" not in line and "SplitFractions" not in line


def test_a_validator_quoting_a_long_value_is_cut(cli, tmp_path):
    raw = {
        "name": "w",
        "data": {"adapter": "synop", "sample": "synop-orly-2023", "freq": "3h"},
        "model": {"arch": "gru"},
    }
    line = one_line_error(_validate(cli, tmp_path, raw, f"data.freq={'x' * 5000}"), "data.freq")
    assert len(line) < 400, len(line)


def test_every_error_line_cuts_a_long_quoted_value():
    # was: a data-layer message ("no column 'x...x' in ...", data describe) repeated a
    # 5,000-character --set value in full
    from seqrun.core.errors import UserError

    text = str(UserError(f"no column '{'x' * 5000}' in t.csv", where="data.text_column"))
    assert text.startswith("data.text_column: no column 'xxx") and len(text) < 200, len(text)
    assert "(5,000 characters) in t.csv" in text
    keep = "loss 'x': seqrun's labels are class ids; the model's output is one number " * 2
    assert str(UserError(keep)) == keep


@pytest.mark.parametrize(
    ("sets", "needles"),
    [
        # was: "unknown section 'epochs'; valid sections: ..." / "unknown key 'model.epochs';
        # valid keys: ..." without saying where the key belongs
        (["epochs=3"], ["unknown section 'epochs'", "write it as train.epochs"]),
        (["model.epochs=3"], ["unknown key 'model.epochs'", "write it as train.epochs"]),
        (["train.patience=3"], ["write it as train.early_stopping.patience"]),
        (["train.units=3"], ["'units' is a key of 'model'"]),
        (["data.seed=3"], ["'seed' is a top-level key: write it as seed"]),
        (["model.dropuot=0.1"], ["did you mean 'dropout'"]),
        # a flow mapping without a space after the colon: one key 'units:8' with no value
        (["model={arch: gru, units:8}"], ["write 'units: 8' with a space after the colon"]),
    ],
)
def test_a_key_at_the_wrong_level_says_where_it_belongs(cli, tmp_path, sets, needles):
    one_line_error(_validate(cli, tmp_path, TINY_LADYBUG, *sets), *needles)


@pytest.mark.parametrize(("section", "tag"), [("model", "arch"), ("data", "adapter")])
def test_a_misspelled_component_key_is_named(cli, tmp_path, section, tag):
    # was: "missing required key 'model.arch'", not naming the 'arc' written in its place
    raw = dict(TINY_LADYBUG)
    raw[section] = {tag[:-1]: raw[section][tag]}
    path = write_config(tmp_path, raw)
    line = one_line_error(cli("config", "validate", path), f"did you mean '{tag}'")
    assert f"{section}.{tag[:-1]}" in line and f"{path}:" in line
