"""What the trainer measures and draws every K steps, chosen by the kind of data."""

from __future__ import annotations

import numpy as np

from ganflow.sampler.images import encode_png, image_grid, scatter_png, to_uint8
from ganflow.sampler.metrics.toy2d import TOY_MODES, mode_metrics
from ganflow.training.data import DataSpec


def evaluate_samples(spec: DataSpec, x: np.ndarray) -> dict[str, float]:
    """Metrics of generated samples x [N, *shape] for the training log."""
    out = {
        "sample_mean_abs": float(np.abs(x).mean()),
        "nonfinite": float((~np.isfinite(x)).any(axis=tuple(range(1, x.ndim))).mean()),
    }
    modes = TOY_MODES.get(spec.name)
    if modes is not None:
        out.update(mode_metrics(x, modes))
    return out


def sample_figure(spec: DataSpec, x: np.ndarray, max_images: int = 64) -> bytes:
    """PNG bytes: an image grid for images [N, C, H, W], a scatter plot for 2-D points."""
    if len(spec.shape) == 3:
        lo, hi = spec.range or (-1.0, 1.0)
        return encode_png(image_grid(to_uint8(x[:max_images], lo, hi)))
    modes = TOY_MODES.get(spec.name)
    return encode_png(
        scatter_png(x.reshape(len(x), -1)[:, :2], reference=None if modes is None else modes.centers)
    )
