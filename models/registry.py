"""Name -> class registries for every buildable component (generators, critics, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A named table of classes, filled with the ``@REGISTRY.register("name")`` decorator."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            obj.registry_name = name  # type: ignore[attr-defined]
            return obj

        return deco

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise ValueError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def items(self):
        return sorted(self._items.items())


GENERATORS: Registry = Registry("generator architecture")
CRITICS: Registry = Registry("critic architecture")
CLASSIFIERS: Registry = Registry("classifier architecture")
WEIGHTS: Registry = Registry("importance-weight network architecture")
FLOWS: Registry = Registry("latent flow architecture")  # FIS-GAN's Q(z)

# component name (the key prefix in model.safetensors) -> registry of its architectures
COMPONENTS: dict[str, Registry] = {
    "generator": GENERATORS,
    "critic": CRITICS,
    "classifier": CLASSIFIERS,
    "weight": WEIGHTS,  # latent reweighting: w(z) >= 0
    "weight_critic": CRITICS,  # the WGAN-GP critic trained with w (kept for resume, not exported)
    "flow": FLOWS,  # FIS-GAN: the latent flow Q(z)
    "corrector": CRITICS,  # DGflow: density-ratio corrector C(x), d = D + C (training/corrector.py)
}
