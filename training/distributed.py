"""Data parallelism under torchrun (NCCL on GPUs, gloo on CPU) and batch-sliced random draws."""

from __future__ import annotations

import atexit
import importlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class Dist:
    """This process's place: rank of world, and the device it trains on."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sync_parameters(self, *modules: nn.Module) -> None:
        """Copy rank 0's parameters and buffers to every rank."""
        if self.world > 1:
            for m in modules:
                for t in list(m.parameters()) + list(m.buffers()):
                    dist.broadcast(t.data, src=0)

    def average_gradients(self, module: nn.Module, loss: torch.Tensor | None = None) -> float:
        """Mean of the ranks' gradients (each a mean over its slice of the global batch): the
        single-process gradient of the global batch. This is DistributedDataParallel's reduction,
        done explicitly after backward, because the WGAN-GP penalty differentiates a gradient
        (create_graph=True), which DDP's reducer hooks do not support. `loss` (a scalar) rides in
        the same all-reduce; returns the ranks' mean of it (nan when any rank's is not finite)."""
        if self.world == 1:
            return 0.0 if loss is None else float(loss.detach())
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        value = torch.zeros(1) if loss is None else loss.detach().reshape(1)
        flat = torch.cat([g.reshape(-1) for g in grads] + [value.to(self.device, torch.float32)])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()
        return float(flat[-1])

    def all_gather(self, t: torch.Tensor) -> torch.Tensor:
        """Every rank's t [n, ...] concatenated in rank order [world * n, ...]: the global batch
        that BatchRNG sliced (one process: t itself)."""
        if self.world == 1:
            return t
        parts = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(parts, t.contiguous())
        return torch.cat(parts)

    def mine(self, full: torch.Tensor) -> torch.Tensor:
        """This rank's slice of a global batch [world * n, ...] -> [n, ...]."""
        n = full.shape[0] // self.world
        return full[self.rank * n : (self.rank + 1) * n]

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


def _teardown() -> None:
    """Destroy the process group while the interpreter is fully alive (at exit)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def setup(device: str = "auto") -> Dist:
    """Join the torchrun process group if there is one (WORLD_SIZE > 1) and pick the device."""
    if device not in ("auto", "cuda", "cpu"):
        raise ValueError(f"unknown device {device!r}: use auto, cuda or cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is visible to torch; use --device cpu")
    cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device("cuda", local) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        # torch modules that take `dist.group.WORLD` as a default argument (fsdp, _shard, zero
        # optimizer; torch.optim imports them through torch._dynamo) hold the group for good when
        # they are imported after init. destroy_process_group then leaves its gloo worker threads
        # running into interpreter shutdown, where one still freeing a finished collective aborts
        # the process ("terminate called without an active exception"; about 1 run in 15 on a
        # loaded 2-core machine). Imported first, they hold nothing and destroy joins the threads.
        importlib.import_module("torch._dynamo")

        dist.init_process_group("nccl" if cuda else "gloo")
        atexit.register(_teardown)
    return Dist(rank, world, dev)


class BatchRNG:
    """Random draws for a global batch from one seeded CPU generator; each rank keeps its slice.

    K processes with batch B/K therefore see exactly the numbers one process with batch B sees.
    """

    def __init__(self, gen: torch.Generator, d: Dist) -> None:
        self.gen, self.d = gen, d

    def _mine(self, full: torch.Tensor) -> torch.Tensor:
        return self.d.mine(full).to(self.d.device)

    def randn(self, n: int, *shape: int) -> torch.Tensor:
        """[n, *shape] standard normal: this rank's slice of an [n * world, *shape] draw."""
        return self._mine(torch.randn(n * self.d.world, *shape, generator=self.gen))

    def rand(self, n: int, *shape: int) -> torch.Tensor:
        return self._mine(torch.rand(n * self.d.world, *shape, generator=self.gen))

    def randint(self, high: int, n: int) -> torch.Tensor:
        return self._mine(torch.randint(high, (n * self.d.world,), generator=self.gen))
