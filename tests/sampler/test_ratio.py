"""Which critics are density-ratio estimates (sampler/ratio.py), and the refusal of the others."""

from __future__ import annotations

import pytest

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.errors import MethodError
from ganflow.sampler.pipeline import Pipeline, supported_methods
from ganflow.sampler.ratio import OPTIMAL_LOGIT, density_ratio_critic, density_ratio_problem
from ganflow.sampler.runtime import Runtime
from tests.conftest import ganflow
from tests.known_bundles import ratio_bundle

RATIO_METHODS = ("drs", "mh-gan", "ddls")


@pytest.mark.parametrize("loss", sorted(OPTIMAL_LOGIT))
def test_the_f_gan_table(loss):
    ok = density_ratio_problem({"train": {"loss": loss}}, set()) is None
    assert ok == (loss in ("bce", "f:gan", "f:js", "f:rkl", "f:kl"))
    with_corrector = {"train": {"loss": loss}, "components": {"corrector": {}}}
    assert density_ratio_problem(with_corrector, {"corrector"}) is None
    assert "corrector graph is missing" in density_ratio_problem(with_corrector, set())


def test_unknown_or_missing_loss_is_refused():
    assert "no training loss" in density_ratio_problem({}, set())
    assert "not a known density-ratio" in density_ratio_problem({"train": {"loss": "mle"}}, set())


@pytest.mark.parametrize("loss", ["wgan-gp", "hinge"])
def test_a_critic_that_is_not_a_ratio_is_refused(loss, tmp_path):
    b = load_bundle(ratio_bundle(tmp_path / loss, loss=loss))
    assert not density_ratio_critic(b)
    assert supported_methods(b) == ["plain"]
    for method in RATIO_METHODS:
        with pytest.raises(MethodError, match="not a density-ratio estimate") as e:
            Pipeline(b, Runtime("cpu"), method)
        assert "\n" not in str(e.value) and "ganflow train corrector --base RUN" in str(e.value)
    proc = ganflow("sample", str(b.root), "--method", "drs", "--out", str(tmp_path / "o.npz"), check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not a density-ratio" in proc.stderr
    assert not (tmp_path / "o.npz").exists()


def test_the_flow_proposal_composes_with_the_selectors(tmp_path):
    """--proposal flow --select mh-gan (and drs) runs on a bundle with a flow."""
    from ganflow.sampler.sample import SampleOptions, sample_to
    from ganflow.sampler.stages import options_from_flat
    from tests.conftest import ROOT

    golden = ROOT / "tests" / "data" / "golden-bundle"
    for select in ("mh-gan", "drs"):
        opts = SampleOptions(proposal="flow", select=select, stages=options_from_flat({"mh_k": 5}))
        report = sample_to(golden, tmp_path / f"{select}.npz", 50, opts)
        assert report["method"] == f"flow -> {select} -> decode" and report["samples"] == 50
