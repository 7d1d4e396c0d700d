"""Shared fixtures: paths, a tiny trained run and its exported bundle (built once per session)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"

# prepended to `python -c` code: any import of torch then fails, as on a machine without it
BLOCK_TORCH = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
sys.meta_path.insert(0, Block())
"""


def load_script(relpath: str):
    """A script under the repository (e.g. "benchmarks/zoo/curves.py") loaded as a module."""
    spec = importlib.util.spec_from_file_location(Path(relpath).stem, ROOT / relpath)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ganflow(*args: str, env: dict | None = None, check: bool = True, timeout: float = 600):
    """Run the `ganflow` CLI in a subprocess; returns CompletedProcess (text)."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "ganflow.sampler.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"ganflow {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A 2-D GAN trained for a few steps (seconds): for checkpoint, export and sampler tests."""
    from ganflow.sampler.data import load_dataset
    from ganflow.training import TrainConfig, default_components, train_gan

    run = tmp_path_factory.mktemp("runs") / "tiny"
    ds = load_dataset("gaussians25")
    cfg = TrainConfig(
        steps=30, batch_size=64, log_every=10, eval_every=30, sample_every=30, ckpt_every=30, eval_samples=256
    )
    train_gan(run, ds, default_components(ds.spec), cfg, progress=False)
    return run


@pytest.fixture(scope="session")
def tiny_bundle(tiny_run, tmp_path_factory) -> Path:
    from ganflow.export import export_bundle

    out = tmp_path_factory.mktemp("bundles") / "tiny"
    export_bundle(tiny_run, out, log=lambda *a: None)
    return out


@pytest.fixture(scope="session")
def mnist_bundle(tmp_path_factory) -> Path:
    """A DCGAN (width 8) trained for 10 steps on MNIST and exported: for image-format tests."""
    from ganflow.export import export_bundle
    from ganflow.sampler.data import load_dataset
    from ganflow.training import TrainConfig, default_components, train_gan

    if not MNIST.is_file():
        pytest.skip(f"{MNIST} is absent")
    ds = load_dataset(str(MNIST))
    assert ds.x.shape == (60000, 1, 28, 28) and ds.x.min() == -1.0 and ds.x.max() == 1.0
    root = tmp_path_factory.mktemp("mnist")
    cfg = TrainConfig(
        steps=10, batch_size=16, log_every=5, eval_every=10, sample_every=10, ckpt_every=10, eval_samples=64
    )
    train_gan(root / "run", ds, default_components(ds.spec, width=8, spectral_norm=True), cfg, progress=False)
    assert (root / "run" / "samples" / "step_000010.png").is_file()
    export_bundle(root / "run", root / "bundle", log=lambda *a: None)
    return root / "bundle"


@pytest.fixture(scope="session")
def mnist_fp16_bundle(mnist_bundle) -> Path:
    """The MNIST run of `mnist_bundle` exported again with fp16 variants (export --fp16)."""
    from ganflow.export import export_bundle

    out = mnist_bundle.parent / "bundle-fp16"
    export_bundle(mnist_bundle.parent / "run", out, log=lambda *a: None, fp16=True)
    return out


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `cuda` where onnxruntime has no CUDA provider."""
    try:
        import onnxruntime as ort

        has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs the onnxruntime CUDA provider")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
