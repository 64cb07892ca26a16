"""Plain Keras reference for the text benchmark: one configs/mr-*.yaml model, no seqrun.

Same data and split as the seqrun configs (the bundled mr-snippets sample: drop score 0, positive =
score > 0, numpy default_rng(0).permutation, 80 % train / 10 % dev / 10 % test), Keras'
TextVectorization (max_tokens = encoder.vocab_size, adapted on train), the same layers,
optimizer, batch size and epochs read from the YAML file, the dev split as validation data and
the best dev-accuracy epoch kept (as seqrun's best checkpoint). Prints one JSON line.

    python bench/text_plain.py configs/mr-bigru.yaml [--epochs N]
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import time

T0 = time.time()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import yaml  # noqa: E402


def read_split(path: str, seed: int = 0):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    rows = [r for r in rows if float(r["score"]) != 0]
    texts = np.array([r["text"] for r in rows], dtype=object)
    labels = np.array([float(r["score"]) > 0 for r in rows], dtype=np.float32)
    n = len(rows)
    perm = np.random.default_rng(seed).permutation(n)
    a, b = int(n * 0.8), int(n * 0.9)
    return [(texts[i].tolist(), labels[i]) for i in (perm[:a], perm[a:b], perm[b:])]


def keep_best():
    """A callback keeping the best dev-accuracy epoch's weights, restored at the end."""
    import keras

    class KeepBest(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best, self.weights = -1.0, None

        def on_epoch_end(self, epoch, logs=None):
            if logs["val_accuracy"] > self.best:
                self.best, self.weights = logs["val_accuracy"], self.model.get_weights()

        def on_train_end(self, logs=None):
            self.model.set_weights(self.weights)

    return KeepBest()


def data_file(data: dict) -> str:
    """The table an experiment reads: its path, or the file of its bundled sample."""
    if data.get("sample"):
        from seqrun.samples import sample_path

        return str(sample_path(data["sample"]))
    return data["path"]


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", help="a configs/mr-*.yaml file")
    ap.add_argument("--epochs", type=int, help="override train.epochs (bench --quick)")
    args = ap.parse_args()
    import keras  # after the arguments, so that --help answers at once
    import tensorflow as tf

    with open(args.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    enc, m, t = cfg["encoder"], cfg["model"], cfg["train"]
    if args.epochs is not None:
        t["epochs"] = args.epochs
    keras.utils.set_random_seed(cfg.get("seed", 0))
    tf.config.experimental.enable_op_determinism()
    (x_tr, y_tr), (x_dev, y_dev), (x_te, y_te) = read_split(data_file(cfg["data"]))

    if enc["type"] == "multi_hot":
        mode = {"binary": "multi_hot", "count": "count", "tfidf": "tf_idf"}[enc["weighting"]]
        vec = keras.layers.TextVectorization(
            max_tokens=enc["vocab_size"], output_mode=mode, ngrams=enc.get("ngrams", 1)
        )
    else:
        vec = keras.layers.TextVectorization(
            max_tokens=enc["vocab_size"],
            output_mode="int",
            output_sequence_length=enc["sequence_len"],
        )
    vec.adapt(tf.data.Dataset.from_tensor_slices(x_tr).batch(512))
    x_tr, x_dev, x_te = (np.asarray(vec(tf.constant(x))) for x in (x_tr, x_dev, x_te))

    layers = [keras.Input(shape=x_tr.shape[1:], dtype=x_tr.dtype)]
    if enc["type"] != "multi_hot":
        layers.append(keras.layers.Embedding(enc["vocab_size"], enc["dim"], mask_zero=True))
    drop = m.get("dropout", 0.0)
    if m["arch"] == "dense":
        for _ in range(m.get("layers", 2)):
            layers.append(keras.layers.Dense(m["units"], activation="relu"))
            if drop:
                layers.append(keras.layers.Dropout(drop))
    elif m["arch"] == "pooling":
        layers.append(keras.layers.GlobalAveragePooling1D())
        layers += [keras.layers.Dropout(drop)] if drop else []
        for _ in range(m.get("layers", 1)):
            layers.append(keras.layers.Dense(m["units"], activation="relu"))
            layers += [keras.layers.Dropout(drop)] if drop else []
    else:
        cell = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[m["arch"]]
        rnn = cell(m["units"], dropout=drop)
        layers.append(keras.layers.Bidirectional(rnn) if m.get("bidirectional") else rnn)
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers)
    optimizer = keras.optimizers.get(t.get("optimizer", "adam"))
    if t.get("learning_rate"):
        optimizer.learning_rate = t["learning_rate"]
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])

    t_fit = time.time()
    model.fit(
        x_tr,
        y_tr,
        epochs=t["epochs"],
        batch_size=t["batch_size"],
        validation_data=(x_dev, y_dev),
        callbacks=[keep_best()],
        verbose=0,
    )
    fit_s = time.time() - t_fit
    dev = float(np.mean((model.predict(x_dev, verbose=0)[:, 0] >= 0.5) == y_dev))
    wall = time.time() - T0
    test = float(np.mean((model.predict(x_te, verbose=0)[:, 0] >= 0.5) == y_te))
    print(
        json.dumps(
            {
                "config": args.config,
                "train": len(y_tr),
                "dev": len(y_dev),
                "test": len(y_te),
                "fit_s": round(fit_s, 2),
                "wall_s": round(wall, 2),
                "dev_accuracy": dev,
                "test_accuracy": test,
            }
        )
    )


if __name__ == "__main__":
    main()
