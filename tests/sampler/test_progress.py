"""Progress on stderr (issue 17): a bar on a terminal; without one, a line per 30 s or 10% of the
work, whichever is rarer, and one at the end (training, ganflow eval's sampling)."""

from __future__ import annotations

import io

import numpy as np

from ganflow.sampler.progress import LINE_FRACTION, LINE_SECONDS, Progress
from tests.conftest import ganflow


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(total: int, seconds_per_step: float, stream=None, **kw) -> list[str]:
    clock, out = Clock(), stream or io.StringIO()
    bar = Progress(total, stream=out, clock=clock, desc="gan ", **kw)
    for step in range(1, total + 1):
        clock.t += seconds_per_step
        bar.update(step, {"loss_d": 0.5})
    bar.update(total, force=True)
    bar.close()
    return out.getvalue().splitlines()


def test_lines_when_not_a_terminal_at_the_rarer_of_30_s_and_10_percent():
    assert (LINE_SECONDS, LINE_FRACTION) == (30.0, 0.1)
    # 1 s per step: 30 s come after 30 steps, 10% after 100 -> a line every 100 steps
    lines = _run(1000, 1.0)
    assert len(lines) == 10 and lines[0].startswith("gan 100/1,000 (10%) after 100 s")
    assert "loss_d 0.5" in lines[0] and "s left" in lines[0]
    assert lines[-1].startswith("gan 1,000/1,000 (100%) after 1000 s")
    # 10 s per step: 10% after 100 steps (1000 s), 30 s after 3 -> still every 100 steps
    assert len(_run(1000, 10.0)) == 10
    # 1 ms per step: 10% every 100 steps, but 30 s only after 30,000 steps -> none until the end
    lines = _run(100_000, 0.001)
    steps = [int(ln.split("/")[0].split()[-1].replace(",", "")) for ln in lines]
    assert len(steps) == 4 and np.allclose(steps, [30_000, 60_000, 90_000, 100_000], atol=1, rtol=0)
    assert len(_run(1000, 0.001)) == 1  # 1 s in all: only the final line


def test_a_bar_on_a_terminal_and_nothing_when_off():
    tty = Tty()
    _run(50, 1.0, stream=tty)
    text = tty.getvalue()
    assert text.startswith("\r") and "[####" in text and text.endswith("\n") and text.count("\n") == 1
    assert _run(50, 1.0, enabled=False) == []
    assert Progress(5, stream=Tty()).mode == "bar" and Progress(5, stream=io.StringIO()).mode == "lines"


def test_eval_prints_a_few_sampling_lines_when_piped(tiny_bundle):
    proc = ganflow("eval", str(tiny_bundle), "-n", "20000", "--metrics", "fid", "--device", "cpu")
    lines = proc.stderr.splitlines()
    assert lines and lines[-1].startswith("sampling 20,000/20,000 (100%)"), proc.stderr
    assert len(lines) <= 5 and all(ln.startswith("sampling ") for ln in lines)
    assert "fid20k_gaussians25-test" in proc.stdout


def test_train_prints_progress_lines_when_piped(tmp_path):
    """Not a terminal: the run still says how far it got (here only the final line: 60 steps)."""
    out = tmp_path / "run"
    args = ["--data", "gaussians25", "--out", str(out), "--steps", "60", "--batch-size", "32"]
    args += ["--width", "16", "--eval-every", "60", "--sample-every", "60", "--ckpt-every", "60"]
    proc = ganflow("train", "gan", *args, "--device", "cpu")
    progress = [ln for ln in proc.stderr.splitlines() if "60/60 (100%)" in ln]
    assert len(progress) == 1 and progress[0].startswith("gan "), proc.stderr
    assert np.isfinite(float(progress[0].split(" it/s")[0].rsplit(" ", 1)[-1].replace(",", "")))
