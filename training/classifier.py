"""The MNIST classifier training loop (the feature network of the MNIST metrics): read it top to bottom."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import OneCycleLR

from ganflow.models import build_component, config_to_dict
from ganflow.sampler.data import Dataset, DataSpec, load_dataset
from ganflow.sampler.errors import InputError
from ganflow.training.run import Cadence, Run

ARCH = "mnist-cnn"
MAX_SHIFT = 2  # augmentation: random translations of up to 2 px in each direction
EVAL_BATCH = 1000
RECIPE = {"schedule": "one-cycle", "optimizer": "adam", "augment_max_shift": MAX_SHIFT}  # in meta["train"]


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
            f"the classifier trains on labelled MNIST-layout images only, but the {what} split of "
            f"{ds.spec.name!r} has shape {list(ds.x.shape)} and {'no' if ds.labels is None else ''} "
            "labels: pass --data mnist, fashion-mnist or MNIST files"
        )
    x, y = ds.x[:limit], ds.labels[:limit]
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))


@dataclass(frozen=True)
class _Options:
    """A classifier run's options (meta["train"] and the component config hold them), validated."""

    epochs: int
    batch_size: int
    lr: float
    seed: int
    limit: int | None
    channels: int
    hidden: int

    def __post_init__(self) -> None:
        if self.epochs <= 0 or self.batch_size <= 0 or self.lr <= 0:
            got = f"{self.epochs}, {self.batch_size}, {self.lr}"
            raise InputError(f"epochs, batch_size and lr must be > 0, got {got}")
        if self.limit is not None and self.limit <= 0:
            raise InputError(f"limit must be > 0 or None, got {self.limit}")

    @classmethod
    def of(cls, meta: dict[str, Any]) -> _Options:
        """The options of the run whose meta is `meta` (resume)."""
        h, arch = meta["train"], meta["components"]["classifier"]
        return cls(
            h["epochs"], h["batch_size"], h["lr"], h["seed"], h["limit"], arch["channels"], arch["hidden"]
        )

    def to_meta(self) -> dict[str, Any]:
        """meta["train"] without the example counts (channels and hidden are the component's)."""
        return {**{k: v for k, v in asdict(self).items() if k not in ("channels", "hidden")}, **RECIPE}


def _data(
    data: str, o: _Options, run: Run
) -> tuple[DataSpec, tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """(the train split's spec, (x, labels) of the train split on the run's device, of the test
    split); refuses too few examples, and data other than a resumed run's."""
    train, test = load_dataset(data, split="train"), load_dataset(data, split="test")
    x_train, y_train = _tensors(train, o.limit, "train")
    x_test, y_test = _tensors(test, o.limit, "test")
    if len(x_train) < o.batch_size:
        raise InputError(f"{len(x_train)} training examples is fewer than one batch of {o.batch_size}")
    if run.resume and run.saved["data"] != train.spec.to_dict():
        raise InputError(f"--data is not the data of the run being resumed ({run.saved['data']})")
    dev = run.dist.device
    return train.spec, (x_train.to(dev), y_train.to(dev)), (x_test, y_test)


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
    ends on the weights an uninterrupted run gives."""
    run = Run(out_dir, device, resume)
    o = _Options.of(run.saved) if resume else _Options(epochs, batch_size, lr, seed, limit, channels, hidden)
    d, local = run.dist, run.local_batch(o.batch_size, InputError)
    spec, (x_train, y_train), (x_test, y_test) = _data(data, o, run)
    fill = spec.range[0] if spec.range else float(x_train.min())

    # --- build everything from the seed -------------------------------------------------------
    torch.manual_seed(o.seed)  # weights and dropout masks
    rng = torch.Generator().manual_seed(o.seed)  # shuffling and augmentation
    n_classes = max(10, int(y_train.max()) + 1)
    arch = {"arch": ARCH, "channels": o.channels, "hidden": o.hidden, "n_classes": n_classes}
    model = build_component("classifier", {**arch, "data_shape": list(spec.shape)}).to(d.device)
    steps_per_epoch = len(x_train) // o.batch_size  # full batches only (BatchNorm), reshuffled each epoch
    total_steps = o.epochs * steps_per_epoch
    opt = torch.optim.Adam(model.parameters(), lr=o.lr)
    start = run.begin({"classifier": model}, {"classifier": opt}, {"train": rng}, samples=False)
    spent = run.saved["summary"]["metrics"].get("train_seconds", 0.0) if resume else 0.0
    # one-cycle is a function of the step alone: a resumed run rebuilds it at its step
    sched = OneCycleLR(opt, max_lr=o.lr, total_steps=total_steps, pct_start=0.2, last_epoch=start - 1)
    hyper = {**o.to_meta(), "train_examples": len(x_train), "test_examples": len(x_test)}
    comps = {"classifier": config_to_dict(model)}
    meta = {"family": "classifier", "components": comps, "data": spec.to_dict(), "train": hyper}
    run.describe(meta, metrics=dict(run.saved["summary"]["metrics"]) if resume else {})

    # --- the loop: a checkpoint after every epoch -----------------------------------------------
    cadence = Cadence(eval_every=steps_per_epoch, ckpt_every=steps_per_epoch)
    for step in run.steps(total_steps, cadence, progress, desc="classifier "):
        epoch, b = step // steps_per_epoch + 1, step % steps_per_epoch
        if b == 0:
            order, loss_sum = torch.randperm(len(x_train), generator=rng), 0.0
        # the global batch is drawn and shifted on every rank (same stream); each keeps its slice
        idx = order[b * o.batch_size : (b + 1) * o.batch_size]
        x = random_shift(x_train[idx], rng, MAX_SHIFT, fill)[d.rank * local : (d.rank + 1) * local]
        logits, _ = model(x)
        loss = F.cross_entropy(logits, y_train[idx][d.rank * local : (d.rank + 1) * local])
        run.descend(loss, opt, model)
        sched.step()
        loss_sum += loss.item()
        if run.after_step({"epoch": epoch, "loss": loss.item()}).checkpoint:  # the end of an epoch
            acc = accuracy(model, x_test.to(d.device), y_test.to(d.device))
            seconds = spent + run.elapsed
            record = {"train_loss": loss_sum / steps_per_epoch, "test_accuracy": acc, "time_s": seconds}
            run.log("eval", {"epoch": epoch, **record})
            run.checkpoint({"metrics": {"test_accuracy": acc, "train_seconds": seconds}})
    model.eval()
    d.barrier()
    return run.meta
