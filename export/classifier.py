"""Classifier run -> one validated ONNX file (x -> logits, features) plus a JSON of its provenance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganflow.export.graph import EXPORTERS, export_graph
from ganflow.export.onnx_export import OPSET
from ganflow.models import load_modules
from ganflow.sampler.bundle import sha256_file
from ganflow.sampler.errors import InputError
from ganflow.sampler.fsio import publish_file, temp_file_beside
from ganflow.sampler.version import __version__

COMMAND = (
    "ganflow train classifier --data ../shared/data/mnist.npz --out runs/classifier "
    "--onnx sampler/assets/mnist_cnn.onnx"
)


def export_classifier(run_dir: str | Path, out_path: str | Path, command: str = COMMAND) -> dict[str, Any]:
    """Export the classifier of the run in `run_dir` to `out_path` (.onnx) and write its description
    to `out_path` with the suffix .json; returns that description.

    The graph takes x [batch, C, H, W] and returns logits [batch, n_classes] and features
    [batch, hidden]. It passes the checker and the onnxruntime parity test before either file is
    renamed into place (each is written to a temporary file in the same folder first).
    `command` is the training command recorded as provenance.
    """
    out_path = Path(out_path)
    if out_path.suffix != ".onnx":
        raise InputError(f"{out_path}: the classifier file name must end in .onnx")
    meta, modules = load_modules(run_dir)
    if "classifier" not in modules:
        raise InputError(
            f"{run_dir} holds {', '.join(modules) or 'no components'}, not a classifier: "
            "pass a run written by `ganflow train classifier`"
        )
    module = modules["classifier"]
    (graph,) = EXPORTERS.get("classifier")(module)
    spec = graph.spec
    out_path.parent.mkdir(parents=True, exist_ok=True)
    json_path = out_path.with_suffix(".json")
    tmp, tmp_json = temp_file_beside(out_path), temp_file_beside(json_path)
    try:
        worst = export_graph(graph, tmp)
        summary = meta.get("summary", {})
        info = {
            "architecture": meta["components"]["classifier"],
            "test_accuracy": summary.get("metrics", {}).get("test_accuracy"),
            "provenance": {
                "train": meta.get("train", {}),
                "data": meta.get("data", {}),
                "steps": summary.get("step"),
                "metrics": summary.get("metrics", {}),
                "ganflow_version": __version__,
                "command": command,
            },
            "file": out_path.name,
            "sha256": sha256_file(tmp),
            "opset": OPSET,
            "parity_max_abs_diff": worst,
            **spec.manifest_io(),
        }
        tmp_json.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        publish_file(tmp, out_path)
        publish_file(tmp_json, json_path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp_json.unlink(missing_ok=True)
    return info
