"""Every registered component conforms to its written contract (seqrun.core.contracts)."""

from __future__ import annotations

import pytest

from seqrun.core.contracts import PROTOCOLS, compatibility, conformance
from seqrun.core.errors import UserError
from seqrun.core.registry import registry
from tests.conftest import TINY_LADYBUG


def _components() -> list[tuple[str, str]]:
    return [(kind, name) for kind in PROTOCOLS for name in registry.names(kind)]


@pytest.mark.parametrize(("kind", "name"), _components())
def test_every_registered_component_conforms(kind, name):
    # the registry includes entry-point plugins: they get the same check
    assert conformance(kind, registry.get(kind, name)) == []


def test_conformance_names_what_is_missing():
    class HalfEncoder:
        accepts = ("text",)
        output_kind = "words"  # not an input kind

        def save(self, folder): ...

    problems = conformance("encoder", HalfEncoder)
    assert any("'load'" in p for p in problems)
    assert any("'model_front'" in p for p in problems)
    assert any("output_kind must be" in p for p in problems)

    class Scores:
        task_kind = "regression"
        headline = ("mae", "wape")
        baselines = {"mae": "persistence_mae"}
        directions = {"mae": "min"}

        def compute(self, preds): ...

    assert conformance("metrics", Scores) == ["Scores declares no direction for 'wape'"]


def test_metric_sets_declare_headline_baselines_and_directions():
    for name in registry.names("metrics"):
        cls = registry.get("metrics", name)
        assert cls.headline and set(cls.headline) <= set(cls.directions), name
        for metric, base in cls.baselines.items():
            assert metric in cls.directions and isinstance(base, str), name


def _cfg(**sections):
    from seqrun.core.config import config_from_dict

    raw = {**TINY_LADYBUG}
    for key, value in sections.items():  # encoder: a new type brings its own keys
        raw[key] = value if key == "encoder" else {**raw.get(key, {}), **value}
    return config_from_dict(raw)


def _check(cfg):
    return compatibility(
        cfg,
        registry.get("adapter", cfg.data.adapter),
        registry.get("encoder", cfg.encoder.type),
        registry.get("arch", cfg.model.arch),
    )


def test_compatibility_comes_from_declarations():
    assert _check(_cfg()) is None
    # a series adapter with seq2seq outputs is fine: it declares sequence_outputs
    assert _check(_cfg(model={"return_sequences": True})) is None
    # loading a config runs the same check: one line naming the key
    with pytest.raises(UserError, match="reads text data but adapter 'ladybug' gives series") as e:
        _cfg(encoder={"type": "embedding"})
    assert e.value.where.endswith("encoder.type")


def test_a_new_architecture_is_checked_by_what_it_declares():
    """An architecture that reads only bags refuses a numeric sequence, with no edit to the
    generic check."""
    from seqrun.models.dense import DenseArch

    class BagOnly(DenseArch):
        accepts = ("bag",)

    cfg = _cfg()
    key, message = compatibility(
        cfg,
        registry.get("adapter", "ladybug"),
        registry.get("encoder", "standardize"),
        BagOnly,
    )
    assert key == "model.arch" and "a sequence of numeric vectors" in message


def test_an_architecture_declares_the_data_it_models():
    """encoder_decoder forecasts series: with whole sequences it is refused when the config is
    loaded (was: after the data were read, at train), naming the adapters that fit."""
    from seqrun.core.config import config_from_dict

    assert _cfg(model={"arch": "encoder_decoder", "units": 4}).model.arch == "encoder_decoder"
    raw = {
        "name": "x",
        "data": {"adapter": "sequences", "sample": "gunpoint"},
        "encoder": {"type": "sequence_znorm"},
        "model": {"arch": "encoder_decoder", "units": 4},
    }
    with pytest.raises(UserError, match="models series data but adapter 'sequences'") as e:
        config_from_dict(raw)
    assert e.value.where.endswith("model.arch")
    assert "ladybug, synop, timeseries_csv" in str(e.value)


def test_layers_have_no_upward_import_and_no_cycle():
    """cli -> engine -> components -> samples -> core, no cycle at any depth (pyproject.toml's
    import-linter contracts)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import ROOT

    here = str(Path(sys.executable).parent)  # the virtual environment running the tests
    exe = shutil.which("lint-imports", path=here) or shutil.which("lint-imports")
    assert exe, "import-linter is a dev dependency: pip install -e '.[dev]'"
    out = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "2 kept, 0 broken" in out.stdout
