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
_TEMP = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_-]+)~(?P<pid>\d+)\.[^.]*\.tmp$")


def owner_tag() -> str:
    return f"{_HOST}~{os.getpid()}"


def is_temp(path: Path) -> bool:
    """Whether `path` is a temporary file or folder of an atomic write (anyone's)."""
    return _TEMP.match(path.name) is not None


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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Readers see the old file or the whole new one, never a part."""
    path = Path(path)
    if not path.parent.is_dir():
        from ganflow.sampler.errors import InputError

        raise InputError(f"folder {path.parent} does not exist: create it or choose another path")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{owner_tag()}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~umask())  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
