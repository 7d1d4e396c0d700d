"""Bundles on the Hugging Face Hub: parse `owner/name@rev`, pull (cached, verified), push."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from ganflow.sampler.bundle import CARD, MANIFEST, Bundle, load_bundle
from ganflow.sampler.errors import BundleError, GanflowError, HubError, InputError

# Only bundle files travel (both ways): never a stray file of the folder or of the repo.
BUNDLE_PATTERNS = [
    MANIFEST,
    CARD,
    "model.safetensors",
    "samples.png",
    "*/*.onnx",
    "*/*.onnx.data",
    "*/*.data",  # ONNX external data
]
# The model card's usage snippet names the bundle CARD_PLACEHOLDER; push() writes the repo id.
CARD_PLACEHOLDER = "BUNDLE"
CARD_PLACEHOLDER_NOTE = f"Replace `{CARD_PLACEHOLDER}` with this folder or its Hub id (`owner/name`)."

_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"{_PART}/{_PART}")
_TRUE = {"1", "ON", "YES", "TRUE"}


class _DropRedundant(logging.Filter):
    """Drops the client's warnings that ganflow reports itself (a repo with no bundle, a no-op push)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(("No files matched", "No files have been modified"))


def _quiet_client_logs() -> None:
    for name in ("huggingface_hub._snapshot_download", "huggingface_hub.hf_api"):
        log = logging.getLogger(name)
        if not any(isinstance(f, _DropRedundant) for f in log.filters):
            log.addFilter(_DropRedundant())


def parse_ref(ref: str) -> tuple[str, str | None]:
    """Split a Hub ref: `owner/name@rev` -> ("owner/name", "rev"), `owner/name` -> (.., None)."""
    repo, sep, rev = str(ref).partition("@")
    if (
        not _REPO_ID.fullmatch(repo)
        or "--" in repo
        or ".." in repo
        or repo.endswith(".git")
        or (sep and (not rev or ".." in rev or any(c.isspace() for c in rev)))
    ):
        raise InputError(
            f"{ref!r} is not a Hub model repo: expected owner/name or owner/name@revision "
            "(letters, digits, '-', '_', '.'), or pass an existing bundle folder"
        )
    return repo, rev or None


def is_hub_ref(ref: str | Path) -> bool:
    """True when `ref` is no existing local path and reads as owner/name[@revision]."""
    if isinstance(ref, Path) or Path(ref).exists():
        return False
    try:
        parse_ref(ref)
    except InputError:
        return False
    return True


def open_bundle(ref: str | Path, local_files_only: bool = False) -> Bundle:
    """A local bundle folder, or a Hub repo pulled into the cache; verified either way."""
    if is_hub_ref(ref):
        return pull_bundle(str(ref), local_files_only=local_files_only)
    return load_bundle(ref)


def pull(ref: str, local_files_only: bool = False, cache_dir: str | None = None) -> Path:
    """Download (or find in the cache) the bundle `owner/name[@rev]`, verify it, return its folder."""
    return pull_bundle(ref, local_files_only, cache_dir).root


def pull_bundle(ref: str, local_files_only: bool = False, cache_dir: str | None = None) -> Bundle:
    """pull(), returning the verified Bundle (schema and every sha256 checked)."""
    from huggingface_hub import snapshot_download

    repo_id, revision = parse_ref(ref)
    offline = local_files_only or _offline()
    _quiet_client_logs()
    try:
        folder = snapshot_download(
            repo_id,
            revision=revision,
            allow_patterns=BUNDLE_PATTERNS,
            local_files_only=offline,
            cache_dir=cache_dir,
        )
    except Exception as e:  # noqa: BLE001 - mapped to one-line errors, unknown ones re-raised
        raise _pull_error(e, ref, repo_id, revision, offline, local_files_only) from None
    return _verify(Path(folder), ref)


