"""The multi-class classification metric set of whole sequences: accuracy, balanced accuracy,
macro F1, per class, confusion, majority baseline."""

from __future__ import annotations

from typing import Any

from seqrun.metrics.classification import class_scores


class SequenceClassificationMetrics:
    """Accuracy, balanced accuracy (mean recall over classes), macro F1, per-class precision/
    recall/F1, confusion matrix (rows true, columns predicted), log loss, and the majority
    baseline (the most frequent *training* class for every series)."""

    task_kind = "classification"
    headline = ("accuracy", "balanced_accuracy", "macro_f1")
    baselines = {"accuracy": "majority_accuracy", "balanced_accuracy": "majority_balanced_accuracy"}
    directions = {
        "accuracy": "max",
        "balanced_accuracy": "max",
        "macro_f1": "max",
        "majority_accuracy": "max",
        "majority_balanced_accuracy": "max",
        "error_rate": "min",
        "log_loss": "min",
        "loss": "min",
        "auc": "max",
    }

    def compute(self, p: dict[str, Any]) -> dict[str, Any]:
        """Score the predictions of a sequence data module."""
        import numpy as np

        y = np.asarray(p["y_true"], dtype=np.int64)
        proba = np.asarray(p["proba"], dtype=np.float64)
        names = list(p["class_names"])
        k = len(names)
        pred, cm, log_loss, per_class = class_scores(y, proba, names)
        present = [v for v in per_class.values() if v["support"]]
        counts = np.asarray(p.get("train_class_counts") or [], dtype=np.int64)
        if len(counts) != k or not counts.sum():
            counts = np.bincount(y, minlength=k)
        majority = int(np.argmax(counts))
        f1s = [v["f1"] for v in per_class.values()]
        seen = (np.asarray(cm).sum(axis=0) + np.asarray(cm).sum(axis=1)) > 0
        n = len(y)
        acc = float(np.mean(pred == y)) if n else 0.0
        return {
            "n": int(n),
            "accuracy": acc,
            "error_rate": 1.0 - acc,
            "balanced_accuracy": float(np.mean([v["recall"] for v in present])) if present else 0.0,
            # over the classes in the truth or the predictions (scikit-learn's convention): a
            # class absent from both is no error
            "macro_f1": float(np.mean([f for f, ok in zip(f1s, seen, strict=True) if ok]))
            if seen.any()
            else 0.0,
            "log_loss": log_loss if n else 0.0,
            "majority_class": names[majority],
            "majority_accuracy": float(np.mean(y == majority)) if n else 0.0,
            # the majority class's recall is 1, the others' 0: a split without that class
            # scores 0 (its recall is not averaged)
            "majority_balanced_accuracy": 1.0 / len(present)
            if per_class[names[majority]]["support"]
            else 0.0,
            "confusion_matrix": cm.tolist(),
            "class_names": names,
            "per_class": per_class,
        }
