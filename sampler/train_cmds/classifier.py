"""`ganflow train classifier`: the MNIST CNN behind the metrics, exported to ONNX."""

from __future__ import annotations

from pathlib import Path

import typer

from ganflow.sampler.train_cmds.common import check_out, is_rank0, need_torch, train_app


@train_app.command(
    "classifier",
    epilog="Example (the shipped feature network): ganflow train classifier --data ../shared/data/mnist.npz "
    "--out runs/classifier --onnx sampler/assets/mnist_cnn.onnx",
)
def train_classifier_cmd(
    data: str = typer.Option("mnist", help="mnist, fashion-mnist, or a path to MNIST-layout files"),
    out: Path = typer.Option(Path("runs/classifier"), help="run directory"),
    onnx: Path = typer.Option(
        None, help="where to export the ONNX feature network [default: OUT/model.onnx]"
    ),
    epochs: int = typer.Option(3),
    batch_size: int = typer.Option(128),
    lr: float = typer.Option(1e-3),
    seed: int = typer.Option(0),
    resume: bool = typer.Option(
        False, help="continue the run in --out from its last finished epoch (with its own options)"
    ),
    progress: bool = typer.Option(None, help="progress bar [default: when a terminal]"),
    device: str = typer.Option("auto", help="auto (CUDA if torch sees a GPU), cuda or cpu"),
) -> None:
    """Train the MNIST CNN classifier (the metrics' feature network) and export it to ONNX.

    Data parallel under torchrun like `train gan` (BatchNorm and dropout then act per process).
    A checkpoint is written after every epoch, so a killed run loses at most one epoch."""
    need_torch("train")
    from ganflow.export.classifier import export_classifier
    from ganflow.training.classifier import train_classifier

    check_out(out, resume)
    meta = train_classifier(out, data, epochs, batch_size, lr, seed, progress, device=device, resume=resume)
    if not is_rank0():
        return
    info = export_classifier(out, onnx or out / "model.onnx")
    typer.echo(
        f"test accuracy {meta['summary']['metrics']['test_accuracy']:.4f}; wrote "
        f"{onnx or out / 'model.onnx'} (sha256 {info['sha256'][:12]}...)"
    )
