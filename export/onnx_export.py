"""torch -> ONNX with the dynamo exporter (dynamic batch), then checker + onnxruntime parity."""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx
import torch

from ganflow.sampler.errors import GanflowError

OPSET = 18  # accepted by onnxruntime >= 1.14, so by the 1.31 the sampler targets
IR_VERSION = 10  # onnxruntime 1.31 reads IR <= 11; 10 keeps older runtimes working too
PARITY_BATCHES = (1, 7, 64)
ATOL, RTOL = 1e-5, 1e-4  # max |ort - torch| <= ATOL + RTOL * |torch|, elementwise (DESIGN 5)
# Graphs whose outputs are gradients through ReLU-like activations (the DGflow/DDLS steps): a
# pre-activation within rounding of 0 can take the other slope in onnxruntime than in torch, which
# moves that example's whole gradient (measured: 1 example of 64 off by 2.4e-4 on a width-64 DCGAN,
# the other 63 within 2.4e-7). Up to ceil(n * KINK_FRACTION) examples per batch may exceed the
# tolerance, by at most KINK_ATOL; a wrong graph is off on most examples and still fails.
KINK_FRACTION, KINK_ATOL = 1 / 32, 1e-2
# A batch past the tolerance is checked again against the module run in float64: onnxruntime may be
# up to FP32_ERROR_FACTOR times torch float32's worst error on that batch from float64, plus the
# tolerance. Two float32 implementations accumulate in different orders; on the hybrid Flow-GAN
# (zoo/flowgan-hybrid-s0) torch fp32 is 1.5e-5 from fp64 and onnxruntime 2.1e-5 at batch 64.
FP32_ERROR_FACTOR = 2.0
# A batch that fails that too is decided by the exported file itself run in float64 (every float
# tensor widened: the weights exactly, the constants from their float32 values): it must be within
# the same bound of the module in float64. The file then computes the module's function, up to its
# constants' float32 representation (a perturbation of the size of float32 rounding), and the
# float32 gap is onnxruntime's accumulation order on a badly conditioned network: on 64 latents of
# zoo/flowgan-adv-s1, torch's own float32 is 1.97e-4 from float64, onnxruntime's 3.47e-4, the file in
# float64 6.39e-5 (benchmarks/zoo/fp32_conditioning.py --onnx). Its float32 output must still be within
# FP32_CAP + RTOL |x| of float64: past that the sampler's float32 images would not be the network's,
# and the export is refused as too badly conditioned.
FP32_CAP = 1e-2


class ExportError(GanflowError):
    """An export that failed the checker or the numerical parity check."""


def export_onnx(
    module: torch.nn.Module,
    example: Sequence[torch.Tensor],
    input_names: Sequence[str],
    output_names: Sequence[str],
    path: str | Path,
    dynamic_batch: Sequence[bool] | None = None,
) -> onnx.ModelProto:
    """Export `module` (eval mode) to `path` with a symbolic `batch` axis on dim 0 of each input
    whose `dynamic_batch` flag is True (default: all)."""
    module.eval()
    dynamic_batch = dynamic_batch or [True] * len(example)
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    shapes = tuple({0: batch} if dyn else None for dyn in dynamic_batch)
    quiet = logging.getLogger("torch.onnx")  # e.g. "torchvision is not installed" notices
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            tuple(example),
            dynamo=True,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_shapes=shapes,
            opset_version=OPSET,
            external_data=False,
            verbose=False,
            report=False,
        )
    quiet.setLevel(level)
    model = program.model_proto
    model.ir_version = min(model.ir_version, IR_VERSION)
    model.doc_string = f"ganflow export of {type(module).__name__}"
    onnx.checker.check_model(model, full_check=True)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    return model


