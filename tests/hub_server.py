"""A small in-memory Hugging Face Hub for tests: what huggingface_hub 2.x needs to pull and push.

Routes (model repos only), as the real client calls them:
  GET  /api/models/{repo}[/revision/{rev}]          repo info: id, sha, siblings
  GET  /api/models/{repo}/tree/{rev}[/{path}]       file listing (?recursive=true)
  HEAD /{repo}/resolve/{rev}/{path}                 X-Repo-Commit, ETag, Content-Length
  GET  /{repo}/resolve/{rev}/{path}                 the bytes
  POST /api/repos/create                            409 when it exists (exist_ok handles that)
  POST /api/models/{repo}/branch/{branch}           create a branch (409 when it exists)
  POST /api/models/{repo}/preupload/{rev}           every file "regular" (inline, base64)
  POST /api/models/{repo}/commit/{rev}              NDJSON: header, file, deletedFile, deletedFolder
  POST /api/validate-yaml                           the model card's YAML must parse to a mapping
  GET  /api/agent-harnesses                         empty registry (the client's user-agent probe)
Errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound) like the Hub's.
Every request is logged in `requests`; anything else is answered 404 and logged in `unhandled`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from tests.hub_parts import GITATTRIBUTES, Commit, JsonHandler, Repo, git_blob_sha

_REPO = r"(?P<repo>[^/]+/[^/]+)"


class FakeHub:
    """In-memory Hub on 127.0.0.1:<free port>; start(), stop(), and helpers to inspect or tamper."""

    def __init__(self, token: str = "test"):
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.unhandled: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        self._connections: set[socket.socket] = set()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.env: dict[str, str] = {}  # what a client needs to reach this hub (set by the test fixture)

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open keep-alive connections: the endpoint then refuses everything."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for conn in list(self._connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # --- helpers for tests -----------------------------------------------------------------------

    def create_repo(self, repo_id: str, private: bool = False) -> Repo:
        """A new repo whose first commit holds .gitattributes, as on the Hub."""
        with self._lock:
            repo = self.repos[repo_id] = Repo(repo_id, private)
            self._commit(repo, "main", {".gitattributes": GITATTRIBUTES}, "initial commit")
            return repo

    def files(self, repo_id: str, rev: str = "main") -> dict[str, bytes]:
        """{path: bytes} of a repo at a branch or commit."""
        return dict(self.repos[repo_id].resolve(rev).files)

    def tamper(self, repo_id: str, path: str, data: bytes, rev: str = "main") -> None:
        """Replace a file's bytes in place (same commit id): what a corrupt or malicious host serves."""
        self.repos[repo_id].resolve(rev).files[path] = data

    def _commit(self, repo: Repo, branch: str, files: dict[str, bytes], message: str) -> Commit:
        parent = repo.branches.get(branch)
        self._counter += 1
        digest = hashlib.sha1(
            json.dumps(
                [parent, message, self._counter, sorted((p, git_blob_sha(d)) for p, d in files.items())]
            ).encode()
        ).hexdigest()
        date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        commit = Commit(digest, parent, message, files, date)
        repo.commits[digest] = commit
        repo.branches[branch] = digest
        return commit


