"""A full disk (simulated with RLIMIT_FSIZE: writes past the limit fail with EFBIG, as ENOSPC
would) gives a one-line error and leaves no partial output, for sample, export and train."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from ganflow.sampler.fsio import is_temp

LIMIT = 200_000  # bytes: enough for small files (manifests, checkpoints of tiny nets), not for more


def _limited():
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ganflow.sampler.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        preexec_fn=_limited,
        timeout=300,
    )


def _assert_clean_failure(proc, folder, absent: list[str]) -> None:
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    assert "too large" in err or "space" in err, err
    for name in absent:
        assert not (folder / name).exists(), name
    assert not [p for p in folder.rglob("*") if is_temp(p)]


@pytest.mark.parametrize("out", ["x.npz", "x.npy"])
def test_sample_to_a_full_disk(tiny_bundle, tmp_path, out):
    proc = _run("sample", str(tiny_bundle), "-n", "200000", "--out", out, "--device", "cpu", cwd=tmp_path)
    _assert_clean_failure(proc, tmp_path, [out])


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs (needs root; skipped where mounting is not allowed)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)]
    if subprocess.run(mount, capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (not root?)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_png_folder_on_a_full_disk_resumes_after_space_is_freed(mnist_bundle, small_disk, tmp_path):
    """ENOSPC for real: the folder keeps only whole images, and once there is room the same
    command finishes the run, identical to one that never failed."""
    args = ["sample", str(mnist_bundle), "-n", "2000", "--device", "cpu"]
    ref = subprocess.run([sys.executable, "-m", "ganflow.sampler.cli", *args, "--out", str(tmp_path / "ref")])
    assert ref.returncode == 0
    out = small_disk / "imgs"
    cmd = [sys.executable, "-m", "ganflow.sampler.cli", *args, "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    err = proc.stderr.strip()
    assert proc.returncode != 0 and err.startswith("error: ") and "\n" not in err, err
    assert "No space left" in err, err
    from ganflow.sampler.images import decode_png

    written = sorted(out.glob("*.png"))
    assert 0 < len(written) < 2000
    for p in written:
        assert decode_png(p.read_bytes()).shape == (28, 28)
    assert not [p for p in small_disk.rglob("*") if is_temp(p)]
    subprocess.run(["mount", "-o", "remount,size=32m", str(small_disk)], check=True)
    done = subprocess.run(cmd)
    assert done.returncode == 0
    names = sorted(p.name for p in (tmp_path / "ref").iterdir())
    assert sorted(p.name for p in out.iterdir()) == names
    for name in names:
        assert (out / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name


def test_export_to_a_full_disk(mnist_bundle, tmp_path):
    run = mnist_bundle.parent / "run"  # its ONNX graphs and weights exceed the limit
    proc = _run("export", str(run), "--out", "bundle", cwd=tmp_path)
    _assert_clean_failure(proc, tmp_path, ["bundle"])


def test_train_on_a_full_disk(tmp_path):
    proc = _run(
        "train", "gan", "--data", "gaussians25", "--out", "run", "--steps", "20", "--width", "512",
        "--ckpt-every", "10", "--eval-every", "1000", "--sample-every", "1000", "--no-progress", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert not [p for p in tmp_path.rglob("*") if is_temp(p) or p.name.endswith(".tmp")]
