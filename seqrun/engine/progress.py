"""Training progress on stderr: rich bars on a terminal, one line per epoch otherwise."""

from __future__ import annotations

import time
from typing import Any

from seqrun.core.runs import dev_key
from seqrun.engine.processes import say_on_stderr


def _fmt(logs: dict[str, Any], keys: list[str]) -> str:
    parts = []
    for k in keys:
        if k in logs and logs[k] is not None:
            parts.append(f"{dev_key(k)} {float(logs[k]):.4g}")
    return "  ".join(parts)


def make_progress_callback(
    epochs: int, steps: int, first_epoch: int = 0, quiet: bool = False, note: str | None = None
):
    """A Keras callback showing epoch and batch progress with live loss and dev metrics;
    ``note`` (what the numbers are) is printed once, before the first epoch's line."""
    import keras
    from rich.console import Console

    console = Console(stderr=True)

    class _Progress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.live = console.is_terminal and not quiet
            self.progress = None
            self.last_dev = ""
            self.t0 = 0.0

        def on_train_begin(self, logs=None):
            self.t0 = time.time()
            if note and not quiet:
                say_on_stderr(f"note: {note}")
            if not self.live:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
                console=console,
                transient=False,
                refresh_per_second=8,
            )
            self.progress.start()
            self.epoch_task = self.progress.add_task(
                "epochs", total=epochs, completed=first_epoch, info=""
            )
            self.batch_task = self.progress.add_task("batches", total=steps, info="")

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_t0 = time.time()
            if self.progress:
                self.progress.reset(self.batch_task, total=steps, info="")
                self.progress.update(self.batch_task, description=f"epoch {epoch + 1}")

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            keys = ["loss", *[k for k in logs if dev_key(k) != k]]
            took = time.time() - self.epoch_t0
            text = f"epoch {epoch + 1}/{epochs}  {_fmt(logs, keys)}  ({took:.1f}s)"
            if self.progress:  # above the bars, whole: a bar's info is cut to the width (…)
                self.progress.update(self.epoch_task, completed=epoch + 1)
                self.progress.console.print(text, markup=False, highlight=False)
            elif not quiet:
                say_on_stderr(text)

        def on_train_end(self, logs=None):
            self.close()

        def close(self):
            if self.progress:
                self.progress.stop()
                self.progress = None

    class _LiveProgress(_Progress):
        # Only the live display hooks batches: a batch hook makes Keras sync logs every step.
        def on_train_batch_end(self, batch, logs=None):
            if self.progress and (batch % 10 == 0 or batch + 1 == steps):
                info = _fmt(logs or {}, ["loss"])
                self.progress.update(self.batch_task, completed=batch + 1, info=info)

    return _LiveProgress() if console.is_terminal and not quiet else _Progress()
