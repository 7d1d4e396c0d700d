"""What a newcomer reads (issue 17): help texts whole, notes only when useful, `info` in plain
lines with one verdict, readable numbers, errors that name the user's path, early checks, Ctrl-C."""

from __future__ import annotations

import errno
import json
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import typer.main
from typer.testing import CliRunner

from ganflow.sampler import runtime
from ganflow.sampler.bundle import METHOD_DEFAULTS
from ganflow.sampler.cli import report
from ganflow.sampler.cli.main import app
from ganflow.sampler.errors import InputError
from ganflow.sampler.fsio import is_temp
from tests.conftest import ganflow


def _commands(cmd, path=()):
    yield path, cmd
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


def test_every_help_text_shows_whole():
    """Rich reads "[default: ...]" as markup and drops it unless escaped; a command's one-line
    summary (its docstring's first paragraph) must be one line, or the command list breaks it."""
    runner, problems = CliRunner(), []
    for path, cmd in _commands(typer.main.get_command(app)):
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"}).output
        if "\n" in (cmd.help or "").strip().split("\n\n")[0]:
            problems.append(f"{path}: summary over several lines")
        if "\\[" in shown:
            problems.append(f"{path}: a backslash shows")
        for p in cmd.params:
            problems += [
                f"{path} {p.name}: {s} hidden"
                for s in re.findall(r"\[[^\]]*\]", p.help or "")
                if s not in shown
            ]
    assert problems == []
    root = runner.invoke(app, ["--help"], env={"COLUMNS": "400"}).output
    train = [ln for ln in root.splitlines() if re.search(r"│ train ", ln)]
    assert len(train) == 1 and "needs PyTorch" in train[0] and "needs ganflow)" not in root


def test_sample_help_names_the_defaults_of_the_single_source():
    shown = CliRunner().invoke(app, ["sample", "--help"], env={"COLUMNS": "400"}).output
    for flag, (method, key) in {
        "--dg-eta": ("dgflow", "eta"),
        "--dg-steps": ("dgflow", "steps"),
        "--rs-m": ("latent-rs", "m"),
    }.items():
        line = next(ln for ln in shown.splitlines() if f"{flag} " in ln)
        assert f"[default: from the bundle, {METHOD_DEFAULTS[method][key]:g}]" in line, line


@pytest.mark.parametrize("verbose", [False, True])
def test_the_cuda_note_only_with_verbose_and_once(tiny_bundle, tmp_path, verbose, monkeypatch, capsys):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has the CUDA provider")
    args = ["-v"] if verbose else []
    proc = ganflow(*args, "sample", str(tiny_bundle), "-n", "10", "--out", str(tmp_path / "s.npz"))
    assert proc.stderr.count("CUDA unavailable") == int(verbose), proc.stderr
    monkeypatch.setattr(report, "VERBOSE", verbose)
    monkeypatch.setattr(runtime, "_ANNOUNCED", set())
    rep = {"samples": 12345, "out": "x.npz", "method": "plain", "provider": "CPU", "samples_per_s": 12345.6}
    for _ in range(2):  # a demo reports twice in one process
        report.echo_report({**rep, "device_note": runtime.cuda_note("no CUDA provider")})
    out = capsys.readouterr()
    assert out.err.count("CUDA unavailable") == int(verbose)
    assert "wrote 12,345 samples" in out.out and "(12,346 samples/s)" in out.out  # thousands separators
    report.echo_report({**rep, "device_note": runtime.cuda_note("x") + "; fp16 graphs run on the CPU"})
    assert capsys.readouterr().err.strip().splitlines()[-1] == "note: fp16 graphs run on the CPU"


def test_info_prints_plain_lines_and_one_verdict(tiny_bundle, tmp_path):
    proc = ganflow("info", str(tiny_bundle))
    lines = proc.stdout.strip().splitlines()
    assert not re.search(r"[{}']", proc.stdout), proc.stdout  # no Python reprs
    n = len(json.loads(ganflow("info", str(tiny_bundle), "--json").stdout)["integrity"])
    assert lines[-1] == f"ok: {n} files verified (sha256)"
    assert sum(ln.startswith(("ok:", "TAMPERED", "integrity")) for ln in lines) == 1
    assert any(ln.startswith("defaults    ") for ln in lines)
    bad = tmp_path / "b"
    shutil.copytree(tiny_bundle, bad)
    (bad / "generator" / "model.onnx").write_bytes(b"not onnx")
    proc = ganflow("info", str(bad), check=False)
    last = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 1 and last.startswith("TAMPERED: generator/model.onnx (sha256 mismatch);")
    assert last.endswith("— re-download or re-export") and f"{n - 1} of {n} files ok" in last


