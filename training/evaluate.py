"""What the trainer measures and draws every K steps: the sampler's metrics, and sample figures."""

from __future__ import annotations

import numpy as np

from ganflow.sampler.data import Dataset, DataSpec
from ganflow.sampler.images import encode_png, image_grid, scatter_png, to_uint8
from ganflow.sampler.metrics.toy2d import TOY_MODES

TRAIN_METRICS = ("fid", "is", "mode", "modes")  # the cheap ones; those that apply to the data run


class TrainingEval:
    """Metrics of generated samples against the data's test split, built on first use."""

    def __init__(self, data: Dataset, metrics: tuple[str, ...] | None = None, split: str = "test") -> None:
        self.data, self.metrics, self.split, self._ev = data, metrics, split, None

    def __call__(self, x: np.ndarray) -> dict[str, float]:
        """x [N, *shape] -> {metric name: value}, plus the fraction of non-finite samples."""
        bad = ~np.isfinite(x).reshape(len(x), -1).all(axis=1)
        out = {"nonfinite": float(bad.mean())}
        if bad.all():
            return out
        if self._ev is None:
            from ganflow.sampler.evaluate import make_evaluator

            self._ev = make_evaluator(self.data.source, self.split, dataset=self.data.spec.name)
            usable = self._ev.applicable()
            self.names = [m for m in (self.metrics or TRAIN_METRICS) if m in usable]
        # undefined values (e.g. the mode KL when no sample is near a mode) are left out of the log
        out.update({k: v for k, v in self._ev(x[~bad], self.names).items() if np.isfinite(v)})
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
