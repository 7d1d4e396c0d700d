"""Bad input to every command: one line on stderr starting with `error:`, a non-zero exit code,
no traceback, and nothing written. (The README's "When something is wrong" table cites these.)"""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ganflow.sampler.bundle import MANIFEST, sha256_file
from ganflow.sampler.pipeline import METHODS
from tests.conftest import ganflow

RUN, OUT = "{tmp}/o", "{tmp}/o.npz"  # outputs that must not appear
G25 = ["train", "gan", "--data", "gaussians25"]
CASES = {
    # wrong paths
    "sample: no bundle": (["sample", "/no/such/bundle", "--out", OUT], "no bundle at"),
    "info: no bundle": (["info", "/no/such/bundle"], "no bundle at"),
    "eval: no source": (["eval", "/no/such/bundle", "--data", "gaussians25"], "no bundle at"),
    "export: no run": (["export", "/no/such/run", "--out", RUN], "no model.safetensors"),
    "train gan: no data": (["train", "gan", "--data", "/no/such.npz", "--out", RUN], "--data"),
    "train reweight: no base": (
        ["train", "reweight", "--base", "/no/such/run", "--out", RUN],
        "no model.safetensors",
    ),
    "push: no bundle": (["push", "/no/such/bundle", "me/model"], "no bundle at"),
    "sample: out folder missing": (["sample", "{b}", "--out", "/no/such/dir/o.npz"], "does not exist"),
    "sample: not a bundle": (["sample", "{tmp}", "--out", OUT], "is not a ganflow bundle"),
    # wrong types
    "sample: -n abc": (["sample", "{b}", "-n", "abc"], "Invalid value for '-n'"),
    "sample: --seed 1.5": (["sample", "{b}", "--seed", "1.5"], "Invalid value for '--seed'"),
    "train gan: --steps x": ([*G25, "--steps", "x"], "Invalid value"),
    "eval: -n x": (["eval", "{b}", "-n", "x"], "Invalid value for '-n'"),
    "sample: unknown option": (["sample", "{b}", "--bogus", "1"], "No such option"),
    "unknown command": (["smaple", "{b}"], "No such command"),
    # N <= 0 and other out-of-range numbers
    "sample: -n 0": (["sample", "{b}", "-n", "0", "--out", OUT], "-n must be > 0"),
    "sample: -n -5": (["sample", "{b}", "-n", "-5", "--out", OUT], "-n must be > 0"),
    "sample: --threads 0": (["sample", "{b}", "--threads", "0", "--out", OUT], "--threads must be > 0"),
    "sample: batch 0": (["sample", "{b}", "--batch-size", "0", "--out", OUT], "batch size > 0"),
    "eval: -n 0": (["eval", "{b}", "-n", "0"], "-n must be > 0"),
    "train gan: --steps 0": ([*G25, "--steps", "0", "--out", RUN], "steps"),
    "train gan: --batch-size 0": (
        [*G25, "--batch-size", "0", "--out", RUN],
        "batch_size",
    ),
    "sample: shard index out of range": (
        ["sample", "{b}", "--num-shards", "2", "--shard-index", "2", "--out", OUT],
        "--shard-index",
    ),
    # unknown names
    "sample: unknown method": (["sample", "{b}", "--method", "magic", "--out", OUT], "unknown sampling"),
    "sample: unknown stage": (["sample", "{b}", "--select", "nope", "--out", OUT], "unknown selection stage"),
    "sample: unknown format": (["sample", "{b}", "--format", "gif", "--out", OUT], "unknown output format"),
    "sample: unknown device": (["sample", "{b}", "--device", "tpu"], "unknown --device"),
    "eval: unknown metric": (["eval", "{b}", "--metrics", "fdi"], "unknown metric"),
    "eval: unknown method": (["eval", "{b}", "--method", "magic"], "unknown sampling method"),
    "train gan: unknown loss": ([*G25, "--loss", "l2", "--out", RUN], "unknown loss"),
    "train gan: unknown arch": ([*G25, "--arch", "vit", "--out", RUN], "unknown"),
    "train gan: unknown dataset": (["train", "gan", "--data", "cifar99", "--out", RUN], "--data 'cifar99'"),
    # NaN / inf from the user
    "sample: --truncation nan": (["sample", "{b}", "--truncation", "nan", "--out", OUT], "--truncation"),
    "sample: --truncation inf": (["sample", "{b}", "--truncation", "inf", "--out", OUT], "--truncation"),
}  # fmt: skip


