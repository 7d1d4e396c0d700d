"""ganflow: train GANs in PyTorch, export them to ONNX, sample torch-free with onnxruntime.

    from ganflow import Sampler
    s = Sampler.from_pretrained("ganflow-demo/bundle")   # a bundle folder or a Hub id owner/name[@rev]
    x = s.sample(1000, method="dgflow", seed=0)          # numpy float32 [1000, *data shape]
    ganflow.evaluate(x, data="gaussians25")              # {"metrics": {...}, ...}

This folder (api/) is the package `ganflow` itself; its subpackages live in the repository's
top-level folders (pyproject.toml, [tool.setuptools.package-dir]): ganflow.sampler (torch-free),
ganflow.models, ganflow.training, ganflow.export (torch). `Sampler`, `evaluate` and `__version__`
are loaded on first use, so `import ganflow` imports neither torch nor onnxruntime nor numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Sampler", "evaluate", "__version__"]

_LAZY = {  # name -> the module that defines it
    "Sampler": "ganflow.sampler.api",
    "evaluate": "ganflow.sampler.api",
    "__version__": "ganflow.sampler.version",
}

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ loads them
    from ganflow.sampler.api import Sampler, evaluate
    from ganflow.sampler.version import __version__


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'ganflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # loaded once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
