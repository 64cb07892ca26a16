"""The course's ladybug trajectory (LADYB1): a 2D path built from a seeded sum of sinusoids."""

from __future__ import annotations

import random
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqrun.core.config import DataConfig
from seqrun.core.contracts import InputSize, LoadOptions, MemoryItem
from seqrun.core.splits import SplitFractions, series_cuts
from seqrun.core.windows import WindowGeometry
from seqrun.data.base import fingerprint
from seqrun.data.series import SeriesData, SeriesSplit


class LadybugConfig(DataConfig):
    """Options of the ladybug trajectory."""

    adapter: Literal["ladybug"] = Field("ladybug", description="The ladybug trajectory.")
    trajectory_seed: int = Field(
        16, description="Seed of the trajectory's random parameters (`random.seed`)."
    )
    max_t: float = Field(1000.0, gt=0, description="End of the time axis.")
    delta_t: float = Field(0.02, gt=0, description="Time step between two points.")
    scale: float = Field(
        1.0, gt=0, le=1, description="Keep this first fraction of the points (small = fast)."
    )
    sequence_len: int = Field(20, ge=1, description="Past points in each input window.")
    predict_len: int = Field(
        5, ge=0, description="Steps of the recursive multi-step evaluation (0 disables it)."
    )
    split: SplitFractions = Field(
        default_factory=SplitFractions, description="Chronological split fractions."
    )


def ladybug_params(seed: int) -> tuple[list[float], list[float]]:
    """The 8 x and 8 y parameters ``[a1..a4, k1..k4]``, drawn as the course does."""
    rng = random.Random(seed)
    px = [rng.gauss(0.0, 1.0) for _ in range(8)]
    py = [rng.gauss(0.0, 1.0) for _ in range(8)]
    return px, py


def ladybug_trajectory(seed: int = 16, max_t: float = 1000.0, delta_t: float = 0.02) -> np.ndarray:
    """The (T, 2) trajectory: x is sin/cos/sin/cos, y cos/sin/cos/sin of ``t (k + 20|10|5|5)``."""
    (ax1, ax2, ax3, ax4, kx1, kx2, kx3, kx4), (ay1, ay2, ay3, ay4, ky1, ky2, ky3, ky4) = (
        ladybug_params(seed)
    )
    t = np.arange(0, max_t, delta_t)
    x = (
        ax1 * np.sin(t * (kx1 + 20))
        + ax2 * np.cos(t * (kx2 + 10))
        + ax3 * np.sin(t * (kx3 + 5))
        + ax4 * np.cos(t * (kx4 + 5))
    )
    y = (
        ay1 * np.cos(t * (ky1 + 20))
        + ay2 * np.sin(t * (ky2 + 10))
        + ay3 * np.cos(t * (ky3 + 5))
        + ay4 * np.sin(t * (ky4 + 5))
    )
    return np.stack([x, y], axis=1)


def _more_points(d: LadybugConfig, points: int, after: int, at_full: int) -> tuple[str, str]:
    """The key to change and advice that can work when the shortest split, of ``points``
    points (``at_full`` with data.scale 1), is too short for a window of ``sequence_len`` +
    ``after``: raise data.scale when its maximum of 1 would be enough, else lengthen the
    trajectory; or shorten the windows while a point is left for them."""
    needed = d.sequence_len + after
    if d.scale < 1 and at_full >= needed:
        key, fixes = "data.scale", [f"raise data.scale (now {d.scale:g}, at most 1)"]
    else:
        fix = f"raise data.max_t (now {d.max_t:g}) or lower data.delta_t (now {d.delta_t:g})"
        key, fixes = "data.max_t", [fix]
    if points > after:
        key = key if key == "data.scale" else "data.sequence_len"
        fixes.append(f"lower data.sequence_len to at most {points - after}")
    return key, " or ".join(fixes)


