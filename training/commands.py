"""What the `ganflow train ...` commands (and `ganflow demo`) run: the CLI holds the options, this
module the logic. Each `run_*` checks --out, reads the run back on --resume, checks that the data is
the run's (or the base model's), builds the trainer's config and calls the trainer.

Errors a user can cause come out as the sampler's InputError, which the CLI prints on one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ganflow.models.checkpoint import CheckpointError, load_checkpoint
from ganflow.sampler.data import DataOptions, Dataset, DataSource, load_dataset
from ganflow.sampler.errors import InputError
from ganflow.training.config import TrainConfig

# `ganflow demo`'s settings, (model, trainer); the end-to-end test trains with the 2-D ones too
DEMO = {
    "2d": (
        {"arch": "mlp", "latent_dim": 2, "width": 128},
        {
            "loss": "bce",
            "steps": 6000,
            "batch_size": 512,
            "lr_g": 5e-4,
            "lr_d": 5e-4,
            "betas": (0.5, 0.999),
            "eval_every": 1000,
            "sample_every": 1000,
            "ckpt_every": 1000,
        },
    ),
    "mnist": (
        {"arch": "dcgan", "latent_dim": 64, "width": 32},
        {
            "loss": "bce",
            "steps": 2000,
            "batch_size": 64,
            "lr_g": 2e-4,
            "lr_d": 2e-4,
            "betas": (0.5, 0.999),
            "eval_every": 500,
            "sample_every": 500,
            "ckpt_every": 500,
        },
    ),
}


# --- shared by the commands -------------------------------------------------------------------


def check_out(out: Path, resume: bool) -> None:
    """A new run needs an empty --out; --resume needs a run there."""
    if resume and not (out / "config.json").is_file():
        raise InputError(f"--resume: {out} holds no run (no config.json); drop --resume")
    if not resume and (out / "config.json").exists():
        raise InputError(f"{out} already holds a run: pass --resume to continue it, or another --out")


@contextmanager
def _user_errors() -> Iterator[None]:
    """A bad option, dataset or checkpoint (ValueError, CheckpointError) -> InputError."""
    try:
        yield
    except (ValueError, CheckpointError) as e:
        raise InputError(str(e)) from None


def _given(options: dict[str, Any]) -> dict[str, Any]:
    """The options the user set (None: the config's default)."""
    return {k: v for k, v in options.items() if v is not None}


def _with_steps(saved: dict[str, Any], steps: int | None) -> dict[str, Any]:
    """A run's saved config with --steps applied: on --resume only the length may change."""
    return {**saved, **({"steps": steps} if steps is not None else {})}


def _run_data(
    data: str,
    meta: dict[str, Any],
    given: DataOptions | None,
    message: str,
    dataset: str | None = None,
    seed: int = 0,
) -> Dataset:
    """--data read as the run (or base model) of `meta` read it (its layout, range, split; options
    given here may not differ), refused with `message` unless it is that run's data."""
    source, options = meta["data"].get("source"), given
    if source:  # the user's own data: read it the same way, under the same name
        options = (given or DataOptions()).over(DataSource.from_dict(source).options(), True, "the run")
        dataset = dataset or meta["data"]["dataset"]
    ds = load_dataset(data, dataset=dataset, seed=seed, options=options)
    if not ds.spec.same_data(meta["data"]):
        raise InputError(message)
    return ds


def _over_base(config: type, key: str, base: Path | None, out: Path, train: dict[str, Any], resume: bool):
    """(meta, config) of a run over a base model: on --resume the run's own saved config (with
    --steps), else the base's meta and a new config from `train`."""
    if resume:
        meta, _ = load_checkpoint(out)
        return meta, config.from_dict(_with_steps(meta[key], train.get("steps")))
    meta, _ = load_checkpoint(base)
    return meta, config(**_given(train))


def _base_data(data: str | None, meta: dict[str, Any], given: DataOptions | None) -> Dataset:
    """--data of a run over a base model (default: the base's data set, or the path of the user's
    own data it was trained on), checked against the base's."""
    source = meta["data"].get("source") or {}
    default = source.get("path") or meta["data"]["dataset"]
    what = source.get("name") or meta["data"]["dataset"]
    message = f"--data {data} is not the data the base model was trained on ({what})"
    return _run_data(data or default, meta, given, message, dataset=meta["data"]["dataset"])


# --- train gan, train fisgan, demo ------------------------------------------------------------


def _resume_gan(
    out: Path,
    data: str,
    dataset: str | None,
    steps: int | None,
    family: str | None,
    given: DataOptions | None,
):
    """(dataset, TrainConfig) of the GAN-family run in `out` (config.json; the trainer reads the rest)."""
    meta = json.loads((out / "config.json").read_text())
    if family is not None and meta.get("family") != family:
        raise ValueError(f"--resume: the run in {out} is a {meta.get('family')!r} run, not {family}")
    message = f"--resume: --data {data} is not the data of the run in {out}"
    ds = _run_data(data, meta, given, message, dataset, meta["train"]["seed"])
    return ds, TrainConfig.from_dict(_with_steps(meta["train"], steps))


def _new_gan(
    data: str, dataset: str | None, model: dict[str, Any], train: dict[str, Any], given: DataOptions | None
):
    """(dataset, components, TrainConfig) of a new GAN-family run."""
    from ganflow.training.gan import default_components

    cfg = TrainConfig(**_given(train))
    ds = load_dataset(data, dataset=dataset, seed=cfg.seed, options=given)
    return ds, default_components(ds.spec, **model), cfg


def run_gan(
    data: str,
    out: Path,
    dataset: str | None,
    model: dict[str, Any],
    train: dict[str, Any],
    resume: bool = False,
    progress: bool | None = None,
    device: str = "auto",
    data_options: DataOptions | None = None,
) -> dict[str, Any]:
    """`train gan`. model: arch, latent_dim, width, spectral_norm; train: TrainConfig fields (None =
    default; on --resume only steps counts); data_options: how to read a file or folder of your own
    data (on --resume: the run's). Returns the run's meta."""
    from ganflow.training.gan import train_gan

    check_out(out, resume)
    if resume:
        with _user_errors():
            ds, cfg = _resume_gan(out, data, dataset, train.get("steps"), None, data_options)
        return train_gan(out, ds, config=cfg, resume=True, progress=progress, device=device)
    with _user_errors():
        ds, comps, cfg = _new_gan(data, dataset, model, train, data_options)
    return train_gan(out, ds, comps, cfg, progress=progress, device=device)


def run_fisgan(
    data: str,
    out: Path,
    dataset: str | None,
    model: dict[str, Any],
    flow: dict[str, Any],
    train: dict[str, Any],
    fis: dict[str, Any],
    resume: bool = False,
    progress: bool | None = None,
    device: str = "auto",
    data_options: DataOptions | None = None,
) -> dict[str, Any]:
    """`train fisgan`. model, train, data_options: as run_gan; flow: arch, layers, hidden; fis:
    FISConfig fields."""
    from ganflow.training.fisgan import FISConfig, flow_component, train_fisgan

    check_out(out, resume)
    with _user_errors():
        if resume:
            ds, cfg = _resume_gan(out, data, dataset, train.get("steps"), "fisgan", data_options)
            return train_fisgan(out, ds, config=cfg, resume=True, progress=progress, device=device)
        ds, comps, cfg = _new_gan(data, dataset, model, train, data_options)
        fis_cfg = FISConfig(**fis)
        comps["flow"] = flow_component(latent_dim=comps["generator"]["latent_dim"], **flow)
    return train_fisgan(out, ds, comps, cfg, fis_cfg, progress=progress, device=device)


def run_demo(data: str | None, run: Path, steps: int | None) -> dict[str, Any]:
    """`ganflow demo`'s training: a GAN with DEMO's settings on 25 Gaussians, or on MNIST at `data`."""
    model, train = DEMO["2d" if data is None else "mnist"]
    return run_gan(data or "gaussians25", run, None, model, {**train, "steps": steps or train["steps"]})


# --- train flowgan, reweight, corrector, classifier --------------------------------------------


def run_flowgan(
    data: str,
    out: Path,
    dataset: str | None,
    arch: str,
    generator: dict[str, Any],
    critic_width: int | None,
    train: dict[str, Any],
    resume: bool = False,
    progress: bool | None = None,
    device: str = "auto",
    data_options: DataOptions | None = None,
) -> dict[str, Any]:
    """`train flowgan`. generator: hidden, depth, couplings, channels, prior (None = the arch's
    default); train: FlowGANTrainConfig fields (None = default; on --resume only steps counts);
    data_options: as run_gan."""
    from ganflow.training.flowgan import FlowGANTrainConfig, flowgan_components, train_flowgan

    with _user_errors():
        check_out(out, resume)
        if resume:
            meta, _ = load_checkpoint(out)
            cfg = FlowGANTrainConfig.from_dict(_with_steps(meta["flowgan"], train.get("steps")))
            message = f"--resume: --data {data} is not the data of the run in {out}"
            ds = _run_data(data, meta, data_options, message, dataset, cfg.seed)
            return train_flowgan(out, ds, config=cfg, resume=True, progress=progress, device=device)
        cfg = FlowGANTrainConfig(**_given(train))
        ds = load_dataset(data, dataset=dataset, seed=cfg.seed, options=data_options)
        comps = flowgan_components(ds.spec, arch, _given(generator), critic_width)
        return train_flowgan(out, ds, comps, cfg, progress=progress, device=device)


def run_reweight(
    base: Path,
    out: Path,
    data: str | None,
    train: dict[str, Any],
    resume: bool = False,
    progress: bool | None = None,
    device: str = "auto",
    data_options: DataOptions | None = None,
) -> dict[str, Any]:
    """`train reweight`: w(z) over the generator of `base` (a run or a bundle). train: ReweightConfig
    fields (None = default; on --resume only steps counts); data_options: as run_gan (default: the
    base's)."""
    from ganflow.training.reweight import ReweightConfig, train_reweight

    with _user_errors():
        check_out(out, resume)
        meta, cfg = _over_base(ReweightConfig, "reweight", base, out, train, resume)
        ds = _base_data(data, meta, data_options)
        return train_reweight(out, ds, base, cfg, resume=resume, progress=progress, device=device)


def run_corrector(
    base: Path | None,
    out: Path,
    data: str | None,
    train: dict[str, Any],
    resume: bool = False,
    device: str = "cpu",
    data_options: DataOptions | None = None,
) -> dict[str, Any]:
    """`train corrector`: C over the generator and critic of `base` (a run or a bundle; on --resume
    the run's own copies). train: CorrectorConfig fields (None = default; on --resume only steps);
    data_options: as run_reweight."""
    from ganflow.training.corrector import CorrectorConfig, train_corrector

    with _user_errors():
        check_out(out, resume)
        if base is None and not resume:
            raise InputError("--base is needed for a new corrector run (or pass --resume to continue --out)")
        meta, cfg = _over_base(CorrectorConfig, "corrector", base, out, train, resume)
        ds = _base_data(data, meta, data_options)
        return train_corrector(out, ds, base, cfg, device=device, resume=resume)


def run_classifier(
    data: str,
    out: Path,
    train: dict[str, Any],
    resume: bool = False,
    progress: bool | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """`train classifier`. train: epochs, batch_size, lr, seed (on --resume: the run's own)."""
    from ganflow.training.classifier import train_classifier

    check_out(out, resume)
    return train_classifier(out, data, **train, progress=progress, device=device, resume=resume)
