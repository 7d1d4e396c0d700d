"""The Python API (issue 17): `from ganflow import Sampler`, `ganflow.evaluate`; the CLI's samples
bit for bit, torch-free, and the README example runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import ganflow
from ganflow import Sampler
from ganflow.sampler.errors import BundleError, ComponentMissingError, InputError
from ganflow.sampler.pipeline import supported_methods
from tests.conftest import BLOCK_TORCH, ROOT
from tests.conftest import ganflow as ganflow_cli
from tests.golden_cases import CASES
from tests.sampler.test_hub import hub  # noqa: F401  a fixture

GOLDEN_BUNDLE = ROOT / "tests" / "data" / "golden-bundle"
GOLDEN = ROOT / "tests" / "data" / "golden-samples.npz"
README_MARK = "<!-- test: python-api"


@pytest.fixture(scope="module")
def golden() -> Sampler:
    return Sampler.from_pretrained(GOLDEN_BUNDLE, device="cpu")


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg, msg
    return msg


# --- the CLI's samples -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,args,kwargs",
    [
        ("plain", (), {}),
        ("plain", ("--truncation", "0.6"), {"truncation": 0.6}),
        ("dgflow", ("--dg-steps", "4", "--dg-eta", "0.05"), {"dg_steps": 4, "dg_eta": 0.05}),
    ],
)
def test_same_samples_and_latents_as_the_cli(tiny_bundle, tmp_path, method, args, kwargs):
    out = tmp_path / "x.npz"
    cli = ("sample", str(tiny_bundle), "-n", "300", "--seed", "3", "--method", method, *args)
    ganflow_cli(*cli, "--device", "cpu", "--out", str(out))
    s = Sampler.from_pretrained(tiny_bundle, device="cpu")
    x, z = s.sample(300, method=method, seed=3, return_latents=True, **kwargs)
    with np.load(out) as f:
        assert x.dtype == f["samples"].dtype == np.float32 and x.shape == f["samples"].shape == (300, 2)
        assert np.array_equal(x, f["samples"])
        assert np.array_equal(z, f["latents"])
    # the batch size does not change a sample; another seed does
    assert np.array_equal(s.sample(300, method=method, seed=3, batch_size=7, **kwargs), x)
    assert not np.array_equal(s.sample(300, method=method, seed=4, **kwargs), x)
    assert s.stats["samples"] == 300 and s.stats["provider"] == "CPUExecutionProvider"


@pytest.mark.parametrize("name", [c for c in CASES if "--num-shards" not in CASES[c]])
def test_golden_samples(golden, name):
    """The committed golden run (test_golden.py, through the CLI) from the API, every composition."""
    flags = iter(CASES[name])
    kwargs = {}
    for flag in flags:
        kwargs[flag.lstrip("-").replace("-", "_")] = next(flags)
    kwargs.update({k: int(v) for k, v in kwargs.items() if k == "dg_steps"})
    kwargs.update({k: float(v) for k, v in kwargs.items() if k == "truncation"})
    x = golden.sample(200, seed=7, batch_size=64, **kwargs)
    with np.load(GOLDEN) as g:
        assert np.array_equal(x, g[name]), name


def test_stats_report_what_the_stages_did(golden):
    golden.sample(50, method="latent-rs", seed=0)
    st = golden.stats
    assert st["method"] == "gaussian -> latent-rs -> decode" and st["accepted"] == 50
    assert st["proposals"] >= 50 and st["latent_rs_m"] == 3.0  # the bundle's default m
    golden.sample(20, method="latent-rs", rs_m=1.5)
    assert golden.stats["latent_rs_m"] == 1.5 and golden.stats["samples"] == 20


# --- what the bundle is ------------------------------------------------------------------------------


def test_methods_info_and_repr(golden, tiny_bundle):
    assert golden.methods == ["ddls", "dgflow", "drs", "flow", "latent-rs", "mh-gan", "plain"]
    info = golden.info
    assert info["family"] == "fisgan" and info["latent_dim"] == 2
    assert info["data"] == {"dataset": "gaussians25", "range": None, "shape": [2]}
    assert info["data_shape"] == (2,) and info["data_range"] is None
    assert info["methods"] == golden.methods
    assert {"generator", "critic", "flow", "weight", "refine"} <= set(info["components"])
    assert info["defaults"]["latent-rs"] == {"m": 3.0} and info["provenance"]["steps"] == 30
    assert info["provider"] == "CPUExecutionProvider" and golden.device == "cpu"
    json.dumps(info)  # a plain dict: JSON-serialisable
    info["data"]["shape"].append(5)  # a copy: the bundle is untouched
    assert golden.bundle.data_shape == (2,)
    r = repr(golden)
    assert r.startswith("Sampler(") and "family='fisgan'" in r and "'latent-rs'" in r and "device='cpu'" in r
    tiny = Sampler.from_pretrained(str(tiny_bundle), device="cpu")
    assert tiny.methods == supported_methods(tiny.bundle) and "plain" in tiny.methods
    assert "latent-rs" not in tiny.methods  # no weight component


def test_from_a_hub_id(hub, tmp_path):  # noqa: F811  (the hub fixture)
    from ganflow.sampler.hub import push

    push(GOLDEN_BUNDLE, "me/golden")
    s = Sampler.from_pretrained("me/golden", device="cpu")
    assert s.info["family"] == "fisgan"
    with np.load(GOLDEN) as g:
        assert np.array_equal(s.sample(200, seed=7, batch_size=64, method="flow"), g["flow"])


# --- errors: one line ---------------------------------------------------------------------------------


def test_errors_are_one_line_input_errors(golden, tiny_bundle):
    with pytest.raises(InputError) as e:
        golden.sample(10, dg_etaa=0.1)
    msg = one_line(e)
    assert "unknown sampling option 'dg_etaa'" in msg and "dg_eta" in msg and "rs_m" in msg
    with pytest.raises(InputError) as e:
        golden.sample(10, method="magic")
    assert "unknown sampling method 'magic'; choose one of: ddls, dgflow" in one_line(e)
    with pytest.raises(InputError) as e:
        golden.sample(10, refine="magic")
    assert "unknown refinement stage 'magic'" in one_line(e)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InputError) as e:
            golden.sample(bad)
        assert "n must be an integer > 0" in one_line(e)
    with pytest.raises(InputError) as e:
        golden.sample(10, batch_size=0)
    one_line(e)
    tiny = Sampler.from_pretrained(tiny_bundle, device="cpu")
    with pytest.raises(ComponentMissingError) as e:
        tiny.sample(10, method="latent-rs")
    assert "no 'weight' component" in one_line(e) and "it supports: " in str(e.value)
    with pytest.raises(InputError) as e:
        Sampler.from_pretrained(tiny_bundle, device="tpu")
    assert "unknown --device 'tpu'" in one_line(e)
    with pytest.raises(BundleError) as e:
        Sampler.from_pretrained(tiny_bundle.parent / "nothing-here")
    assert "no bundle at" in one_line(e)


# --- torch-free and light ---------------------------------------------------------------------------


def test_import_ganflow_is_light_and_torch_free(tmp_path):
    code = BLOCK_TORCH + (
        "import ganflow\n"
        "heavy = lambda: sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'onnxruntime', 'numpy'})\n"
        "assert heavy() == [], heavy()\n"
        "assert sorted(ganflow.__all__) == ['Sampler', '__version__', 'evaluate']\n"
        "assert ganflow.__version__ and heavy() == [], heavy()\n"
        "from ganflow import Sampler, evaluate\n"
        "assert 'onnxruntime' not in sys.modules and 'torch' not in sys.modules\n"
        f"s = Sampler.from_pretrained({str(GOLDEN_BUNDLE)!r}, device='cpu')\n"
        "x = s.sample(30, method='dgflow', dg_steps=2)\n"
        "r = ganflow.evaluate(x, data='gaussians25', metrics='fid', real_n=500)\n"
        "assert 'torch' not in sys.modules and r['metrics']\n"
        "try:\n    ganflow.nothing\nexcept AttributeError as e:\n    assert 'nothing' in str(e)\n"
        "else:\n    raise AssertionError('ganflow.nothing exists')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300, cwd=tmp_path)


def test_subpackages_still_import():
    import ganflow.models  # noqa: F401
    import ganflow.sampler.cli  # noqa: F401
    import ganflow.training  # noqa: F401

    assert ganflow.__file__.endswith("__init__.py")
    assert ganflow.Sampler is Sampler and callable(ganflow.evaluate)


# --- evaluate ------------------------------------------------------------------------------------------


def test_evaluate_an_array_like_its_npz(tiny_bundle, tmp_path):
    out = tmp_path / "x.npz"
    ganflow_cli("sample", str(tiny_bundle), "-n", "800", "--seed", "2", "--device", "cpu", "--out", str(out))
    metrics = ["fid", "modes", "prdc"]
    kw = {"data": "gaussians25", "metrics": metrics, "real_n": 2000}
    from_file = ganflow.evaluate(out, **kw)
    with np.load(out) as f:
        x = f["samples"]
    from_array = ganflow.evaluate(x, **kw)
    assert from_array["metrics"] == from_file["metrics"] and from_array["metrics"]
    assert from_array["source"] == "array" and from_array["n"] == 800
    assert ganflow.evaluate(x.astype(np.float64), **kw)["metrics"] == from_file["metrics"]
    assert (
        ganflow.evaluate(x, data="gaussians25", metrics="fid,modes,prdc", real_n=2000)["metrics"]
        == (from_file["metrics"])
    )
    # a bundle and a Sampler: sampled as `ganflow eval BUNDLE --seed 2` samples it
    kw = {"n": 800, "seed": 2, "metrics": metrics, "real_n": 2000}
    from_bundle = ganflow.evaluate(str(tiny_bundle), device="cpu", **kw)
    s = Sampler.from_pretrained(tiny_bundle, device="cpu")
    from_sampler = ganflow.evaluate(s, **kw)
    assert from_bundle["metrics"] == from_sampler["metrics"] == from_file["metrics"]
    with pytest.raises(InputError) as e:
        ganflow.evaluate(x, metrics=metrics)
    assert "needs data=" in one_line(e)
    for bad in (np.array(["a", "b"]), np.zeros((0, 2)), np.zeros(5)):
        with pytest.raises(InputError) as e:
            ganflow.evaluate(bad, data="gaussians25")
        assert "samples must be a numeric array" in one_line(e)


# --- the README example --------------------------------------------------------------------------------


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(re.escape(README_MARK) + r"[^\n]*-->\n```python\n(.*?)```", text, re.S)
    assert found, f"README.md has no ```python block after {README_MARK!r}"
    return found.group(1)


def test_readme_example_runs(tiny_bundle, tmp_path):
    code = readme_example()
    assert code.count('"ganflow-demo/bundle"') == 1
    code = code.replace('"ganflow-demo/bundle"', repr(str(tiny_bundle)))
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH + code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Sampler(" in proc.stdout and "fid1k_gaussians25-test" in proc.stdout