def push(
    bundle_dir: str | Path,
    repo_id: str,
    private: bool = False,
    revision: str | None = None,
    create_pr: bool = False,
    token: str | None = None,
) -> dict[str, Any]:
    """Upload a verified bundle to a model repo (created if missing) in one commit.

    Returns {"repo_id", "repo_url", "revision", "commit", "commit_url", "pr_url", "files",
    "unchanged"}: files is the sorted list of bundle files uploaded (paths relative to the bundle);
    unchanged is True when the revision already held them all (no commit, no pull request made).
    The uploaded README.md names the repo in its usage snippet; the local bundle is left untouched.
    """
    from huggingface_hub import CommitOperationAdd, HfApi, get_token

    bundle = load_bundle(bundle_dir)  # refuse a broken bundle before any request
    repo, rev_in_id = parse_ref(repo_id)
    if rev_in_id is not None:
        if revision is not None and revision != rev_in_id:
            raise InputError(f"{repo_id!r} names revision {rev_in_id!r} but --revision is {revision!r}")
        revision = rev_in_id
    if create_pr and revision not in (None, "main"):
        raise InputError("--create-pr opens a pull request against main: drop --revision")
    token = token or get_token()
    if not token:
        raise HubError(
            "pushing needs a Hugging Face token with write access: set HF_TOKEN or run `hf auth login`"
        )
    root = Path(bundle_dir)
    files = bundle_files(root)
    ops = []
    for rel in files:
        if rel == CARD:
            card = hub_card((root / CARD).read_text(encoding="utf-8"), repo)
            ops.append(CommitOperationAdd(path_in_repo=rel, path_or_fileobj=card.encode("utf-8")))
        else:
            ops.append(CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(root / rel)))
    family = bundle.manifest.get("family", "gan")
    message = f"Upload ganflow {family} bundle ({', '.join(sorted(bundle.components))})"
    api = HfApi(token=token)
    _quiet_client_logs()
    try:
        url = api.create_repo(repo, private=private, exist_ok=True)
        if revision not in (None, "main") and not revision.startswith("refs/"):
            api.create_branch(repo, branch=revision, exist_ok=True)
        info = api.create_commit(
            repo, operations=ops, commit_message=message, revision=revision, create_pr=create_pr
        )
    except Exception as e:  # noqa: BLE001
        raise _push_error(e, repo, root) from None
    # the client skips files the repo already holds, and the commit when nothing is left
    unchanged = all(getattr(op, "_remote_oid", None) == getattr(op, "_local_oid", 0) for op in ops)
    return {
        "repo_id": repo,
        "repo_url": str(url),
        "revision": revision or "main",
        "commit": info.oid,
        "commit_url": info.commit_url,
        "pr_url": info.pr_url,
        "files": files,
        "unchanged": unchanged,
    }


def bundle_files(root: Path) -> list[str]:
    """Sorted relative paths of the files in `root` that BUNDLE_PATTERNS select (hidden ones skipped)."""
    from huggingface_hub.utils import filter_repo_objects

    rels = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return sorted(filter_repo_objects(rels, allow_patterns=BUNDLE_PATTERNS))


def hub_card(text: str, repo_id: str) -> str:
    """The model card with its usage snippet naming `repo_id` instead of the placeholder."""
    text = text.replace(
        CARD_PLACEHOLDER_NOTE,
        f"`{repo_id}` is this repo: ganflow downloads it on first use and then samples from the "
        "local cache (`HF_HUB_OFFLINE=1` works after that).",
    )
    return re.sub(rf"\b{CARD_PLACEHOLDER}\b", repo_id, text)


# --- verification and errors ----------------------------------------------------------------------


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "").upper() in _TRUE


