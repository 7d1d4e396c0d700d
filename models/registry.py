"""Name -> class registries for every buildable component (generators, critics, ...).

The Registry class is the sampler's (one implementation for both sides); here unknown names are
ValueErrors (a config mistake) and each class is stamped with its `registry_name`."""

from __future__ import annotations

from ganflow.sampler import registry


class Registry(registry.Registry):
    """The torch side's flavour: unknown names are ValueErrors, classes get `registry_name`."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind, error=ValueError, stamp=True)


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
