"""Hub pull/push with the real huggingface_hub client against an in-memory Hub (no internet)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ganflow.sampler.bundle import integrity_report, load_bundle, sha256_file
from ganflow.sampler.errors import BundleError, HubError, InputError
from ganflow.sampler.hub import (
    BUNDLE_PATTERNS,
    CARD_PLACEHOLDER,
    bundle_files,
    is_hub_ref,
    open_bundle,
    parse_ref,
    pull,
    push,
)
from tests.conftest import BLOCK_TORCH
from tests.hub_server import FakeHub

REPO = "me/g25"

# `ganflow` (pull and push: ganflow.sampler.cli.hub)
CLI = """
import sys
from ganflow.sampler.cli import main
from ganflow.sampler.sample import SampleOptions
from ganflow.sampler.runtime import RuntimeOptions
sys.argv = ["ganflow", *sys.argv[1:]]
main()
"""


def hub_cli(*args: str, env: dict, block_torch: bool = False) -> subprocess.CompletedProcess:
    code = (BLOCK_TORCH if block_torch else "") + CLI
    full_env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"} | env
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A running FakeHub; env (HF_ENDPOINT, HF_TOKEN=test, HF_HUB_CACHE...) set here and in `hub.env`."""
    import huggingface_hub.utils._detect_agent as detect_agent
    from huggingface_hub import constants

    server = FakeHub(token="test").start()
    env = {
        "HF_ENDPOINT": server.url,
        "HF_TOKEN": "test",
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_CACHE": str(tmp_path / "hf-cache"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    # huggingface_hub read these at import time: patch the constants too, for in-process calls
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(constants, "HF_HUB_CACHE", env["HF_HUB_CACHE"])
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(detect_agent, "_registry", {"standardEnvVars": [], "harnesses": {}})
    server.env = env
    yield server
    server.stop()


def local_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def copy_bundle(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# --- refs and local bundles ------------------------------------------------------------------------


def test_refs_and_local_bundles(tiny_bundle, tmp_path, monkeypatch):
    assert parse_ref("me/g25") == ("me/g25", None)
    assert parse_ref("me/g25@main") == ("me/g25", "main")
    assert parse_ref("org-1/my_model.v2@refs/pr/3") == ("org-1/my_model.v2", "refs/pr/3")
    for bad in ["g25", "a/b/c", "me/g25@", "me/-x", "me/a--b", "me/a..b", "/abs/path", "me/x.git", "me /x"]:
        with pytest.raises(InputError, match="not a Hub model repo"):
            parse_ref(bad)
    monkeypatch.chdir(tmp_path)
    assert is_hub_ref("me/g25") and is_hub_ref("me/g25@abc")
    assert not is_hub_ref(str(tiny_bundle)) and not is_hub_ref(tiny_bundle) and not is_hub_ref("bundle")
    (tmp_path / "me" / "g25").mkdir(parents=True)  # an existing local folder wins over the Hub
    assert not is_hub_ref("me/g25")
    # open_bundle on a local folder is load_bundle (verified), no network involved
    for ref in (str(tiny_bundle), tiny_bundle):
        b = open_bundle(ref)
        assert b.root == Path(tiny_bundle) and "generator" in b.components
    assert bundle_files(tiny_bundle) == local_files(tiny_bundle)  # an export holds only bundle files
    assert {"*/*.onnx", "*/*.data", "config.json"} <= set(BUNDLE_PATTERNS)


# --- push ----------------------------------------------------------------------------------------------


def test_push_uploads_exactly_the_bundle_files(hub, tiny_bundle, tmp_path):
    b = copy_bundle(tiny_bundle, tmp_path / "b")
    expected = local_files(tiny_bundle)
    for junk in ["notes.txt", "generator/notes.txt", ".cache/x.onnx", "run/ckpt.pt", "model.ckpt"]:
        (b / junk).parent.mkdir(parents=True, exist_ok=True)
        (b / junk).write_text("not part of the bundle")
    card_before = (b / "README.md").read_bytes()
    r = push(b, REPO)
    assert r["files"] == expected
    assert r["commit_url"] == f"{hub.url}/{REPO}/commit/{r['commit']}" and r["pr_url"] is None
    remote = hub.files(REPO)
    assert sorted(remote) == sorted([".gitattributes", *expected])  # .gitattributes: the repo's first commit
    for f in expected:
        if f != "README.md":
            assert remote[f] == (b / f).read_bytes(), f
    assert (b / "README.md").read_bytes() == card_before  # the local card keeps its placeholder
    assert CARD_PLACEHOLDER not in remote["README.md"].decode() and REPO in remote["README.md"].decode()
    assert ("POST", "/api/validate-yaml") in hub.requests  # the client checked the card's metadata
    assert hub.unhandled == []


def test_push_refuses_broken_bundles_and_needs_a_token(hub, tiny_bundle, tmp_path, monkeypatch):
    b = copy_bundle(tiny_bundle, tmp_path / "b")
    onnx = b / "generator" / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-1] + b"\0")
    with pytest.raises(BundleError, match="sha256"):
        push(b, REPO)
    with pytest.raises(BundleError, match="no bundle at"):
        push(tmp_path / "nothing", REPO)
    with pytest.raises(InputError):
        push(tiny_bundle, "not a repo")
    assert hub.requests == []  # refused before any request
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(HubError, match=r"set HF_TOKEN or run `hf auth login`"):
        push(tiny_bundle, REPO)
    with pytest.raises(HubError, match=r"refused the token \(HTTP 401\)"):
        push(tiny_bundle, REPO, token="wrong")
    assert REPO not in hub.repos


