"""A newcomer's exercise, outside the package: a toy data family, encoder and architecture
written only against seqrun.core.contracts (see README "Adding a component").

The family: short numeric sequences whose label says whether their mean is positive. Each
example is a fixed-length list of numbers, so the toy encoder reads a "toy" data kind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqrun.core.config import DataConfig, EncoderConfig, ModelConfig, Section
from seqrun.core.contracts import InputSize, LoadOptions, MemoryItem
from seqrun.data.base import Task, fingerprint

# ----------------------------------------------------------------------------- adapter


class ToySplit(Section):
    """Fractions, or k-fold (the generic k-fold runner sets ``fold``)."""

    dev: float = Field(0.25, gt=0, lt=1, description="Fraction held out for model selection.")
    test: float = Field(0.25, ge=0, lt=1, description="Fraction held out for evaluation.")
    kfold: int | None = Field(None, ge=2, description="K-fold cross-validation.")
    fold: int | None = Field(None, ge=0, description="The held-out fold.")


class ToyConfig(DataConfig):
    """Random sequences labelled by the sign of their mean."""

    adapter: Literal["toy_signs"] = Field("toy_signs", description="Toy adapter.")
    examples: int = Field(96, ge=8, description="How many sequences.")
    length: int = Field(6, ge=1, description="Steps per sequence.")
    seed: int = Field(0, description="Generator seed.")
    split: ToySplit = Field(default_factory=ToySplit, description="Splits.")


class ToyAdapter:
    """Toy sequences labelled by the sign of their mean."""

    Config = ToyConfig
    provides = "toy"
    fold_scheme = "stratified"
    sequence_outputs = False
    default_encoder = {"type": "toy_scale"}
    default_metrics = "classification"

    def __init__(self, section: ToyConfig, options: LoadOptions | None = None) -> None:
        self.section = section
        self.options = options or LoadOptions()

    @classmethod
    def check_config(cls, cfg: Any) -> tuple[str, str] | None:
        return None

    @classmethod
    def input_size(cls, section: ToyConfig) -> InputSize:
        return InputSize(width=1, steps=section.length, steps_key="data.length")

    @classmethod
    def memory(cls, section: ToyConfig, size: InputSize) -> list[MemoryItem]:
        n = section.examples * section.length
        return [MemoryItem("data.examples", 4.0 * n, f"{n:.3g} generated values")]

    def load(self, splits: tuple[str, ...]) -> ToyData:
        d = self.section
        rng = np.random.default_rng(d.seed)
        x = rng.normal(size=(d.examples, d.length)).astype(np.float32)
        y = (x.mean(axis=1) > 0).astype(np.int64)
        index = np.arange(d.examples)
        n_test = int(round(d.examples * d.split.test))
        test, rest = index[:n_test], index[n_test:]
        if d.split.kfold:
            dev = rest[(d.split.fold or 0) :: d.split.kfold]
        else:
            dev = rest[: int(round(d.examples * d.split.dev))]
        train = np.setdiff1d(rest, dev)
        parts = {"train": train, "dev": dev, "test": test}
        return ToyData({s: (x[parts[s]], y[parts[s]]) for s in splits})

    def read_inputs(self, path: Path, column: str | None = None) -> tuple[list[dict], list[Any]]:
        rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
        return [{"values": r} for r in rows], rows


ToyAdapter.data_module = None  # set below, once ToyData exists

# ----------------------------------------------------------------------------- data module


class ToyBatches:
    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def steps(self, batch_size: int) -> int:
        return -(-len(self.y) // batch_size)

    def dataset(self, batch_size: int, shard: Any = None) -> Any:
        import tensorflow as tf

        return tf.data.Dataset.from_tensor_slices((self.x, self.y)).batch(batch_size)

    def training_dataset(
        self,
        batch_size: int,
        seed: int,
        first_epoch: int,
        last_epoch: int,
        shuffle: bool = True,
        shard: Any = None,
    ) -> Any:
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((self.x, self.y))
        if shuffle:
            ds = ds.shuffle(len(self.y), seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size).repeat(last_epoch - first_epoch)


class ToyData:
    """The loaded toy splits."""

    task: Task
    fingerprint: str

    def __init__(self, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.raw = splits
        self.encoded: dict[str, np.ndarray] = {}
        self.encoder: Any = None
        length = next(iter(splits.values()))[0].shape[1]
        self.task = Task("classification", (length, 1), 1, ["positive"])
        self.fingerprint = fingerprint(*(x for x, _ in splits.values()))

    def sizes(self) -> dict[str, int]:
        return {s: len(y) for s, (_, y) in self.raw.items()}

    def report(self) -> dict[str, Any]:
        return {"generated": True}

    def fit_encoder(self, encoder: Any) -> None:
        encoder.fit(self.raw["train"][0])
        self.set_encoder(encoder)

    def set_encoder(self, encoder: Any) -> None:
        self.encoder = encoder
        self.encoded = {s: encoder.transform(x) for s, (x, _) in self.raw.items()}

    def batches(self, split: str) -> ToyBatches:
        return ToyBatches(self.encoded[split], self.raw[split][1])

    def predictions(self, model: Any, split: str, batch_size: int = 256) -> dict[str, Any]:
        proba = model.predict(self.batches(split).dataset(batch_size), verbose=0).reshape(-1)
        counts = np.bincount(self.raw["train"][1], minlength=2) if "train" in self.raw else []
        return {
            "y_true": self.raw[split][1],
            "proba": proba.astype(np.float64),
            "class_names": ["negative", "positive"],
            "train_class_counts": list(counts),
            "split": split,
        }

    def plot(self, preds: dict[str, Any], path: Path, title: str = "") -> None:
        Path(path).write_text("toy plot\n")  # a real family draws a figure

    def write_artifacts(self, preds: dict[str, Any], run: Any, name: str) -> None:
        pass

    def describe(self, cfg: Any) -> dict[str, Any]:
        return {
            "task": "classification",
            "source": "generated",
            "sizes": self.sizes(),
            "splits": {
                s: {"examples": len(y), "positive_share": float(y.mean()) if len(y) else 0.0}
                for s, (_, y) in self.raw.items()
            },
            "toy": {"length": int(next(iter(self.raw.values()))[0].shape[1])},
        }

    def leakage(self, mode: str) -> dict[str, Any]:
        seen = {x.tobytes(): i for i, x in enumerate(self.raw["train"][0])}
        result: dict[str, Any] = {"mode": mode, "issues": [], "checked": [], "skipped": []}
        for split, (xs, _) in self.raw.items():
            if split == "train":
                continue
            result["checked"].append(f"train/{split} identical sequences")
            hits = [(j, seen[x.tobytes()]) for j, x in enumerate(xs) if x.tobytes() in seen]
            if hits:
                result["issues"].append(
                    {
                        "check": "duplicate_sequences",
                        "splits": ["train", split],
                        "count": len(hits),
                        "of": len(xs),
                        "message": f"{len(hits)} of {len(xs)} {split} sequences are in train",
                        "examples": [{"train_id": i, f"{split}_id": j} for j, i in hits[:3]],
                    }
                )
        result["found"] = bool(result["issues"])
        return result

    @staticmethod
    def render_description(info: dict[str, Any]) -> tuple[str, list[tuple[str, ...]], list[str]]:
        splits = info["splits"]
        rows = [
            ("examples", *(str(s["examples"]) for s in splits.values())),
            ("positive", *(f"{100 * s['positive_share']:.1f} %" for s in splits.values())),
        ]
        return f"toy: sequences of {info['toy']['length']} steps", rows, []

    @staticmethod
    def brief_description(info: dict[str, Any]) -> dict[str, Any]:
        return {"describe: sizes": info.get("sizes")}


ToyAdapter.data_module = ToyData

# ----------------------------------------------------------------------------- encoder


class ToyScaleConfig(EncoderConfig):
    """Scale by the training standard deviation."""

    type: Literal["toy_scale"] = Field("toy_scale", description="Toy encoder.")


class ToyScale:
    """Divides by the training standard deviation; one channel per step."""

    Config = ToyScaleConfig
    accepts = ("toy",)
    output_kind = "numeric_sequence"

    def __init__(self, cfg: Any = None) -> None:
        self.cfg = cfg
        self.scale = 1.0

    @classmethod
    def input_size(cls, cfg: Any, size: InputSize) -> tuple[InputSize, list[MemoryItem]]:
        return size, []

    def fit(self, x: np.ndarray) -> None:
        self.scale = float(x.std()) or 1.0

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float32) / self.scale)[..., None]

    def save(self, folder: Path) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "toy.json").write_text(json.dumps({"scale": self.scale}))

    def load(self, folder: Path) -> None:
        self.scale = json.loads((Path(folder) / "toy.json").read_text())["scale"]

    def model_front(self, task: Any) -> None:
        return None

    def model_inputs(self, examples: list[Any]) -> np.ndarray:
        return self.transform(np.asarray(examples, dtype=np.float32))

    class_names = ["negative", "positive"]


# ----------------------------------------------------------------------------- architecture


class ToyMeanConfig(ModelConfig):
    """Average over time, then the output layer."""

    arch: Literal["toy_mean"] = Field("toy_mean", description="Toy architecture.")


class ToyMean:
    """Global average over the steps -> the output layer."""

    Config = ToyMeanConfig
    accepts = ("numeric_sequence",)
    returns_sequences = False

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg

    @classmethod
    def memory(cls, cfg: Any, size: InputSize, batch_size: int) -> list[MemoryItem]:
        return [MemoryItem("model.arch", 4.0 * 3 * (size.width + 1), "output weights")]

    def build(self, task: Task, inputs: Any = None, features: Any = None) -> Any:
        import keras

        from seqrun.models.base import output_layer

        if inputs is None:
            inputs = features = keras.Input(shape=task.input_shape, name="inputs")
        x = keras.layers.GlobalAveragePooling1D(name="mean")(features)
        return keras.Model(inputs, output_layer(task)(x), name="toy_mean")


COMPONENTS = {
    "adapter": ("toy_signs", "tests.toy_family:ToyAdapter"),
    "encoder": ("toy_scale", "tests.toy_family:ToyScale"),
    "arch": ("toy_mean", "tests.toy_family:ToyMean"),
}
