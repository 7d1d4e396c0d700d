"""`ganflow pull` and `ganflow push`: command functions, registered on the root app by main.py."""

from __future__ import annotations

from pathlib import Path

import typer

PULL_EXAMPLE = (
    "Example: ganflow pull owner/g25-gan  |  ganflow pull owner/g25-gan@<commit>  |  "
    "HF_HUB_OFFLINE=1 ganflow sample owner/g25-gan -n 64"
)
PUSH_EXAMPLE = (
    "Example: ganflow push bundles/g25 owner/g25-gan  |  "
    "ganflow push bundles/g25 owner/g25-gan --private  |  ganflow push bundles/g25 owner/g25-gan --create-pr"
)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError


def pull_cmd(
    ref: str = typer.Argument(..., help="Hub model repo: owner/name or owner/name@revision (branch, commit)"),
    local_files_only: bool = typer.Option(
        False, "--local-files-only", help="use the local cache only, no network (like HF_HUB_OFFLINE=1)"
    ),
) -> None:
    """Download a bundle from the Hugging Face Hub into the local cache and verify every sha256."""
    from ganflow.sampler.hub import bundle_files, parse_ref, pull_bundle

    repo, _ = parse_ref(ref)
    b = pull_bundle(ref, local_files_only=local_files_only)
    files = bundle_files(b.root)
    data = b.manifest["data"]
    typer.echo(str(b.root))
    typer.echo(f"repo        {ref} (commit {b.root.name})")
    typer.echo(
        f"bundle      {b.manifest.get('family')} on {data.get('dataset')} {data['shape']}, "
        f"latent_dim {b.latent_dim}"
    )
    root = b.root.resolve()
    comps = ", ".join(f"{k} ({c.path.relative_to(root)})" for k, c in sorted(b.components.items()))
    typer.echo(f"components  {comps}")
    sizes = ", ".join(f"{f} ({_size((b.root / f).stat().st_size)})" for f in files)
    typer.echo(f"files       {sizes}; sha256 verified")
    typer.echo(f"next        ganflow sample {repo} -n 64 --out samples.png")


def push_cmd(
    bundle: Path = typer.Argument(..., help="bundle folder written by `ganflow export`"),
    repo_id: str = typer.Argument(..., help="owner/name of the model repo (created if missing)"),
    private: bool = typer.Option(False, "--private", help="create the repo as private"),
    revision: str | None = typer.Option(None, help="branch to commit to, created if missing (default: main)"),
    create_pr: bool = typer.Option(False, "--create-pr", help="open a pull request instead of committing"),
) -> None:
    """Upload a bundle to a Hugging Face Hub model repo (needs a write token: HF_TOKEN or `hf auth login`)."""
    from ganflow.sampler.hub import push

    r = push(bundle, repo_id, private=private, revision=revision, create_pr=create_pr)
    if r["unchanged"]:
        typer.echo(
            f"nothing to push: {r['repo_id']} ({r['revision']}) already holds this bundle: {r['commit_url']}"
        )
    else:
        typer.echo(f"pushed {len(r['files'])} files to {r['repo_id']} ({r['revision']}): {r['commit_url']}")
    typer.echo(f"files       {', '.join(r['files'])}")
    if r["pr_url"]:
        typer.echo(f"pull request {r['pr_url']}")
    typer.echo(f"next        ganflow sample {r['repo_id']} -n 64 --out samples.png")
