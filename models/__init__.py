"""ganflow.models: torch networks built from frozen dataclass configs, and checkpoint I/O."""

from ganflow.models.build import build_component, component_config_from_dict, config_to_dict
from ganflow.models.checkpoint import load_checkpoint, load_modules, save_checkpoint
from ganflow.models.registry import CLASSIFIERS, COMPONENTS, CRITICS, FLOWS, GENERATORS, WEIGHTS, Registry

# importing the architecture modules registers them
from ganflow.models import classifier, dcgan, mlp, weight  # noqa: E402,F401  isort: skip
from ganflow.models import flowgan  # noqa: E402,F401  isort: skip
from ganflow.models import flows  # noqa: E402,F401  isort: skip

__all__ = [
    "CLASSIFIERS",
    "COMPONENTS",
    "CRITICS",
    "FLOWS",
    "GENERATORS",
    "Registry",
    "WEIGHTS",
    "build_component",
    "component_config_from_dict",
    "config_to_dict",
    "load_checkpoint",
    "load_modules",
    "save_checkpoint",
]
