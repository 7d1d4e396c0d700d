"""The stage contract (sampler/stages/base.py), checked for every registered stage, and the
writer contract for every registered output format."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.errors import ComponentMissingError, InputError
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.runtime import Runtime
from ganflow.sampler.stages import KINDS, StageOptions, options_from_flat, stage_class
from ganflow.sampler.writers import WRITERS, open_writer
from tests.conftest import ROOT

BUNDLE = ROOT / "tests" / "data" / "golden-bundle"  # every component: every stage applies
STAGES = [(kind, name) for kind, reg in KINDS.items() for name in reg.names()]
SMALL = {"dgflow": {"steps": 3}}  # keep DGflow cheap


def _composition(kind: str, name: str) -> dict:
    """The smallest pipeline that runs stage `name` of `kind`."""
    comp = {"proposal": "gaussian", "select": None, "refine": None, "decode": "generator"}
    comp[kind] = name
    return comp


def _pipe(kind, name, seed=0, bundle=None, runtime=None):
    options = {n: stage_class(k, n).Options(**SMALL.get(n, {})) for k, n in STAGES}
    comp = _composition(kind, name)
    b = bundle or load_bundle(BUNDLE)
    return Pipeline(b, runtime or Runtime("cpu"), "plain", seed, comp["proposal"], comp["select"],
                    comp["refine"], options, comp["decode"])  # fmt: skip


def _draw(pipe, n, batch, start=0):
    out = [(z, x) for _, z, x in pipe.generate(n, batch, start=start)]
    return np.concatenate([z for z, _ in out]), np.concatenate([x for _, x in out])


@pytest.fixture(scope="module")
def runtime():
    return Runtime("cpu")


@pytest.mark.parametrize("kind,name", STAGES)
def test_stage_declares_the_contract(kind, name):
    cls = stage_class(kind, name)
    assert isinstance(cls.needs, tuple) and all(isinstance(c, str) for c in cls.needs)
    assert issubclass(cls.Options, StageOptions) and dataclasses.is_dataclass(cls.Options)
    assert cls.Options.__dataclass_params__.frozen
    opts = cls.Options()
    assert all(getattr(opts, f.name) is None for f in dataclasses.fields(opts)), "None = the bundle's default"
    for key, fld in cls.Options.flat_keys().items():  # flat keys (CLI flags) reach this stage
        assert dataclasses.asdict(options_from_flat({key: 2})[name])[fld] == 2


@pytest.mark.parametrize("kind,name", STAGES)
def test_samples_do_not_depend_on_batch_size_or_shard(kind, name, runtime):
    """Sample i is the same whether drawn in one batch, small batches or another shard (across
    the seeded-block boundary at 1024)."""
    n = 1100
    z1, x1 = _draw(_pipe(kind, name, runtime=runtime), n, n)
    z2, x2 = _draw(_pipe(kind, name, runtime=runtime), n, 97)
    np.testing.assert_array_equal(z1, z2)
    np.testing.assert_array_equal(x1, x2)
    cut = 1019
    z3, x3 = _draw(_pipe(kind, name, runtime=runtime), n, 64, start=cut)
    np.testing.assert_array_equal(z3, z1[cut:])
    np.testing.assert_array_equal(x3, x1[cut:])


@pytest.mark.parametrize("kind,name", STAGES)
def test_seeded_determinism(kind, name, runtime):
    a = _draw(_pipe(kind, name, seed=5, runtime=runtime), 200, 64)[1]
    b = _draw(_pipe(kind, name, seed=5, runtime=runtime), 200, 64)[1]
    c = _draw(_pipe(kind, name, seed=6, runtime=runtime), 200, 64)[1]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kind,name", [(k, n) for k, n in STAGES if stage_class(k, n).needs])
def test_missing_component_is_one_line(kind, name, tmp_path):
    for component in stage_class(kind, name).needs:
        copy = tmp_path / component
        shutil.copytree(BUNDLE, copy)
        manifest = json.loads((copy / "config.json").read_text())
        del manifest["components"][component]
        (copy / "config.json").write_text(json.dumps(manifest))
        with pytest.raises(ComponentMissingError, match=f"no '{component}' component") as e:
            _pipe(kind, name, bundle=load_bundle(copy))
        assert "\n" not in str(e.value) and "supports" in str(e.value)


def test_options_of_the_wrong_stage_are_refused():
    with pytest.raises(InputError, match="must be DGflowOptions"):
        Pipeline(
            load_bundle(BUNDLE),
            Runtime("cpu"),
            "dgflow",
            options={"dgflow": options_from_flat({})["gaussian"]},
        )
    with pytest.raises(InputError, match="unknown sampling option 'rs_q'"):
        options_from_flat({"rs_q": 1})


@pytest.mark.parametrize("fmt", WRITERS.names())
def test_writer_publishes_whole_or_nothing(fmt, tmp_path):
    """Every output format: nothing visible before commit, the samples after it, nothing after
    abort; the written samples round-trip (to uint8 for image formats)."""
    shape, n = (1, 4, 4), 6
    out = tmp_path / ("out" if fmt == "png-dir" else f"out.{fmt.split('-')[0]}")
    x = np.linspace(-1, 1, n * 16, dtype=np.float32).reshape(n, *shape)
    z = np.zeros((n, 2), np.float32)
    w = open_writer(out, n, shape, 2, (-1.0, 1.0), fmt=fmt, run={"seed": 0})
    w.write(0, z[:4], x[:4])
    w.write(4, z[4:], x[4:])
    assert fmt == "png-dir" or not out.exists()
    w.commit()
    assert out.exists()
    if fmt in ("npy", "npz"):
        got = np.load(out) if fmt == "npy" else np.load(out)["samples"]
        np.testing.assert_array_equal(got, x)
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not left, left
    aborted = tmp_path / ("gone" if fmt == "png-dir" else f"gone.{fmt.split('-')[0]}")
    w = open_writer(aborted, n, shape, 2, (-1.0, 1.0), fmt=fmt, run={"seed": 0})
    w.write(0, z[:4], x[:4])
    w.abort()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert fmt == "png-dir" or not aborted.exists()
