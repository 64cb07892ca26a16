"""`seqrun data describe CONFIG`: what an experiment's data looks like, without training.

Split sizes, then what the data module says of its family (``DataModule.describe``: e.g. class
balance, text lengths, truncation and vocabulary coverage for texts; target statistics, time
spans and gaps for series), the k-fold folds, and the leakage checks of
:mod:`seqrun.engine.leakage`. The text form asks the adapter's data module class
(``render_description``, ``brief_description``), found by the adapter's name.

It reads every split, test included: this is a report on the data, not model selection (no
model is trained or scored, nothing is tuned on it). Pure Python, numpy and (for the weather
adapters) pandas: no TensorFlow, so it answers in about a second.
"""

from __future__ import annotations

from typing import Any

from seqrun.core.summary import row_range

NOTE = (
    "describe reads every split, test included: a report on the data, not model selection "
    "(no model is trained or scored)"
)


def split_names(cfg: Any) -> tuple[str, ...]:
    """The splits of a config that hold data (no test when ``data.split.test`` is 0)."""
    split = getattr(cfg.data, "split", None)
    if split is not None and getattr(split, "test", None) == 0:
        return ("train", "dev")
    return ("train", "dev", "test")


def load(cfg: Any, names: tuple[str, ...] | None = None) -> Any:
    """The adapter's data module with the given splits (default: every non-empty one)."""
    from seqrun.data.base import open_adapter

    return open_adapter(cfg).load(names or split_names(cfg))


def describe(cfg: Any) -> dict[str, Any]:
    """The whole description as plain data (what ``--json`` prints)."""
    from seqrun.data.base import kfold_of
    from seqrun.engine import leakage

    out: dict[str, Any] = {
        "name": cfg.name,
        "adapter": cfg.data.adapter,
        "note": NOTE,
    }
    k = kfold_of(cfg)
    if k and cfg.data.split.fold is None:
        from seqrun.engine.experiment import fold_config, scheme

        folds, leaks = [], []
        detail = None
        for f in range(k):
            fcfg = fold_config(cfg, f)
            data = load(fcfg)
            info = data.describe(fcfg)
            leaks.append(leakage.check(data, cfg.data.leakage))
            folds.append({"fold": f, **_fold_summary(info)})
            if detail is None:
                detail = info
        out.update(detail or {})
        out["kfold"] = {
            "folds": k,
            "scheme": scheme(cfg),
            "detail": "splits below are fold 0's; data.split.fold=K shows another",
            "per_fold": folds,
        }
        out["leakage"] = leakage.merge(leaks, list(range(k)))
        return out
    data = load(cfg)
    out.update(data.describe(cfg))
    out["leakage"] = leakage.check(data, cfg.data.leakage)
    return out


def _fold_summary(info: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"sizes": info.get("sizes")}
    splits = info.get("splits", {})
    if "dev" in splits:
        dev = splits["dev"]
        for key in ("classes", "first_time", "last_time", "row_range"):
            if key in dev:
                out[f"dev_{key}"] = dev[key]
    return out


def data_module(info: dict[str, Any]) -> Any:
    """The data module class of the adapter a description names."""
    from seqrun.core.registry import registry

    return registry.get("adapter", info["adapter"]).data_module


def brief(info: dict[str, Any]) -> dict[str, Any]:
    """A few flat lines of a description, for the run report's data table."""
    out: dict[str, Any] = {"describe: sizes": info.get("sizes")}
    out.update(data_module(info).brief_description(info))
    leak = info.get("leakage") or {}
    out["describe: leakage"] = (
        "off"
        if leak.get("mode") == "off"
        else (leakage_summary(leak) if leak.get("found") else "none found")
    )
    return out


def leakage_summary(result: dict[str, Any]) -> str:
    """The findings in one line."""
    from seqrun.engine.leakage import summary

    return summary(result)


# ----------------------------------------------------------------------------- text output


def render(info: dict[str, Any]) -> str:
    """The description as text (what the command prints without ``--json``)."""
    from seqrun.engine.listing import plain_table

    lines = [f"{info['name']}: {info['adapter']}, {info.get('task', '')} ({info.get('source')})"]
    lines.append(f"note: {info['note']}")
    names = list(info.get("splits", {}))
    head, rows, notes = data_module(info).render_description(info)
    lines.append(head)
    lines.append("")
    lines.append(plain_table(("", *names), rows))
    if notes:
        lines.append("")
        lines.extend(notes)
    kf = info.get("kfold")
    if kf:
        lines.append("")
        lines.append(f"{kf['folds']} {kf['scheme']} folds ({kf['detail']}):")
        for f in kf["per_fold"]:
            sizes = " ".join(f"{k}={v}" for k, v in (f.get("sizes") or {}).items())
            extra = ""
            if f.get("dev_classes"):
                extra = " dev " + " ".join(f"{k}={v}" for k, v in f["dev_classes"].items())
            elif f.get("dev_first_time"):
                extra = f" dev {f['dev_first_time']} .. {f['dev_last_time']}"
            elif f.get("dev_row_range"):
                extra = f" dev rows {row_range(f['dev_row_range'])}"
            lines.append(f"  fold {f['fold']}: {sizes}{extra}")
    lines.append("")
    lines.extend(leakage_lines(info.get("leakage") or {}))
    return "\n".join(lines) + "\n"


def leakage_lines(result: dict[str, Any]) -> list[str]:
    """The leakage result as text lines."""
    mode = result.get("mode", "warn")
    if mode == "off":
        return ["leakage: checks off (data.leakage: off)"]
    head = "leakage: FOUND" if result.get("found") else "leakage: none found"
    out = [f"{head} (data.leakage: {mode})"]
    for c in result.get("checked", []):
        out.append(f"  checked: {c}")
    for s in result.get("skipped", []):
        out.append(f"  skipped: {s}")
    for issue in result.get("issues", []):
        where = f"fold {issue['fold']}: " if "fold" in issue else ""
        out.append(f"  {where}{issue['message']}")
        for ex in issue.get("examples", []):
            out.append("    e.g. " + ", ".join(f"{k} {v}" for k, v in ex.items()))
    return out