def _check_one_line_error(proc, match: str) -> None:
    assert proc.returncode != 0, proc.stdout
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert match in lines[0], err


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case, tiny_bundle, tmp_path):
    args, match = CASES[case]
    proc = ganflow(*[a.format(b=tiny_bundle, tmp=tmp_path) for a in args], check=False, timeout=120)
    _check_one_line_error(proc, match)
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.npz").exists()
    assert not list(tmp_path.glob(".*"))  # no temporary files either


@pytest.mark.parametrize("method", [m for m in METHODS.names() if m != "plain"])
def test_methods_whose_component_is_missing(method, tiny_bundle, tmp_path):
    """The tiny bundle has a generator, a critic and the DGflow step: every method that needs more
    says what it lacks and which methods the bundle supports."""
    from ganflow.sampler.bundle import load_bundle
    from ganflow.sampler.pipeline import stage_needs

    preset = METHODS.get(method)
    needs = stage_needs(preset.proposal, preset.select, preset.refine)
    if all(c in load_bundle(tiny_bundle).components for c in needs):
        pytest.skip(f"the tiny bundle supports {method}")
    out = tmp_path / "o.npz"
    proc = ganflow("sample", str(tiny_bundle), "--method", method, "--out", str(out), check=False)
    _check_one_line_error(proc, "component")
    from ganflow.sampler.pipeline import supported_methods

    assert f"it supports: {', '.join(supported_methods(load_bundle(tiny_bundle)))}" in proc.stderr
    assert not (tmp_path / "o.npz").exists()


def _nan_bundle(tiny_bundle, tmp_path):
    """The tiny bundle with a generator graph that returns z * NaN (a broken model)."""
    b = tmp_path / "nan"
    shutil.copytree(tiny_bundle, b)
    manifest = json.loads((b / MANIFEST).read_text())
    d = manifest["latent_dim"]
    out_shape = manifest["components"]["generator"]["outputs"][0]["shape"]
    nan = helper.make_tensor("nan", TensorProto.FLOAT, [], [float("nan")])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["z", "nan"], ["x"])],
        "broken",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", d])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, out_shape)],
        [nan],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    path = b / "generator" / "model.onnx"
    onnx.save_model(model, str(path))
    manifest["components"]["generator"]["sha256"] = sha256_file(path)
    (b / MANIFEST).write_text(json.dumps(manifest))
    return b


def test_nan_from_the_model_is_caught(tiny_bundle, tmp_path):
    b = _nan_bundle(tiny_bundle, tmp_path)
    for out in ("o.npz", "o.png"):
        proc = ganflow("sample", str(b), "-n", "10", "--out", str(tmp_path / out), check=False)
        _check_one_line_error(proc, "NaN/inf")
        assert not (tmp_path / out).exists()
    proc = ganflow("eval", str(b), "-n", "10", "--data", "gaussians25", check=False)
    _check_one_line_error(proc, "NaN/inf")


def test_nan_in_a_samples_file(tmp_path):
    x = np.zeros((20, 2), np.float32)
    x[3] = np.inf
    np.savez(tmp_path / "s.npz", samples=x)
    proc = ganflow("eval", str(tmp_path / "s.npz"), "--data", "gaussians25", check=False)
    _check_one_line_error(proc, "NaN/inf")
