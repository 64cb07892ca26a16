"""Plots written into run directories (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.runs import metric_name


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> None:
    """Write ``fig`` as a PNG at ``path`` in one atomic step (a kill leaves the old file or
    the new one, never half of one) and close it."""
    import io

    from seqrun.core.runs import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    atomic_write_bytes(path, buf.getvalue())


def _spans_decades(values: list[Any], ratio: float = 10.0) -> bool:
    """Whether positive values span at least a factor ``ratio`` (a log axis reads better)."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    return bool(len(v) > 1 and (v > 0).all() and v.max() / v.min() >= ratio)


def _log_axis(ax: Any, values: list[Any]) -> None:
    """A log y axis with plain numbers (0.2, 0.05) rather than powers of ten."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:.3g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain if not _spans_decades(values, 100.0) else NullFormatter())


def learning_curves(
    history: list[dict[str, Any]],
    path: Path,
    best_epoch: int | None = None,
    monitor: str | None = None,
) -> None:
    """Train vs dev curves, one panel per metric found in the history.

    The selected epoch (``best_epoch``, chosen on dev ``monitor``) is marked in every panel;
    a panel whose values span a decade or more has a log y axis.
    """
    save_figure(learning_curves_figure(history, best_epoch, monitor), path)


def learning_curves_figure(
    history: list[dict[str, Any]], best_epoch: int | None = None, monitor: str | None = None
) -> Any:
    """The matplotlib figure of :func:`learning_curves`."""
    plt = _pyplot()
    names = [
        k for k in history[0] if k not in ("epoch", "lr", "seconds") and not k.startswith("dev_")
    ]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    epochs = [r["epoch"] for r in history]
    chosen = metric_name(monitor or "")
    for ax, name in zip(axes[0], names, strict=True):
        train = [r.get(name) for r in history]
        dev = [r.get(f"dev_{name}") for r in history] if f"dev_{name}" in history[0] else None
        ax.plot(epochs, train, "o-", ms=3, label=f"train {name}")
        if dev is not None:
            ax.plot(epochs, dev, "o-", ms=3, label=f"dev {name}")
        if best_epoch is not None and best_epoch in epochs:
            i = epochs.index(best_epoch)
            ax.axvline(best_epoch, color="0.4", ls="--", lw=1)
            series = dev if dev is not None else train
            if series[i] is not None:
                star = "selected" + (f" on dev {chosen}" if chosen == name else "")
                ax.plot(
                    [best_epoch],
                    [series[i]],
                    marker="*",
                    ms=14,
                    color="tab:red",
                    ls="none",
                    label=f"{star}: epoch {best_epoch}",
                )
        if _spans_decades(train + (dev or [])):
            _log_axis(ax, train + (dev or []))
            ax.set_ylabel(f"{name} (log scale)")
        else:
            ax.set_ylabel(name)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(name)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return fig


def cv_summary(
    folds: list[dict[str, Any]],
    path: Path,
    metric: str,
    direction: str = "",
    title: str = "",
) -> None:
    """A cross-validation at a glance: each fold's learning curves (train dashed, dev solid,
    selected epoch starred) and each fold's dev ``metric`` against the mean +- std.

    ``folds``: one dict per fold with ``fold``, ``history`` (rows of history.csv),
    ``best_epoch`` and ``metrics`` (the fold's dev metrics).
    """
    plt = _pyplot()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    every: list[Any] = []
    for j, f in enumerate(folds):
        hist = f.get("history") or []
        if not hist:
            continue
        c = colors[j % len(colors)]
        ep = [r["epoch"] for r in hist]
        train = [r.get("loss") for r in hist]
        dev = [r.get("dev_loss") for r in hist]
        every += train + dev
        ax.plot(ep, train, "--", color=c, lw=1, alpha=0.7)
        ax.plot(ep, dev, "o-", ms=3, color=c, label=f"fold {f['fold']}")
        best = f.get("best_epoch")
        if best in ep and dev[ep.index(best)] is not None:
            ax.plot([best], [dev[ep.index(best)]], "*", ms=12, color=c, mec="k", mew=0.5)
    if _spans_decades(every):
        _log_axis(ax, every)
        ax.set_ylabel("loss (log scale)")
    else:
        ax.set_ylabel("loss")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("learning curves (dev solid, train dashed, * selected epoch)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncol=2)

    values = [f["metrics"].get(metric) for f in folds]
    xs = [str(f["fold"]) for f in folds]
    bars = [v if isinstance(v, int | float) else np.nan for v in values]
    bx.plot(xs, bars, "o", ms=9, color="tab:blue", label=f"dev {metric} of the fold")
    finite = [v for v in bars if np.isfinite(v)]
    if finite:
        mean = float(np.mean(finite))
        std = float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0
        bx.axhline(mean, color="tab:red", lw=1.5, label=f"mean {mean:.4g} +- {std:.2g}")
        bx.axhspan(mean - std, mean + std, color="tab:red", alpha=0.12)
        lo, hi = min(finite), max(finite)
        pad = max((hi - lo) * 0.6, std, abs(mean) * 0.02, 1e-9)
        bx.set_ylim(lo - pad, hi + pad)
        for x, v in zip(xs, bars, strict=True):
            if np.isfinite(v):
                bx.annotate(
                    f"{v:.3g}", (x, v), xytext=(8, 0), textcoords="offset points", fontsize=8
                )
        bx.legend(fontsize=8, loc="best")
    bx.set_xlabel("fold (dev = the held-out fold)")
    bx.set_ylabel(f"dev {metric}" + (f" ({direction} is better)" if direction else ""))
    bx.set_title(f"dev {metric} per fold")
    bx.grid(alpha=0.3, axis="y")
    if title:
        fig.suptitle(title, y=1.02)
    save_figure(fig, path)


def trajectory(preds: dict[str, Any], path: Path, title: str = "", n_points: int = 300) -> None:
    """A 2D trajectory: true points vs one-step predictions (left), and a few recursive
    multi-step predictions, each in its own zoomed panel starting from its last observed
    point (right); the same numbers mark where they lie on the trajectory."""
    save_figure(trajectory_figure(preds, title, n_points), path)


def trajectory_figure(preds: dict[str, Any], title: str = "", n_points: int = 300) -> Any:
    """The matplotlib figure of :func:`trajectory`."""
    plt = _pyplot()
    y, yhat = preds["y_true"][:n_points], preds["y_pred"][:n_points]
    rec = preds.get("recursive")
    has_rec = rec is not None and len(rec["starts"]) > 0
    fig = plt.figure(figsize=(14, 7) if has_rec else (7, 6))
    grid = fig.add_gridspec(3, 5 if has_rec else 3, wspace=0.35, hspace=0.45)
    ax = fig.add_subplot(grid[:, :3])
    ax.plot(y[:, 0], y[:, 1], "-", color="0.6", lw=1, label="true trajectory")
    ax.plot(yhat[:, 0], yhat[:, 1], ".", ms=4, color="tab:blue", label="predicted (1 step)")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"{title}: one-step predictions" if title else "one-step predictions")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.25)
    if has_rec:
        steps = rec["y_true"].shape[1]
        pick = np.unique(np.linspace(0, min(len(rec["starts"]), n_points) - 1, 6).astype(int))
        for j, i in enumerate(pick):
            start = np.asarray(rec["persistence"][i], dtype=float)
            true = np.vstack([start, rec["y_true"][i]])
            pred = np.vstack([start, rec["y_pred"][i]])
            ax.annotate(
                str(j + 1),
                start,
                fontsize=9,
                fontweight="bold",
                color="tab:red",
                bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "tab:red", "lw": 0.8},
            )
            sub = fig.add_subplot(grid[j // 2, 3 + j % 2])
            sub.plot(true[:, 0], true[:, 1], "o-", ms=4, color="tab:green", label="true")
            sub.plot(pred[:, 0], pred[:, 1], "x--", ms=5, color="tab:red", label="predicted")
            sub.plot(*start, "s", ms=6, color="k", label="last observed")
            sub.set_title(f"{j + 1}: {steps} steps ahead", fontsize=9)
            sub.set_xlabel("x", fontsize=8, labelpad=1)
            sub.set_ylabel("y", fontsize=8, labelpad=1)
            sub.tick_params(labelsize=7)
            sub.grid(alpha=0.25)
            sub.set_aspect("equal", adjustable="datalim")
            if j == 0:
                sub.legend(fontsize=7, loc="best")
        ax.plot([], [], "o", mfc="white", mec="tab:red", label="recursive examples (right)")
    ax.legend(loc="best", fontsize=8)
    return fig


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
    save_figure(fig, path)


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
    save_figure(fig, path)


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
        from seqrun.core.durations import duration_seconds, format_duration

        ahead = format_duration(duration_seconds(step) * int(lead))
    else:
        ahead = f"{lead} steps"
    axes[0, 0].set_title(f"{head}forecast {ahead} ahead, first week of the split (UTC)")
    axes[0, 0].legend(loc="best", fontsize=8, ncol=4)
    fig.autofmt_xdate()
    save_figure(fig, path)