def test_os_errors_name_the_users_path_not_the_temporary_file(tmp_path):
    for temp in (".s.npz.host~12.ab_c9.tmp", ".s.npz.host~12.ab_c9.tmp/samples.npy"):
        msg = report.os_error_message(OSError(errno.EROFS, "Read-only file system", f"/data/{temp}"))
        assert msg.startswith("Read-only file system (/data/s.npz): the filesystem is read-only"), msg
    msg = report.os_error_message(OSError(errno.EACCES, "Permission denied", "/data/x.json"))
    assert "(/data/x.json)" in msg


def test_eval_checks_its_out_before_it_computes(tiny_bundle, tmp_path, monkeypatch):
    import ganflow.sampler.evaluate as evaluate_mod

    monkeypatch.setattr(
        evaluate_mod, "evaluate", lambda *a, **k: pytest.fail("computed before checking --out")
    )
    runner = CliRunner()
    result = runner.invoke(app, ["eval", str(tiny_bundle), "--out", str(tmp_path / "no" / "e.json")])
    assert isinstance(result.exception, InputError) and "does not exist" in str(result.exception)

    def read_only(path):
        raise OSError(errno.EROFS, "Read-only file system", str(path.parent / f".{path.name}.h~1.x.tmp"))

    monkeypatch.setattr("ganflow.sampler.fsio.temp_file_beside", read_only)
    result = runner.invoke(app, ["eval", str(tiny_bundle), "--out", str(tmp_path / "e.json")])
    assert isinstance(result.exception, OSError)
    assert f"({tmp_path / 'e.json'})" in report.os_error_message(result.exception)


def _interrupt(cmd: list[str], ready) -> subprocess.CompletedProcess:
    """Start `ganflow cmd`, wait until ready() (at most 120 s), send Ctrl-C (SIGINT), wait."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganflow.sampler.cli", *cmd],
        stderr=subprocess.PIPE,
        text=True,
        # a suite started in the background (`cmd &`, nohup, some CI runners) passes SIGINT on as
        # ignored, and Python then never raises KeyboardInterrupt: give the child a terminal's default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not ready() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:  # never leave a 5M-sample run behind, whatever failed above
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, "", err)


def test_ctrl_c_says_nothing_was_written(tiny_bundle, tmp_path):
    out = tmp_path / "s.npz"
    cmd = [
        "sample",
        str(tiny_bundle),
        "-n",
        "5000000",
        "--method",
        "dgflow",
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    proc = _interrupt(cmd, lambda: any(is_temp(p) for p in tmp_path.iterdir()))
    assert proc.returncode == 130 and proc.stderr.strip() == "interrupted, nothing written", proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_in_a_png_folder_says_how_many_images_are_there(mnist_bundle, tmp_path):
    out = tmp_path / "imgs"
    cmd = [
        "sample",
        str(mnist_bundle),
        "-n",
        "200000",
        "--out",
        str(out),
        "--device",
        "cpu",
        "--batch-size",
        "16",
    ]
    proc = _interrupt(cmd, lambda: out.is_dir() and len(list(out.glob("*.png"))) >= 20)
    have = len(list(out.glob("*.png")))
    want = f"interrupted; {have:,} of 200,000 images are in {out}: rerun the same command to resume"
    assert proc.returncode == 130 and proc.stderr.strip() == want, proc.stderr


def test_the_run_folder_note_names_the_last_checkpoint(tmp_path):
    note = report.run_folder_note(tmp_path)
    assert note() == f"interrupted before the first checkpoint: {tmp_path} holds no weights yet"
    (tmp_path / "config.json").write_text(json.dumps({"summary": {"step": 500}}))
    assert (
        note() == f"interrupted; {tmp_path} keeps its checkpoint of step 500: rerun with --resume to continue"
    )
