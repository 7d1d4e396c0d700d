"""Your own data from the command line: a point cloud (.npy), an RGB image folder and an
[N, H, W, C] uint8 array, each through train -> export -> sample -> eval; every trainer on it;
resume keeps the split; bad files are refused in one line without a traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganflow.sampler.data import DataSource, load_dataset
from tests.conftest import ganflow
from tests.sampler.test_own_data import png_folder, ring

pytest.importorskip("PIL")
FAST = ["--batch-size", "16", "--log-every", "5", "--eval-every", "10", "--sample-every", "10"]
FAST += ["--ckpt-every", "10", "--no-progress"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder with ring.npy (8 Gaussians in 2-D), c8.npy (their centers) and GANFLOW_CACHE in it."""
    root = tmp_path_factory.mktemp("own")
    x, centers = ring(n=2000, std=0.05)
    np.save(root / "ring.npy", x)
    np.save(root / "c8.npy", centers)
    return root


def env(work) -> dict[str, str]:
    return {"GANFLOW_CACHE": str(work / "cache")}


def run(work, *args, check=True):
    return ganflow(*[str(a) for a in args], env=env(work), check=check)


def train(work, trainer: str, data, out, options: str = "", check: bool = True):
    """`ganflow train <trainer> --data data --out out <options> <FAST>`."""
    return run(work, "train", trainer, "--data", data, "--out", out, *options.split(), *FAST, check=check)


def export_sample_eval(work, run_dir, name, *eval_args, png: bool = False) -> dict:
    """Export `run_dir`, sample 64 from the bundle to .npz (and 16 to a .png grid), evaluate it;
    the eval JSON."""
    bundle = work / f"{name}-bundle"
    run(work, "export", run_dir, "--out", bundle)
    run(work, "sample", bundle, "-n", "64", "--out", work / f"{name}.npz", "--device", "cpu")
    if png:
        run(work, "sample", bundle, "-n", "16", "--out", work / f"{name}.png", "--device", "cpu")
    assert np.isfinite(np.load(work / f"{name}.npz")["samples"]).all()
    out = work / f"{name}-eval.json"
    run(work, "eval", bundle, "-n", "200", "--device", "cpu", "--out", out, *eval_args)
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def ring_run(work):
    train(work, "gan", work / "ring.npy", work / "ring-run", "--steps 20")
    return work / "ring-run"


