"""Config loading: validation, overrides, errors with file/line/key, schema and reference."""

from __future__ import annotations

import pytest
import yaml

from seqrun.core.config import (
    config_from_dict,
    json_schema,
    load_config,
    parse_override,
    reference_markdown,
    set_option,
)
from seqrun.core.errors import UserError
from tests.conftest import ROOT, TINY_LADYBUG, write_config


def test_shipped_configs_validate():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        cfg = load_config(path)
        assert cfg.name == path.stem, path


def test_course_gru_config_matches_the_course():
    cfg = load_config(ROOT / "configs" / "ladybug-gru.yaml")
    assert (cfg.model.arch, cfg.model.units, cfg.model.activation) == ("gru", 200, "relu")
    assert (cfg.train.optimizer, cfg.train.loss, cfg.train.batch_size) == ("rmsprop", "mse", 32)
    assert (cfg.train.epochs, cfg.data.sequence_len) == (5, 20)


def test_defaults_fill_encoder_and_metrics(tmp_path):
    raw = {"data": {"adapter": "ladybug"}, "model": {"arch": "lstm"}}
    cfg = load_config(write_config(tmp_path, raw, "x.yaml"))
    assert cfg.name == "x"
    assert cfg.encoder.type == "standardize" and cfg.encoder.mode == "scalar"
    assert cfg.metrics == "regression"
    assert cfg.data.split.train == 0.7 and cfg.data.split.test == 0.2


def test_unknown_key_suggests_closest_with_line(tmp_path):
    raw = dict(TINY_LADYBUG, model={"arch": "gru", "unitz": 3})
    path = write_config(tmp_path, raw)
    with pytest.raises(UserError) as e:
        load_config(path)
    text = str(e.value)
    assert "model.unitz" in text and "did you mean 'units'" in text
    line = next(i for i, s in enumerate(path.read_text().splitlines(), 1) if "unitz" in s)
    assert f"{path}:{line}" in text


def test_wrong_type_names_key_expected_and_given(tmp_path):
    path = write_config(tmp_path, dict(TINY_LADYBUG, train={"epochs": "many"}))
    with pytest.raises(UserError) as e:
        load_config(path)
    assert "train.epochs" in str(e.value) and "'many'" in str(e.value)
    assert "integer" in str(e.value)


def test_unknown_section_and_adapter(tmp_path):
    with pytest.raises(UserError, match="did you mean 'model'"):
        load_config(write_config(tmp_path, dict(TINY_LADYBUG, modle={})))
    raw = dict(TINY_LADYBUG, data={"adapter": "ladybg"})
    with pytest.raises(UserError, match="unknown adapter 'ladybg' \\(did you mean 'ladybug'\\?\\)"):
        load_config(write_config(tmp_path, raw))


