"""The exported JSON Schema: one discriminated union per component kind, as editors read it."""

from __future__ import annotations

import copy
import importlib

import pytest
import yaml

from seqrun.core.config import config_from_dict, json_schema
from seqrun.core.errors import UserError
from seqrun.core.registry import registry
from tests.conftest import ROOT

SECTIONS = (
    ("data", "adapter", "adapter"),
    ("encoder", "encoder", "type"),
    ("model", "arch", "arch"),
)


def _union(schema: dict, key: str) -> dict:
    """The oneOf member of a section's anyOf (the other members: the name alone, null)."""
    (union,) = [m for m in schema["properties"][key]["anyOf"] if "oneOf" in m]
    return union


def _check_discriminated(schema: dict) -> None:
    for key, kind, tag in SECTIONS:
        union = _union(schema, key)
        assert union["discriminator"]["propertyName"] == tag, key
        mapping = union["discriminator"]["mapping"]
        assert sorted(mapping) == registry.names(kind), key
        assert sorted(m["$ref"] for m in union["oneOf"]) == sorted(mapping.values())
        for name, ref in mapping.items():
            variant = schema["$defs"][ref.rsplit("/", 1)[1]]
            # the tag names exactly this component and is required; no other keys allowed
            assert variant["properties"][tag]["const"] == name, ref
            assert tag in variant["required"] and variant["additionalProperties"] is False
            fields = set(registry.get(kind, name).Config.model_fields)
            assert set(variant["properties"]) == fields, ref
        shorthand = [m for m in schema["properties"][key]["anyOf"] if "enum" in m]
        assert shorthand == [{"enum": registry.names(kind), "type": "string"}], key


def test_schema_has_one_of_and_a_discriminator_per_component_kind():
    _check_discriminated(json_schema())


@pytest.fixture
def plugin_arch(tmp_path, monkeypatch):
    """A third-party architecture with a key of its own, registered at run time."""
    (tmp_path / "schema_plugin_arch.py").write_text(
        "from typing import Literal\n"
        "from pydantic import Field\n"
        "from seqrun.models.dense import DenseArch, DenseConfig\n\n"
        "class WideConfig(DenseConfig):\n"
        "    arch: Literal['wide_mlp'] = 'wide_mlp'\n"
        "    width_factor: int = Field(2, ge=1, description='Width multiplier.')\n\n"
        "class WideMLP(DenseArch):\n"
        '    """A plugin MLP."""\n\n'
        "    Config = WideConfig\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    registry.register("arch", "wide_mlp", "schema_plugin_arch:WideMLP", "plugin test")
    try:
        yield "wide_mlp"
    finally:
        registry._entries["arch"].pop("wide_mlp")


def test_schema_includes_registered_plugins(plugin_arch):
    schema = json_schema()
    _check_discriminated(schema)
    ref = _union(schema, "model")["discriminator"]["mapping"][plugin_arch]
    variant = schema["$defs"][ref.rsplit("/", 1)[1]]
    assert variant["properties"]["width_factor"]["minimum"] == 1
    assert variant["description"] == "plugin test"


def _base() -> dict:
    return yaml.safe_load((ROOT / "configs" / "ladybug-gru.yaml").read_text())


def _with(section: str, value: object) -> dict:
    raw = copy.deepcopy(_base())
    raw[section] = value
    return raw


WRONG = {
    # one component's keys under another's tag: rejected by the schema and by load_config
    "ladybug data with a text_table key": (
        "data",
        {"adapter": "ladybug", "sequence_len": 20, "text_column": "text"},
    ),
    "dense model with a recurrent key": ("model", {"arch": "dense", "bidirectional": True}),
    "gru model with a pooling key": ("model", {"arch": "gru", "pool": "max"}),
    "standardize encoder with an embedding key": ("encoder", {"type": "standardize", "dim": 8}),
    "a section without its tag": ("data", {"sequence_len": 20}),
    "an unknown architecture": ("model", {"arch": "transformer"}),
}


def test_configs_validate_against_the_schema_and_wrong_keys_fail():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    shipped = sorted((ROOT / "configs").glob("*.yaml"))
    assert len(shipped) >= 10
    for path in shipped:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], (path.name, errors[:3])
    # the shorthand `encoder: standardize` and a file without `name` are valid, as for load_config
    for raw in (_with("encoder", "standardize"), {k: v for k, v in _base().items() if k != "name"}):
        assert validator.is_valid(raw)
        config_from_dict(raw, origin="x.yaml")
    for label, (section, value) in WRONG.items():
        raw = _with(section, value)
        assert not validator.is_valid(raw), label
        with pytest.raises(UserError):
            config_from_dict(raw)
