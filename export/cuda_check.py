"""Would every node of a graph run on onnxruntime's CUDA provider? A static check at export time.

The sampler creates CUDA sessions with `session.disable_cpu_ep_fallback`, so a graph with a node
the CUDA provider would hand to the CPU fails there. This check finds such nodes on any machine, GPU
or not, by the rules onnxruntime applies when it partitions a graph (core/framework/
fallback_cpu_capability.cc, GetCpuPreferredNodes):
  - a node needs a CUDA kernel for its op, opset version and element type (export/cuda_ops.py);
  - Shape and Size put their output in CPU memory; a node reading it anywhere but an input the CUDA
    kernel declares as a CPU input (Reshape's shape, Expand's shape, Slice's starts/ends/axes/steps,
    ...) is moved to the CPU, and so would be what it feeds. We flag every such consumer, which is
    at least as strict as onnxruntime;
  - a ConvTranspose with asymmetric padding is left to the CPU (CUDA provider, conv_transpose.cc).
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from ganflow.export.cuda_ops import CUDA_KERNELS

# inputs that CUDA kernels read from CPU memory (shape-like int64 tensors), by op
CPU_INPUTS: dict[str, set[int]] = {
    "Reshape": {1},
    "Expand": {1},
    "Unsqueeze": {1},
    "Squeeze": {1},
    "Slice": {1, 2, 3, 4},
    "ConstantOfShape": {0},
    "Tile": {1},
    "Split": {1},
    "ReduceSum": {1},
    "ReduceMean": {1},
    "Resize": {1, 2, 3},
    "Range": {0, 1, 2},
    "TopK": {1},
    "Pad": {1, 2, 3},
}
CPU_OUTPUT_OPS = {"Shape", "Size"}
ABBREV = {TensorProto.FLOAT: "f", TensorProto.FLOAT16: "h", TensorProto.BOOL: "b"}
DATA_INPUT = {"Where": 1}  # which input carries the op's main type constraint (default 0)


def _registrations(op: str) -> list[tuple[int, int | None, str]]:
    out = []
    for entry in CUDA_KERNELS.get(op, "").split():
        versions, types = entry.split(":")
        if versions.endswith("+"):
            lo, hi = int(versions[:-1]), None
        elif "-" in versions:
            a, b = versions.split("-")
            lo, hi = int(a), int(b)
        else:
            lo = hi = int(versions)
        out.append((lo, hi, types))
    return out


def _elem_types(model: onnx.ModelProto) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    types = {t.name: t.data_type for t in g.initializer}
    for vi in [*g.input, *g.value_info, *g.output]:
        types[vi.name] = vi.type.tensor_type.elem_type
    return types


def cuda_problems(model: onnx.ModelProto) -> list[str]:
    """Why nodes of `model` would not all run on the CUDA provider ([] when they would)."""
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    types = _elem_types(model)
    cpu_values: set[str] = set()
    problems = []
    for node in model.graph.node:
        where = f"{node.op_type} node {node.name or node.output[0]!r}"
        if node.domain not in ("", "ai.onnx"):
            problems.append(f"{where}: custom domain {node.domain!r} has no CUDA kernel")
            continue
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
            problems.append(f"{where}: control flow runs its loop on the CPU")
        if node.op_type != "Constant":  # Constant nodes become initializers when a session loads
            since = onnx.defs.get_schema(node.op_type, opset, "").since_version
            idx = DATA_INPUT.get(node.op_type, 0)
            elem = types.get(node.input[idx]) if len(node.input) > idx and node.input[idx] else None
            t = ABBREV.get(elem)  # other element types (int64 shapes, ...) are not checked
            regs = [r for r in _registrations(node.op_type) if r[0] <= since <= (r[1] or since)]
            if not regs:
                problems.append(f"{where}: no CUDA kernel for {node.op_type}-{since} (export/cuda_ops.py)")
            elif t is not None and not any(t in r[2] for r in regs):
                problems.append(f"{where}: the CUDA kernel of {node.op_type}-{since} lacks this element type")
        if node.op_type == "ConvTranspose":  # onnxruntime drops these from the CUDA provider
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            pads, auto = list(attrs.get("pads", [])), attrs.get("auto_pad", b"NOTSET")
            if pads[: len(pads) // 2] != pads[len(pads) // 2 :] or auto in (b"SAME_UPPER", b"SAME_LOWER"):
                problems.append(f"{where}: asymmetric padding, which the CUDA ConvTranspose does not support")
        for i, name in enumerate(node.input):
            if name in cpu_values and i not in CPU_INPUTS.get(node.op_type, set()):
                problems.append(f"{where}: reads the shape {name!r} at input {i}, so it would run on the CPU")
        if node.op_type in CPU_OUTPUT_OPS:
            cpu_values.update(node.output)
    return problems
