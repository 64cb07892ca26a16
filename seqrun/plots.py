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
