"""What the trainer measures and draws every K steps: the sampler's metrics, and sample figures."""

from __future__ import annotations

import numpy as np
import torch

from ganflow.sampler.data import Dataset, DataSpec
from ganflow.sampler.images import sample_png
from ganflow.sampler.metrics.toy2d import TOY_MODES

TRAIN_METRICS = ("fid", "is", "mode", "modes")  # the cheap ones; those that apply to the data run


def fixed_latents(n: int, dim: int, seed: int) -> tuple[torch.Tensor, torch.Generator]:
    """(z [n, dim] ~ N(0, I), its generator) for sample grids and evaluation: their own stream
    (seed + 10_000), never the training loop's, so that every evaluation sees the same draws."""
    gen = torch.Generator().manual_seed(seed + 10_000)
    return torch.randn(n, dim, generator=gen), gen


@torch.no_grad()
def generate(generator: torch.nn.Module, z: torch.Tensor, batch: int = 1024) -> np.ndarray:
    """x [N, *shape] = generator(z) for latents z [N, d], in eval mode and batches of `batch`."""
    was_training = generator.training
    generator.eval()
    dev = next(generator.parameters()).device
    x = torch.cat([generator(z[i : i + batch].to(dev)).cpu() for i in range(0, len(z), batch)])
    generator.train(was_training)
    return x.numpy()


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

            self._ev = make_evaluator(self.data, self.split)  # that split, read as self.data was
            usable = self._ev.applicable()
            self.names = [m for m in (self.metrics or TRAIN_METRICS) if m in usable]
        # undefined values (e.g. the mode KL when no sample is near a mode) are left out of the log
        out.update({k: v for k, v in self._ev(x[~bad], self.names).items() if np.isfinite(v)})
        return out


def sample_figure(spec: DataSpec, x: np.ndarray, max_images: int = 64) -> bytes:
    """PNG bytes: an image grid for images [N, C, H, W], a scatter plot for 2-D points."""
    modes = TOY_MODES.get(spec.name) if spec.source is None else None
    return sample_png(x, spec.range, None if modes is None else modes.centers, max_images)
