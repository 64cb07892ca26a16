"""TensorFlow in this process: imported quietly, once; its versions for meta.json.

Importing this module imports no TensorFlow; it sets the C++ log level that TensorFlow reads
when it is imported later.
"""

from __future__ import annotations

import os
import sys

from seqrun.core.errors import env_count


def quiet_tf_logs() -> None:
    """Keep TensorFlow's C++ log lines (``E0000 ... oneDNN supports DT_BOOL``, ``I0000 ...``,
    CUDA probes) off the terminal unless SEQRUN_TF_LOGS=1 (or TF_CPP_MIN_LOG_LEVEL is set).

    Must run before TensorFlow is imported: its C++ logger reads the level once.
    """
    if os.environ.get("SEQRUN_TF_LOGS", "") not in ("", "0"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # 3: ERROR lines too (they are notes)


quiet_tf_logs()


def import_tensorflow() -> None:
    """Import TensorFlow and Keras with the C++ start-up chatter (CUDA probes, oneDNN notes)
    sent to /dev/null; set SEQRUN_TF_LOGS=1 to see it."""
    if "keras" in sys.modules or os.environ.get("SEQRUN_TF_LOGS", "") not in ("", "0"):
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow as tf

        cpus = tf.config.list_physical_devices("CPU")  # device probing logs here, too
        split = env_count("SEQRUN_CPU_DEVICES") or 0
        if split > 1:  # logical CPUs, to exercise tf.distribute without GPUs
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(split)]
            )
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def framework_versions() -> dict[str, str]:
    """The TensorFlow and Keras versions, as meta.json records them."""
    import keras
    import tensorflow as tf

    return {"tensorflow_version": tf.__version__, "keras_version": keras.__version__}
