"""Progress on stderr: a bar redrawn in place on a terminal, a few plain lines when stderr is a file.

Modes: "bar" (a terminal, or asked for), "lines" (not a terminal: one line whenever at least
`line_seconds` AND `line_fraction` of the work have passed since the last line, i.e. the rarer of
the two, and one at the end), "off". `enabled=None` picks "bar" on a terminal, else "lines".
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

LINE_SECONDS = 30.0  # lines mode: at most one line per 30 s ...
LINE_FRACTION = 0.1  # ... and per 10% of the work, whichever is rarer


class Progress:
    def __init__(
        self,
        total: int,
        start: int = 0,
        enabled: bool | None = None,
        desc: str = "",
        unit: str = "it",
        stream: TextIO | None = None,
        line_seconds: float = LINE_SECONDS,
        line_fraction: float = LINE_FRACTION,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.total, self.start, self.desc, self.unit = total, start, desc, unit
        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.mode = ("bar" if tty else "lines") if enabled is None else ("bar" if enabled else "off")
        self.line_seconds, self.line_fraction, self.clock = line_seconds, line_fraction, clock
        self.t0 = self._last = clock()
        self._last_step = start
        self._drawn = False

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def _rate(self, step: int, now: float) -> float:
        return (step - self.start) / max(now - self.t0, 1e-9)

    def update(self, step: int, stats: dict[str, float] | None = None, force: bool = False) -> None:
        if self.mode == "off":
            return
        now = self.clock()
        text = " ".join(f"{k} {v:.3g}" for k, v in (stats or {}).items())
        if self.mode == "bar":
            if force or now - self._last >= 0.2:
                self._last = now
                bar = "#" * int(step / max(self.total, 1) * 24)
                rate = f"{self._rate(step, now):.1f} {self.unit}/s"
                self.stream.write(f"\r{self.desc}[{bar:<24}] {step}/{self.total} {rate} {text}   ")
                self.stream.flush()
                self._drawn = True
            return
        due = now - self._last >= self.line_seconds
        due = due and step - self._last_step >= self.line_fraction * max(self.total - self.start, 1)
        if due or (force and step != self._last_step):
            self._last, self._last_step = now, step
            self.stream.write(self._line(step, now, text) + "\n")
            self.stream.flush()

    def _line(self, step: int, now: float, text: str) -> str:
        rate = self._rate(step, now)
        left = (self.total - step) / rate if rate > 0 else float("inf")
        eta = f", {left:.0f} s left" if step < self.total and left < float("inf") else ""
        pct = 100.0 * step / max(self.total, 1)
        return (
            f"{self.desc}{step:,}/{self.total:,} ({pct:.0f}%) after {now - self.t0:.0f} s, "
            f"{rate:,.1f} {self.unit}/s{eta}{' ' + text if text else ''}"
        )

    def close(self) -> None:
        if self.mode == "bar" and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
