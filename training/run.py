"""The run scaffold every trainer shares: folder, resume, log, progress, cadence, checkpoints."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import torch
from torch import nn

from ganflow.models import build_component, load_checkpoint, save_checkpoint
from ganflow.sampler.errors import NumericsError
from ganflow.sampler.fsio import atomic_write_bytes, remove_stale_temps
from ganflow.sampler.version import __version__
from ganflow.training.distributed import Dist, setup
from ganflow.training.jsonl import JsonlLog
from ganflow.training.progress import Progress
from ganflow.training.state import load_state, save_state

BEST = "best"  # run_dir/best/: the checkpoint with the lowest selection score so far
SAMPLES = "samples"  # run_dir/samples/step_XXXXXX.png


class Options(Protocol):
    """A trainer's frozen options: round-trips through a dict, and has a step count."""

    steps: int

    def to_dict(self) -> dict[str, Any]: ...

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Any: ...


OptionsT = TypeVar("OptionsT", bound=Options)


@dataclass(frozen=True)
class Cadence:
    """Every how many steps a trainer logs, evaluates, draws a figure and checkpoints (None: never).
    Evaluation, figure and checkpoint also happen at the last step."""

    log_every: int | None = None
    eval_every: int | None = None
    sample_every: int | None = None
    ckpt_every: int | None = None


@dataclass(frozen=True)
class Due:
    """What rank 0 does after a step; on the other ranks, nothing (they wait at checkpoints)."""

    log: bool = False
    eval: bool = False
    figure: bool = False
    checkpoint: bool = False
    final: bool = False


def _due(step: int, total: int, c: Cadence) -> Due:
    """What `c` asks for once `step` of `total` steps are done."""
    final = step == total

    def at(every: int | None) -> bool:
        return every is not None and (step % every == 0 or final)

    log = c.log_every is not None and step % c.log_every == 0
    return Due(log, at(c.eval_every), at(c.sample_every), at(c.ckpt_every), final)


