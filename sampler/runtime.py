"""onnxruntime sessions: device selection (auto|cuda|cpu), precision variants, CUDA placement, and
graph-vs-manifest checks."""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ganflow.sampler.bundle import Component
from ganflow.sampler.errors import BundleError, DeviceError, InputError, MissingDependencyError

DEVICES = ("auto", "cuda", "cpu")
PRECISIONS = ("fp32", "fp16")
CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"
NO_FALLBACK = "session.disable_cpu_ep_fallback"  # onnxruntime session config key
FALLBACK_REFUSED = "fallback to CPU EP has been explicitly disabled"  # its error when a node would fall back


_ANNOUNCED: set[str] = set()  # the notes this process printed (each is printed once)


def announce(note: str) -> None:
    """Print `note: ...` on stderr, once per process (e.g. a demo samples twice)."""
    if note and note not in _ANNOUNCED:
        _ANNOUNCED.add(note)
        print(f"note: {note}", file=sys.stderr)


def cuda_note(why: str) -> str:
    """The note of a run that asked for `--device auto` and got the CPU."""
    return f"CUDA unavailable ({why}); running on CPU"


def split_device_note(text: str) -> tuple[str, str]:
    """(the CUDA note, the other notes) of a sampling report's `device_note` ("; "-joined)."""
    m = re.match(r"^(CUDA unavailable \(.*\); running on CPU)(?:; )?(.*)$", text or "", re.S)
    return (m.group(1), m.group(2)) if m else ("", text or "")


def import_ort():
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingDependencyError(
            "onnxruntime is not installed: pip install 'ganflow[cpu]' (or 'ganflow[gpu]' for CUDA)"
        ) from None
    return ort


@dataclass(frozen=True)
class RuntimeOptions:
    """How sessions run (the Runtime's settings), as one value that sampling options can carry."""

    device: str = "auto"
    threads: int | None = None
    tf32: bool = False
    precision: str = "fp32"
    cuda_graph: bool = False
    allow_cpu_fallback: bool = False

    def create(self) -> Runtime:
        return Runtime(**asdict(self))


