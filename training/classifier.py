"""The MNIST classifier training loop (the feature network of the MNIST metrics): read it top to bottom."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ganflow.models import build_component, config_to_dict, load_checkpoint, save_checkpoint
from ganflow.sampler.errors import InputError
from ganflow.sampler.version import __version__
from ganflow.training.data import Dataset, load_dataset
from ganflow.training.distributed import setup
from ganflow.training.jsonl import JsonlLog
from ganflow.training.progress import Progress
from ganflow.training.state import load_state, save_state

ARCH = "mnist-cnn"
MAX_SHIFT = 2  # augmentation: random translations of up to 2 px in each direction
EVAL_BATCH = 1000


def random_shift(x: torch.Tensor, gen: torch.Generator, max_shift: int, fill: float) -> torch.Tensor:
    """x [N, C, H, W] -> [N, C, H, W], each image moved by its own (dy, dx) in [-max_shift, max_shift]:
    pad every side by `max_shift` with the background value `fill`, then crop H x W at a random corner."""
    n, c, h, w = x.shape
    s = max_shift
    padded = F.pad(x, (s, s, s, s), value=fill)  # [N, C, H + 2s, W + 2s]
    dev = x.device
    dy = torch.randint(0, 2 * s + 1, (n,), generator=gen).to(dev)  # drawn on the CPU stream
    dx = torch.randint(0, 2 * s + 1, (n,), generator=gen).to(dev)
    rows = (dy[:, None] + torch.arange(h, device=dev))[:, None, :, None]  # [N, 1, H, 1]
    cols = (dx[:, None] + torch.arange(w, device=dev))[:, None, None, :]  # [N, 1, 1, W]
    ni, ci = torch.arange(n, device=dev), torch.arange(c, device=dev)
    return padded[ni[:, None, None, None], ci[None, :, None, None], rows, cols]


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = EVAL_BATCH) -> float:
    """Fraction of x [N, C, H, W] whose argmax logit equals the label y [N] (model in eval mode)."""
    was_training = model.training
    model.eval()
    correct = sum(
        int((model(x[i : i + batch])[0].argmax(1) == y[i : i + batch]).sum()) for i in range(0, len(x), batch)
    )
    model.train(was_training)
    return correct / len(x)


def _tensors(ds: Dataset, limit: int | None, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(x [N, C, H, W] float32, labels [N] int64), the first `limit` examples when given."""
    if ds.labels is None or ds.x.ndim != 4:
        raise InputError(
            f"the classifier needs labelled images, but the {what} split of {ds.spec.name!r} has "
            f"shape {list(ds.x.shape)} and {'no' if ds.labels is None else ''} labels: pass MNIST data"
        )
    x, y = ds.x[:limit], ds.labels[:limit]
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))


