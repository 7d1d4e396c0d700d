"""The static CUDA placement check (export/cuda_check.py): every graph we export stays on the CUDA
provider, and the check does flag the patterns onnxruntime would hand to the CPU."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ganflow.export.cuda_check import cuda_problems
from ganflow.export.cuda_ops import CUDA_KERNELS


def _model(nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 10
    onnx.checker.check_model(m)
    return m


X = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])


def test_shape_fed_straight_into_a_shape_input_stays_on_cuda():
    ones = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    m = _model([helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Expand", ["one", "s"], ["y"])],
               [X], [Y], [ones])  # fmt: skip
    assert cuda_problems(m) == []


def test_shape_arithmetic_is_flagged():
    idx = helper.make_tensor("i", TensorProto.INT64, [], [0])
    shape = helper.make_tensor("tail", TensorProto.INT64, [1], [4])
    m = _model(
        [
            helper.make_node("Shape", ["x"], ["s"]),
            helper.make_node("Gather", ["s", "i"], ["n"]),  # onnxruntime runs this on the CPU
            helper.make_node("Unsqueeze", ["n", "zero"], ["n1"]),
            helper.make_node("Concat", ["n1", "tail"], ["shape"], axis=0),
            helper.make_node("Reshape", ["x", "shape"], ["y"]),
        ],
        [X], [Y], [idx, shape, helper.make_tensor("zero", TensorProto.INT64, [1], [0])],
    )  # fmt: skip
    problems = cuda_problems(m)
    assert len(problems) == 1 and "Gather" in problems[0] and "would run on the CPU" in problems[0]


def test_ops_and_types_without_a_cuda_kernel_are_flagged(monkeypatch):
    m = _model([helper.make_node("Col2Im", ["x", "a", "b"], ["y"])], [X], [Y],
               [helper.make_tensor(k, TensorProto.INT64, [2], [2, 2]) for k in "ab"])  # fmt: skip
    assert "no CUDA kernel for Col2Im-18" in cuda_problems(m)[0]
    xh = helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["batch", 4])
    yh = helper.make_tensor_value_info("y", TensorProto.FLOAT16, ["batch", 4])
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [xh], [yh])
    assert cuda_problems(m) == []
    monkeypatch.setitem(CUDA_KERNELS, "Relu", "14+:f")  # as if the provider had no fp16 Relu
    assert "the CUDA kernel of Relu-14 lacks this element type" in cuda_problems(m)[0]


def test_the_kernel_table_parses():
    from ganflow.export.cuda_check import _registrations

    for op in CUDA_KERNELS:
        regs = _registrations(op)
        assert regs and all(lo >= 1 and (hi is None or hi >= lo) for lo, hi, _ in regs), op
    assert any(lo <= 11 <= (hi or 11) and "h" in t for lo, hi, t in _registrations("Conv"))  # Conv-11


@pytest.mark.parametrize("fixture", ["tiny_bundle", "mnist_fp16_bundle"])
def test_every_exported_graph_is_cuda_resident(request, fixture):
    """(export also refuses a graph with problems, so every bundle the suite exports passed it)"""
    root = request.getfixturevalue(fixture)
    graphs = sorted(root.rglob("*.onnx"))
    assert graphs
    for g in graphs:
        assert cuda_problems(onnx.load(g)) == [], g
    assert np.any([".fp16." in g.name for g in graphs]) == (fixture == "mnist_fp16_bundle")


@pytest.mark.slow
@pytest.mark.parametrize("arch", [["--arch", "realnvp-conv", "--channels", "8"], ["--arch", "nice"]])
def test_flowgan_graphs_are_cuda_resident(tmp_path, arch):
    """Real NVP (conv) slices channels: the gradient of a slice used to be a scatter into zeros
    sized from the batch at run time (shape arithmetic on the CPU); export/refine.py writes it as a
    constant pad. The MLP couplings split columns without gathers for the same reason. NICE's
    default logistic prior brings Sign."""
    from tests.conftest import MNIST, ganflow

    if not MNIST.is_file():
        pytest.skip(f"{MNIST} is absent")
    ganflow("train", "flowgan", "--data", str(MNIST), "--out", str(tmp_path / "run"), "--objective", "hybrid",
            *arch, "--steps", "2", "--batch-size", "16", "--eval-every", "100", "--sample-every", "100",
            "--ckpt-every", "100", "--val-n", "32", "--eval-samples", "32", "--no-progress")  # fmt: skip
    r = ganflow("export", str(tmp_path / "run" / "best"), "--out", str(tmp_path / "b"))  # checks parity too
    assert "warning" not in r.stdout + r.stderr
    graphs = sorted((tmp_path / "b").rglob("*.onnx"))
    assert "refine" in {g.parent.name for g in graphs}
    for g in graphs:
        assert cuda_problems(onnx.load(g)) == [], g


def test_a_graph_that_would_fall_back_is_exported_with_a_warning(tmp_path):
    from ganflow.export.graph import cuda_placement

    idx = helper.make_tensor("i", TensorProto.INT64, [], [0])
    m = _model([helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "i"], ["n"]),
                helper.make_node("Cast", ["n"], ["y"], to=TensorProto.FLOAT)],
               [X], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])], [idx])  # fmt: skip
    onnx.save(m, tmp_path / "g.onnx")
    entry, lines = {}, []
    cuda_placement(tmp_path / "g.onnx", entry, lines.append)
    assert "Gather" in entry["cuda_cpu_nodes"][0]
    assert lines[0].startswith("warning: g.onnx: ") and "--allow-cpu-fallback" in lines[0], lines


def test_asymmetric_conv_transpose_is_flagged():
    w = helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 2, 2], [1.0] * 4)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1, 8, 8])
    for pads, flagged in (([0, 0, 0, 0], False), ([0, 0, 1, 1], True)):
        node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], pads=pads)
        problems = cuda_problems(_model([node], [x], [y], [w]))
        assert bool(problems) == flagged and all("asymmetric" in p for p in problems)
