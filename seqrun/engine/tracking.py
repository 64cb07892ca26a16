"""Optional experiment tracking: MLflow (extra ``mlflow``) and TensorBoard logs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from seqrun.core.config import flatten
from seqrun.core.errors import RunFailure, UserError
from seqrun.core.runs import Run, dev_key


def require(module: str, extra: str, key: str) -> None:
    """A UserError naming the extra to install when ``module`` is missing."""
    if importlib.util.find_spec(module) is None:
        raise UserError(
            f"needs the optional '{extra}' extra, which is not installed: "
            f'pip install -e ".[{extra}]"',
            where=key,
        )


def _numbers(metrics: dict[str, Any], prefix: str) -> dict[str, float]:
    """The scalar entries of a metrics dict, as MLflow metric names."""
    out = {}
    for k, v in flatten(metrics).items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        out[f"{prefix}{k}".replace("/", "_")] = float(v)
    return out


class MlflowTracker:
    """Logs one seqrun run to MLflow: params, per-epoch metrics, final metrics, artifacts."""

    def __init__(self, cfg: Any, run: Run, runs_dir: Path) -> None:
        self.cfg = cfg
        self.run = run
        m = cfg.tracking.mlflow
        self.uri = m.uri or (Path(runs_dir).resolve() / "mlruns").as_uri()
        self.experiment = m.experiment or cfg.name
        self.run_id: str | None = run.meta().get("mlflow_run_id")

    def _activate(self) -> Any:
        import os

        if self.uri.startswith("file:"):
            # MLflow 3 keeps the file store in maintenance mode behind this opt-in; it is the
            # one store that needs no server and no database, hence seqrun's default.
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        import mlflow

        try:
            mlflow.set_tracking_uri(self.uri)
            mlflow.set_experiment(self.experiment)
        except Exception as e:
            raise RunFailure(f"MLflow at {self.uri}: {e}") from None
        return mlflow

    def start(self) -> None:
        """Open (or, on resume, reopen) the MLflow run and log the resolved config as params."""
        mlflow = self._activate()
        if self.run_id:
            mlflow.start_run(run_id=self.run_id)
            return
        active = mlflow.start_run(run_name=f"{self.cfg.name}/{self.run.path.name}")
        self.run_id = active.info.run_id
        params = {k: str(v)[:500] for k, v in flatten(self.cfg.to_dict()).items()}
        mlflow.log_params(params)
        mlflow.set_tags({"seqrun.run_dir": str(self.run.path.resolve())})
        self.run.update_meta(mlflow_run_id=self.run_id, mlflow_uri=self.uri)

    def callback(self) -> Any:
        """A Keras callback logging each epoch's train and dev metrics."""
        import keras
        import mlflow

        class _Log(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                values = {dev_key(k): float(v) for k, v in (logs or {}).items()}
                mlflow.log_metrics(values, step=epoch + 1)

        return _Log()

    def finish(self, status: str, metrics: dict[str, Any] | None = None) -> None:
        """Log final dev metrics and the run directory, and close the MLflow run."""
        import mlflow

        if metrics:
            mlflow.log_metrics(_numbers(metrics, "final_dev_"))
        mlflow.log_artifacts(str(self.run.path), artifact_path="run")
        mlflow.end_run(
            status={"completed": "FINISHED", "interrupted": "KILLED", "pruned": "KILLED"}.get(
                status, "FAILED"
            )
        )

    def log_split(self, split: str, metrics: dict[str, Any]) -> None:
        """Attach metrics of a later `seqrun evaluate` to the run's MLflow run."""
        mlflow = self._activate()
        with mlflow.start_run(run_id=self.run_id):
            mlflow.log_metrics(_numbers(metrics, f"{split}_"))
            mlflow.log_artifact(str(self.run.metrics_path(split)), artifact_path="run/metrics")


def tensorboard_callback(run: Run) -> Any:
    """Keras TensorBoard callback writing per-epoch scalars under ``<run>/tensorboard``."""
    import keras

    return keras.callbacks.TensorBoard(
        log_dir=str(run.path / "tensorboard"), update_freq="epoch", write_graph=False
    )
