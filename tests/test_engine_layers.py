"""The engine's seams: one metrics-file naming, one Keras-to-seqrun metric naming, the train
state's on-disk format, k-fold support read from the adapters' declarations, and the layers
(the trainer never imports the k-fold module; commands that do not train import no
TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from seqrun.core.runs import Run, dev_key, keras_key, metric_name, metrics_name

ROOT = Path(__file__).resolve().parents[1]


def test_one_metrics_file_naming(tmp_path):
    assert metrics_name("test") == "test"
    assert metrics_name("test", "last") == "test-last"
    assert metrics_name("dev", cv=True) == "cv"
    assert metrics_name("test", cv=True) == "cv-test"
    assert metrics_name("test", "last", cv=True) == "cv-test-last"
    run = Run(tmp_path)
    assert run.metrics_path("dev", "last") == tmp_path / "metrics" / "dev-last.json"
    assert run.metrics_path("cv") == tmp_path / "metrics" / "cv.json"  # a name as it is
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "cv-test.json").write_text(json.dumps({"folds": 3}))
    assert run.metrics("test", cv=True) == {"folds": 3}


def test_one_keras_to_seqrun_metric_naming():
    assert dev_key("val_loss") == "dev_loss" and dev_key("loss") == "loss"
    assert dev_key("val_accuracy") == "dev_accuracy" and dev_key("mae") == "mae"
    for name in ("dev_mae", "val_mae", "mae"):
        assert metric_name(name) == "mae"
        assert keras_key(name) == "val_mae"


def test_train_state_keeps_the_state_json_format():
    from seqrun.engine.checkpoint import TrainState

    old = {  # state.json as runs written before the typed state have it
        "epoch": 2,
        "best": 0.25,
        "best_epoch": 1,
        "wait": 1,
        "history": [{"epoch": 1, "loss": 0.5, "dev_loss": 0.25}],
        "monitor": "val_loss",
        "seed_states": {"seed_generator/state": [1, 2]},
        "stopped_early": True,
        "checkpoint": "epoch-0002.keras",
    }
    state = TrainState.from_json(old)
    assert state.to_json() == old and list(state.to_json()) == list(old)
    fresh = TrainState(monitor="val_loss").to_json()
    assert "stopped_early" not in fresh and fresh["checkpoint"] == "last.keras"
    legacy = TrainState.from_json({"epoch": 1, "best": None, "best_epoch": None})
    assert legacy.checkpoint == "last.keras" and legacy.history == []


def test_train_state_counts_best_epochs_and_early_stopping():
    from seqrun.engine.checkpoint import TrainState

    s = TrainState()
    s.end_epoch(1, 0.9, "max", 0.0, patience=2)
    s.end_epoch(2, float("nan"), "max", 0.0, patience=2)  # never the best
    assert (s.best_epoch, s.wait, s.stopped_early) == (1, 1, False)
    s.end_epoch(3, 0.95, "max", 0.1, patience=2)  # not better by min_delta
    assert (s.best, s.best_epoch, s.epoch, s.stopped_early) == (0.9, 1, 3, True)


def test_the_checkpointer_stops_training_at_the_first_epoch_whose_loss_is_not_finite(tmp_path):
    """The weights of an epoch whose training loss is NaN are NaN for good: training stops
    there (it ran every remaining epoch), the best epoch before it stays the best, and the
    trainer names the epoch from the history."""
    import keras

    from seqrun.core.config import TrainConfig
    from seqrun.engine.checkpoint import TrainState, checkpointer
    from seqrun.engine.trainer import _diverged

    run = Run(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    state = TrainState(monitor="val_loss")
    callback = checkpointer(run, state, TrainConfig(epochs=5), "min")
    callback.set_model(model)
    for epoch, loss in enumerate([0.5, 0.25, float("inf"), float("nan")]):
        model.stop_training = False
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"loss": loss, "val_loss": loss})
        assert model.stop_training is (loss > 1 or loss != loss), epoch
    assert state.best_epoch == 2 and _diverged(state) == ("inf", 3)
    state.history[2]["loss"] = float("nan")
    assert _diverged(state) == ("nan", 3) and _diverged(TrainState()) is None


def test_kfold_support_comes_from_the_adapters_declarations():
    import pytest

    from seqrun.core.errors import UserError
    from seqrun.core.registry import registry
    from seqrun.engine.experiment import kfold_adapters, supports_kfold

    names = kfold_adapters()
    assert {"text_table", "ladybug", "synop", "timeseries_csv"} <= set(names)
    assert "imdb" not in names
    for name in registry.names("adapter"):
        declared = registry.get("adapter", name).fold_scheme
        assert (name in names) == (declared is not None)
    with pytest.raises(UserError) as e:
        supports_kfold("imdb", where="--folds")
    assert e.value.where == "--folds" and ", ".join(names) in str(e.value)


def _imports(module: str) -> set[str]:
    """The seqrun modules ``module`` imports anywhere (lazy imports in functions included)."""
    import ast

    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.is_file():
        path = path.with_suffix("") / "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("seqrun"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                exists = (ROOT / (sub.replace(".", "/") + ".py")).is_file()
                found.add(sub if exists else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("seqrun")}
    return found


def test_trainer_never_reaches_the_kfold_module():
    seen, todo = set(), ["seqrun.engine.trainer"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += sorted(_imports(module))
    assert "seqrun.engine.checkpoint" in seen  # the walk follows the trainer's imports
    assert "seqrun.engine.experiment" not in seen
    assert "seqrun.engine.experiment" in _imports("seqrun.cli")


def test_resume_and_predict_modules_import_no_tensorflow():
    code = (
        "import sys\n"
        "import seqrun.engine.archive, seqrun.engine.checkpoint, seqrun.engine.experiment\n"
        "import seqrun.engine.predict, seqrun.engine.resume, seqrun.engine.sweep\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_train_reports_a_data_error_before_importing_tensorflow(tmp_path):
    """A missing or malformed data file is a user error found before TensorFlow's seconds of
    import, by `train` and `train --folds` alike."""
    bad = tmp_path / "bad.csv"
    bad.write_text("time,temp\n2013-01-01 00:00,1.0\n2013-01-01 01:00,oops\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from seqrun.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as e:\n"
        "    heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "    print('EXIT', e.code, heavy)\n"
    )
    base = ["configs/weather-nyc-3h.yaml", "--runs-dir", str(tmp_path / "runs")]
    for path, extra in [
        (tmp_path / "missing.csv", []),
        (bad, []),
        (bad, ["--folds", "2"]),
    ]:
        sets = ["--set", f"data.path={path}", "--set", "data.time_column=time"]
        sets += ["--set", "data.sample=null", "--set", "data.neighbours=null"]
        sets += ["--set", "data.group=null", "--set", "data.features=[temp]"]
        out = subprocess.run(
            [sys.executable, "-c", code, "train", *base, *sets, *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert "EXIT 2 []" in out.stdout, (out.stdout, out.stderr)
        assert out.stderr.startswith("error: ") and str(path.name) in out.stderr, out.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("meta.json"))
