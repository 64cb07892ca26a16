"""`seqrun env`: the facts a bug report needs."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import Any


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def collect() -> dict[str, Any]:
    """Versions, devices seen by TensorFlow, strategies available, thread settings."""
    from seqrun import __version__
    from seqrun.engine.backend import import_tensorflow

    import_tensorflow()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    logical_cpus = tf.config.list_logical_devices("CPU")
    build = tf.sysconfig.get_build_info()
    replicas = tf.config.list_logical_devices("GPU") or logical_cpus
    strategies = {
        "default": "one device",
        "mirrored": f"{len(replicas)} replica(s): {', '.join(d.name for d in replicas)}",
        "multi_worker": "TF_CONFIG set"
        if os.environ.get("TF_CONFIG")
        else "no TF_CONFIG: one worker",
    }
    return {
        "seqrun": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "packages": {
            name: _version(name)
            for name in (
                "tensorflow",
                "keras",
                "numpy",
                "pandas",
                "pydantic",
                "typer",
                "rich",
                "matplotlib",
                "ray",
                "mlflow",
                "tensorboard",
            )
        },
        "cuda_build": bool(build.get("is_cuda_build")),
        "cuda_version": build.get("cuda_version"),
        "devices": {
            "cpu_cores": os.cpu_count(),
            "logical_cpus": [d.name for d in logical_cpus],
            "gpus": [
                {"name": d.name, **tf.config.experimental.get_device_details(d)} for d in gpus
            ],
        },
        "strategies": strategies,
        "threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads() or "auto",
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads() or "auto",
            "SEQRUN_THREADS": os.environ.get("SEQRUN_THREADS"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        },
        "env": {
            k: os.environ[k]
            for k in ("SEQRUN_RUNS_DIR", "SEQRUN_CPU_DEVICES", "TF_CONFIG", "CUDA_VISIBLE_DEVICES")
            if k in os.environ
        },
    }
