"""`ganflow train classifier`: the MNIST CNN behind the metrics, exported to ONNX."""

from __future__ import annotations

from pathlib import Path

import typer

from ganflow.sampler.cli.train.common import is_rank0, need_torch, train_app
from ganflow.sampler.cli.train.options import Device, Out, ShowProgress


@train_app.command(
    "classifier",
    epilog="Example (the shipped feature network): ganflow train classifier --data ../shared/data/mnist.npz "
    "--out runs/classifier --onnx sampler/assets/mnist_cnn.onnx",
)
def train_classifier_cmd(
    data: str = typer.Option("mnist", help="mnist, fashion-mnist, or a path to MNIST-layout files"),
    out: Out = Path("runs/classifier"),
    onnx: Path = typer.Option(
        None, help="where to export the ONNX feature network \\[default: OUT/model.onnx]"
    ),
    epochs: int = typer.Option(3),
    batch_size: int = typer.Option(128),
    lr: float = typer.Option(1e-3),
    seed: int = typer.Option(0),
    resume: bool = typer.Option(
        False, help="continue the run in --out from its last finished epoch (with its own options)"
    ),
    progress: ShowProgress = None,
    device: Device = "auto",
) -> None:
    """Train the MNIST CNN classifier (the metrics' feature network) and export it to ONNX.

    Data parallel under torchrun like `train gan` (BatchNorm and dropout then act per process).
    A checkpoint is written after every epoch, so a killed run loses at most one epoch."""
    train = dict(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    need_torch("train")
    from ganflow.training.commands import run_classifier

    meta = run_classifier(data, out, train, resume, progress, device)
    if not is_rank0():
        return
    # training never imports export (DESIGN.md section 2): the CLI exports the trained network
    from ganflow.export.classifier import export_classifier

    onnx = onnx or out / "model.onnx"
    info = export_classifier(out, onnx)
    typer.echo(
        f"test accuracy {meta['summary']['metrics']['test_accuracy']:.4f}; wrote {onnx} "
        f"(sha256 {info['sha256'][:12]}...)"
    )