class Run:
    """One training run in `run_dir`, on this process's device (torchrun: rank 0 writes, the others
    wait for it at every checkpoint).

    A trainer opens the run (on resume `saved` and `weights` hold the run's meta and weights and
    `options`/`configs` its options), builds its networks, hands them to `begin` (which restores
    them on resume), sets the run's `meta` with `describe`, then loops: `for step in run.steps(...)`:
    one iteration, `due = run.after_step(stats)`, then what is due (`log`, `figure`, `keep_best`,
    `checkpoint`). `step` counts the steps done: the resume step, then the step each iteration
    completes."""

    def __init__(self, run_dir: str | Path, device: str = "auto", resume: bool = False) -> None:
        self.dir, self.resume = Path(run_dir), resume
        self.dist: Dist = setup(device)
        self.saved: dict[str, Any] = {}
        self.weights: dict[str, dict[str, torch.Tensor]] = {}
        if resume:
            self.saved, self.weights = load_checkpoint(self.dir)
        self.meta: dict[str, Any] = {}
        self.step = 0
        self.best, self.best_step = math.inf, 0
        self.t0 = time.perf_counter()

    # --- before the loop ------------------------------------------------------------------------
    def options(self, cls: type[OptionsT], key: str, given: OptionsT | None) -> OptionsT | None:
        """On resume the run's own options (`cls` from meta[key]) with `given.steps`; else `given`."""
        if not self.resume:
            return given
        saved = cls.from_dict(self.saved[key])
        return cls.from_dict({**saved.to_dict(), "steps": (given or saved).steps})

    def configs(
        self, components: dict[str, Any] | None, cls: type[OptionsT], key: str, given: OptionsT | None
    ) -> tuple[dict[str, Any], OptionsT]:
        """(component configs, options): the run's own on resume (`given.steps` may extend it)."""
        components = self.saved["components"] if self.resume else components
        config = self.options(cls, key, given)
        if components is None or config is None:
            raise ValueError("a new run needs components and config")
        return components, config

    def saved_modules(self, names: Iterable[str] | None = None) -> dict[str, nn.Module]:
        """The resumed run's components (all, or `names`), rebuilt with their weights, in eval mode."""
        comps = self.saved["components"]
        out = {}
        for name in comps if names is None else names:
            out[name] = build_component(name, comps[name])
            out[name].load_state_dict(self.weights[name])
            out[name].eval()
        return out

    def local_batch(self, batch_size: int, error: type[Exception] = ValueError) -> int:
        """This rank's share of a global batch of `batch_size`."""
        if batch_size % self.dist.world:
            raise error(f"batch_size {batch_size} is not divisible by {self.dist.world} processes")
        return batch_size // self.dist.world

    def begin(
        self,
        modules: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
        rngs: dict[str, torch.Generator],
        train_only: dict[str, nn.Module] | None = None,
        samples: bool = True,
        best_by: str | None = None,
    ) -> int:
        """Take what a checkpoint holds: `modules` (model.safetensors), `optimizers`, `rngs` and the
        `train_only` modules (state.safetensors); the modules move to this rank's device. On resume,
        load them all and check that weights and state are of one step. Then align the ranks' weights;
        rank 0 makes the folder and opens the log.
        `best_by`: the metric run_dir/best was selected by (else its meta's "selected_by").
        Returns the step the run starts at."""
        self.modules, self.optimizers, self.rngs = modules, optimizers, rngs
        self.train_only = train_only or {}
        for m in (*modules.values(), *self.train_only.values()):
            m.to(self.dist.device)
        if self.resume:
            for name, m in modules.items():
                m.load_state_dict(self.weights[name])
            self.step = load_state(self.dir, optimizers, rngs, self.train_only)
            if self.step != self.saved["summary"]["step"]:
                raise ValueError(
                    f"{self.dir}: state.safetensors is at step {self.step} but "
                    f"model.safetensors at {self.saved['summary']['step']}; delete one to resume"
                )
            self.best, self.best_step = _best_so_far(self.dir / BEST, best_by)
        self.dist.sync_parameters(*modules.values(), *self.train_only.values())
        if self.dist.main:
            self.dir.mkdir(parents=True, exist_ok=True)
            for folder in (self.dir, self.dir / BEST, self.dir / SAMPLES):
                remove_stale_temps(folder)  # what a run killed mid-write left behind
            if samples:
                (self.dir / SAMPLES).mkdir(exist_ok=True)
            self.log_file = JsonlLog(self.dir / "metrics.jsonl", resume_step=self.step)
        return self.step

    def describe(self, meta: dict[str, Any], **summary: Any) -> None:
        """Set `meta`: the ganflow version, `meta` and the summary {"step", "metrics": {}, **summary}
        at the start step (each checkpoint rewrites the summary)."""
        summary = {"step": self.step, "metrics": {}, **summary}
        self.meta = {"ganflow_version": __version__, **meta, "summary": summary}

    # --- the loop -------------------------------------------------------------------------------
    def steps(
        self, total: int, cadence: Cadence, progress: bool | None = False, desc: str = ""
    ) -> Iterator[int]:
        """The 0-based steps from the resume step to `total`, with a progress line on rank 0."""
        self.total, self.cadence = total, cadence
        self.bar = Progress(total, self.step, enabled=progress if self.dist.main else False, desc=desc)
        self.t0 = time.perf_counter()
        for step in range(self.step, total):
            self.step = step + 1
            yield step
        self.bar.update(total, force=True)
        self.bar.close()

    @property
    def elapsed(self) -> float:
        """Seconds since the loop started (in this process)."""
        return time.perf_counter() - self.t0

    def after_step(self, stats: dict[str, float] | None = None) -> Due:
        """After an iteration: rank 0 updates the progress line with `stats`, writes them as the
        train log line when one is due and returns what else is due; the other ranks wait at
        checkpoint steps and are due nothing."""
        due = _due(self.step, self.total, self.cadence)
        if not self.dist.main:
            if due.checkpoint:
                self.dist.barrier()
            return Due()
        self.bar.update(self.step, stats)
        if due.log and stats is not None:
            self.log("train", stats, timed=True)
        return due

    def descend(self, loss: torch.Tensor, opt: torch.optim.Optimizer, module: nn.Module) -> None:
        """One step of `opt` on the scalar `loss`, with `module`'s gradients averaged over the ranks.
        A loss that is not finite (on any rank) stops the run before the step: the weights stay
        finite and the last checkpoint is the run's."""
        opt.zero_grad(set_to_none=True)
        loss.backward()
        mean = self.dist.average_gradients(module, loss)
        if not math.isfinite(mean):
            name = next((k for k, m in self.modules.items() if m is module), type(module).__name__)
            kept = (
                f"{self.dir} keeps its last checkpoint (step {self.meta['summary']['step']})"
                if (self.dir / "config.json").is_file()
                else "no checkpoint was written"
            )
            raise NumericsError(
                f"training diverged: the {name}'s loss is {mean} at step {self.step}; {kept}; "
                "train again with lower learning rates (e.g. --lr-d, --lr-g) or another loss"
            )
        opt.step()

    # --- rank 0's writes ------------------------------------------------------------------------
    def log(self, kind: str, record: dict[str, Any], timed: bool = False) -> None:
        """One metrics.jsonl line {"step", "kind", ("time_s",) **record} at the current step."""
        self.log_file.write(
            {"step": self.step, "kind": kind, **({"time_s": self.elapsed} if timed else {}), **record}
        )

    def figure(self, png: bytes) -> None:
        """samples/step_XXXXXX.png of the current step."""
        atomic_write_bytes(self.dir / SAMPLES / f"step_{self.step:06d}.png", png, parents=True)

    def checkpoint(self, summary: dict[str, Any]) -> None:
        """state.safetensors, then model.safetensors + config.json with meta["summary"] = {"step",
        **summary} (training/state.py keeps the previous state until the weights are written, so a
        kill in between loses one interval); then the other ranks may go on."""
        self.meta["summary"] = {"step": self.step, **summary}
        save_state(self.dir, self.step, self.optimizers, self.rngs, self.train_only)
        save_checkpoint(self.dir, self.modules, self.meta)
        self.dist.barrier()

    def keep_best(self, score: float, summary: dict[str, Any], **meta: Any) -> bool:
        """Write run_dir/best (no state) when `score` is finite and lower than the best so far; its
        meta is the run's with summary {"step", **summary} and `meta` added."""
        if not (math.isfinite(score) and score < self.best):
            return False
        self.best, self.best_step = score, self.step
        best_meta = {**self.meta, "summary": {"step": self.step, **summary}, **meta}
        save_checkpoint(self.dir / BEST, self.modules, best_meta)
        return True


def _best_so_far(best_dir: Path, key: str | None) -> tuple[float, int]:
    """(score, step) of the checkpoint in best_dir, (inf, 0) when there is none yet."""
    try:
        meta = json.loads((best_dir / "config.json").read_text())
        score = meta["summary"]["metrics"][key or meta["selected_by"]]
        return float(score), int(meta["summary"]["step"])
    except (OSError, KeyError, TypeError, ValueError):
        return math.inf, 0
