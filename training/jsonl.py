"""metrics.jsonl: one JSON object per log/evaluation line, truncated to the resume step."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ganflow.sampler.fsio import atomic_write_bytes


class JsonlLog:
    def __init__(self, path: str | Path, resume_step: int = 0) -> None:
        """Open for appending; on resume, drop lines logged after `resume_step`."""
        self.path = Path(path)
        if self.path.exists():
            keep = [
                line
                for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= resume_step
            ]
            atomic_write_bytes(self.path, "".join(f"{line}\n" for line in keep).encode(), parents=True)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record; NaN/inf become null so that every line is strict JSON."""
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
        with open(self.path, "a") as f:
            f.write(json.dumps(clean, sort_keys=True, allow_nan=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


def logged_values(path: str | Path, key: str, kind: str = "eval") -> dict[int, float]:
    """{step: value of `key`} over the `kind` records ("eval" or "train") of a metrics.jsonl (the last
    record of a step wins)."""
    out = {}
    for line in Path(path).read_text().splitlines():
        rec = json.loads(line) if line.strip() else {}
        if rec.get("kind") == kind and rec.get(key) is not None:
            out[int(rec["step"])] = float(rec[key])
    return out
