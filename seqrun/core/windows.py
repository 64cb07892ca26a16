"""Where a window of a time series reads its inputs and its targets.

A window starting at row ``s`` reads the inputs ``s .. s + sequence_len - 1``. Its target lies
``horizon`` steps after the last input (row ``s + sequence_len - 1 + horizon``); a model that
predicts ``output_steps`` steps at once also reads the ``output_steps - 1`` rows after that; a
sequence-to-sequence model (``seq2seq``) has a target at every input step, shifted by
``horizon``. Batching, the leakage checks and ``data describe`` all take these offsets from one
:class:`WindowGeometry`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowGeometry:
    """The shape of one window, as offsets from its start row."""

    sequence_len: int
    horizon: int = 1
    stride: int = 1  # rows between consecutive window starts
    seq2seq: bool = False
    output_steps: int = 1

    @property
    def last_input(self) -> int:
        """Offset of the window's last input row."""
        return self.sequence_len - 1

    @property
    def target(self) -> int:
        """Offset of the (first-lead) target of the last input step."""
        return self.sequence_len - 1 + self.horizon

    @property
    def last_needed(self) -> int:
        """Offset of the last row the window reads (the last lead's target)."""
        return self.target + self.output_steps - 1

    @property
    def first_target(self) -> int:
        """Offset of the window's earliest target (the first step's with ``seq2seq``)."""
        return self.horizon if self.seq2seq else self.target

    def target_offset(self, start: np.ndarray | int) -> np.ndarray | int:
        """Row of the (first-lead) target of the last input step of the window at ``start``."""
        return start + self.target

    def last_rows(self, start: np.ndarray | int) -> np.ndarray | int:
        """Row of the last lead's target of the window at ``start`` (the headline target)."""
        return start + self.last_needed

    def starts(self, length: int) -> np.ndarray:
        """Starts of every window (every ``stride`` rows) that lies inside ``length`` rows."""
        n = length - self.last_needed
        return np.arange(0, max(n, 0), self.stride, dtype=np.int64)

    def segment_starts(self, bounds: np.ndarray) -> np.ndarray:
        """Window starts inside each ``[lo, hi)`` segment, none crossing a segment boundary."""
        parts = [
            lo + self.starts(int(hi - lo))
            for lo, hi in np.asarray(bounds, dtype=np.int64).reshape(-1, 2)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
