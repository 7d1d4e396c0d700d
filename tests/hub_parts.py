"""The fake Hub's parts: its repository model (commits, branches, git blob ids) and the JSON/HTTP
plumbing of its request handler (tests/hub_server.py has the routes)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

_SHA = re.compile(r"[0-9a-f]{40}")
GITATTRIBUTES = (
    b"*.onnx filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
)


def git_blob_sha(data: bytes) -> str:
    """The git blob id of `data` (what the Hub reports as a regular file's oid and ETag)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    sha: str
    parent: str | None
    message: str
    files: dict[str, bytes]
    date: str


@dataclass
class Repo:
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    prs: int = 0

    def resolve(self, rev: str) -> Commit | None:
        if rev in self.branches:
            return self.commits[self.branches[rev]]
        return self.commits.get(rev) if _SHA.fullmatch(rev) else None


class JsonHandler(BaseHTTPRequestHandler):
    """Send bytes, JSON or a Hub-style error (X-Error-Code); read a plain or chunked body."""

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, code: int, body: bytes = b"", headers: dict | None = None, head: bool = False) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def _json(self, code: int, obj, headers: dict | None = None, head: bool = False) -> None:
        body = json.dumps(obj).encode()
        self._send(code, body, {"Content-Type": "application/json", **(headers or {})}, head)

    def _error(self, code: int, error_code: str | None, message: str, extra: dict | None = None, head=False):
        headers = {"X-Error-Message": message, **(extra or {})}
        if error_code:
            headers["X-Error-Code"] = error_code
        self._json(code, {"error": message}, headers, head)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))