def test_bad_yaml_reports_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndata:\n  adapter: ladybug\n  scale: [0.1\nmodel: {arch: gru}\n")
    with pytest.raises(UserError) as e:
        load_config(path)
    assert str(e.value).startswith(f"{path}:") and "invalid YAML" in str(e.value)
    path.write_text("name: x\ndata:\n\tadapter: ladybug\n")  # a tab-indented line
    with pytest.raises(UserError) as e:
        load_config(path)
    assert str(e.value).startswith(f"{path}:3:") and "replace the tabs" in str(e.value)


def test_missing_file():
    with pytest.raises(UserError, match="config file not found"):
        load_config("no/such/file.yaml")


def test_a_config_that_is_a_symlink_loop_says_so(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.symlink_to(b.name)
    b.symlink_to(a.name)
    with pytest.raises(UserError) as e:
        load_config(a)
    assert e.value.where == str(a)
    assert f"the config file is a symbolic link loop ({a} -> b.yaml -> a.yaml)" in e.value.message


def test_split_fractions_must_sum_to_one(tmp_path):
    raw = dict(TINY_LADYBUG)
    raw["data"] = dict(raw["data"], split={"train": 0.5, "dev": 0.1, "test": 0.1})
    with pytest.raises(UserError, match="add up to 1"):
        load_config(write_config(tmp_path, raw))


@pytest.mark.parametrize(
    "text,key,value",
    [
        ("model.units=64", "model.units", 64),
        ("train.learning_rate=1e-3", "train.learning_rate", 1e-3),
        ("name=a=b", "name", "a=b"),
        ("data.path=/tmp/x y/z.csv", "data.path", "/tmp/x y/z.csv"),
        ("name=50%", "name", "50%"),
        ("name=@home", "name", "@home"),
        ("name=%x", "name", "%x"),
        ("name='quoted: yes'", "name", "quoted: yes"),
        ("name=a: b", "name", "a: b"),
        ("model.bidirectional=true", "model.bidirectional", True),
        ("train.learning_rate=null", "train.learning_rate", None),
        ("data.path=data #2.csv", "data.path", "data #2.csv"),  # YAML: 'data' and a comment
        ("name=#hash", "name", "#hash"),  # YAML: null
        ("name='a #b'", "name", "a #b"),
        ("data.classes=[a, b]", "data.classes", ["a", "b"]),
        ("data.separator=|", "data.separator", "|"),  # YAML: an empty block text
        ("data.separator='|'", "data.separator", "|"),
        ("data.separator=''", "data.separator", ""),
    ],
)
def test_parse_override(text, key, value):
    assert parse_override(text) == (key, value)


@pytest.mark.parametrize(
    "key,value,typed",
    [
        ("data.separator", "';'", '--set "data.separator=;"'),
        ("data.separator", "'|'", '--set "data.separator=|"'),
        ("data.separator", "'\\t'", "--set 'data.separator=\\t'"),
        ("data.decimal", "','", "--set data.decimal=,"),
        ("data.missing_values", "['M']", "--set \"data.missing_values=['M']\""),
        ("data.text_values", "{'T': 0}", "--set \"data.text_values={'T': 0}\""),
        ("data.time_format", "'%d/%m/%Y %H:%M'", '--set "data.time_format=%d/%m/%Y %H:%M"'),
        ("data.station", "'07149'", "--set data.station=07149"),
        ("data.missing_values", "['$']", "--set 'data.missing_values=['\"'\"'$'\"'\"']'"),
    ],
)
def test_a_fix_with_set_is_what_a_shell_passes_as_the_value_meant(key, value, typed):
    """set_option(KEY, YAML value): the --set a user pastes into a shell, which reads as the
    YAML value (its quotes left out where --set reads the same without them)."""
    import shlex

    assert set_option(key, value) == typed
    flag, arg = shlex.split(typed)
    assert flag == "--set" and parse_override(arg) == parse_override(f"{key}={value}")


def test_override_applies_and_errors_point_at_set(tiny_config):
    cfg = load_config(tiny_config, ["model.units=5", "model.arch=lstm", "train.epochs=1"])
    assert (cfg.model.units, cfg.model.arch, cfg.train.epochs) == (5, "lstm", 1)
    with pytest.raises(UserError) as e:
        load_config(tiny_config, ["model.unitz=5"])
    assert "--set model.unitz=5" in str(e.value) and "did you mean 'units'" in str(e.value)
    with pytest.raises(UserError, match="KEY=VALUE"):
        load_config(tiny_config, ["model.units"])
    # a section the file does not have, made by --set: the --set is named, not the file
    with pytest.raises(UserError) as e:
        load_config(tiny_config, ["modle.units=5"])
    assert str(e.value).startswith("--set modle.units=5: unknown section 'modle'")
    with pytest.raises(UserError) as e:
        load_config(tiny_config, ["data.split.train=0.5"])
    assert str(e.value).startswith("--set data.split.train=0.5: split fractions must add up")
    assert "(train 0.5 + dev " in str(e.value)


def test_resolved_config_round_trips(tiny_config):
    cfg = load_config(tiny_config, ["model.bidirectional=true"])
    again = config_from_dict(yaml.safe_load(cfg.to_yaml()))
    assert again == cfg


def test_json_schema_covers_components():
    schema = json_schema()
    text = str(schema)
    for word in ("ladybug", "simple_rnn", "standardize", "sequence_len", "epochs"):
        assert word in text
    assert schema["additionalProperties"] is False


def test_readme_reference_is_generated_from_models():
    from seqrun.core.docs import readme_with_reference

    readme = (ROOT / "README.md").read_text()
    assert reference_markdown() in readme
    assert readme_with_reference(readme) == readme, "regenerate with: python -m seqrun.core.docs"


def test_reference_gives_each_adapters_own_nested_defaults():
    """A nested section's defaults come from the adapter's own default (the weather adapters
    split 70/15/15, not SplitFractions' 70/10/20)."""
    from seqrun.core.registry import registry

    text = reference_markdown()
    for name in registry.names("adapter"):
        split = registry.get("adapter", name).Config.model_fields.get("split")
        if split is None:  # imdb: a dev fraction of the train half, no split section
            continue
        default = split.get_default(call_default_factory=True)
        block = text.split(f"| **data: {name}** |")[1].split("| **")[0]
        for part in ("train", "dev", "test"):
            row = f"| `data.split.{part}` | float | `{getattr(default, part)}` |"
            assert row in block, (name, part)


@pytest.mark.parametrize(
    "data",
    [
        {"adapter": "text_table", "path": "x.tsv"},
        {"adapter": "timeseries_csv", "path": "x.csv", "time_column": "t"},
    ],
)
def test_a_typed_backslash_t_separator_is_a_tab(data):
    """YAML's '\\t' in single quotes (and --set data.separator=\\t) keeps the backslash."""
    arch = "dense" if data["adapter"] == "text_table" else "gru"
    raw = {"name": "a", "data": {**data, "separator": "\\t"}, "model": {"arch": arch}}
    assert config_from_dict(raw).data.separator == "\t"


def _bool_fields() -> list[tuple[type, str]]:
    """(model, key) of every key of a config section that takes true or false: the core
    sections, sweep and study files, and each registered component's own section."""
    from seqrun.core.config import Section, _boolean
    from seqrun.core.registry import KINDS, registry
    from seqrun.engine.sweep import SweepSpec
    from seqrun.engine.tune import StudySpec

    models = {SweepSpec, StudySpec}
    for kind in KINDS:
        for name in registry.names(kind):
            models.add(getattr(registry.get(kind, name), "Config", None))
    todo, seen = [m for m in models if isinstance(m, type)], set()
    todo.append(Section)
    while todo:  # every subclass of Section, nested sections included
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        todo += model.__subclasses__()
    return sorted(
        {(m, key) for m in seen for key, f in m.model_fields.items() if _boolean(f.annotation)},
        key=lambda x: (x[0].__qualname__, x[1]),
    )


def test_a_boolean_key_takes_true_or_false_alone():
    """pydantic's lax mode read 0, 1, 'false', 'yes', 'off' as booleans for every bool key
    (bidirectional: 0 worked by accident); YAML's own booleans (true/false, yes/no, on/off)
    are the only ones taken."""
    from pydantic import ValidationError

    fields = _bool_fields()
    keys = {key for _, key in fields}
    assert {"bidirectional", "shuffle", "lowercase", "calm", "allow_pickle"} <= keys
    for model, key in fields:
        for value in (0, 1, 2.5, "false", "true", "yes", "off", [True]):
            with pytest.raises(ValidationError) as e:
                model.model_validate({key: value})
            assert any(
                err["loc"] == (key,) and err["type"] == "bool_expected" for err in e.value.errors()
            ), (model, key, value)
        for value in (True, False):
            try:
                model.model_validate({key: value})
            except ValidationError as e:  # other keys are required: not this one's error
                assert all(err["loc"][:1] != (key,) for err in e.errors()), (model, key)


@pytest.mark.parametrize(
    "value,said",
    [
        ("0", "expected true or false, not a number at 'model.bidirectional', got 0 "
              "(write true or false)"),
        ('"false"', "expected true or false, not text at 'model.bidirectional', got 'false' "
                    "(write true or false, without quotes)"),
        ("'1'", "not text at 'model.bidirectional', got '1' (write true or false)"),
    ],
)  # fmt: skip
def test_a_boolean_key_given_a_number_or_text_is_one_line_naming_it(tmp_path, cli, value, said):
    text = yaml.safe_dump({**TINY_LADYBUG, "model": {"arch": "gru", "units": 4}})
    text = text.replace("units: 4", f"units: 4\n  bidirectional: {value}")
    (path := tmp_path / "b.yaml").write_text(text)
    r = cli("config", "validate", path)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1 and said in r.stderr, r.stderr
    assert f"{path}:" in r.stderr and "model.bidirectional" in r.stderr  # file, line, key
    # YAML's booleans, --set's (a YAML value) and a whole number for a float key still read
    for sets in (["model.bidirectional=true"], ["model.bidirectional=off"]):
        r = cli("config", "validate", path, *[a for s in sets for a in ("--set", s)])
        assert r.exit_code == 0, r.output
    cfg = dict(TINY_LADYBUG, model={"arch": "gru", "bidirectional": "yes"})
    with pytest.raises(UserError, match="write true or false, without quotes"):
        config_from_dict(cfg)
    cfg = dict(TINY_LADYBUG, train={**TINY_LADYBUG["train"], "learning_rate": 1, "shuffle": True})
    assert config_from_dict(cfg).train.learning_rate == 1.0
    path.write_text(text.replace(f"bidirectional: {value}", "bidirectional: yes"))
    assert cli("config", "validate", path).exit_code == 0