def check_parity(
    module: torch.nn.Module,
    path: str | Path,
    make_inputs: Callable[[int, torch.Generator], Sequence[torch.Tensor]],
    input_names: Sequence[str],
    batches: Sequence[int] = PARITY_BATCHES,
    seed: int = 1234,
    kinks: bool = False,
) -> float:
    """Run torch and onnxruntime (CPU) on fresh random inputs at each batch size; raise
    ExportError past the tolerance (with `kinks`, a few examples may take KINK_ATOL). Returns the
    worst max |ort - torch|.

    A batch past the tolerance is checked once more against the module in float64: it passes
    when |ort - fp64| <= tolerance + FP32_ERROR_FACTOR * max |torch - fp64|, i.e. onnxruntime's
    float32 error is of the size of torch's own. Failing that, it passes when the file widened to
    float64 meets that bound and onnxruntime's float32 stays within FP32_CAP of float64. This
    admits a badly conditioned network (an adversarially trained flow) and still refuses a wrong
    graph, which is off in float64 too."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    wide = None  # the float64 session, made on the first batch that needs it
    module.eval()
    for n in batches:
        inputs = make_inputs(n, gen)
        refs = _outputs(module, inputs)
        feeds = {name: t.numpy() for name, t in zip(input_names, inputs, strict=True)}
        outs = session.run(None, feeds)
        misses = []
        for r, o in zip(refs, outs, strict=True):
            if r.shape != o.shape:
                raise ExportError(f"{path}: shape {o.shape} from onnxruntime, {r.shape} from torch")
            diff = np.abs(o - r)
            worst = max(worst, float(diff.max(initial=0.0)))
            misses.append(not _within(diff, r, n, kinks))
        if not any(misses):
            continue
        refs64 = float64_outputs(module, inputs) or [None] * len(refs)
        bad = [
            i
            for i, (r, o, miss, r64) in enumerate(zip(refs, outs, misses, refs64, strict=True))
            if miss and (r64 is None or not _within(np.abs(o - r64), r64, n, kinks, _slack(r, r64)))
        ]
        if not bad:
            continue
        i = bad[0]
        head = f"{path}: onnxruntime differs from torch by {np.abs(outs[i] - refs[i]).max():.3g} at batch {n}"
        if refs64[i] is None:
            raise ExportError(f"{head}; the export is wrong, please report it")
        wide = float64_session(path) if wide is None else wide
        _float64_verdict(
            wide, feeds, outs, refs64, [_slack(refs[j], refs64[j]) for j in bad], bad, n, kinks, head
        )
    return worst


def _float64_verdict(wide, feeds, outs, refs64, slacks, bad, n: int, kinks: bool, head: str) -> None:
    """Raise ExportError unless the float64 session `wide` is within the tolerance plus `slacks`
    of torch float64 `refs64` on the outputs `bad`, and the float32 `outs` within FP32_CAP."""
    head += ", and from float64 by more than float32 rounding explains"
    if isinstance(wide, str):
        raise ExportError(f"{head} ({wide}); the export is wrong, please report it")
    feeds64 = {k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in feeds.items()}
    with np.errstate(all="ignore"), warnings.catch_warnings():  # the reference evaluator's exp
        warnings.simplefilter("ignore")  # overflows where torch's saturates
        outs64 = wide.run(None, feeds64)
    for j, slack in zip(bad, slacks, strict=True):
        gap, drift = np.abs(outs64[j] - refs64[j]), np.abs(outs[j] - refs64[j])
        if not _within(gap, refs64[j], n, kinks, slack):
            raise ExportError(
                f"{head}; run in float64 the file differs from torch float64 by {gap.max():.3g}: "
                "the export is wrong, please report it"
            )
        if not (drift <= FP32_CAP + RTOL * np.abs(refs64[j])).all():
            raise ExportError(
                f"{head}; the graph is right in float64 but float32 moves the output by {drift.max():.3g}: "
                "the network is too badly conditioned for this float32 graph"
            )


def _outputs(module: torch.nn.Module, inputs: Sequence[torch.Tensor]) -> list[np.ndarray]:
    with torch.no_grad():
        out = module(*inputs)
    return [t.numpy() for t in ([out] if torch.is_tensor(out) else out)]


def float64_outputs(module: torch.nn.Module, inputs: Sequence[torch.Tensor]) -> list[np.ndarray] | None:
    """The outputs of a float64 copy of `module` on `inputs` (floating ones cast), or None when
    the module cannot run in float64."""
    try:
        exact = copy.deepcopy(module).double().eval()
        return _outputs(exact, [t.double() if t.is_floating_point() else t for t in inputs])
    except (RuntimeError, TypeError):
        return None


def _slack(ref32: np.ndarray, ref64: np.ndarray) -> float:
    """FP32_ERROR_FACTOR times torch float32's worst error max |ref32 - ref64| on this output
    (non-finite entries ignored)."""
    err = np.abs(ref32 - ref64)
    return FP32_ERROR_FACTOR * float(err[np.isfinite(err)].max(initial=0.0))


def float64_session(path: str | Path):
    """A session (`.run(None, feeds)`) on the graph at `path` with every float32 tensor widened to
    float64 (weights, constants, casts, inputs, outputs): onnxruntime's, or where onnxruntime has no
    float64 kernel (e.g. Conv) onnx's reference evaluator (numpy; seconds per batch). A reason
    string when neither can run it."""
    import onnxruntime as ort
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(str(path))
    _widen(model.graph)
    try:
        return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception:  # onnxruntime raises its own types, e.g. NOT_IMPLEMENTED for an op
        pass
    try:
        return ReferenceEvaluator(model)
    except Exception as e:
        return f"no float64 re-check: neither onnxruntime nor onnx's reference evaluator runs it: {e}"[:240]


def _widen(graph: onnx.GraphProto) -> None:
    """Turn every float32 tensor of `graph` (and its subgraphs) into float64, in place."""
    F32, F64 = onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE

    def widen(t: onnx.TensorProto) -> None:
        if t.data_type == F32:
            t.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(t).astype(np.float64), t.name))

    for t in graph.initializer:
        widen(t)
    for v in (*graph.input, *graph.output):
        if v.type.tensor_type.elem_type == F32:
            v.type.tensor_type.elem_type = F64
    del graph.value_info[:]  # onnxruntime infers the intermediate types again
    for node in graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                widen(a.t)
            elif a.name in ("to", "dtype") and a.type == onnx.AttributeProto.INT and a.i == F32:
                a.i = F64
            elif a.type == onnx.AttributeProto.GRAPH:
                _widen(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g in a.graphs:
                    _widen(g)


def _within(diff: np.ndarray, ref: np.ndarray, n: int, kinks: bool, slack: float = 0.0) -> bool:
    """diff <= ATOL + RTOL |ref| + slack everywhere, or (kinks) in all but ceil(n KINK_FRACTION)
    examples, those within KINK_ATOL + RTOL |ref| + slack. NaN anywhere fails."""
    ok = diff <= ATOL + RTOL * np.abs(ref) + slack
    if ok.all() or not kinks or ref.ndim == 0 or ref.shape[0] != n:
        return bool(ok.all())
    off = ~ok.reshape(n, -1).all(axis=1)
    loose = diff[off] <= KINK_ATOL + RTOL * np.abs(ref[off]) + slack
    return int(off.sum()) <= int(np.ceil(n * KINK_FRACTION)) and bool(loose.all())
