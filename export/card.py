"""The bundle's model card (README.md) with Hugging Face YAML metadata."""

from __future__ import annotations

import json
from typing import Any

from ganflow.sampler.hub import CARD_PLACEHOLDER, CARD_PLACEHOLDER_NOTE

_HF_DATASETS = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}


def _yaml_list(items: list[str]) -> str:
    return "".join(f"\n  - {json.dumps(i)}" for i in items)


def model_card(manifest: dict[str, Any]) -> str:
    """README.md text: YAML front matter, description, training summary, metrics, usage."""
    prov = manifest["provenance"]
    data = manifest["data"]["dataset"]
    family = manifest["family"]
    tags = list(dict.fromkeys(["ganflow", "gan", "onnx", family, data]))
    metrics = prov.get("metrics", {})
    front = ["library_name: ganflow", "license: mit", f"tags:{_yaml_list(tags)}"]
    if len(manifest["data"]["shape"]) == 3:
        front.append("pipeline_tag: unconditional-image-generation")
    if data in _HF_DATASETS:
        front.append(f"datasets:{_yaml_list([_HF_DATASETS[data]])}")
    if metrics:
        front.append(f"metrics:{_yaml_list(sorted(metrics))}")
    train = prov.get("train", {})
    comps = manifest["components"]
    rows = "\n".join(f"| {k} | {v:.4g} |" for k, v in sorted(metrics.items()))
    table = f"| metric | value |\n| --- | --- |\n{rows}" if metrics else "No metrics were recorded."
    arch = prov.get("components", {})
    b = CARD_PLACEHOLDER
    half = sorted(c for c, v in comps.items() if "fp16" in v.get("variants", {}))
    fp16 = (
        f"\nfp16 variants (`--precision fp16`, validated against fp32 at export): {', '.join(half)}."
        if half
        else ""
    )
    return f"""---
{chr(10).join(front)}
---

# {family} on {data} (ganflow)

A {family.upper()} generator for `{data}` samples of shape {manifest["data"]["shape"]}, trained
with ganflow and exported to ONNX. The bundle runs with the torch-free ganflow sampler on
onnxruntime (CUDA when present).

Components: {", ".join(f"`{c}`" for c in sorted(comps))}. Latent dimension {manifest["latent_dim"]}.{fp16}
Architectures: {", ".join(f"{k} `{v.get('arch')}`" for k, v in sorted(arch.items()))}.

## Training

Loss `{train.get("loss")}`, {prov.get("steps")} steps, batch {train.get("batch_size")},
Adam lr G {train.get("lr_g")} / D {train.get("lr_d")}, betas {train.get("betas")}, seed
{train.get("seed")}.

## Metrics at export

{table}

![samples](samples.png)

## Usage

```bash
pip install 'ganflow[gpu]'   # or 'ganflow[cpu]' without a CUDA GPU
ganflow sample {b} -n 64 --out samples.png
ganflow info {b}
```

{CARD_PLACEHOLDER_NOTE}
"""
