"""`ganflow export --skip GRAPH`: a bundle without one graph (e.g. the DGflow step of a generator
too badly conditioned for it in float32), with the methods that need it off."""

from __future__ import annotations

import json

import pytest

from ganflow.export import ExportError, export_bundle
from ganflow.sampler.api import Sampler
from ganflow.sampler.errors import InputError


def test_skip_leaves_out_the_graph_and_its_methods(tiny_run, tiny_bundle, tmp_path):
    out = tmp_path / "bundle"
    manifest = export_bundle(tiny_run, out, log=lambda *a: None, skip=["refine"])
    full = json.loads((tiny_bundle / "config.json").read_text())
    assert "refine" in full["components"] and "refine" not in manifest["components"]
    assert set(manifest["components"]) == set(full["components"]) - {"refine"}
    assert manifest["provenance"]["skipped"] == ["refine"]
    assert not (out / "refine").exists()
    methods = Sampler.from_pretrained(out).methods
    assert (
        "dgflow" not in methods
        and "drs" in methods
        and "dgflow" in Sampler.from_pretrained(tiny_bundle).methods
    )


@pytest.mark.parametrize(
    "skip,match",
    [
        (["generator"], "a bundle needs its generator"),
        (["refnie"], r"exports no refnie graph: --skip takes one of"),
    ],
)
def test_skip_refuses_the_generator_and_unknown_graphs(tiny_run, tmp_path, skip, match):
    with pytest.raises(InputError, match=match):
        export_bundle(tiny_run, tmp_path / "bundle", log=lambda *a: None, skip=skip)
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("component,hint", [("refine", True), ("generator", False)])
def test_a_failing_graph_is_named_and_skip_suggested(tiny_run, tmp_path, monkeypatch, component, hint):
    """A graph that fails parity is named by component (not by the temporary folder), and for any
    graph but the generator the error says how to export the rest."""
    import ganflow.export.bundle as bundle

    real = bundle.export_graph

    def failing(graph, path):
        if graph.component == component:
            raise ExportError(f"{path}: onnxruntime differs from torch by 0.1 at batch 64")
        return real(graph, path)

    monkeypatch.setattr(bundle, "export_graph", failing)
    with pytest.raises(ExportError) as e:
        export_bundle(tiny_run, tmp_path / "bundle", log=lambda *a: None)
    assert str(e.value).startswith(f"{component} ({component}/model.onnx): onnxruntime differs")
    assert ("pass --skip " + component in str(e.value)) is hint
    assert not list(tmp_path.iterdir())
