"""Experiment: the composition flow prior + LatentRS + DGflow (issue 6) in one bundle, on MNIST.

Usage (the bundle comes from a FIS-GAN run reweighted by `ganflow train reweight`, then
`ganflow export`; see benchmarks/results/dgflow.md):
  python benchmarks/dgflow_composition.py --bundle runs/dgflow/bundles/fis2-s0-rw \
      --data /work/shared/data/mnist.npz --n 2000 --seed 0 --png \
      --out benchmarks/results/dgflow_composition_fis2-s0-rw.json
  (add --only "flow + latent-rs + dgflow" --eta 2 for one setting at another DGflow step size;
  --eta runs only the settings with DGflow and stores them as "NAME (eta E)")

Each setting is the sampler's pipeline (`ganflow.sampler.pipeline.Pipeline`, the code behind
`ganflow sample BUNDLE --method M [--proposal P --select S --refine R]`) on onnxruntime's CPU
provider with one thread; samples 0..n-1 are decoded and measured with the sampler's metrics
(FID + precision/recall (k = 3) + density/coverage (k = 5) against 10k MNIST test images, in the
ganflow classifier's features), the same evaluator as benchmarks/dgflow_experiment.py.
`python benchmarks/dgflow_composition.py --table RESULTS.json` prints the markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ganflow.sampler.stages import options_from_flat

os.environ.setdefault("OMP_NUM_THREADS", "1")

# (name, `ganflow sample` flags, Pipeline arguments)
SETTINGS = [
    ("plain", "--method plain", {"method": "plain"}),
    ("flow", "--method flow", {"method": "flow"}),
    ("latent-rs", "--method latent-rs", {"method": "latent-rs"}),
    (
        "flow + latent-rs",
        "--proposal flow --select latent-rs",
        {"proposal": "flow", "select": "latent-rs"},
    ),
    ("flow + dgflow", "--proposal flow --refine dgflow", {"proposal": "flow", "refine": "dgflow"}),
    (
        "flow + latent-rs + dgflow",
        "--proposal flow --select latent-rs --refine dgflow",
        {"proposal": "flow", "select": "latent-rs", "refine": "dgflow"},
    ),
    ("dgflow", "--method dgflow", {"method": "dgflow"}),
    (
        "latent-rs + dgflow",
        "--method latent-rs --refine dgflow",
        {"method": "latent-rs", "refine": "dgflow"},
    ),
]


def table(results: dict) -> str:
    rows = [(k, e) for k, e in results.items() if not k.startswith("_")]
    names = [m for m in rows[0][1]["metrics"]]
    short = [m.split("_")[0] for m in names]
    lines = [
        "| setting | `ganflow sample` flags | " + " | ".join(short) + " | LatentRS acceptance |",
        "| --- " * (len(names) + 3) + "|",
    ]
    for key, e in rows:
        st = e["stats"]
        acc = f"{st['accepted'] / st['proposals']:.1%}" if st.get("proposals") else "-"
        cells = [f"{e['metrics'][m]:.4g}" for m in names]
        lines.append(f"| {key} | `{e['flags']}` | " + " | ".join(cells) + f" | {acc} |")
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["--table"]:
        print(table(json.loads(Path(sys.argv[2]).read_text())))
        return
    p = argparse.ArgumentParser()
    p.add_argument("--bundle", type=Path, required=True)
    p.add_argument("--data", required=True, help="MNIST path")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="+", default=None, help="names of SETTINGS to run (default: all)")
    p.add_argument("--eta", type=float, default=None, help="DGflow step size (default: the bundle's, 0.1)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--png", action="store_true", help="64-sample grid per setting next to --out")
    a = p.parse_args()

    from ganflow.sampler.bundle import load_bundle
    from ganflow.sampler.evaluate import make_evaluator
    from ganflow.sampler.images import encode_png, image_grid, to_uint8
    from ganflow.sampler.pipeline import Pipeline
    from ganflow.sampler.runtime import Runtime

    bundle = load_bundle(a.bundle)
    dataset = json.loads((a.bundle / "config.json").read_text())["data"]["dataset"]
    ev = make_evaluator(a.data, "test", dataset=dataset, real_n=10_000)
    results = json.loads(a.out.read_text()) if a.out.is_file() else {}
    for name, flags, kw in SETTINGS:
        if a.only and name not in a.only:
            continue
        options = {}
        if a.eta is not None:
            if "dgflow" not in flags:
                continue
            name, flags, options = f"{name} (eta {a.eta:g})", f"{flags} --dg-eta {a.eta:g}", {"dg_eta": a.eta}
        pipe = Pipeline(
            bundle, Runtime("cpu", threads=1), seed=a.seed, options=options_from_flat(options), **kw
        )
        x = np.concatenate([x for _, _, x in pipe.generate(a.n, 256)])
        t0 = time.perf_counter()
        metrics = ev(x, ["fid", "prdc"])
        print(f"{name}: " + "  ".join(f"{k}={v:.4g}" for k, v in metrics.items()), pipe.stats, flush=True)
        results[name] = {
            "flags": flags,
            "command": f"ganflow sample {a.bundle} -n {a.n} --seed {a.seed} {flags}",
            "pipeline": pipe.describe(),
            "n": a.n,
            "seed": a.seed,
            "metrics": metrics,
            "metric_s": time.perf_counter() - t0,
            "stats": {k: v for k, v in pipe.stats.items() if isinstance(v, (int, float, str))},
        }
        if a.png:
            slug = name.replace(" + ", "-").replace(" (eta ", "_eta").rstrip(")")
            img = image_grid(to_uint8(x[:64], -1.0, 1.0))
            a.out.with_name(f"dgflow_composition_{a.bundle.name}_{slug}.png").write_bytes(encode_png(img))
        results["_env"] = {
            "bundle": str(a.bundle),
            "platform": platform.platform(),
            "cpu_threads": 1,
            "provider": "CPUExecutionProvider",
        }
        tmp = a.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
