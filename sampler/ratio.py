"""The critic as a log density-ratio estimate d(x) ~ log p_data(x) / p_G(x): who has one, and d.

DRS, MH-GAN and DDLS read the critic logit as log r (+ a constant, which cancels in all three).
Whether it is one follows from the loss the critic was trained with, at its optimum T* = f'(r)
with T = g_f(v) (f-GAN: Nowozin et al. 2016, Table 2; the report's Table 1), or from a
density-ratio corrector C trained on top (DGflow, Ansari et al. 2021: d = D + C is a logistic
classifier, so d estimates log r whatever D was).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ganflow.sampler.bundle import Bundle
from ganflow.sampler.errors import NumericsError

# loss (manifest provenance.train.loss) -> its critic logit v at the optimum, r = p_data / p_G
OPTIMAL_LOGIT = {
    "bce": "log r",  # D* = p_data / (p_data + p_G) (Goodfellow et al. 2014, Prop. 1), v = logit D*
    "f:gan": "log r",  # g_f(v) = -softplus(-v) = log(r / (1 + r))
    "f:js": "log r",  # g_f(v) = log 2 - softplus(-v) = log(2r / (1 + r))
    "f:rkl": "log r",  # g_f(v) = -exp(-v) = -1 / r
    "f:kl": "1 + log r",  # g_f(v) = v = 1 + log r: a constant shift
    "f:hellinger": "(1/2) log r",  # g_f(v) = 1 - exp(-v) = 1 - r^(-1/2): half the scale
    "f:pearson": "2 (r - 1)",  # g_f(v) = v = 2 (r - 1)
    "hinge": "sign(p_data - p_G)",  # the hinge optimum is clipped to [-1, 1]
    "wgan-gp": "a 1-Lipschitz potential",  # Kantorovich dual: no density ratio at all
}
LOG_RATIO = ("log r", "1 + log r")  # log r up to a constant: the logits these methods accept
FIX = "train a corrector (`ganflow train corrector --base RUN`) and export that run"


def density_ratio_problem(provenance: Mapping[str, Any], components: set[str] | frozenset[str]) -> str | None:
    """Why the critic logit of a run is not log p_data/p_G + const, or None when it is one.

    provenance: the manifest's (or a run meta's) "train" and "components"; components: the
    graphs the bundle (or export) has. A corrector run is one when its corrector graph is there."""
    if "corrector" in provenance.get("components", {}):
        return None if "corrector" in components else "its corrector graph is missing: re-export the run"
    loss = provenance.get("train", {}).get("loss")
    if loss is None:
        return f"the manifest records no training loss; {FIX}"
    logit = OPTIMAL_LOGIT.get(loss)
    if logit in LOG_RATIO:
        return None
    what = f"is {logit} at the optimum" if logit else "is not a known density-ratio estimate"
    return f"its {loss} critic logit {what}, not log p_data/p_G; {FIX}"


def density_ratio_critic(bundle: Bundle) -> bool:
    """Whether the bundle's critic (+ corrector) logit estimates log p_data/p_G + const."""
    return density_ratio_problem(bundle.manifest.get("provenance", {}), set(bundle.components)) is None


def ratio_refusal(bundle: Bundle) -> str | None:
    """A stage's `unsupported` hook (stages/base.py) for the methods that need a ratio critic."""
    problem = density_ratio_problem(bundle.manifest.get("provenance", {}), set(bundle.components))
    return None if problem is None else f"the critic is not a density-ratio estimate: {problem}"


class LogRatio:
    """d(x) [N] = critic(x) (+ corrector(x) for a corrector run) in float64, and d(G(z)) through
    the pipeline's decoder (so the critic scores exactly the samples the pipeline writes)."""

    def __init__(self, bundle: Bundle, runtime: Any, decode: Any, needed_for: str) -> None:
        names = ["critic"] + (["corrector"] if "corrector" in bundle.components else [])
        comps = [bundle.component(n, needed_for) for n in names]
        self.graphs = [(runtime.session(c), c.inputs[0]["name"]) for c in comps]
        self.decode = decode

    def of_x(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        d = sum(sess.run(None, {name: x})[0].reshape(len(x)).astype(np.float64) for sess, name in self.graphs)
        if not np.isfinite(d).all():
            raise NumericsError("the critic returned NaN/inf: the bundle's critic graph is broken")
        return d

    def of_z(self, z: np.ndarray) -> np.ndarray:
        return self.of_x(self.decode(z))