def train_classifier(
    out_dir: str | Path,
    data: str = "mnist",
    epochs: int = 3,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool | None = None,
    limit: int | None = None,
    channels: int = 32,
    hidden: int = 128,
    device: str = "auto",
    resume: bool = False,
) -> dict[str, Any]:
    """Train the MNIST CNN classifier on `data` (a dataset name or a path to MNIST-layout files) and
    save it to `out_dir` (model.safetensors, config.json, metrics.jsonl); returns the run's meta.

    Adam with a one-cycle learning-rate schedule peaking at `lr` (Smith & Topin 2017), cross-entropy,
    random shifts of up to 2 px. `limit` keeps only the first `limit` train and test examples (tests).
    A checkpoint is written after every epoch; `resume=True` continues the run in `out_dir` from its
    last finished epoch with the run's own options (the other arguments but `data` are ignored) and
    ends on the weights an uninterrupted run gives.
    """
    out_dir = Path(out_dir)
    saved: dict[str, Any] | None = None
    if resume:
        saved, saved_weights = load_checkpoint(out_dir)
        h, arch_cfg = saved["train"], saved["components"]["classifier"]
        epochs, batch_size, lr, seed, limit = (h[k] for k in ("epochs", "batch_size", "lr", "seed", "limit"))
        channels, hidden = arch_cfg["channels"], arch_cfg["hidden"]
    if epochs <= 0 or batch_size <= 0 or lr <= 0:
        raise InputError(f"epochs, batch_size and lr must be > 0, got {epochs}, {batch_size}, {lr}")
    if limit is not None and limit <= 0:
        raise InputError(f"limit must be > 0 or None, got {limit}")
    d = setup(device)
    if batch_size % d.world:
        raise InputError(f"batch_size {batch_size} is not divisible by {d.world} processes")
    local = batch_size // d.world
    train, test = load_dataset(data, split="train"), load_dataset(data, split="test")
    x_train, y_train = _tensors(train, limit, "train")
    x_test, y_test = _tensors(test, limit, "test")
    if len(x_train) < batch_size:
        raise InputError(f"{len(x_train)} training examples is fewer than one batch of {batch_size}")
    fill = train.spec.range[0] if train.spec.range else float(x_train.min())

    # --- build everything from the seed -------------------------------------------------------
    torch.manual_seed(seed)  # weights and dropout masks
    rng = torch.Generator().manual_seed(seed)  # shuffling and augmentation
    n_classes = max(10, int(y_train.max()) + 1)
    arch = {"arch": ARCH, "channels": channels, "hidden": hidden, "n_classes": n_classes}
    model = build_component("classifier", {**arch, "data_shape": list(train.spec.shape)})
    steps_per_epoch = len(x_train) // batch_size  # full batches only (BatchNorm), reshuffled each epoch
    total_steps = epochs * steps_per_epoch
    model.to(d.device)
    d.sync_parameters(model)
    x_train, y_train = x_train.to(d.device), y_train.to(d.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    start, spent = 0, 0.0
    if saved is not None:
        if saved["data"] != train.spec.to_dict():
            raise InputError(f"--data is not the data of the run being resumed ({saved['data']})")
        model.load_state_dict(saved_weights["classifier"])
        start = load_state(out_dir, {"classifier": opt}, {"train": rng})
        spent = saved["summary"]["metrics"].get("train_seconds", 0.0)
    # one-cycle is a function of the step alone: a resumed run rebuilds it at its step
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=total_steps, pct_start=0.2, last_epoch=start - 1
    )
    hyper = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "schedule": "one-cycle",
        "optimizer": "adam",
        "augment_max_shift": MAX_SHIFT,
        "seed": seed,
        "limit": limit,
        "train_examples": len(x_train),
        "test_examples": len(x_test),
    }
    meta = {
        "ganflow_version": __version__,
        "family": "classifier",
        "components": {"classifier": config_to_dict(model)},
        "data": train.spec.to_dict(),
        "train": hyper,
        "summary": {"step": start, "metrics": dict(saved["summary"]["metrics"]) if saved else {}},
    }
    if d.main:
        out_dir.mkdir(parents=True, exist_ok=True)
        log = JsonlLog(out_dir / "metrics.jsonl", resume_step=start)

    # --- the loop -------------------------------------------------------------------------------
    bar = Progress(total_steps, start, enabled=progress if d.main else False, desc="classifier ")
    t0, step = time.perf_counter(), start
    model.train()
    for epoch in range(start // steps_per_epoch + 1, epochs + 1):
        order = torch.randperm(len(x_train), generator=rng)
        loss_sum = 0.0
        for b in range(steps_per_epoch):
            # the global batch is drawn and shifted on every rank (same stream); each keeps its slice
            idx = order[b * batch_size : (b + 1) * batch_size]
            x = random_shift(x_train[idx], rng, MAX_SHIFT, fill)[d.rank * local : (d.rank + 1) * local]
            logits, _ = model(x)
            loss = F.cross_entropy(logits, y_train[idx][d.rank * local : (d.rank + 1) * local])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            d.average_gradients(model)
            opt.step()
            sched.step()
            step += 1
            loss_sum += loss.item()
            bar.update(step, {"epoch": epoch, "loss": loss.item()})
        if not d.main:
            d.barrier()
            continue
        acc = accuracy(model, x_test.to(d.device), y_test.to(d.device))
        seconds = spent + time.perf_counter() - t0
        log.write(
            {
                "step": step,
                "epoch": epoch,
                "kind": "eval",
                "train_loss": loss_sum / steps_per_epoch,
                "test_accuracy": acc,
                "time_s": seconds,
            }
        )
        # checkpoint: the state first, then the weights (see training/state.py)
        meta["summary"] = {"step": step, "metrics": {"test_accuracy": acc, "train_seconds": seconds}}
        save_state(out_dir, step, {"classifier": opt}, {"train": rng})
        model.eval()
        save_checkpoint(out_dir, {"classifier": model}, meta)
        model.train()
        d.barrier()
    bar.update(total_steps, force=True)
    bar.close()
    model.eval()
    d.barrier()
    return meta
