"""Config <-> JSON and config -> module, for every registered component."""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from ganflow.models.registry import COMPONENTS


def config_to_dict(module_or_config: Any, arch: str | None = None) -> dict[str, Any]:
    """{"arch": name, **fields} for a built module (or a config plus its arch name)."""
    if isinstance(module_or_config, nn.Module):
        arch = type(module_or_config).registry_name
        cfg = module_or_config.config
    else:
        cfg = module_or_config
    if arch is None:
        raise ValueError("config_to_dict needs the arch name for a bare config")
    out = {"arch": arch}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def component_config_from_dict(component: str, d: dict[str, Any]) -> tuple[type, Any]:
    """Module class and validated config for `component` ("generator", "critic", ...)."""
    if component not in COMPONENTS:
        raise ValueError(f"unknown component {component!r}; known: {', '.join(COMPONENTS)}")
    fields = dict(d)
    arch = fields.pop("arch", None)
    if arch is None:
        raise ValueError(f"{component} config has no 'arch'")
    cls = COMPONENTS[component].get(arch)
    allowed = {f.name for f in dataclasses.fields(cls.Config)}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"{component} config has unknown fields: {sorted(unknown)}")
    return cls, cls.Config(**fields)


def build_component(component: str, d: dict[str, Any]) -> nn.Module:
    """Build the module described by a {"arch": ..., **fields} dict."""
    cls, cfg = component_config_from_dict(component, d)
    return cls(cfg)
