"""Flow proposal (FIS-GAN): z = F^-1(h), h ~ N(0, I), through the bundle's flow/sample.onnx."""

from __future__ import annotations

import numpy as np

from ganflow.sampler.errors import NumericsError
from ganflow.sampler.stages.base import BLOCK, PROPOSALS, BlockCache, Context, NoOptions, span

STREAM = 3  # the base draws h: a stream of their own (gaussian 0, latent-rs 1)


@PROPOSALS.register("flow")
class FlowProposal:
    """Latents for sample indices [start, stop): block b of BLOCK base draws uses
    rng([seed, 3, b]), so sample i depends only on the seed and i (not the batch or shard)."""

    needs = ("flow",)
    Options = NoOptions

    def __init__(self, ctx: Context, options: NoOptions) -> None:
        self.ctx = ctx
        comp = ctx.bundle.component("flow", "the flow proposal")
        self.session = ctx.runtime.session(comp)
        self.input = comp.inputs[0]["name"]
        self.d = int(comp.inputs[0]["shape"][1])
        self.stats: dict[str, float] = {}
        self.cache = BlockCache()

    def _block(self, b: int) -> np.ndarray:
        return self.cache.get(
            b, lambda: self.ctx.block_rng(STREAM, b).standard_normal((BLOCK, self.d), dtype=np.float32)
        )

    def _base(self, start: int, stop: int) -> np.ndarray:
        return span(start, stop, self._block)

    def __call__(self, start: int, stop: int) -> np.ndarray:
        """z [stop - start, d] float32."""
        z, _ = self.session.run(None, {self.input: np.ascontiguousarray(self._base(start, stop))})
        if not np.isfinite(z).all():
            raise NumericsError("the flow produced NaN/inf latents: the bundle's flow graph is broken")
        return z
