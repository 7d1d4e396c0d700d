"""A tiny numpy line plot (no matplotlib in the environment): RGB PNG bytes, no text.

Colours are fixed per series index (COLOURS, named in the results files); the plotted x and y
ranges are returned so that the results file can state them.
"""

from __future__ import annotations

import numpy as np

from ganflow.sampler.images import encode_png

COLOURS = {"blue": (31, 119, 180), "red": (214, 39, 40), "green": (44, 160, 44), "orange": (255, 127, 14)}
_GRID, _BOX = (225, 225, 225), (120, 120, 120)


def line_png(
    series: list[tuple[np.ndarray, np.ndarray]], log_x: bool = False, size: tuple[int, int] = (480, 320)
) -> tuple[bytes, dict]:
    """series: [(x [n], y [n])] drawn in COLOURS order; light grid lines at integer log10(x) when
    log_x, else at 5 even steps; returns (png bytes, {"x": [lo, hi], "y": [lo, hi]})."""
    w, h, m = size[0], size[1], 12
    xs = [np.log10(np.maximum(x, 1e-30)) if log_x else np.asarray(x, float) for x, _ in series]
    ys = [np.asarray(y, float) for _, y in series]
    x_lo, x_hi = min(x.min() for x in xs), max(x.max() for x in xs)
    y_lo, y_hi = min(y.min() for y in ys), max(y.max() for y in ys)
    x_hi, y_hi = max(x_hi, x_lo + 1e-9), max(y_hi, y_lo + 1e-9)
    img = np.full((h, w, 3), 255, np.uint8)
    col = lambda v: np.clip(m + (v - x_lo) / (x_hi - x_lo) * (w - 2 * m), 0, w - 1).astype(int)  # noqa: E731
    row = lambda v: np.clip(h - m - (v - y_lo) / (y_hi - y_lo) * (h - 2 * m), 0, h - 1).astype(int)  # noqa: E731
    ticks = np.arange(np.ceil(x_lo), np.floor(x_hi) + 1) if log_x else np.linspace(x_lo, x_hi, 5)
    for t in ticks:
        img[m : h - m, col(np.array([t]))[0]] = _GRID
    for t in np.linspace(y_lo, y_hi, 5):
        img[row(np.array([t]))[0], m : w - m] = _GRID
    img[m, m : w - m] = img[h - m, m : w - m] = _BOX
    img[m : h - m, m] = img[m : h - m, w - m] = _BOX
    for (x, y), colour in zip(zip(xs, ys, strict=True), COLOURS.values(), strict=False):
        t = np.linspace(0, 1, 50)[:, None]
        px = (x[:-1] + t * (x[1:] - x[:-1])).reshape(-1) if len(x) > 1 else x
        py = (y[:-1] + t * (y[1:] - y[:-1])).reshape(-1) if len(y) > 1 else y
        r, c = row(py), col(px)
        for dr in (0, 1):
            for dc in (0, 1):
                img[np.clip(r + dr, 0, h - 1), np.clip(c + dc, 0, w - 1)] = colour
    lo_x, hi_x = (10**x_lo, 10**x_hi) if log_x else (x_lo, x_hi)
    return encode_png(img), {"x": [float(lo_x), float(hi_x)], "y": [float(y_lo), float(y_hi)]}
