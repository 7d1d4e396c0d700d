"""Atomic writes for the torch-free side: temporary file in the same folder, fsync, rename.

Temporary names carry their owner (`.NAME.HOST~PID.RANDOM.tmp`), so that a later run can remove
what a killed run left behind (same host, process gone) without touching the temporary files of
live workers, e.g. other shards writing into the same folder.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9_-]+)~(?P<pid>\d+)\.[^.]*\.tmp$")


def owner_tag() -> str:
    return f"{_HOST}~{os.getpid()}"


def is_temp(path: Path) -> bool:
    """Whether `path` is a temporary file or folder of an atomic write (anyone's)."""
    return _TEMP.match(path.name) is not None


def target_of(path: str | Path) -> Path | None:
    """The file or folder an atomic write was making when `path` (its temporary file or folder, or
    a file inside that folder) is in the way, e.g. in an OSError; None for other paths."""
    p = Path(path)
    for q in (p, *p.parents):
        m = _TEMP.match(q.name)
        if m:
            return q.parent / m["name"]
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the temporary files/folders in `folder` left by dead processes of this host."""
    removed = []
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        m = _TEMP.match(p.name)
        if m and m["host"] == _HOST and not _alive(int(m["pid"])) and int(m["pid"]) != os.getpid():
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def make_temp_dir(beside: Path) -> Path:
    """A private temporary folder next to `beside` (same filesystem, so renames are atomic)."""
    return Path(tempfile.mkdtemp(dir=beside.parent, prefix=f".{beside.name}.{owner_tag()}.", suffix=".tmp"))


def temp_file_beside(path: Path) -> Path:
    """An empty private temporary file next to `path`, named for its owner (see the module doc)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{owner_tag()}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def publish_file(tmp: Path, path: Path) -> None:
    """fsync `tmp`, give it the usual permissions (mkstemp makes 0600 files), rename it to `path`."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, 0o666 & ~umask())
    os.replace(tmp, path)


def publish_dir(tmp: Path, out: Path) -> None:
    """fsync every file of the folder `tmp` and rename it to `out`; an existing `out` is swapped
    aside first and removed after, so `out` is always the old folder or the whole new one."""
    for f in tmp.rglob("*"):
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes 0700 folders
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, parents: bool = False) -> None:
    """Readers see the old file or the whole new one, never a part. A missing folder is refused
    (a user's typo) unless `parents` (a program's own layout, e.g. a run folder) creates it."""
    path = Path(path)
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        from ganflow.sampler.errors import InputError

        raise InputError(f"folder {path.parent} does not exist: create it or choose another path")
    tmp = temp_file_beside(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        publish_file(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_writable(path: str | os.PathLike) -> None:
    """Fail now (InputError, or the OSError that writing would raise) if `path` could not be
    written atomically later: its folder must exist and take a temporary file. For commands that
    compute for a while before they write (ganflow eval --out)."""
    path = Path(path)
    if not path.parent.is_dir():
        from ganflow.sampler.errors import InputError

        raise InputError(f"folder {path.parent} does not exist: create it or choose another path")
    if path.is_dir():
        from ganflow.sampler.errors import InputError

        raise InputError(f"{path} is a folder: choose a file name")
    temp_file_beside(path).unlink()


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
