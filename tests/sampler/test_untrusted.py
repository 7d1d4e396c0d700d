"""Untrusted bundles: external ONNX data, random and mutated manifests never crash the reader."""

from __future__ import annotations

import copy
import json
import shutil

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganflow.sampler.bundle import MANIFEST, load_bundle, sha256_file
from ganflow.sampler.errors import BundleError, GanflowError
from ganflow.sampler.onnx_scan import ScanError, external_locations
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.runtime import Runtime


def _externalise(bundle, location: str, hashed: bool) -> None:
    """Move the generator's weights to external data at `location` (relative to generator/),
    re-hash the graph in the manifest (as an attacker who controls the bundle would)."""
    comp = bundle / "generator" / "model.onnx"
    model = onnx.load(str(comp))
    data = b""
    for t in model.graph.initializer:
        raw = onnx.numpy_helper.to_array(t).tobytes()
        t.ClearField("raw_data")
        t.ClearField("float_data")
        t.data_location = onnx.TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", str(len(data))), ("length", str(len(raw)))):
            e = t.external_data.add()
            e.key, e.value = k, v
        data += raw
    comp.write_bytes(model.SerializeToString())
    target = (bundle / "generator" / location).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["components"]["generator"]["sha256"] = sha256_file(comp)
    if hashed:
        rel = target.relative_to(bundle.resolve()).as_posix()
        manifest["files"][rel] = sha256_file(target)
    (bundle / MANIFEST).write_text(json.dumps(manifest))


def test_scanner_finds_locations(tiny_bundle, tmp_path):
    b = tmp_path / "b"
    shutil.copytree(tiny_bundle, b)
    assert external_locations((b / "generator" / "model.onnx").read_bytes()) == []
    _externalise(b, "weights.data", hashed=True)
    locs = external_locations((b / "generator" / "model.onnx").read_bytes())
    assert locs and set(locs) == {"weights.data"}
    with pytest.raises(ScanError):
        external_locations(b"\x3a\xff\xff\xff\xff\x0f")  # a length past the end


def test_hashed_external_data_inside_the_bundle_works(tiny_bundle, tmp_path):
    b = tmp_path / "b"
    shutil.copytree(tiny_bundle, b)
    z_ref = _first_samples(tiny_bundle)
    _externalise(b, "weights.data", hashed=True)
    np.testing.assert_array_equal(_first_samples(b), z_ref)


@pytest.mark.parametrize(
    "location,hashed,match",
    [
        ("../../outside.bin", False, "leaves the bundle"),
        ("weights.data", False, "does not hash"),
    ],
)
def test_unhashed_or_escaping_external_data_is_refused(tiny_bundle, tmp_path, location, hashed, match):
    b = tmp_path / "b"
    shutil.copytree(tiny_bundle, b)
    _externalise(b, location, hashed=hashed)
    with pytest.raises(BundleError, match=match):
        load_bundle(b)


def test_absolute_external_data_is_refused(tiny_bundle, tmp_path):
    b = tmp_path / "b"
    shutil.copytree(tiny_bundle, b)
    secret = tmp_path / "secret.bin"
    _externalise(b, str(secret), hashed=False)
    with pytest.raises(BundleError, match="leaves the bundle"):
        load_bundle(b)


def _first_samples(bundle) -> np.ndarray:
    pipe = Pipeline(load_bundle(bundle), Runtime("cpu"), seed=3)
    return next(pipe.generate(16, 16))[2]


# --- property test: random and mutated manifests -------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["format_version", "latent_dim", "data", "components", "files", "defaults", "path", "sha256",
     "inputs", "outputs", "shape", "range", "opset", "name", "generator", "critic"]
)  # fmt: skip


def _paths(obj, prefix=()):
    """Every (path of keys/indices) in a JSON object."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated(draw, base: dict):
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(KEYS)] = draw(JSON)
    return doc


def _load_never_crashes(folder, doc) -> None:
    (folder / MANIFEST).write_text(json.dumps(doc, allow_nan=True))
    try:
        b = load_bundle(folder)
        Pipeline(b, Runtime("cpu"))  # a manifest that loads must also give a usable pipeline
    except GanflowError as e:
        assert "\n" not in str(e) and str(e)


@pytest.fixture(scope="module")
def scratch(tiny_bundle, tmp_path_factory):
    b = tmp_path_factory.mktemp("prop") / "b"
    shutil.copytree(tiny_bundle, b)
    return b, json.loads((tiny_bundle / MANIFEST).read_text())


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_manifests_give_one_line_errors(scratch, data):
    folder, base = scratch
    _load_never_crashes(folder, data.draw(mutated(base)))


@settings(max_examples=100, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=JSON)
def test_random_manifests_give_one_line_errors(scratch, doc):
    _load_never_crashes(scratch[0], doc)


@settings(max_examples=100, deadline=2000)
@given(blob=st.binary(max_size=256))
def test_scanner_never_crashes_on_random_bytes(blob):
    try:
        external_locations(blob)
    except ScanError:
        pass
