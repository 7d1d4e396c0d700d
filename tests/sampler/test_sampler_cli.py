"""The torch-free sampler end to end on an exported bundle: formats, seeds, errors, torch blocked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.errors import BundleError, DeviceError, InputError, MethodError
from ganflow.sampler.images import decode_png
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions, sample_to
from ganflow.sampler.stages import options_from_flat
from tests.conftest import BLOCK_TORCH, ROOT, ganflow


def run_without_torch(*args: str) -> subprocess.CompletedProcess:
    code = (
        BLOCK_TORCH
        + "import sys; from ganflow.sampler.cli import main; sys.argv = ['ganflow', *sys.argv[1:]]; main()"
    )
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def test_sampler_imports_and_samples_without_torch(tiny_bundle, tmp_path):
    code = BLOCK_TORCH + (
        "import pkgutil, importlib, ganflow.sampler\n"
        "for m in pkgutil.walk_packages(ganflow.sampler.__path__, 'ganflow.sampler.'):\n"
        "    importlib.import_module(m.name)\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    out = tmp_path / "s.npz"
    proc = run_without_torch("sample", str(tiny_bundle), "-n", "100", "--out", str(out), "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert "CPUExecutionProvider" in proc.stdout
    with np.load(out) as f:
        assert f["samples"].shape == (100, 2) and f["latents"].shape == (100, 2)
    proc = run_without_torch(
        "eval", str(tiny_bundle), "-n", "500", "--metrics", "fid,modes", "--device", "cpu"
    )
    assert proc.returncode == 0, proc.stderr
    assert "fid500_gaussians25-test" in proc.stdout
    # train and export say how to get torch instead of failing with a traceback
    proc = run_without_torch("train", "gan", "--data", "gaussians25", "--out", str(tmp_path / "r"))
    assert proc.returncode != 0
    assert proc.stderr.strip() == "error: `ganflow train` needs PyTorch: pip install 'ganflow[train]'"


def test_formats_and_determinism(tiny_bundle, tmp_path):
    a = sample_to(
        tiny_bundle,
        tmp_path / "a.npz",
        3000,
        SampleOptions(seed=7, batch_size=500, runtime=RuntimeOptions(device="cpu")),
    )
    sample_to(
        tiny_bundle,
        tmp_path / "b.npz",
        3000,
        SampleOptions(seed=7, batch_size=1024, runtime=RuntimeOptions(device="cpu")),
    )
    sample_to(
        tiny_bundle, tmp_path / "c.npz", 3000, SampleOptions(seed=8, runtime=RuntimeOptions(device="cpu"))
    )
    sample_to(
        tiny_bundle, tmp_path / "d.npy", 3000, SampleOptions(seed=7, runtime=RuntimeOptions(device="cpu"))
    )
    assert a["samples"] == 3000 and a["provider"] == "CPUExecutionProvider"
    xa, xb, xc = (np.load(tmp_path / f"{k}.npz")["samples"] for k in "abc")
    assert np.array_equal(xa, xb)  # independent of the batch size
    assert not np.allclose(xa, xc)  # depends on the seed
    assert np.array_equal(np.load(tmp_path / "d.npy"), xa)
    sample_to(
        tiny_bundle,
        tmp_path / "e.npz",
        3000,
        SampleOptions(seed=7, runtime=RuntimeOptions(device="cpu", threads=1)),
    )  # same on one thread
    assert np.array_equal(np.load(tmp_path / "e.npz")["samples"], xa)
    with zipfile.ZipFile(tmp_path / "a.npz") as zf:
        assert sorted(zf.namelist()) == ["latents.npy", "samples.npy"]
        # fixed entry timestamps: the same samples give the same bytes whenever they are written
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    sample_to(tiny_bundle, tmp_path / "p.png", 500, SampleOptions(runtime=RuntimeOptions(device="cpu")))
    img = decode_png((tmp_path / "p.png").read_bytes())
    assert img.ndim == 3 and img.shape[2] == 3
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left


def test_truncation(tiny_bundle, tmp_path):
    sample_to(
        tiny_bundle,
        tmp_path / "t.npz",
        2000,
        SampleOptions(stages=options_from_flat({"truncation": 0.5}), runtime=RuntimeOptions(device="cpu")),
    )
    z = np.load(tmp_path / "t.npz")["latents"]
    assert np.abs(z).max() <= 0.5 and z.std() > 0.2


@pytest.mark.parametrize(
    "options,err,match",
    [
        (SampleOptions(runtime=RuntimeOptions(device="tpu")), InputError, "unknown --device 'tpu'"),
        (SampleOptions(runtime=RuntimeOptions(threads=0)), InputError, "--threads must be > 0"),
        (SampleOptions(method="magic"), MethodError, "unknown sampling method 'magic'"),
        (SampleOptions(fmt="gif"), InputError, "unknown output format 'gif'"),
        (SampleOptions(select="magic"), MethodError, "unknown selection stage 'magic'"),
    ],
)
def test_bad_arguments(tiny_bundle, tmp_path, options, err, match):
    with pytest.raises(err, match=match):
        sample_to(tiny_bundle, tmp_path / "x.npz", 10, options)
    assert not list(tmp_path.iterdir())


def test_cuda_unavailable_is_an_error_only_when_asked(tiny_bundle, tmp_path):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has the CUDA provider")
    with pytest.raises(DeviceError, match="--device cuda is unavailable"):
        sample_to(tiny_bundle, tmp_path / "x.npz", 10, SampleOptions(runtime=RuntimeOptions(device="cuda")))
    report = sample_to(
        tiny_bundle, tmp_path / "y.npz", 10, SampleOptions(runtime=RuntimeOptions(device="auto"))
    )
    assert report["provider"] == "CPUExecutionProvider" and "CUDA unavailable" in report["device_note"]


def _copy(bundle, tmp_path):
    dst = tmp_path / "bundle"
    shutil.copytree(bundle, dst)
    return dst


def test_tampered_onnx_is_refused(tiny_bundle, tmp_path):
    b = _copy(tiny_bundle, tmp_path)
    path = b / "generator" / "model.onnx"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="fails its sha256 check"):
        load_bundle(b)
    proc = ganflow("sample", str(b), "--out", str(tmp_path / "s.png"), check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: bundle") and "sha256" in proc.stderr
    assert not (tmp_path / "s.png").exists()
    proc = ganflow("info", str(b), check=False)
    assert proc.returncode == 1 and "sha256 mismatch" in proc.stdout


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda m: m["components"]["generator"].update(path="../../etc/passwd"), "leaves the bundle"),
        (lambda m: m["components"]["generator"].update(path="/etc/passwd"), "leaves the bundle"),
        (lambda m: m.pop("latent_dim"), "latent_dim"),
        (lambda m: m["components"]["generator"]["inputs"][0].update(shape=["batch", -1]), "shape"),
        (lambda m: m.update(format_version=99), "upgrade ganflow"),
        (lambda m: m["components"].pop("generator"), "no 'generator' component"),
    ],
)
def test_malformed_manifest(tiny_bundle, tmp_path, mutate, match):
    b = _copy(tiny_bundle, tmp_path)
    m = json.loads((b / "config.json").read_text())
    mutate(m)
    (b / "config.json").write_text(json.dumps(m))
    with pytest.raises(BundleError, match=match):
        sample_to(b, tmp_path / "x.npz", 10, SampleOptions(runtime=RuntimeOptions(device="cpu")))


def test_symlink_out_of_bundle_is_refused(tiny_bundle, tmp_path):
    b = _copy(tiny_bundle, tmp_path)
    outside = tmp_path / "outside.onnx"
    shutil.move(b / "generator" / "model.onnx", outside)
    (b / "generator" / "model.onnx").symlink_to(outside)
    with pytest.raises(BundleError, match="outside the bundle"):
        load_bundle(b)


def test_shapes_checked_against_graph(tiny_bundle, tmp_path):
    b = _copy(tiny_bundle, tmp_path)
    m = json.loads((b / "config.json").read_text())
    m["components"]["generator"]["outputs"][0]["shape"] = ["batch", 3]
    (b / "config.json").write_text(json.dumps(m))
    with pytest.raises(BundleError, match="does not match the manifest"):
        sample_to(b, tmp_path / "x.npz", 10, SampleOptions(runtime=RuntimeOptions(device="cpu")))


@pytest.mark.parametrize(
    "args,match",
    [
        (["sample", "/no/such/bundle"], "error: no bundle at /no/such/bundle"),
        (["sample", "{b}", "--device", "gpu"], "error: unknown --device 'gpu'"),
        (["sample", "{b}", "-n", "0"], "error: -n must be > 0"),
        (["sample", "{b}", "--method", "nope"], "error: unknown sampling method 'nope'"),
        (["info", "/no/such/bundle"], "error: no bundle at"),
        (["export", "/no/such/run", "--out", "{tmp}/b"], "error: no model.safetensors at /no/such/run"),
        (["train", "gan", "--data", "nodata", "--out", "{tmp}/r"], "error: --data 'nodata' is neither"),
        (
            ["train", "gan", "--data", "gaussians25", "--loss", "l2", "--out", "{tmp}/r"],
            "error: unknown loss",
        ),
    ],
)
def test_cli_errors_are_one_line(tiny_bundle, tmp_path, args, match):
    args = [a.format(b=tiny_bundle, tmp=tmp_path) for a in args]
    proc = ganflow(*args, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(match), proc.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "b").exists()


def test_info(tiny_bundle):
    proc = ganflow("info", str(tiny_bundle), "--json")
    doc = json.loads(proc.stdout)
    assert doc["methods"] == ["ddls", "dgflow", "drs", "mh-gan", "plain"]  # a BCE critic: the ratio methods
    assert set(doc["components"]) == {"generator", "critic", "refine", "ddls"}
    assert set(doc["integrity"].values()) == {"ok"}


def test_help_shows_examples():
    for cmd in (["sample"], ["export"], ["info"], ["demo"], ["train", "gan"]):
        out = ganflow(*cmd, "--help").stdout
        assert "Example:" in out, cmd
    assert (ROOT / "README.md").is_file()


def test_file_shards_concatenate_to_one_run(tiny_bundle, tmp_path):
    sample_to(
        tiny_bundle, tmp_path / "all.npz", 1000, SampleOptions(seed=2, runtime=RuntimeOptions(device="cpu"))
    )
    for i in range(3):
        proc = ganflow(
            "sample",
            str(tiny_bundle),
            "-n",
            "1000",
            "--seed",
            "2",
            "--out",
            str(tmp_path / "s.npz"),
            "--num-shards",
            "3",
            "--shard-index",
            str(i),
            "--device",
            "cpu",
            "--batch-size",
            "128",
        )
        assert f"s-0000{i}-of-00003.npz" in proc.stdout
    parts = [np.load(tmp_path / f"s-0000{i}-of-00003.npz") for i in range(3)]
    assert [len(p["samples"]) for p in parts] == [333, 333, 334]
    whole = np.load(tmp_path / "all.npz")
    assert np.array_equal(np.concatenate([p["samples"] for p in parts]), whole["samples"])
    assert np.array_equal(np.concatenate([p["latents"] for p in parts]), whole["latents"])
    bad = ganflow(
        "sample",
        str(tiny_bundle),
        "--num-shards",
        "3",
        "--shard-index",
        "3",
        "--out",
        str(tmp_path / "x.npz"),
        check=False,
    )
    assert bad.returncode == 2 and "--shard-index must be in [0, 3)" in bad.stderr
