"""The classification metric set: accuracy, F1, ROC AUC, log loss, majority baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def predicted_labels(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, probability of that class) from sigmoid (N,) or softmax (N, K) outputs."""
    import numpy as np

    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:
        pred = (proba >= 0.5).astype(np.int64)
        return pred, np.where(pred == 1, proba, 1.0 - proba)
    pred = proba.argmax(axis=1)
    return pred, proba[np.arange(len(pred)), pred]


def roc_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None with a single class."""
    import numpy as np

    y = np.asarray(y).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        return None
    from scipy.stats import rankdata

    r = rankdata(np.asarray(score))  # average ranks over ties
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def class_scores(
    y: np.ndarray, proba: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray, float, dict[str, dict[str, Any]]]:
    """Predicted labels, the confusion matrix (rows: true class, columns: predicted), the log
    loss, and each class's precision, recall, F1 and support."""
    import numpy as np

    k = len(names)
    pred, _ = predicted_labels(proba)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    eps = 1e-7
    if proba.ndim == 1:
        q = np.clip(proba, eps, 1 - eps)
        log_loss = float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    else:
        q = np.clip(proba[np.arange(len(y)), y], eps, 1.0)
        log_loss = float(-np.mean(np.log(q)))
    scores = {}
    for c, name in enumerate(names):
        tp = int(cm[c, c])
        fp = int(cm[:, c].sum() - tp)
        fn = int(cm[c, :].sum() - tp)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        scores[name] = {
            "precision": prec,
            "recall": rec,
            "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
            "support": int(cm[c, :].sum()),
        }
    return pred, cm, log_loss, scores


class ClassificationMetrics:
    """Accuracy, precision, recall, F1, ROC AUC, log loss, confusion matrix, majority baseline.

    Binary tasks score the second class (e.g. ``positive``) as the positive one; with more
    classes precision, recall, F1 and AUC (one-vs-rest) are macro averages. The majority-class
    baseline predicts the most frequent *training* class for every example of the split.
    Keys: ``accuracy``, ``precision``, ``recall``, ``f1``, ``auc``, ``log_loss``,
    ``majority_class``, ``majority_accuracy``, ``confusion_matrix`` (rows: true class,
    columns: predicted), ``class_names``, ``per_class``, ``n``.
    """

    headline = ("accuracy", "f1", "auc")
    baselines = {"accuracy": "majority_accuracy"}
    task_kind = "classification"
    directions = {
        **{k: "max" for k in ("accuracy", "precision", "recall", "f1", "auc")},
        "loss": "min",
        "log_loss": "min",
    }

    def compute(self, p: dict[str, Any]) -> dict[str, Any]:
        """Score predictions returned by a text data module's ``predictions``."""
        import numpy as np

        y = np.asarray(p["y_true"], dtype=np.int64)
        proba = np.asarray(p["proba"], dtype=np.float64)
        names = list(p["class_names"])
        k = len(names)
        pred, cm, log_loss, scores = class_scores(y, proba, names)
        per_class = {}
        for c, name in enumerate(names):
            score = proba if proba.ndim == 1 else proba[:, c]
            auc = roc_auc(y == c, score if proba.ndim > 1 or c == 1 else 1 - proba)
            s = scores[name]
            per_class[name] = {
                "precision": s["precision"],
                "recall": s["recall"],
                "f1": s["f1"],
                "auc": auc,
                "support": s["support"],
            }
        if k == 2:
            pos = per_class[names[1]]
            precision, recall, f1, auc = pos["precision"], pos["recall"], pos["f1"], pos["auc"]
        else:
            precision = float(np.mean([v["precision"] for v in per_class.values()]))
            recall = float(np.mean([v["recall"] for v in per_class.values()]))
            f1 = float(np.mean([v["f1"] for v in per_class.values()]))
            aucs = [v["auc"] for v in per_class.values() if v["auc"] is not None]
            auc = float(np.mean(aucs)) if aucs else None
        counts = np.asarray(p.get("train_class_counts") or [], dtype=np.int64)
        if len(counts) != k or not counts.sum():
            counts = np.bincount(y, minlength=k)  # no training counts: the split's own
        majority = int(np.argmax(counts))
        out: dict[str, Any] = {
            "n": int(len(y)),
            "accuracy": float(np.mean(pred == y)) if len(y) else 0.0,
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "auc": auc,
            "log_loss": log_loss,
            "majority_class": names[majority],
            "majority_accuracy": float(np.mean(y == majority)) if len(y) else 0.0,
            "confusion_matrix": cm.tolist(),
            "class_names": names,
            "per_class": per_class,
        }
        if p.get("vocabulary"):
            out["vocabulary"] = p["vocabulary"]
        return out