def _verify(folder: Path, ref: str) -> Bundle:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise BundleError(
            f"{ref} is not a ganflow bundle (the repo has no {MANIFEST}): push one with `ganflow push`"
        )
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError(f"{ref} is not a ganflow bundle ({MANIFEST} is not valid JSON)") from None
    if not isinstance(doc, dict) or "format_version" not in doc or "components" not in doc:
        raise BundleError(
            f"{ref} is not a ganflow bundle ({MANIFEST} has no format_version/components: "
            "a transformers or diffusers model?)"
        )
    try:
        return load_bundle(folder)
    except BundleError as e:
        raise BundleError(f"{ref} (commit {folder.name[:12]}) was refused: {e}") from None


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _is_connection_error(e: BaseException) -> bool:
    mod = type(e).__module__.split(".")[0]
    return mod in ("httpx", "httpx2", "httpcore", "requests", "urllib3") or isinstance(e, ConnectionError)


def _status(e: BaseException) -> int | None:
    return getattr(getattr(e, "response", None), "status_code", None)


def _pull_error(
    e: Exception, ref: str, repo: str, rev: str | None, offline: bool, local_only: bool
) -> GanflowError | Exception:
    from huggingface_hub.utils import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = _endpoint()
    if isinstance(e, GatedRepoError):
        return HubError(f"{repo} is gated: accept its terms on {where}/{repo}, then set HF_TOKEN")
    if isinstance(e, RepositoryNotFoundError):
        return HubError(
            f"{ref} is neither a bundle folder here nor a model repo on {where}: check the name; "
            "for a private repo set HF_TOKEN or run `hf auth login`"
        )
    if isinstance(e, RevisionNotFoundError):
        return HubError(f"{repo} has no revision {rev!r}: pass a branch, tag or full commit id")
    if isinstance(e, LocalEntryNotFoundError):
        if offline:
            why = "--local-files-only" if local_only else "HF_HUB_OFFLINE is set"
            return HubError(
                f"{ref} is not in the local cache and downloads are off ({why}): "
                f"run `ganflow pull {ref}` while online"
            )
        return HubError(
            f"cannot reach the Hugging Face Hub at {where} and {ref} is not in the local cache: "
            "check the connection (or HF_ENDPOINT), or pull it while online"
        )
    if isinstance(e, HfHubHTTPError):
        code = _status(e)
        if code in (401, 403):
            return HubError(
                f"the Hub refused access to {repo} (HTTP {code}): set HF_TOKEN to a valid token "
                "or run `hf auth login`"
            )
        return HubError(f"the Hub at {where} answered HTTP {code} for {repo}: try again later")
    if _is_connection_error(e):
        return HubError(
            f"cannot reach the Hugging Face Hub at {where} ({type(e).__name__}): check the connection "
            f"(or HF_ENDPOINT); a cached copy is used with --local-files-only"
        )
    return e


def _push_error(e: Exception, repo: str, root: Path) -> GanflowError | Exception:
    from huggingface_hub.utils import HfHubHTTPError, RepositoryNotFoundError

    where = _endpoint()
    code = _status(e)
    if code == 401:
        return HubError(
            f"the Hub at {where} refused the token (HTTP 401): set HF_TOKEN to a token with write "
            "access or run `hf auth login`"
        )
    if code == 403 or isinstance(e, RepositoryNotFoundError):
        return HubError(
            f"no write access to {repo} on {where} (HTTP {code}): use a token with write access to "
            "that namespace (HF_TOKEN or `hf auth login`)"
        )
    if isinstance(e, ValueError) and "metadata" in str(e).lower():
        detail = " ".join(str(e).split())
        return BundleError(f"the Hub rejected the model card {root / CARD}: {detail}; fix it or re-export")
    if isinstance(e, HfHubHTTPError):
        detail = " ".join(str(e).split())[:300]
        return HubError(f"pushing to {repo} failed (HTTP {code}): {detail}")
    if _is_connection_error(e):
        return HubError(
            f"cannot reach the Hugging Face Hub at {where} ({type(e).__name__}): check the connection "
            "(or HF_ENDPOINT)"
        )
    return e
