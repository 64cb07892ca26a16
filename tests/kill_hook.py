"""Run ``seqrun ARGS...`` and SIGKILL this very process at an exact instant (fault injection).

``KILL_AT=save:N``: the N-th Keras model save has written its temporary file; cut the file to
half its size (a torn write) and die before it is renamed. ``KILL_AT=batch:E:B``: die after
batch B of epoch E (both 1-based), in the middle of that epoch. ``KILL_AT=epoch:N``: die just
after epoch N's checkpoint is saved and linked (before the run is scored); ``epoch:N:K``: the
K-th time an epoch N is saved (fold K - 1 of a cross-validation). The process is a
real ``seqrun train``: the kill is the kernel's SIGKILL, nothing is cleaned up.

``KILL_AT=signal:SIG:WHERE`` sends SIG (INT, TERM, HUP) to this process once, at WHERE: ``claimed``
(a tune trial was asked and its process recorded, before it trains), ``config`` (the
experiment file read, nothing written yet), ``summary`` (writing a new run directory, before
training), ``score`` (scoring the best checkpoint after the fit), ``finalizer`` (as scoring
starts, from inside a ``__del__``, where Python prints and drops the handler's exception, as
in Keras' weakref callbacks), ``swallowed`` (as scoring starts, inside code that turns the
handler's KeyboardInterrupt into a TypeError, as numpy's ``__array__`` fallback can),
``run_config`` (a saved run's config read, as ``evaluate`` and
``predict`` start), ``folds_summary`` (every fold of a cross-validation trained, its parent's
summary being written) or ``exit`` (the command ended, the interpreter tearing down).

``KILL_AT=wait:WHERE`` pauses instead (nothing is killed): at WHERE it creates the file
``$BARRIER.reached`` and waits until ``$BARRIER`` exists (at once when it already does), so
that a test can run another command at that instant. WHERE is ``score`` (a checkpoint is about
to be scored: ``seqrun evaluate`` has loaded the model, written nothing), ``predictions`` (a
split's metrics, plot and predictions are written, its ``errors.jsonl`` records next) or
``errors`` (``errors.jsonl`` read, its new text about to be written).
"""

from __future__ import annotations

import os
import signal
import sys

from seqrun.engine.backend import import_tensorflow

import_tensorflow()  # quietly, as `seqrun train` does


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _install(spec: str) -> None:
    import keras

    kind, *args = spec.split(":")
    if kind == "save":
        target, seen = int(args[0]), [0]
        save = keras.Model.save

        def torn_save(self, filepath, *a, **k):
            save(self, filepath, *a, **k)
            seen[0] += 1
            if seen[0] == target:
                os.truncate(filepath, os.path.getsize(filepath) // 2)
                _die()

        keras.Model.save = torn_save
    elif kind == "batch":
        epoch, batch, now = int(args[0]), int(args[1]), [0]
        begin = keras.callbacks.CallbackList.on_epoch_begin
        end = keras.callbacks.CallbackList.on_train_batch_end

        def on_epoch_begin(self, e, logs=None):
            now[0] = e + 1
            return begin(self, e, logs)

        def on_train_batch_end(self, b, logs=None):
            end(self, b, logs)
            if now[0] == epoch and b + 1 == batch:
                _die()

        keras.callbacks.CallbackList.on_epoch_begin = on_epoch_begin
        keras.callbacks.CallbackList.on_train_batch_end = on_train_batch_end
    elif kind == "epoch":
        import seqrun.engine.checkpoint as ckpt

        target, save_epoch = int(args[0]), ckpt.save_epoch
        nth, seen = int(args[1]) if len(args) > 1 else 1, [0]

        def save_then_die(model, run, state):
            save_epoch(model, run, state)
            if state.epoch == target:
                seen[0] += 1
                if seen[0] == nth:
                    _die()

        ckpt.save_epoch = save_then_die
    elif kind == "wait":
        import time
        from pathlib import Path

        import seqrun.core.runs
        import seqrun.engine.trainer

        where, barrier = args[0], Path(os.environ["BARRIER"])
        owner, name = {
            "score": (seqrun.engine.trainer, "score"),
            "predictions": (seqrun.engine.trainer, "_save_predictions"),
            "errors": (seqrun.core.runs, "atomic_write_text"),
        }[where]
        original = getattr(owner, name)

        def wait() -> None:
            Path(f"{barrier}.reached").touch()
            deadline = time.monotonic() + 300
            while not barrier.exists() and time.monotonic() < deadline:
                time.sleep(0.02)

        def paused(*a, **k):
            if where == "errors" and Path(a[0]).name != "errors.jsonl":
                return original(*a, **k)
            if where != "predictions":
                wait()
            out = original(*a, **k)
            if where == "predictions":
                wait()
            return out

        setattr(owner, name, paused)
    elif kind == "signal":
        sig, where = getattr(signal, "SIG" + args[0]), args[1]
        if where == "exit":  # the command has returned; Python tears the process down
            import atexit

            atexit.register(lambda: [os.kill(os.getpid(), sig), *range(100)])
            return
        if where == "finalizer":  # the handler runs inside __del__: its exception is dropped
            import seqrun.engine.trainer as owner

            score = owner.score

            class Doomed:
                def __del__(self) -> None:
                    os.kill(os.getpid(), sig)
                    for _ in range(100):
                        pass

            def finalized_then_scored(*a, **k):
                Doomed()  # finalized at once
                return score(*a, **k)

            owner.score = finalized_then_scored
            return
        if where == "swallowed":  # C code turns the handler's exception into its own error
            import seqrun.engine.trainer as owner

            score = owner.score

            def swallowed_then_scored(*a, **k):
                try:
                    os.kill(os.getpid(), sig)
                    for _ in range(100):
                        pass
                except KeyboardInterrupt:  # as numpy's __array__ fallback did with TF's Variable
                    why = "__array__() got an unexpected keyword argument 'copy'"
                    raise TypeError(why) from None
                return score(*a, **k)

            owner.score = swallowed_then_scored
            return
        if where == "claimed":
            import optuna

            owner, name = optuna.trial.Trial, "set_user_attr"
        elif where == "config":
            import seqrun.core.config as owner

            name = "load_config"
        elif where == "run_config":
            import seqrun.engine.archive as owner

            name = "load_run_config"
        elif where == "folds_summary":
            import seqrun.engine.experiment as owner

            name = "plot_folds"
        else:
            import seqrun.engine.trainer as owner

            name = {"summary": "model_summary", "score": "score"}[where]
        original, sent = getattr(owner, name), [False]

        def signalled(*a, **k):
            out = original(*a, **k)
            if where == "claimed" and a[1:2] != ("host",):
                return out
            if not sent[0]:
                sent[0] = True
                os.kill(os.getpid(), sig)
                for _ in range(100):  # the handler runs at the next bytecode of this thread
                    pass
            return out

        setattr(owner, name, signalled)
    else:
        raise SystemExit(f"KILL_AT: unknown kind {kind!r}")


if __name__ == "__main__":
    _install(os.environ["KILL_AT"])
    from seqrun.cli import main

    sys.argv = ["seqrun", *sys.argv[1:]]
    main()
