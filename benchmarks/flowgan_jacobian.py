"""Singular values of the Flow-GAN generator Jacobian per objective (the slides' Figure 4, a CDF plot).

For each run, J(z) = d h / d z of the learned flow (latent z of the prior -> logit-space image h)
at N draws z of the prior, by reverse-mode autodiff; its singular values by SVD. The fixed output
map h -> x (sigmoid and range rescale, the same for every objective) is left out of the main
numbers, and reported separately as "full" (J scaled row-wise by dx/dh). Ill-conditioning (many tiny
singular values) is the slides' explanation for ADV's poor NLL.

    python benchmarks/flowgan_jacobian.py [RUN ...]   # default: the three runs of flowgan_mnist.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "flowgan-mnist"
RESULTS = ROOT / "benchmarks" / "results"
N = 16  # latent draws per model
SEED = 0


def singular_values(run: Path, n: int = N, seed: int = SEED) -> dict[str, np.ndarray]:
    """{"flow": [n, D], "full": [n, D]} singular values of the generator Jacobian at n prior draws."""
    from ganflow.models import load_modules

    _, mods = load_modules(run)
    g = mods["generator"].eval()
    d = g.config.latent_dim
    gen = torch.Generator().manual_seed(seed)
    z = g.prior.from_gaussian(torch.randn(n, d, generator=gen))
    flow = lambda v: g._from_latent(v[None]).reshape(-1)  # noqa: E731  z [D] -> h [D]
    out = {"flow": [], "full": []}
    for i in range(n):
        jac = torch.autograd.functional.jacobian(flow, z[i], vectorize=True)  # [D, D]
        h = flow(z[i]).detach()
        pre = g.preprocess
        scale = (pre.hi - pre.lo) / (1 - 2 * pre.alpha) * torch.sigmoid(h) * torch.sigmoid(-h)  # dx/dh
        out["flow"].append(torch.linalg.svdvals(jac).numpy())
        out["full"].append(torch.linalg.svdvals(scale[:, None] * jac).numpy())
    return {k: np.stack(v) for k, v in out.items()}


def summary(sv: np.ndarray) -> dict[str, float]:
    flat = np.sort(sv.reshape(-1))
    cond = sv.max(axis=1) / np.maximum(sv.min(axis=1), 1e-300)
    return {
        "min": float(flat[0]),
        "q01": float(np.quantile(flat, 0.01)),
        "median": float(np.median(flat)),
        "q99": float(np.quantile(flat, 0.99)),
        "max": float(flat[-1]),
        "frac_below_1e-2": float((flat < 1e-2).mean()),
        "log10_condition_median": float(np.median(np.log10(cond))),
        "mean_log_sv": float(np.log(flat).mean()),  # = mean log|det J| / D
    }


def plot(svs: dict[str, dict[str, np.ndarray]], kind: str, path: Path) -> dict:
    """CDF of all singular values (log x axis), one curve per run in flowgan_plot.COLOURS order."""
    from flowgan_plot import line_png

    curves = []
    for sv in svs.values():
        flat = np.sort(sv[kind].reshape(-1))
        curves.append((flat, np.arange(1, len(flat) + 1) / len(flat)))
    png, axes = line_png(curves, log_x=True)
    path.write_bytes(png)
    return axes


def main(runs: list[Path]) -> None:
    torch.set_num_threads(1)
    svs = {run.name: singular_values(run) for run in runs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "command": "python benchmarks/flowgan_jacobian.py " + " ".join(str(r) for r in runs),
        "n_latents": N,
        "seed": SEED,
        "summary": {name: {k: summary(v) for k, v in sv.items()} for name, sv in svs.items()},
    }
    record["plots"] = {  # colours: blue, red, green in the order of the runs
        kind: {
            "file": f"flowgan_jacobian_cdf_{kind}.png",
            "runs": list(svs),
            **plot(svs, kind, RESULTS / f"flowgan_jacobian_cdf_{kind}.png"),
        }
        for kind in ("flow", "full")
    }
    (RESULTS / "flowgan_jacobian.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(json.dumps(record["summary"], indent=2))


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or [RUNS / o for o in ("mle", "adv", "hybrid")])
