"""Feature networks for metrics: ONNX graphs with a `features` output (and `logits` if a classifier)."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np

from ganflow.sampler.errors import InputError
from ganflow.sampler.runtime import import_ort

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_FEATURES = ASSETS / "mnist_cnn.onnx"  # the ganflow MNIST classifier (`ganflow train classifier`)
# images per session call: onnxruntime's CPU arena keeps the activations of the largest batch it ran
# (+210 MiB at 500 MNIST images, +45 MiB at 100, at the same speed: benchmarks/eval_memory.py)
BATCH = 100


class FeatureNet:
    """x [N, *shape] -> {"features": [N, D], "logits": [N, C] (classifiers only)} in batches."""

    def __init__(self, path: str | Path | None = None, batch_size: int = BATCH) -> None:
        self.path = Path(path) if path is not None else DEFAULT_FEATURES
        self.default = path is None
        if not self.path.is_file():
            raise InputError(f"feature network {self.path} not found: pass --features PATH.onnx")
        ort = import_ort()
        try:
            self.session = ort.InferenceSession(str(self.path), providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own types
            raise InputError(f"{self.path} is not a loadable ONNX graph ({str(e)[:200]})") from None
        self.outputs = [o.name for o in self.session.get_outputs()]
        if "features" not in self.outputs:
            raise InputError(f"{self.path} has no output named 'features' (it has {self.outputs})")
        self.input = self.session.get_inputs()[0]
        self.batch_size = batch_size

    in_data_space = False

    @property
    def tag(self) -> str:
        """'' for the default network, else '-<file stem>', appended to metric names."""
        return "" if self.default else f"-{self.path.stem}"

    @property
    def has_logits(self) -> bool:
        return "logits" in self.outputs

    @cached_property
    def info(self) -> dict:
        side = self.path.with_suffix(".json")
        return json.loads(side.read_text()) if side.is_file() else {}

    def check_shape(self, shape: tuple[int, ...]) -> None:
        want = list(self.input.shape[1:])
        fits = len(want) == len(shape) and all(
            not isinstance(w, int) or w == s for w, s in zip(want, shape, strict=True)
        )
        if not fits:
            raise InputError(
                f"feature network {self.path.name} takes [batch, {want}], the data is {list(shape)}: "
                "pass --features NET.onnx made for this shape, or drop --features for pixel-space metrics"
            )

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        self.check_shape(tuple(x.shape[1:]))
        names = [n for n in ("features", "logits") if n in self.outputs]
        parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
        for lo in range(0, len(x), self.batch_size):
            batch = np.ascontiguousarray(x[lo : lo + self.batch_size], dtype=np.float32)
            for n, v in zip(names, self.session.run(names, {self.input.name: batch}), strict=True):
                parts[n].append(v)
        return {n: np.concatenate(v).astype(np.float64) for n, v in parts.items()}


class IdentityFeatures:
    """The features are the data itself: coordinates of points (tag ""), or the pixels of images
    when no feature network fits them (tag "-pixels")."""

    has_logits = False
    in_data_space = True

    def __init__(self, tag: str = "") -> None:
        self.tag = tag

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        # float32 as given (no float64 copy of the data): the metrics compute in float64 chunk-wise
        return {"features": x.reshape(len(x), -1)}
