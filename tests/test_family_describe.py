"""`seqrun data describe` and the leakage checks reach a data family only through the
DataModule contract (describe, leakage, render_description, brief_description): a toy family
registered at run time, outside the package, is described with no edit to generic code."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

import numpy as np
import pytest
from pydantic import Field

from seqrun.core.config import DataConfig
from seqrun.core.contracts import LoadOptions
from seqrun.core.errors import UserError
from tests.conftest import write_config


class ToyConfig(DataConfig):
    """A counter 0..rows-1 cut in two halves; ``overlap`` rows of dev repeat train's."""

    adapter: Literal["toy_family"] = "toy_family"
    rows: int = Field(10, ge=4)
    overlap: int = Field(0, ge=0)


class ToyData:
    """The toy family's data module: numbers, split in train and dev."""

    def __init__(self, splits: dict[str, np.ndarray]) -> None:
        self.splits = splits

    def sizes(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.splits.items()}

    def report(self) -> dict[str, Any]:
        return {}

    def fit_encoder(self, encoder: Any) -> None:
        self.encoder = encoder

    def set_encoder(self, encoder: Any) -> None:
        self.encoder = encoder

    @property
    def task(self) -> Any:
        return None

    def batches(self, split: str) -> Any:
        raise NotImplementedError

    def predictions(self, model: Any, split: str, batch_size: int = 256) -> dict[str, Any]:
        raise NotImplementedError

    def plot(self, preds: dict[str, Any], path: Any, title: str = "") -> None:
        """No figure."""

    def write_artifacts(self, preds: dict[str, Any], run: Any, name: str) -> None:
        """No files."""

    def describe(self, cfg: Any) -> dict[str, Any]:
        return {
            "task": "regression",
            "source": "toy counter",
            "sizes": self.sizes(),
            "toy": {"rows": cfg.data.rows},
            "splits": {k: {"sum": int(v.sum())} for k, v in self.splits.items()},
        }

    def leakage(self, mode: str) -> dict[str, Any]:
        shared = sorted(set(self.splits["train"].tolist()) & set(self.splits["dev"].tolist()))
        issues = []
        if shared:
            issues.append(
                {
                    "check": "toy_shared_numbers",
                    "splits": ["train", "dev"],
                    "count": len(shared),
                    "of": len(self.splits["dev"]),
                    "message": f"{len(shared)} dev numbers also occur in train",
                    "examples": [{"number": shared[0]}],
                }
            )
        return {"issues": issues, "checked": ["toy numbers in two splits"], "skipped": []}

    @staticmethod
    def render_description(info: dict[str, Any]) -> tuple[str, list[tuple[str, ...]], list[str]]:
        splits = info["splits"]
        rows = [("sum of numbers", *(str(s["sum"]) for s in splits.values()))]
        return f"toy: {info['toy']['rows']} numbers", rows, ["toy closing line"]

    @staticmethod
    def brief_description(info: dict[str, Any]) -> dict[str, Any]:
        return {f"describe: {k} sum": s["sum"] for k, s in info["splits"].items()}


class ToyAdapter:
    """The toy family's adapter (numbers as a one-feature series)."""

    Config = ToyConfig
    data_module = ToyData
    provides = "series"
    fold_scheme = None
    sequence_outputs = False
    default_encoder: ClassVar[dict[str, Any]] = {"type": "identity"}
    default_metrics = "regression"

    def __init__(self, section: Any, options: LoadOptions = LoadOptions()) -> None:  # noqa: B008
        self.cfg = section

    def load(self, splits: tuple[str, ...]) -> ToyData:
        n, half = self.cfg.rows, self.cfg.rows // 2
        parts = {
            "train": np.arange(0, half),
            "dev": np.arange(half - self.cfg.overlap, n),
        }
        return ToyData({k: v for k, v in parts.items() if k in splits})

    @classmethod
    def check_config(cls, cfg: Any) -> tuple[str, str] | None:
        return None

    def read_inputs(self, path: Any, column: str | None = None) -> tuple[list[dict], list[Any]]:
        raise UserError("the toy family cannot predict from files")


@pytest.fixture
def toy_family():
    from seqrun.core.registry import registry

    registry.register("adapter", "toy_family", f"{__name__}:ToyAdapter", "A toy family.")
    yield
    registry._entries["adapter"].pop("toy_family", None)


def toy_cfg(**data) -> dict:
    return {
        "name": "toy",
        "data": {"adapter": "toy_family", **data},
        "model": {"arch": "gru", "units": 2},
    }


def test_the_toy_family_conforms(toy_family):
    from seqrun.core.contracts import conformance

    assert conformance("adapter", ToyAdapter) == []


def test_describe_asks_the_data_module(cli, tmp_path, toy_family):
    path = write_config(tmp_path, toy_cfg(rows=10, overlap=2))
    r = cli("data", "describe", path, "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["toy"] == {"rows": 10}
    assert info["splits"] == {"train": {"sum": 10}, "dev": {"sum": 3 + 4 + 5 + 6 + 7 + 8 + 9}}
    leak = info["leakage"]
    assert leak["found"] and leak["checked"] == ["toy numbers in two splits"]
    assert leak["issues"][0]["message"] == "2 dev numbers also occur in train"

    r = cli("data", "describe", path)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "toy: toy_family, regression (toy counter)"
    assert "toy: 10 numbers" in lines
    assert any(line.split() == ["sum", "of", "numbers", "10", "42"] for line in lines)
    assert "toy closing line" in lines
    assert "leakage: FOUND (data.leakage: warn)" in lines


def test_leakage_off_never_asks_the_family(toy_family):
    from seqrun.engine.leakage import check

    class Refuses(ToyData):
        def leakage(self, mode: str) -> dict[str, Any]:
            raise AssertionError("called with data.leakage: off")

    result = check(Refuses({"train": np.arange(3), "dev": np.arange(3)}), "off")
    assert result["skipped"] == ["every check (data.leakage: off)"] and not result["found"]


def test_brief_takes_the_family_lines(toy_family):
    from seqrun.core.config import config_from_dict
    from seqrun.engine.describe import brief, describe

    out = brief(describe(config_from_dict(toy_cfg(rows=8))))
    assert list(out) == [
        "describe: sizes",
        "describe: train sum",
        "describe: dev sum",
        "describe: leakage",
    ]
    assert out["describe: train sum"] == 0 + 1 + 2 + 3 and out["describe: leakage"] == "none found"
