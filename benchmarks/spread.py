"""Spread over seeds for the benchmark scripts: mean, sample std (ddof=1) and n; paired differences."""

from __future__ import annotations

import numpy as np


def summary(values: list[float]) -> dict:
    v = np.asarray(values, float)
    return {"mean": float(v.mean()), "std_ddof1": float(v.std(ddof=1)) if len(v) > 1 else None, "n": len(v)}


def paired(a: list[float], b: list[float]) -> dict:
    """b - a per seed: mean, sample std (ddof=1), n and the paired t statistic."""
    d = np.asarray(b, float) - np.asarray(a, float)
    s = summary(list(d))
    s["t"] = float(d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))) if len(d) > 1 and d.std(ddof=1) > 0 else None
    return s
