"""onnxruntime sessions: device selection (auto|cuda|cpu) and graph-vs-manifest checks."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from ganflow.sampler.bundle import Component
from ganflow.sampler.errors import BundleError, DeviceError, InputError, MissingDependencyError

DEVICES = ("auto", "cuda", "cpu")
CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"


def import_ort():
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingDependencyError(
            "onnxruntime is not installed: pip install 'ganflow[cpu]' (or 'ganflow[gpu]' for CUDA)"
        ) from None
    return ort


@dataclass
class Runtime:
    """Creates sessions on one device; `provider` says which provider actually runs them."""

    device: str = "auto"
    threads: int | None = None
    tf32: bool = False  # CUDA: allow TF32 matmuls/convs (faster on Ampere+, ~1e-3 relative error)
    provider: str = field(init=False, default=CPU)
    note: str = field(init=False, default="")
    _sessions: dict[str, Any] = field(init=False, default_factory=dict, repr=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise InputError(f"unknown --device {self.device!r}: use one of {', '.join(DEVICES)}")
        self.ort = import_ort()
        if self.device == "cpu":
            return
        if CUDA not in self.ort.get_available_providers():
            self._no_cuda(
                "this onnxruntime build has no CUDA provider (pip install 'ganflow[gpu]' for onnxruntime-gpu)"
            )
            return
        if hasattr(self.ort, "preload_dlls"):  # CUDA/cuDNN from pip's nvidia-* wheels, if any
            try:
                self.ort.preload_dlls()
            except Exception:  # noqa: BLE001  a failure shows up when the session is created
                pass
        self.provider = CUDA

    def _no_cuda(self, why: str) -> None:
        if self.device == "cuda":
            raise DeviceError(f"--device cuda is unavailable: {why}; use --device cpu or auto")
        self.provider = CPU
        self.note = f"CUDA unavailable ({why}); running on CPU"

    def options(self):
        so = self.ort.SessionOptions()
        so.log_severity_level = 3
        if self.threads:
            so.intra_op_num_threads = self.threads
        return so

    def session(self, component: Component) -> Any:
        """The session for one bundle component, checked against the manifest's signature.

        Sessions are cached per graph file: pipelines built on one Runtime share them, and
        onnxruntime's `run` may be called from several threads at once."""
        key = str(component.path)
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = self._create(component)
            return self._sessions[key]

    def _create(self, component: Component) -> Any:
        cuda_opts = {"use_tf32": "1" if self.tf32 else "0"}
        providers = [(CUDA, cuda_opts), CPU] if self.provider == CUDA else [CPU]
        try:
            sess = self.ort.InferenceSession(str(component.path), self.options(), providers=providers)
        except Exception as e:  # onnxruntime raises its own exception types
            raise BundleError(
                f"{component.path} is not a loadable ONNX graph "
                f"({str(e).splitlines()[0][:200]}); re-export the bundle"
            ) from None
        if self.provider == CUDA and sess.get_providers()[0] != CUDA:
            # the CUDA provider was listed but failed to load (driver, CUDA or cuDNN missing)
            self._no_cuda("the CUDA provider failed to load (check the driver and CUDA libraries)")
            print(f"ganflow: {self.note}", file=sys.stderr)
        check_signature(component, sess)
        return sess


def check_signature(component: Component, sess: Any) -> None:
    """The graph's input/output names and static dims must match the manifest."""
    for kind, declared, actual in (
        ("input", component.inputs, sess.get_inputs()),
        ("output", component.outputs, sess.get_outputs()),
    ):
        got = [(a.name, list(a.shape)) for a in actual]
        if [d["name"] for d in declared] != [g[0] for g in got]:
            raise BundleError(
                f"{component.name}: graph {kind}s {[g[0] for g in got]} do not match "
                f"the manifest's {[d['name'] for d in declared]}; re-export the bundle"
            )
        for d, (name, shape) in zip(declared, got, strict=True):
            ok = len(shape) == len(d["shape"]) and all(
                isinstance(m, str) or m == s for m, s in zip(d["shape"], shape, strict=True)
            )
            if not ok:
                raise BundleError(
                    f"{component.name}.{name}: graph shape {shape} does not match the "
                    f"manifest's {d['shape']}; re-export the bundle"
                )