class _Handler(JsonHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.hub._connections.add(self.connection)

    def finish(self) -> None:
        self.hub._connections.discard(self.connection)
        super().finish()

    def _authorized(self) -> bool:
        return self.headers.get("Authorization", "") == f"Bearer {self.hub.token}"

    def _repo(self, repo_id: str, head: bool = False) -> Repo | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None or (repo.private and not self._authorized()):
            self._error(404, "RepoNotFound", "Repository not found", head=head)
            return None
        return repo

    def _commit_of(self, repo: Repo, rev: str, head: bool = False) -> Commit | None:
        commit = repo.resolve(rev)
        if commit is None:
            self._error(404, "RevisionNotFound", "Invalid rev id: " + rev, head=head)
        return commit

    def _route(self, method: str) -> None:
        split = urlsplit(self.path)
        raw, query = split.path, parse_qs(split.query)
        self.hub.requests.append((method, self.path))
        routes = ROUTES.get(method, [])
        for pattern, handler in routes:
            m = pattern.fullmatch(raw)
            if m:
                args = {k: unquote(v) if v is not None else None for k, v in m.groupdict().items()}
                with self.hub._lock if method == "POST" else _nolock():
                    handler(self, query=query, **args)
                return
        self.hub.unhandled.append((method, self.path))
        self._error(404, None, f"not implemented by the test hub: {method} {raw}", head=method == "HEAD")

    def do_GET(self) -> None:
        self._route("GET")

    def do_HEAD(self) -> None:
        self._route("HEAD")

    def do_POST(self) -> None:
        self._route("POST")

    # --- read routes -----------------------------------------------------------------------------

    def repo_info(self, query, repo: str, rev: str | None = None) -> None:
        r = self._repo(repo)
        if r is None:
            return
        commit = self._commit_of(r, rev or "main")
        if commit is None:
            return
        self._json(
            200,
            {
                "_id": hashlib.md5(repo.encode()).hexdigest()[:24],
                "id": repo,
                "modelId": repo,
                "author": repo.split("/")[0],
                "sha": commit.sha,
                "lastModified": commit.date,
                "private": r.private,
                "disabled": False,
                "gated": False,
                "tags": [],
                "siblings": [{"rfilename": p} for p in sorted(commit.files)],
            },
        )

    def tree(self, query, repo: str, rev: str, path: str | None = None) -> None:
        r = self._repo(repo)
        if r is None:
            return
        commit = self._commit_of(r, rev)
        if commit is None:
            return
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        prefix = f"{path.strip('/')}/" if path else ""
        entries, folders = [], set()
        for p, data in sorted(commit.files.items()):
            if not p.startswith(prefix):
                continue
            rest = p[len(prefix) :].split("/")
            for i in range(1, len(rest)):
                if recursive or i == 1:
                    folders.add(prefix + "/".join(rest[:i]))
            if recursive or len(rest) == 1:
                entries.append({"type": "file", "oid": git_blob_sha(data), "size": len(data), "path": p})
        if path and not entries and not folders:
            self._error(404, "EntryNotFound", f"{path} does not exist on {rev}")
            return
        dirs = [
            {"type": "directory", "oid": hashlib.sha1(f.encode()).hexdigest(), "size": 0, "path": f}
            for f in sorted(folders)
        ]
        self._json(200, dirs + entries)

    def resolve(self, query, repo: str, rev: str, path: str, head: bool = False) -> None:
        r = self._repo(repo, head)
        if r is None:
            return
        commit = self._commit_of(r, rev, head)
        if commit is None:
            return
        if path not in commit.files:
            self._error(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": commit.sha}, head)
            return
        data = commit.files[path]
        headers = {
            "X-Repo-Commit": commit.sha,
            "ETag": f'"{git_blob_sha(data)}"',
            "Content-Length": str(len(data)),
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
        }
        self._send(200, data, headers, head)

    def resolve_head(self, query, **kw) -> None:
        self.resolve(query, head=True, **kw)

    def agent_harnesses(self, query) -> None:
        self._json(200, {"standardEnvVars": [], "harnesses": {}})

    # --- write routes ----------------------------------------------------------------------------

    def _need_auth(self) -> bool:
        if self._authorized():
            return True
        if self.headers.get("Authorization"):
            self._error(401, None, "Invalid credentials in Authorization header")
        else:
            self._error(401, None, "You must be authenticated to write")
        return False

    def create_repo(self, query) -> None:
        payload = json.loads(self._body() or b"{}")
        if not self._need_auth():
            return
        repo_id = f"{payload.get('organization')}/{payload['name']}"
        if repo_id in self.hub.repos:
            url = f"{self.hub.url}/{repo_id}"
            self._json(409, {"error": "You already created this model repo", "url": url})
            return
        self.hub.create_repo(repo_id, payload.get("visibility") == "private" or bool(payload.get("private")))
        self._json(200, {"url": f"{self.hub.url}/{repo_id}", "name": repo_id, "id": repo_id})

    def create_branch(self, query, repo: str, branch: str) -> None:
        payload = json.loads(self._body() or b"{}")
        if not self._need_auth():
            return
        r = self._repo(repo)
        if r is None:
            return
        if branch in r.branches:
            self._error(409, None, f"Reference already exists: {branch}")
            return
        start = self._commit_of(r, payload.get("startingPoint") or "main")
        if start is not None:
            r.branches[branch] = start.sha
            self._json(200, {})

    def preupload(self, query, repo: str, rev: str) -> None:
        payload = json.loads(self._body() or b"{}")
        if not self._need_auth():
            return
        r = self._repo(repo)
        if r is None:
            return
        commit = self._commit_of(r, rev)
        if commit is None:
            return
        files = []
        for f in payload.get("files", []):
            old = commit.files.get(f["path"])
            files.append(
                {
                    "path": f["path"],
                    "uploadMode": "regular",
                    "shouldIgnore": False,
                    "oid": git_blob_sha(old) if old is not None else None,
                }
            )
        self._json(200, {"files": files, "commitOid": commit.sha})

    def commit(self, query, repo: str, rev: str) -> None:
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        if not self._need_auth():
            return
        r = self._repo(repo)
        if r is None:
            return
        base = self._commit_of(r, rev)
        if base is None:
            return
        header = next((x["value"] for x in lines if x["key"] == "header"), {})
        if header.get("parentCommit") and header["parentCommit"] != base.sha:
            self._error(412, None, "A commit has happened since. Please refresh and try again.")
            return
        files = dict(base.files)
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {p: d for p, d in files.items() if not p.startswith(prefix)}
            elif key != "header":
                self._error(400, None, f"the test hub does not support {key!r} operations")
                return
        branch, pr_url = rev, None
        if query.get("create_pr", ["0"])[0] == "1":
            r.prs += 1
            branch = f"refs/pr/{r.prs}"
            r.branches[branch] = base.sha
            pr_url = f"{self.hub.url}/{repo}/discussions/{r.prs}"
        elif rev not in r.branches:
            self._error(400, None, f"Invalid rev id: {rev} is not a branch")
            return
        new = self.hub._commit(r, branch, files, header.get("summary", ""))
        self._json(
            200,
            {
                "success": True,
                "commitOid": new.sha,
                "commitUrl": f"{self.hub.url}/{repo}/commit/{new.sha}",
                "pullRequestUrl": pr_url,
            },
        )

    def validate_yaml(self, query) -> None:
        content = json.loads(self._body() or b"{}").get("content", "")
        m = re.match(r"^---\s*\n(.*?\n)---\s*\n", content, re.S)
        try:
            meta = yaml.safe_load(m.group(1)) if m else {}
        except yaml.YAMLError as e:
            self._json(400, {"errors": [{"message": f"Invalid YAML: {e}"}], "warnings": []})
            return
        if m and not isinstance(meta, dict):
            self._json(400, {"errors": [{"message": "YAML metadata must be a mapping"}], "warnings": []})
            return
        warnings = [] if meta else [{"message": "empty or missing yaml metadata in repo card"}]
        self._json(200, {"errors": [], "warnings": warnings})


class _nolock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


ROUTES = {
    "GET": [
        (re.compile(rf"/api/models/{_REPO}/revision/(?P<rev>[^/]+)"), _Handler.repo_info),
        (re.compile(rf"/api/models/{_REPO}"), _Handler.repo_info),
        (re.compile(rf"/api/models/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.+))?"), _Handler.tree),
        (re.compile(r"/api/agent-harnesses"), _Handler.agent_harnesses),
        (re.compile(rf"/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)"), _Handler.resolve),
    ],
    "HEAD": [(re.compile(rf"/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)"), _Handler.resolve_head)],
    "POST": [
        (re.compile(r"/api/repos/create"), _Handler.create_repo),
        (re.compile(rf"/api/models/{_REPO}/branch/(?P<branch>[^/]+)"), _Handler.create_branch),
        (re.compile(rf"/api/models/{_REPO}/preupload/(?P<rev>[^/]+)"), _Handler.preupload),
        (re.compile(rf"/api/models/{_REPO}/commit/(?P<rev>[^/]+)"), _Handler.commit),
        (re.compile(r"/api/validate-yaml"), _Handler.validate_yaml),
    ],
}