@dataclass
class Runtime:
    """Creates sessions on one device; `provider` says which provider actually runs them."""

    device: str = "auto"
    threads: int | None = None
    tf32: bool = False  # CUDA: allow TF32 matmuls/convs (faster on Ampere+, ~1e-3 relative error)
    precision: str = "fp32"  # fp16: the bundle's fp16 graph variants where it has them (export --fp16)
    cuda_graph: bool = False  # CUDA: capture each bound graph once per batch shape and replay it
    allow_cpu_fallback: bool = False  # CUDA: let nodes without a CUDA kernel run on the CPU (slow)
    provider: str = field(init=False, default=CPU)
    note: str = field(init=False, default="")
    _sessions: dict[str, Any] = field(init=False, default_factory=dict, repr=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)
    # --cuda-graph: onnxruntime captures in CUDA's global capture mode, which another thread's
    # allocation or copy would break; bound graphs run one at a time under this lock
    graph_lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads <= 0:
            raise InputError(f"--threads must be > 0, got {self.threads}")
        if self.device not in DEVICES:
            raise InputError(f"unknown --device {self.device!r}: use one of {', '.join(DEVICES)}")
        if self.precision not in PRECISIONS:
            raise InputError(f"unknown --precision {self.precision!r}: use one of {', '.join(PRECISIONS)}")
        self.ort = import_ort()
        if self.device != "cpu":
            self._find_cuda()
        if self.cuda_graph and self.provider != CUDA:
            raise DeviceError(
                f"--cuda-graph needs the CUDA provider, and this run is on the CPU "
                f"({self.note or '--device cpu'}); drop --cuda-graph"
            )

    @property
    def ort_device(self) -> str:
        """Where I/O-bound buffers live: "cuda" on the CUDA provider, else "cpu"."""
        return "cuda" if self.provider == CUDA else "cpu"

    def _find_cuda(self) -> None:
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
        self.note = cuda_note(why)

    def options(self):
        so = self.ort.SessionOptions()
        so.log_severity_level = 3
        if self.threads:
            so.intra_op_num_threads = self.threads
        return so

    def graph_path(self, component: Component) -> Path:
        """The file this runtime runs for `component`: its fp16 variant under --precision fp16
        where the bundle has one, else the fp32 graph."""
        if self.precision != "fp32" and self.precision in component.variants:
            return component.variants[self.precision]
        return component.path

    def session(self, component: Component, graph_slot: str | None = None) -> Any:
        """The session for one bundle component, checked against the manifest's signature.

        Sessions are cached per graph file: pipelines built on one Runtime share them, and
        onnxruntime's `run` may be called from several threads at once. Under --cuda-graph a
        `graph_slot` asks for a session of the caller's own, not cached: it captures one CUDA graph
        with the caller's buffers, and a replay always uses those buffers, so it must never be
        handed to another caller."""
        if graph_slot is not None and self.cuda_graph and self.provider == CUDA:
            return self._create(component, cuda_graph=True)
        key = str(self.graph_path(component))
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = self._create(component)
            return self._sessions[key]

    def _load(self, path: Path, strict: bool, cuda_graph: bool) -> Any:
        so = self.options()
        if self.provider != CUDA:
            return self.ort.InferenceSession(str(path), so, providers=[CPU])
        cuda_opts = {"use_tf32": "1" if self.tf32 else "0"}
        if cuda_graph:
            cuda_opts["enable_cuda_graph"] = "1"
        if not strict:
            return self.ort.InferenceSession(str(path), so, providers=[(CUDA, cuda_opts), CPU])
        # onnxruntime refuses the no-fallback flag when the CPU provider is listed explicitly, and
        # its Python wrapper would retry a failed CUDA provider on the CPU with this same flag
        so.add_session_config_entry(NO_FALLBACK, "1")
        so.log_severity_level = 4  # a refusal is explained by _create, not printed by onnxruntime
        return self.ort.InferenceSession(str(path), so, providers=[(CUDA, cuda_opts)], enable_fallback=0)

    def _create(self, component: Component, cuda_graph: bool = False) -> Any:
        path = self.graph_path(component)
        strict = self.provider == CUDA and not self.allow_cpu_fallback
        try:
            try:
                sess = self._load(path, strict, cuda_graph)
            except Exception as e:  # onnxruntime raises its own exception types
                if self.provider != CUDA:
                    raise
                # why did it fail? A plain CUDA session (CPU fallback allowed, no capture) tells:
                # CUDA did not load at all (it runs on the CPU: handled below), or it loads and
                # this graph has nodes that fall back to the CPU (no CUDA kernel), which neither
                # the no-fallback flag nor a CUDA-graph capture accepts
                sess = self._load(path, False, False)
                if sess.get_providers()[0] == CUDA:
                    if FALLBACK_REFUSED in str(e):
                        raise DeviceError(
                            f"{component.name} ({path.name}) has nodes without a CUDA kernel that would "
                            "run on the CPU, with a copy each way per call; re-export the bundle with this "
                            "ganflow, or pass --allow-cpu-fallback to run it anyway"
                        ) from None
                    if cuda_graph:
                        raise DeviceError(
                            f"{component.name} ({path.name}) cannot be captured as a CUDA graph "
                            f"({str(e).splitlines()[0][:160]}); drop --cuda-graph"
                        ) from None
                    raise
        except DeviceError:
            raise
        except Exception as e:
            raise BundleError(
                f"{path} is not a loadable ONNX graph ({str(e).splitlines()[0][:200]}); re-export the bundle"
            ) from None
        if self.provider == CUDA and sess.get_providers()[0] != CUDA:
            # the CUDA provider was listed but failed to load (driver, CUDA or cuDNN missing)
            self._no_cuda("the CUDA provider failed to load (check the driver and CUDA libraries)")
            announce(self.note)  # a GPU build that does not work: said without -v (once)
            if self.cuda_graph:
                raise DeviceError(f"--cuda-graph needs the CUDA provider ({self.note}); drop --cuda-graph")
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