def test_point_cloud_end_to_end(work, ring_run):
    meta = json.loads((ring_run / "config.json").read_text())
    src = meta["data"]["source"]
    assert meta["data"]["dataset"] == "ring" and meta["data"]["range"] is None
    assert src["path"] == str((work / "ring.npy").resolve()) and src["layout"] == "vector"
    assert (src["test_fraction"], src["split_seed"], src["split"]) == (0.1, 0, "holdout")
    centers = ("--centers", work / "c8.npy")
    result = export_sample_eval(work, ring_run, "ring", "--data", work / "ring.npy", *centers)
    manifest = json.loads((work / "ring-bundle" / "config.json").read_text())
    assert manifest["data"]["source"]["sha256"] == src["sha256"] and "path" not in manifest["data"]["source"]
    assert result["data_is_training_data"] and result["data_sha256"] == src["sha256"]
    names = set(result["metrics"])
    assert {"fid200_ring-test", "precision200_k3_ring-test", "coverage200_k5_ring-test"} <= names
    assert {"hq_rate200_c8", "modes_covered200_c8", "kl_modes200_c8"} <= names
    assert result["modes"]["std"] == pytest.approx(0.05, rel=0.2)
    # a bundle of your own data needs --data; the file is read as in training (its split)
    proc = run(work, "eval", work / "ring-bundle", "-n", "50", check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "pass --data" in proc.stderr


def test_compare_and_mh_gan_read_your_data_as_trained(work, ring_run):
    """compare and MH-GAN's real side take a bundle of your own data like eval does: --data is
    required (it has no name to look up), and the file is read with the run's own split."""
    bundle, report = work / "ring-cmp-bundle", work / "ring-cmp"
    run(work, "export", ring_run, "--out", bundle)
    proc = run(work, "compare", bundle, "-n", "20", "--seeds", "1", "--out", report, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "pass --data" in proc.stderr
    ring = work / "ring.npy"
    run(
        work, "compare", bundle, "--data", ring, "-n", "40", "--seeds", "2", "--methods", "plain,mh-gan",
        "--set", "mh_k=4", "--set", f"mh_data={ring}", "--device", "cpu", "--out", report,
    )  # fmt: skip
    result = json.loads((report / "report.json").read_text())
    assert result["real_n"] == 200  # the run's held-out 10% of 2000 points, not a new split
    assert set(result["summary"]) == {"plain", "mh-gan"}


def test_resume_on_npy_keeps_the_split(work, ring_run):
    before = json.loads((ring_run / "config.json").read_text())["data"]
    train(work, "gan", work / "ring.npy", ring_run, "--steps 30 --resume")
    after = json.loads((ring_run / "config.json").read_text())
    assert after["summary"]["step"] == 30 and after["data"] == before
    saved = DataSource.from_dict(before["source"]).options()
    again = load_dataset(str(work / "ring.npy"), split="test", options=saved)
    np.testing.assert_array_equal(again.x, load_dataset(str(work / "ring.npy"), split="test").x)
    proc = train(
        work, "gan", work / "ring.npy", ring_run, "--steps 40 --resume --test-fraction 0.3", check=False
    )
    assert proc.returncode == 2 and "differs from the run's 0.1" in proc.stderr


def test_split_options_are_stored_and_reused(work):
    out, bundle = work / "ring-tf", work / "ring-tf-bundle"
    train(work, "gan", work / "ring.npy", out, "--steps 10 --test-fraction 0.25")
    assert json.loads((out / "config.json").read_text())["data"]["source"]["test_fraction"] == 0.25
    run(work, "export", out, "--out", bundle)
    run(work, "eval", bundle, "--data", work / "ring.npy", "-n", "100", "--out", work / "tf.json")
    assert json.loads((work / "tf.json").read_text())["real_n"] == 500  # the bundle's 25% of 2000


@pytest.mark.slow
def test_rgb_image_folder_end_to_end(work):
    folder = png_folder(work / "photos", n=64, size=(8, 8))
    train(work, "gan", folder, work / "photos-run", "--steps 10 --width 8")
    meta = json.loads((work / "photos-run" / "config.json").read_text())
    assert meta["data"]["shape"] == [3, 8, 8] and meta["data"]["range"] == [-1.0, 1.0]
    assert meta["components"]["generator"]["arch"] == "dcgan"
    assert (work / "photos-run" / "samples" / "step_000010.png").is_file()
    result = export_sample_eval(work, work / "photos-run", "photos", "--data", folder, png=True)
    assert {"fid200_photos-test-pixels", "precision200_k3_photos-test-pixels"} <= set(result["metrics"])
    # Flow-GAN on the lazily read folder (its validation tail comes from the lazy array)
    fg = "--steps 4 --val-size 8 --val-n 8 --hidden 16 --eval-samples 16"
    train(work, "flowgan", folder, work / "photos-fg", fg)
    assert json.loads((work / "photos-fg" / "config.json").read_text())["summary"]["step"] == 4


@pytest.mark.slow
def test_nhwc_uint8_array_end_to_end(work):
    a = np.random.default_rng(0).integers(0, 256, (80, 12, 12, 3), dtype=np.uint8)
    a[:, :6] = 255  # structure: a white top half
    np.save(work / "tiles.npy", a)
    train(work, "gan", work / "tiles.npy", work / "tiles-run", "--steps 10 --width 8")
    src = json.loads((work / "tiles-run" / "config.json").read_text())["data"]["source"]
    assert (src["layout"], src["range"]) == ("nhwc", "0,255")
    args = ("--data", work / "tiles.npy", "--metrics", "fid,prdc")
    result = export_sample_eval(work, work / "tiles-run", "tiles", *args)
    assert "fid200_tiles-test-pixels" in result["metrics"]
    samples = np.load(work / "tiles.npz")["samples"]
    assert samples.shape == (64, 3, 12, 12) and samples.min() >= -1 and samples.max() <= 1


@pytest.mark.slow
def test_every_trainer_takes_your_data(work, ring_run):
    ring = work / "ring.npy"
    fis = "--steps 4 --refit-every 2 --n-aug 64 --flow-layers 2 --flow-hidden 16"
    train(work, "fisgan", ring, work / "ring-fis", fis)
    train(work, "flowgan", ring, work / "ring-fg", "--steps 4 --val-size 50 --val-n 50 --hidden 16")
    # over a base model: --data defaults to the base's own file
    small = "--steps 4 --batch-size 16 --ckpt-every 4".split()
    run(work, "train", "reweight", "--base", ring_run, "--out", work / "ring-rw", *small, "--eval-every", 4)
    run(work, "train", "corrector", "--base", ring_run, "--out", work / "ring-c", *small)
    for name in ("ring-fis", "ring-fg", "ring-rw", "ring-c"):
        meta = json.loads((work / name / "config.json").read_text())
        assert meta["data"]["source"]["name"] == "ring.npy", name
    result = export_sample_eval(work, work / "ring-rw", "ring-rw", "--data", ring, "--method", "latent-rs")
    assert "fid200_ring-test" in result["metrics"]
    np.save(work / "other.npy", np.zeros((100, 2), np.float32))
    other = ("--data", work / "other.npy")
    proc = run(work, "train", "reweight", "--base", ring_run, "--out", work / "rw-bad", *other, check=False)
    assert proc.returncode == 2 and "not the data the base model was trained on (ring.npy)" in proc.stderr


BAD = {
    "ragged": lambda d: np.save(d / "x.npy", np.array([[0.0], [1.0, 2.0]], dtype=object), allow_pickle=True),
    "nan": lambda d: np.save(d / "x.npy", np.array([[0.0, 1.0], [np.nan, 1.0], [2.0, 2.0]])),
    "strings": lambda d: np.save(d / "x.npy", np.array([["a", "b"], ["c", "d"]])),
    "complex": lambda d: np.save(d / "x.npy", np.ones((4, 2), np.complex128)),
    "single-image": lambda d: np.save(d / "x.npy", np.zeros((32, 32, 3), np.uint8)),
    "ambiguous": lambda d: np.save(d / "x.npy", np.zeros((10, 3, 32, 3), np.uint8)),
}


@pytest.mark.parametrize("case", [*BAD, "unreadable-png", "empty-folder"])
def test_bad_data_one_line_no_traceback(work, tmp_path, case):
    if case in BAD:
        BAD[case](tmp_path)
        data = tmp_path / "x.npy"
    else:
        data = tmp_path / "imgs"
        data.mkdir()
        if case == "unreadable-png":
            png_folder(data, n=4)
            (data / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    proc = run(work, "train", "gan", "--data", data, "--out", tmp_path / "r", check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "r").exists()
