"""metrics.jsonl: one JSON object per log/evaluation line, truncated to the resume step."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ganflow.models.atomic import atomic_write_bytes


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
            atomic_write_bytes(self.path, "".join(f"{line}\n" for line in keep).encode())

    def write(self, record: dict[str, Any]) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
