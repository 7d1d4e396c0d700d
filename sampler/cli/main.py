"""The root `ganflow` app: export, demo and main(); sample.py, info.py, evaluate.py, compare.py,
hub.py (pull/push) and train/ hold the other commands."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ganflow.sampler.cli import report
from ganflow.sampler.cli.compare import COMPARE_EXAMPLE, compare_cmd
from ganflow.sampler.cli.evaluate import EVAL_EXAMPLE, eval_cmd
from ganflow.sampler.cli.hub import PULL_EXAMPLE, PUSH_EXAMPLE, pull_cmd, push_cmd
from ganflow.sampler.cli.info import INFO_EXAMPLE, info
from ganflow.sampler.cli.report import echo_report, interrupt_message, on_interrupt, os_error_message
from ganflow.sampler.cli.sample import SAMPLE_EXAMPLE, sample
from ganflow.sampler.cli.train import train_app
from ganflow.sampler.cli.train.common import need_torch
from ganflow.sampler.errors import GanflowError, InputError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="ganflow: train GANs, export them to ONNX, sample torch-free.",
)
app.add_typer(train_app, name="train")


def _version(value: bool) -> None:
    if value:
        from ganflow.sampler.version import __version__

        typer.echo(f"ganflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
    verbose: bool = typer.Option(
        False,
        "-v",
        "--verbose",
        help="also print notes, e.g. that --device auto found no CUDA and runs on the CPU",
    ),
) -> None:
    """ganflow: train GANs, export them to ONNX, sample torch-free."""
    report.VERBOSE = verbose
    on_interrupt(None)  # outputs are atomic unless a command says otherwise


# --- export ------------------------------------------------------------------------------------


def _export(run: Path, out: Path, overwrite: bool, fp16: bool = False, skip: list[str] | None = None) -> dict:
    need_torch("export")
    from ganflow.export import export_bundle
    from ganflow.models.checkpoint import CheckpointError

    try:
        return export_bundle(run, out, overwrite=overwrite, log=typer.echo, fp16=fp16, skip=skip or ())
    except CheckpointError as e:
        raise InputError(str(e)) from None


@app.command(epilog="Example: ganflow export runs/g25 --out bundles/g25")
def export(
    run: Path = typer.Argument(..., help="run directory written by `ganflow train`"),
    out: Path = typer.Option(..., help="bundle folder to write"),
    overwrite: bool = typer.Option(False, help="replace an existing bundle"),
    fp16: bool = typer.Option(
        False, help="also write fp16 variants of generator, critic, weight and refine graphs (validated)"
    ),
    skip: list[str] = typer.Option(
        None, help="leave out this graph (repeatable), e.g. refine: the methods needing it are then off"
    ),
) -> None:
    """Export a trained run to an ONNX bundle, checked against PyTorch."""
    manifest = _export(run, out, overwrite, fp16, skip)
    typer.echo(f"wrote bundle {out} ({', '.join(sorted(manifest['components']))})")


app.command("sample", epilog=SAMPLE_EXAMPLE)(sample)
app.command("info", epilog=INFO_EXAMPLE)(info)
app.command("eval", epilog=EVAL_EXAMPLE)(eval_cmd)


# --- demo --------------------------------------------------------------------------------------


@app.command(epilog="Example: ganflow demo  |  ganflow demo --data ../shared/data/mnist.npz")
def demo(
    data: str = typer.Option(None, help="path to MNIST (npz or IDX folder) \\[default: 25 Gaussians]"),
    out: Path = typer.Option(Path("ganflow-demo"), help="folder for the run, bundle and samples"),
    steps: int = typer.Option(None, help="generator steps \\[default: 6000 (2-D), 2000 (MNIST)]"),
    device: str = typer.Option("auto", help="auto, cuda or cpu for sampling"),
    overwrite: bool = typer.Option(False, help="replace the demo already in --out"),
) -> None:
    """Train a small GAN, export it, sample from the bundle, and print where it all is."""
    from ganflow.sampler.runtime import RuntimeOptions
    from ganflow.sampler.sample import SampleOptions, sample_to

    image = data is not None
    run, bundle = out / "run", out / "bundle"
    if (run / "config.json").exists():
        if not overwrite:
            raise InputError(f"{out} already holds a demo: pass --overwrite to replace it, or another --out")
        _remove_demo(out)
    on_interrupt(lambda: f"interrupted; the demo in {out} is incomplete: rerun with --overwrite")
    typer.echo(f"1/3 training a GAN on {data or 'gaussians25'} in {run}")
    need_torch("train")
    from ganflow.training.commands import run_demo

    meta = run_demo(data, run, steps)
    typer.echo(f"    step {meta['summary']['step']}: {meta['summary']['metrics']}")
    typer.echo(f"2/3 exporting to {bundle}")
    _export(run, bundle, overwrite=True)
    typer.echo("3/3 sampling from the bundle with onnxruntime")
    grid = out / "samples.png"
    n_grid = 64 if image else 5000
    options = SampleOptions(runtime=RuntimeOptions(device), overwrite=True)
    echo_report(sample_to(bundle, grid, n_grid, options))
    echo_report(sample_to(bundle, out / "samples.npz", 10_000, options))
    typer.echo(
        f"\nrun (checkpoints, metrics.jsonl, samples/): {run}\nbundle: {bundle}\n"
        f"sample grid: {grid}\nsamples: {out / 'samples.npz'}\n"
        f"next: ganflow info {bundle}  |  ganflow sample {bundle} -n 16 --out more.png"
    )


def _remove_demo(out: Path) -> None:
    """Delete what a demo wrote in `out` (and nothing else that may be there)."""
    import shutil

    for name in ("run", "bundle"):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in ("samples.png", "samples.npz"):
        (out / name).unlink(missing_ok=True)


app.command("compare", epilog=COMPARE_EXAMPLE)(compare_cmd)
app.command("pull", epilog=PULL_EXAMPLE)(pull_cmd)
app.command("push", epilog=PUSH_EXAMPLE)(push_cmd)


INTERRUPTED = 130  # exit code after Ctrl-C (128 + SIGINT)


def _click_kind(e: BaseException) -> str | None:
    """'usage' or 'abort' for click's exceptions (typer vendors click, so match class names)."""
    names = {c.__name__ for c in type(e).__mro__}
    return "usage" if "UsageError" in names else "abort" if "Abort" in names else None


def main() -> None:
    try:
        code = app(standalone_mode=False)  # click's own errors come back to us as exceptions
        if code == INTERRUPTED:  # typer turns Ctrl-C inside a command into this exit code
            typer.echo(interrupt_message(), err=True)
        sys.exit(code if isinstance(code, int) else 0)
    except GanflowError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except OSError as e:  # disk full, file too large, permission denied, read-only filesystem...
        typer.echo(f"error: {os_error_message(e)}", err=True)
        sys.exit(3)
    except KeyboardInterrupt:  # Ctrl-C: outputs are atomic, or the command said what is left
        typer.echo(interrupt_message(), err=True)
        sys.exit(INTERRUPTED)
    except Exception as e:
        kind = _click_kind(e)
        if kind == "usage":  # wrong type, missing or unknown option/command
            ctx, message = getattr(e, "ctx", None), e.format_message()
            if message:  # (none when the help was shown for a bare command)
                where = ctx.command_path if ctx else "ganflow"
                typer.echo(f"error: {message} (see: {where} --help)", err=True)
            sys.exit(2)
        if kind == "abort":
            typer.echo(interrupt_message(), err=True)
            sys.exit(INTERRUPTED)
        raise