def test_push_cli_private_branch_and_pull_request(hub, tiny_bundle, tmp_path):
    proc = hub_cli("push", str(tiny_bundle), "me/cli", "--private", env=hub.env)
    assert proc.returncode == 0, proc.stderr
    n_files = sum(1 for p in tiny_bundle.rglob("*") if p.is_file())
    assert proc.stdout.startswith(f"pushed {n_files} files to me/cli (main): ")
    assert hub.repos["me/cli"].private
    main = hub.repos["me/cli"].branches["main"]
    r = push(tiny_bundle, "me/cli")  # the same bundle again: no empty commit
    assert r["unchanged"] and r["commit"] == main and hub.repos["me/cli"].branches["main"] == main
    b = copy_bundle(tiny_bundle, tmp_path / "b")
    (b / "samples.png").write_bytes(b"not the grid")  # samples.png is hashed: fix the manifest too
    manifest = json.loads((b / "config.json").read_text())
    manifest["files"]["samples.png"] = sha256_file(b / "samples.png")
    (b / "config.json").write_text(json.dumps(manifest))
    r = push(b, "me/cli", revision="v2")
    assert not r["unchanged"] and r["revision"] == "v2" and hub.repos["me/cli"].branches["v2"] == r["commit"]
    assert sorted(p for p, d in hub.files("me/cli", "v2").items() if d != hub.files("me/cli")[p]) == [
        "config.json",
        "samples.png",
    ]
    r = push(b, "me/cli", create_pr=True)
    assert r["pr_url"] == f"{hub.url}/me/cli/discussions/1"
    assert hub.repos["me/cli"].branches["main"] == main  # main untouched by the PR
    with pytest.raises(InputError, match="create-pr"):
        push(tiny_bundle, "me/cli", revision="v2", create_pr=True)
    assert pull("me/cli@refs/pr/1").parent.name == "snapshots"
    assert pull("me/cli@v2") == pull("me/cli@refs/pr/1").parent / hub.repos["me/cli"].branches["v2"]
    assert hub.unhandled == []


# --- pull -----------------------------------------------------------------------------------------------


