"""Run directory -> validated ONNX bundle (manifest, card, weights, sample grid), atomically."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ganflow.export.card import model_card
from ganflow.export.graph import cuda_placement, export_graph, graphs_of
from ganflow.export.onnx_export import OPSET, ExportError
from ganflow.models import load_modules
from ganflow.models.checkpoint import WEIGHTS
from ganflow.sampler.bundle import CARD, FORMAT_VERSION, MANIFEST, METHOD_DEFAULTS, load_bundle, sha256_file
from ganflow.sampler.errors import InputError
from ganflow.sampler.fsio import make_temp_dir, publish_dir
from ganflow.sampler.runtime import RuntimeOptions
from ganflow.sampler.sample import SampleOptions, sample_to
from ganflow.sampler.version import __version__

GRID_SAMPLES = 64  # samples.png: 64 images, or 2000 points for 2-D data
STEP_METHODS = {"dgflow": "refine", "ddls": "ddls"}  # method -> its step graph (defaults in the manifest)


def export_bundle(
    run: str | Path,
    out: str | Path,
    overwrite: bool = False,
    log=print,
    fp16: bool = False,
    skip: Sequence[str] = (),
) -> dict[str, Any]:
    """Export every component of the run in `run` to `out`; returns the manifest. With `fp16`,
    the components of export/fp16.py also get a validated fp16 variant. Graphs named in `skip`
    (e.g. "refine", when the DGflow step of a badly conditioned generator fails parity) are left
    out and listed in the manifest's provenance.skipped; the methods that need them are then off.

    The bundle is built in a temporary folder beside `out` and renamed into place only after
    every graph passed the checker and the parity test, so `out` is complete or untouched.
    """
    run, out = Path(run), Path(out)
    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists: pass --overwrite or choose another --out")
    meta, modules = load_modules(run)
    if "generator" not in modules:
        raise InputError(
            f"{run} holds a {meta.get('family', 'model')} without a generator: a bundle needs "
            "one (a classifier is exported by `ganflow train classifier --onnx`)"
        )
    _check_finite(run, modules)
    graphs = graphs_of(modules, meta)
    _check_skip(run, skip, [g.component for g in graphs])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(out)
    try:
        components = {}
        for graph in (g for g in graphs if g.component not in skip):
            spec, path = graph.spec, tmp / graph.spec.path
            try:
                worst = export_graph(graph, path)
            except ExportError as e:  # name the graph, not the temporary folder it was written to
                msg = str(e).replace(str(path), f"{graph.component} ({spec.path})")
                if graph.component != "generator":
                    msg += f"; to export the rest of the bundle, pass --skip {graph.component}"
                raise ExportError(msg) from None
            log(f"exported {graph.component}: {spec.path} (parity max |diff| {worst:.2e})")
            components[graph.component] = {
                "path": spec.path,
                "sha256": sha256_file(path),
                **spec.manifest_io(),
                "opset": OPSET,
            }
            cuda_placement(path, components[graph.component], log)
            if fp16:
                _add_fp16(graph, tmp, components[graph.component], log)
        shutil.copyfile(run / WEIGHTS if run.is_dir() else run, tmp / WEIGHTS)
        summary = meta.get("summary", {})
        manifest = {
            "format_version": FORMAT_VERSION,
            "family": meta.get("family", "gan"),
            "latent_dim": modules["generator"].config.latent_dim,
            "data": manifest_data(meta["data"]),
            "components": components,
            "files": {WEIGHTS: sha256_file(tmp / WEIGHTS)},
            "defaults": {"plain": METHOD_DEFAULTS["plain"], **meta.get("sampling_defaults", {})},
            "provenance": {
                "ganflow_version": __version__,
                "components": meta["components"],
                "train": meta.get("train", {}),
                "steps": summary.get("step"),
                "metrics": summary.get("metrics", {}),
                **{k: meta[k] for k in ("reweight", "base") if k in meta},
                **({"skipped": sorted(skip)} if skip else {}),
            },
        }
        _step_defaults(manifest, modules, meta, log)
        _write_json(tmp / MANIFEST, manifest)
        # the sample grid comes from the exported graph itself, through the sampler
        n = GRID_SAMPLES if len(manifest["data"]["shape"]) == 3 else 2000
        sample_to(load_bundle(tmp), tmp / "samples.png", n, SampleOptions(runtime=RuntimeOptions("cpu")))
        manifest["files"]["samples.png"] = sha256_file(tmp / "samples.png")
        _write_json(tmp / MANIFEST, manifest)
        (tmp / CARD).write_text(model_card(manifest))
        load_bundle(tmp)  # the finished bundle must pass the sampler's own checks
        publish_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _check_skip(run: Path, skip: Sequence[str], names: list[str]) -> None:
    """Refuse skipping the generator (a bundle needs it) or a graph the run does not export."""
    if "generator" in skip:
        raise InputError("a bundle needs its generator: --skip takes the other graphs")
    unknown = sorted(set(skip) - set(names))
    if unknown:
        raise InputError(
            f"{run} exports no {', '.join(unknown)} graph: --skip takes one of "
            + ", ".join(n for n in names if n != "generator")
        )


def _check_finite(run: Path, modules: dict) -> None:
    """Refuse weights holding NaN or inf (a run that diverged before the trainer stopped on it)."""
    for name, module in modules.items():
        bad = [k for k, t in module.state_dict().items() if t.is_floating_point() and not t.isfinite().all()]
        if bad:
            raise InputError(
                f"{run}: the {name}'s weights hold NaN or inf ({len(bad)} tensors, e.g. {bad[0]}): the "
                "training diverged; export an earlier checkpoint (e.g. its best/) or train again"
            )


def _step_defaults(manifest: dict[str, Any], modules: dict, meta: dict[str, Any], log) -> None:
    """The step methods' defaults in the manifest: the authors' unless the run sets its own, and
    DGflow's eta measured for this generator and critic (export/dgflow_eta.py)."""
    for method, graph in STEP_METHODS.items():
        if graph in manifest["components"]:
            manifest["defaults"][method] = {**METHOD_DEFAULTS[method], **manifest["defaults"].get(method, {})}
    if "refine" in manifest["components"]:
        from ganflow.export.dgflow_eta import measure_eta
        from ganflow.export.refine import build_step, dgflow_settings

        f, prior = dgflow_settings(meta)
        step = build_step(modules["generator"], modules["critic"], modules.get("corrector"), f=f, prior=prior)
        record = measure_eta(step, manifest["latent_dim"], manifest["defaults"]["dgflow"], log)
        manifest["defaults"]["dgflow"]["eta"] = record["eta"]
        manifest["provenance"]["dgflow_eta"] = record


