"""A small progress line for training loops (stderr, throttled, off when not a terminal)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, start: int = 0, enabled: bool | None = None, desc: str = "") -> None:
        self.total, self.start, self.desc = total, start, desc
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.t0 = time.perf_counter()
        self._last = 0.0

    def update(self, step: int, stats: dict[str, float] | None = None, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        rate = (step - self.start) / max(now - self.t0, 1e-9)
        frac = step / self.total
        bar = "#" * int(frac * 24)
        text = " ".join(f"{k} {v:.3g}" for k, v in (stats or {}).items())
        sys.stderr.write(f"\r{self.desc}[{bar:<24}] {step}/{self.total} {rate:.1f} it/s {text}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