def test_pull_cli_round_trip_without_torch(hub, tiny_bundle, tmp_path):
    from ganflow.sampler.runtime import RuntimeOptions
    from ganflow.sampler.sample import SampleOptions, sample_to

    push(tiny_bundle, REPO)
    proc = hub_cli("pull", REPO, env=hub.env, block_torch=True)
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.splitlines()[0])
    assert path.is_relative_to(hub.env["HF_HUB_CACHE"]) and path.name == hub.repos[REPO].branches["main"]
    assert "sha256 verified" in proc.stdout and f"ganflow sample {REPO}" in proc.stdout
    assert local_files(path) == local_files(tiny_bundle)  # no .gitattributes, nothing else
    for f in local_files(tiny_bundle):
        if f != "README.md":  # the card names the repo; it is not hashed by the manifest
            assert sha256_file(path / f) == sha256_file(tiny_bundle / f), f
    b = load_bundle(path)
    assert set(integrity_report(b).values()) == {"ok"}
    # the cached snapshot (files are symlinks into the cache's blobs) samples like the original
    report = sample_to(
        path, tmp_path / "s.npz", 50, SampleOptions(seed=3, runtime=RuntimeOptions(device="cpu"))
    )
    sample_to(
        tiny_bundle, tmp_path / "t.npz", 50, SampleOptions(seed=3, runtime=RuntimeOptions(device="cpu"))
    )
    assert report["samples"] == 50
    assert (tmp_path / "s.npz").read_bytes() == (tmp_path / "t.npz").read_bytes()


def test_pinned_revision_returns_the_first_version(hub, tiny_bundle, tmp_path):
    first = push(tiny_bundle, REPO)["commit"]
    b = copy_bundle(tiny_bundle, tmp_path / "b")
    manifest = json.loads((b / "config.json").read_text())
    manifest["provenance"]["note"] = "second version"
    (b / "config.json").write_text(json.dumps(manifest))
    second = push(b, REPO)["commit"]
    assert first != second
    assert json.loads((pull(REPO) / "config.json").read_text())["provenance"]["note"] == "second version"
    proc = hub_cli("pull", f"{REPO}@{first}", env=hub.env)
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.splitlines()[0])
    assert path.name == first
    assert (path / "config.json").read_bytes() == (tiny_bundle / "config.json").read_bytes()
    assert open_bundle(f"{REPO}@{second}").manifest["provenance"]["note"] == "second version"


def test_offline_and_local_files_only_use_the_cache(hub, tiny_bundle):
    push(tiny_bundle, REPO)
    sha = hub.repos[REPO].branches["main"]
    online = pull(REPO)
    hub.stop()  # nothing answers at HF_ENDPOINT any more
    for args, extra in [
        (("pull", REPO), {"HF_HUB_OFFLINE": "1"}),
        (("pull", REPO, "--local-files-only"), {}),
        (("pull", f"{REPO}@{sha}", "--local-files-only"), {}),
    ]:
        proc = hub_cli(*args, env=hub.env | extra)
        assert proc.returncode == 0, proc.stderr
        assert Path(proc.stdout.splitlines()[0]) == online
    assert open_bundle(REPO, local_files_only=True).root == online
    # not cached: one line saying what to do
    err = one_line_error(hub_cli("pull", "me/other", env=hub.env | {"HF_HUB_OFFLINE": "1"}))
    assert "not in the local cache" in err and "HF_HUB_OFFLINE" in err and "ganflow pull me/other" in err
    err = one_line_error(hub_cli("pull", "me/other", "--local-files-only", env=hub.env))
    assert "--local-files-only" in err
    with pytest.raises(HubError, match="cannot reach the Hugging Face Hub"):
        pull("me/other")


# --- refusals -------------------------------------------------------------------------------------------


def test_missing_repo_revision_and_bad_ref(hub, tiny_bundle):
    push(tiny_bundle, REPO)
    err = one_line_error(hub_cli("pull", "me/nope", env=hub.env))
    assert "me/nope is neither a bundle folder here nor a model repo" in err and "HF_TOKEN" in err
    with pytest.raises(HubError, match="has no revision 'nobranch'"):
        pull(f"{REPO}@nobranch")
    with pytest.raises(HubError, match="has no revision"):
        pull(f"{REPO}@{'0' * 40}")
    err = one_line_error(hub_cli("pull", "not/a/repo", env=hub.env))
    assert "not a Hub model repo" in err


