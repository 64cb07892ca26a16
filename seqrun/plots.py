"""Plots written into run directories (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    import io

    from seqrun.runs import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    atomic_write_bytes(path, buf.getvalue())


def learning_curves(history: list[dict[str, Any]], path: Path) -> None:
    """Train vs dev curves, one panel per metric found in the history."""
    plt = _pyplot()
    names = [
        k for k in history[0] if k not in ("epoch", "lr", "seconds") and not k.startswith("dev_")
    ]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.5), squeeze=False)
    epochs = [r["epoch"] for r in history]
    for ax, name in zip(axes[0], names, strict=True):
        ax.plot(epochs, [r.get(name) for r in history], "o-", label=f"train {name}")
        if f"dev_{name}" in history[0]:
            ax.plot(epochs, [r.get(f"dev_{name}") for r in history], "o-", label=f"dev {name}")
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)


def trajectory(preds: dict[str, Any], path: Path, title: str = "", n_points: int = 300) -> None:
    """A 2D trajectory: true points vs one-step predictions, and recursive predictions."""
    plt = _pyplot()
    y, yhat = preds["y_true"][:n_points], preds["y_pred"][:n_points]
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.plot(y[:, 0], y[:, 1], "-", color="0.6", lw=1, label="true")
    ax.plot(yhat[:, 0], yhat[:, 1], ".", ms=3, color="tab:blue", label="predicted (1 step)")
    rec = preds.get("recursive")
    if rec is not None and len(rec["starts"]):
        # a few recursive predictions, each drawn from where it starts
        pick = np.linspace(0, min(len(rec["starts"]), n_points) - 1, 6).astype(int)
        for j, i in enumerate(pick):
            ax.plot(
                rec["y_true"][i, :, 0],
                rec["y_true"][i, :, 1],
                "o",
                ms=4,
                mfc="none",
                color="tab:green",
                label="true (recursive span)" if j == 0 else None,
            )
            ax.plot(
                rec["y_pred"][i, :, 0],
                rec["y_pred"][i, :, 1],
                "x-",
                ms=5,
                color="tab:red",
                label="predicted (recursive)" if j == 0 else None,
            )
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="best", fontsize=8)
    _save(fig, path)


def forecast(preds: dict[str, Any], path: Path, title: str = "", n_points: int = 168) -> None:
    """Forecast vs truth over the first ``n_points`` targets, one panel per target."""
    plt = _pyplot()
    names = preds["target_names"]
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.6 * len(names)), squeeze=False)
    for i, (ax, name) in enumerate(zip(axes[:, 0], names, strict=True)):
        ax.plot(preds["y_true"][:n_points, i], label="truth", color="0.3")
        ax.plot(preds["y_pred"][:n_points, i], label="forecast", color="tab:blue")
        ax.plot(
            preds["persistence"][:n_points, i], label="persistence", color="tab:orange", alpha=0.6
        )
        unit = preds.get("units", [""] * len(names))[i]
        ax.set_ylabel(f"{name} {unit}".strip())
        ax.grid(alpha=0.3)
    axes[0, 0].set_title(title)
    axes[0, 0].legend(loc="best", fontsize=8)
    _save(fig, path)


def confusion(preds: dict[str, Any], path: Path, title: str = "") -> None:
    """Confusion matrix (counts and row shares) and, for two classes, the probability histogram."""
    from seqrun.metrics import predicted_labels

    plt = _pyplot()
    y = np.asarray(preds["y_true"])
    proba = np.asarray(preds["proba"])
    names = list(preds["class_names"])
    k = len(names)
    pred, _ = predicted_labels(proba)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    binary = proba.ndim == 1
    fig, axes = plt.subplots(1, 2 if binary else 1, figsize=(10 if binary else 5, 4), squeeze=False)
    ax = axes[0, 0]
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                f"{cm[i, j]}\n{share[i, j]:.1%}",
                ha="center",
                va="center",
                color="white" if share[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(k), names, rotation=30 if k > 3 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title} (accuracy {np.mean(pred == y):.3f})" if len(y) else title)
    if binary:
        ax = axes[0, 1]
        bins = np.linspace(0, 1, 21)
        for c, color in ((0, "tab:red"), (1, "tab:green")):
            ax.hist(proba[y == c], bins=bins, alpha=0.6, color=color, label=f"true {names[c]}")
        ax.axvline(0.5, color="0.3", lw=1, ls="--")
        ax.set_xlabel(f"predicted probability of '{names[1]}'")
        ax.set_ylabel("examples")
        ax.legend(loc="upper center", fontsize=8)
    _save(fig, path)


def forecast_week(
    preds: dict[str, Any], path: Path, title: str = "", steps_per_week: int = 168
) -> None:
    """Forecast vs truth (and the baselines) against time over the split's first week.

    One panel per target (at most 16); lines break where the series has a gap.
    """
    plt = _pyplot()
    times = np.asarray(preds["target_times"]).astype("datetime64[s]")
    week = times < times[0] + np.timedelta64(7, "D")
    t = times[week].astype(object)
    gaps = np.zeros(len(t), dtype=bool)
    if len(t) > 2:
        d = np.diff(times[week].astype(np.int64))
        gaps[1:] = d > np.median(d)

    def broken(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float).copy()
        v[gaps] = np.nan  # matplotlib does not join across NaN
        return v

    names = list(preds["target_names"])[:16]
    units = preds.get("units", [""] * len(names))
    lead = preds.get("horizon", 1)
    step = preds.get("step", "")
    fig, axes = plt.subplots(
        len(names), 1, figsize=(11, 2.4 * len(names)), squeeze=False, sharex=True
    )
    for i, (ax, name) in enumerate(zip(axes[:, 0], names, strict=True)):
        ax.plot(t, broken(preds["y_true"][week, i]), color="0.2", lw=1.4, label="truth")
        ax.plot(t, broken(preds["y_pred"][week, i]), color="tab:blue", lw=1.2, label="forecast")
        ax.plot(
            t,
            broken(preds["persistence"][week, i]),
            color="tab:orange",
            lw=0.9,
            alpha=0.7,
            label="persistence",
        )
        daily = preds.get("daily_persistence")
        if daily is not None:
            ax.plot(
                t,
                broken(daily[week, i]),
                color="tab:green",
                lw=0.9,
                ls=":",
                label="same hour, previous day",
            )
        ax.set_ylabel(f"{name} {units[i]}".strip())
        ax.grid(alpha=0.3)
    head = f"{title}: " if title else ""
    if step:
        from seqrun.data.forecast import duration_seconds, format_duration

        ahead = format_duration(duration_seconds(step) * int(lead))
    else:
        ahead = f"{lead} steps"
    axes[0, 0].set_title(f"{head}forecast {ahead} ahead, first week of the split (UTC)")
    axes[0, 0].legend(loc="best", fontsize=8, ncol=4)
    fig.autofmt_xdate()
    _save(fig, path)