def manifest_data(data: dict[str, Any]) -> dict[str, Any]:
    """The manifest's `data` from a run's: name, shape and range; for the user's own data also how
    it was read and its content hash (the source), without the local path."""
    out = {k: data[k] for k in ("dataset", "shape", "range")}
    if data.get("source"):
        out["source"] = {k: v for k, v in data["source"].items() if k != "path"}
    return out


def _add_fp16(graph, tmp: Path, entry: dict[str, Any], log) -> None:
    """Export graph's fp16 twin into tmp and record it in the manifest entry, if it validates."""
    from ganflow.export.fp16 import FP16_RTOL, export_fp16, half_graph

    gen = _gen()
    half = half_graph(graph, graph.spec.make_inputs(8, gen))
    if half is None:
        return
    path = tmp / half.spec.path
    err = export_fp16(half, graph.module, path)
    tol = FP16_RTOL[graph.component]
    if err > tol:
        path.unlink()
        log(f"fp16 {graph.component}: not shipped, {err:.2e} of scale from fp32 (> {tol:g})")
        return
    variant = {"path": half.spec.path, "sha256": sha256_file(path), "rel_error_vs_fp32": err}
    cuda_placement(path, variant, log)
    entry["variants"] = {"fp16": variant}
    log(f"exported {graph.component} fp16: {half.spec.path} (max error {err:.2e} of scale vs fp32)")


def _gen():
    import torch

    return torch.Generator().manual_seed(0)


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v)}")
