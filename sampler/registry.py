"""Name -> object registries for the torch-free side (stages, methods, metrics)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from ganflow.sampler.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """Filled with ``@REGISTRY.register("name")``; unknown names raise a one-line InputError."""

    def __init__(self, kind: str, error: type[Exception] = InputError, stamp: bool = False) -> None:
        """`error`: raised for an unknown name (models use ValueError: a config mistake, not a
        user's input); `stamp`: set `registry_name` on each registered class (models/build.py
        writes it into checkpoint configs)."""
        self.kind, self.error, self.stamp = kind, error, stamp
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            if self.stamp:
                obj.registry_name = name  # type: ignore[attr-defined]
            return obj

        return deco

    def get(self, name: str) -> T:
        if name not in self._items:
            raise self.error(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}")
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())