def test_repo_that_is_not_a_bundle(hub):
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo("me/readme-only")
    api.upload_file(
        path_or_fileobj=b"---\nlicense: mit\n---\n# hi\n", path_in_repo="README.md", repo_id="me/readme-only"
    )
    err = one_line_error(hub_cli("pull", "me/readme-only", env=hub.env))
    no_manifest = "is not a ganflow bundle (the repo has no config.json): push one with `ganflow push`"
    assert err == f"error: me/readme-only {no_manifest}"
    api.create_repo("me/transformers")
    api.upload_file(
        path_or_fileobj=b'{"model_type": "gpt2"}', path_in_repo="config.json", repo_id="me/transformers"
    )
    with pytest.raises(BundleError, match="me/transformers is not a ganflow bundle .*no format_version"):
        pull("me/transformers")
    api.create_repo("me/empty")  # holds .gitattributes only
    err = one_line_error(hub_cli("pull", "me/empty", env=hub.env))
    assert err.startswith("error: me/empty is not a ganflow bundle (the repo has no config.json)")


def test_tampered_file_on_the_hub_is_refused(hub, tiny_bundle):
    push(tiny_bundle, REPO)
    data = hub.files(REPO)["generator/model.onnx"]
    hub.tamper(REPO, "generator/model.onnx", data[:-1] + bytes([data[-1] ^ 1]))
    err = one_line_error(hub_cli("pull", REPO, env=hub.env))
    assert err.startswith(f"error: {REPO} (commit ") and "generator fails its sha256 check" in err


# --- model card -------------------------------------------------------------------------------------------


def _check_card_metadata(data: dict, manifest: dict) -> None:
    """No offline validator exists (ModelCard.validate() asks the Hub): check the fields we write."""
    assert data["library_name"] == "ganflow"
    assert isinstance(data["license"], str) and data["license"] == "mit"
    assert isinstance(data["tags"], list) and all(isinstance(t, str) for t in data["tags"])
    assert len(set(data["tags"])) == len(data["tags"]) and {"ganflow", "onnx"} <= set(data["tags"])
    assert data["metrics"] == sorted(manifest["provenance"]["metrics"])
    for d in data.get("datasets", []):
        assert isinstance(d, str) and d.count("/") == 1


def test_model_card_on_the_hub(hub, tiny_bundle):
    from huggingface_hub import ModelCard, ModelCardData

    push(tiny_bundle, REPO)
    text = hub.files(REPO)["README.md"].decode()
    card = ModelCard(text)
    manifest = json.loads((tiny_bundle / "config.json").read_text())
    data = card.data.to_dict()
    _check_card_metadata(data, manifest)
    assert "datasets" not in data  # gaussians25 is synthetic: no Hub dataset
    assert ModelCardData(**data).to_dict() == data
    body = card.text
    assert "pip install 'ganflow[gpu]'" in body and f"ganflow sample {REPO} -n 64" in body
    assert "## Training" in body and "| metric | value |" in body and "![samples](samples.png)" in body
    assert CARD_PLACEHOLDER not in text
    local = ModelCard((tiny_bundle / "README.md").read_text())
    assert f"ganflow sample {CARD_PLACEHOLDER} " in local.text and local.data.to_dict() == data


def test_model_card_for_an_image_bundle(tiny_bundle):
    from huggingface_hub import ModelCard

    from ganflow.export.card import model_card

    manifest = json.loads((tiny_bundle / "config.json").read_text())
    manifest["family"] = "gan"
    manifest["data"] = {"dataset": "mnist", "shape": [1, 28, 28], "range": [-1.0, 1.0]}
    data = ModelCard(model_card(manifest)).data.to_dict()
    _check_card_metadata(data, manifest)
    assert data["datasets"] == ["ylecun/mnist"]
    assert data["pipeline_tag"] == "unconditional-image-generation"


def test_sample_info_eval_accept_a_hub_id(hub, tiny_bundle, tmp_path):
    push(tiny_bundle, REPO)
    out = tmp_path / "s.npz"
    proc = hub_cli(
        "sample", REPO, "-n", "40", "--out", str(out), "--device", "cpu", env=hub.env, block_torch=True
    )
    assert proc.returncode == 0, proc.stderr
    assert np.load(out)["samples"].shape == (40, 2)
    proc = hub_cli("info", REPO, "--json", env=hub.env, block_torch=True)
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)["integrity"].values()) == {"ok"}
    proc = hub_cli(
        "eval", REPO, "-n", "300", "--metrics", "fid", "--device", "cpu", env=hub.env, block_torch=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "fid300_gaussians25-test" in proc.stdout