class LadybugAdapter:
    """The course's 2D ladybug trajectory (LADYB1), generated from a seed."""

    Config = LadybugConfig
    default_encoder = {"type": "standardize", "mode": "scalar"}
    default_metrics = "regression"
    data_module = SeriesData
    provides = "series"
    fold_scheme = "forward-chaining"
    sequence_outputs = True

    def __init__(self, section: Any, options: LoadOptions | None = None) -> None:
        self.data_cfg: LadybugConfig = section
        self.options = options or LoadOptions()

    @classmethod
    def input_size(cls, section: LadybugConfig) -> InputSize:
        """Windows of ``sequence_len`` (x, y) points."""
        return InputSize(width=2, steps=section.sequence_len)

    @classmethod
    def memory(cls, section: LadybugConfig, size: InputSize) -> list[MemoryItem]:
        """The generated trajectory (several float arrays of max_t / delta_t points)."""
        points = section.max_t / section.delta_t
        key = "data.max_t" if section.max_t / 1000.0 > 0.02 / section.delta_t else "data.delta_t"
        fix = "raise data.delta_t or lower data.max_t"
        return [
            MemoryItem(
                key, 16.0 * 4 * points, f"{points:.3g} trajectory points (max_t / delta_t)", fix
            )
        ]

    def read_inputs(self, path: Any, column: str | None = None) -> tuple[list[dict], list[Any]]:
        """A UserError: the trajectory's examples are windows of one generated series."""
        from seqrun.core.errors import UserError

        raise UserError(
            "a ladybug run cannot predict from a file (its examples are windows of the "
            "generated trajectory); score its splits with seqrun evaluate RUN_DIR",
            where="--input",
        )

    @classmethod
    def check_config(cls, cfg: Any) -> tuple[str, str] | None:
        """Nothing beyond the generic checks."""
        return None

    def load(self, splits: tuple[str, ...] = ("train", "dev")) -> SeriesData:
        """Generate the trajectory and cut the requested chronological splits."""
        from seqrun.core.errors import UserError

        d = self.data_cfg
        full = ladybug_trajectory(d.trajectory_seed, d.max_t, d.delta_t)
        n = int(len(full) * d.scale)
        points = full[:n].astype(np.float32)
        bounds = series_cuts(n, d.split)
        seq2seq = self.options.sequence_outputs
        sizes = {name: bounds[name][1] - bounds[name][0] for name in splits}
        fewest = min(sizes.values())
        short = min(sizes, key=lambda k: sizes[k])
        if fewest < d.sequence_len + 1:
            lo, hi = series_cuts(len(full), d.split)[short]  # the same split at scale 1
            where, advice = _more_points(d, fewest, 1, hi - lo)
            raise UserError(
                f"the {short} split has {fewest} points, too few for one window of "
                f"{d.sequence_len} + 1; {advice}",
                where=where,
            )
        if d.predict_len and fewest < d.sequence_len + d.predict_len:
            # the recursive evaluation needs a window and predict_len points after it
            raise UserError(
                f"the {short} split has {fewest} points, too few for the recursive evaluation "
                f"of {d.predict_len} steps after a window of {d.sequence_len}; lower "
                f"data.predict_len to at most {fewest - d.sequence_len} (0 turns it off)",
                where="data.predict_len",
            )
        out = {}
        for name in splits:
            lo, hi = bounds[name]
            values = points[lo:hi]
            starts = WindowGeometry(d.sequence_len, 1, 1, seq2seq).starts(len(values))
            out[name] = SeriesSplit(values, starts, info={"points": int(hi - lo), "from": lo})
        return SeriesData(
            out,
            feature_names=["x", "y"],
            target_names=["x", "y"],
            trajectory=True,
            sequence_len=d.sequence_len,
            horizon=1,
            seq2seq=seq2seq,
            recursive_steps=d.predict_len,
            units=["", ""],
            fingerprint=fingerprint(points),
            bounds={
                name: {
                    "rows": [lo, hi],
                    "t": [round(lo * d.delta_t, 6), round(hi * d.delta_t, 6)],
                    "first_time": None,
                    "last_time": None,
                }
                for name, (lo, hi) in bounds.items()
            },
        )
