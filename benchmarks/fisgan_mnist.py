"""FIS-GAN vs GAN on MNIST (papers/fis-gan.md Table 1 / Fig. 3), scaled down to a CPU budget.

Usage (one core; the issue's scale, 5,000 steps x 3 seeds + 1,000-step ablations, took ~1 h on a
shared 2-core machine): OMP_NUM_THREADS=1 python benchmarks/fisgan_mnist.py \
    --data ../shared/data/mnist.npz --steps 5000 --ablation-steps 1000 [--seeds 0 1 2]
Same DCGAN (width 16), same seeds and learning rates (paper: G 1e-3, D 1e-4, flow 1e-3) for both;
FID (2,000 samples vs the MNIST test split, the project's MNIST classifier features) every 100
steps. Writes benchmarks/results/fisgan_mnist.json (and .md, .png with --report). Resumable: a
finished run in --work is read back, not retrained.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ganflow.sampler.data import load_dataset
from ganflow.training import TrainConfig, default_components, train_gan
from ganflow.training.fisgan import FISConfig, flow_component, train_fisgan

PAPER_MNIST = {
    500: (246.35, 197.02),
    1000: (161.47, 153.88),
    2000: (78.66, 47.83),
    3000: (62.64, 44.10),
    5000: (32.30, 35.08),
}  # Table 1: GAN, FIS-GAN (their FID scale: Inception features)
FLOW = {"layers": 4, "hidden": 64}
FIS = {"n_aug": 512, "flow_batch": 256, "lr_flow": 1e-3}
VARIANTS = {  # name -> (flow arch, FISConfig overrides); None = the GAN
    "gan": None,
    # main arm: the Frobenius norm by a 4-probe Hutchinson estimate (the exact norm costs d_z = 64
    # JVPs per example, ~4x a GAN step on this CPU at t = 10: it is the "fisgan-frobenius" ablation)
    "fisgan": ("realnvp", {"norm": "hutchinson", "probes": 4}),
    "fisgan-p1": ("realnvp", {"norm": "hutchinson", "probes": 1}),  # the cheapest estimate
    "fisgan-frobenius": ("realnvp", {"norm": "frobenius"}),  # the paper's exact norm
    "fisgan-nuclear": ("realnvp", {"norm": "nuclear"}),
    "fisgan-maf": ("maf", {"norm": "hutchinson", "probes": 4}),
    "fisgan-iaf": ("iaf", {"norm": "hutchinson", "probes": 4}),
    "fisgan-t50e50": ("realnvp", {"norm": "hutchinson", "probes": 4, "refit_every": 50, "refit_epochs": 50}),
    # not the paper's: anchored allocation (Q targets p ||J||, no drift), unbiased loss weights, sigma 0.3
    "fisgan-anchored": (
        "realnvp",
        {"norm": "hutchinson", "probes": 4, "anchor": True, "weighting": "unbiased", "sigma": 0.3},
    ),
}


def train_config(steps: int, seed: int, eval_every: int) -> TrainConfig:
    return TrainConfig(
        steps=steps,
        batch_size=64,
        lr_g=1e-3,
        lr_d=1e-4,
        seed=seed,
        log_every=eval_every,
        eval_every=eval_every,
        sample_every=steps,
        ckpt_every=steps,
        eval_samples=2000,
    )


def run(variant: str, seed: int, steps: int, args, eval_every: int = 100) -> dict:
    """Train one run (or read a finished one); {steps: [...], fid: [...], seconds}."""
    out = Path(args.work) / f"{variant}-s{seed}-{steps}-e{eval_every}"
    for longer in sorted(Path(args.work).glob(f"{variant}-s{seed}-*-e{eval_every}")):
        cfg = longer / "config.json"
        if cfg.is_file() and json.loads(cfg.read_text())["summary"]["step"] >= steps:
            out = longer  # a finished run at least as long: its first `steps` steps are this run's
    cfg_path = out / "config.json"
    done = cfg_path.is_file() and json.loads(cfg_path.read_text())["summary"]["step"] >= steps
    t0 = time.perf_counter()
    if not done:
        if out.exists():
            import shutil

            shutil.rmtree(out)
        ds = load_dataset(args.data, dataset="mnist", seed=seed)
        comps = default_components(ds.spec, width=args.width)
        cfg = train_config(steps, seed, eval_every)
        if VARIANTS[variant] is None:
            train_gan(out, ds, comps, cfg, progress=False, device="cpu")
        else:
            arch, over = VARIANTS[variant]
            comps["flow"] = flow_component(arch, comps["generator"]["latent_dim"], **FLOW)
            train_fisgan(out, ds, comps, cfg, FISConfig(**{**FIS, **over}), progress=False, device="cpu")
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r["kind"] == "eval" and r["step"] <= steps]
    key = next(k for k in evals[0] if k.startswith("fid"))
    trains = [r for r in records if r["kind"] == "train" and r["step"] <= steps]
    q_std = None
    if VARIANTS[variant] is not None:  # how wide Q is at the end (N(0, I): 1 per dimension)
        from ganflow.models import load_modules

        with torch.no_grad():
            z, _ = load_modules(out)[1]["flow"].sample(4000, torch.Generator().manual_seed(0))
        q_std = z.std(0).mean().item()
    cv = [r["jac_norm_cv"] for r in trains if r.get("jac_norm_cv") is not None]
    return {
        "q_std_final": q_std,
        "jac_norm_cv_mean": float(np.mean(cv)) if cv else None,  # spread of ||J|| across a batch
        "steps": [r["step"] for r in evals],
        "fid": [r[key] for r in evals],
        "metric": key,
        "train_seconds": trains[-1]["time_s"],
        "wall_seconds": time.perf_counter() - t0 if not done else None,
    }


def step_cost(variant: str, steps: int, args) -> float:
    """Seconds per training step with evaluation off (one long eval interval), same process."""
    r = run(variant, 100, steps, args, eval_every=steps)
    return r["train_seconds"] / steps


def save(result: dict, args) -> None:
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


COLOURS = {
    "gan": (31, 119, 180),
    "fisgan": (214, 39, 40),
    "fisgan-frobenius": (148, 103, 189),
    "fisgan-nuclear": (140, 86, 75),
    "fisgan-maf": (44, 160, 44),
    "fisgan-iaf": (255, 127, 14),
    "fisgan-t50e50": (127, 127, 127),
    "fisgan-p1": (23, 190, 207),
}


def line_plot(curves: dict[str, tuple[list, list, list | None]], size=(720, 420), pad=40) -> np.ndarray:
    """RGB image [H, W, 3] of log10(FID) against step: {name: (steps, mean, std or None)}; a light
    band is mean +- std. Grid lines every 100 steps (thin) and every 500 (dark); no text."""
    w, h = size
    img = np.full((h, w, 3), 255, np.uint8)
    xs = [x for s, _, _ in curves.values() for x in s]
    ys = [np.log10(v) for _, m, sd in curves.values() for v in np.concatenate([m, np.add(m, sd or 0)])]
    x0, x1, y0, y1 = 0, max(xs), min(ys) - 0.02, max(ys) + 0.02
    px = lambda x: pad + (np.asarray(x) - x0) / (x1 - x0) * (w - 2 * pad)  # noqa: E731
    py = lambda y: h - pad - (np.asarray(y) - y0) / (y1 - y0) * (h - 2 * pad)  # noqa: E731
    for step in range(0, int(x1) + 1, 100):
        img[pad : h - pad, int(px(step))] = 160 if step % 500 == 0 else 225
    for v in (200, 300, 500, 1000, 2000):  # horizontal guides at these FIDs
        if y0 <= np.log10(v) <= y1:
            img[int(py(np.log10(v))), pad : w - pad] = 200
    img[h - pad, pad : w - pad] = 0
    img[pad : h - pad, pad] = 0
    for name, (steps, mean, sd) in curves.items():
        colour = np.array(COLOURS.get(name, (0, 0, 0)), np.uint8)
        t = np.linspace(0, 1, 400)
        for a, b, ma, mb, sa, sb in zip(
            steps[:-1], steps[1:], mean[:-1], mean[1:], (sd or mean)[:-1], (sd or mean)[1:], strict=True
        ):
            xx = px(a + t * (b - a)).astype(int)
            yy = np.log10(ma + t * (mb - ma))
            if sd is not None:
                s_ = sa + t * (sb - sa)
                lo, hi = (
                    py(np.log10(np.maximum(ma + t * (mb - ma) - s_, 1))),
                    py(np.log10(ma + t * (mb - ma) + s_)),
                )
                for x, l_, h_ in zip(xx, lo.astype(int), hi.astype(int), strict=True):
                    band = img[h_:l_, x].astype(int)
                    img[h_:l_, x] = (0.85 * band + 0.15 * colour).astype(np.uint8)
            for dy in (-1, 0, 1):
                img[np.clip(py(yy).astype(int) + dy, 0, h - 1), xx] = colour
    return img


def report(result: dict, args) -> None:
    """benchmarks/results/fisgan_mnist.{md,png} from the JSON."""
    from ganflow.sampler.images import encode_png

    main_ = result["main"]
    seeds = sorted(set(main_["gan"]) & set(main_.get("fisgan", {})), key=int)
    steps = main_["gan"][seeds[0]]["steps"]
    fid = {v: np.array([main_[v][s]["fid"] for s in seeds]) for v in ("gan", "fisgan")}  # [seeds, evals]
    avg = {v: fid[v].mean(axis=1) for v in fid}  # per seed: FID averaged over the logged steps
    curves = {
        v: (steps, list(fid[v].mean(0)), list(fid[v].std(0, ddof=1)) if len(seeds) > 1 else None) for v in fid
    }
    Path(args.out).with_suffix(".png").write_bytes(encode_png(line_plot(curves)))
    abl = result["ablations"]
    n_abl = min((len(r["steps"]) for r in abl.values()), default=0)
    if abl:
        base = {v: (steps[:n_abl], list(fid[v][0][:n_abl]), None) for v in fid}
        extra = {k: (r["steps"][:n_abl], r["fid"][:n_abl], None) for k, r in abl.items()}
        Path(args.out).with_name(Path(args.out).stem + "_ablations.png").write_bytes(
            encode_png(line_plot({**base, **extra}))
        )
    cost = result.get("cost", {})
    lines = [
        "# FIS-GAN vs GAN on MNIST (CPU, scaled down)",
        "",
        "Commands (in this order, then the same with `--report`): "
        + "; ".join(f"`OMP_NUM_THREADS=1 {c}`" for c in result.get("commands", [result["command"]]))
        + f". torch {result['torch']}, one thread.",
        "",
        "## Scale (honest: far below the paper's)",
        "",
        f"- DCGAN generator/critic of base width {result['width']} (the repo's `dcgan`, latent 64, BCE), "
        "batch 64, Adam lr G 1e-3 / D 1e-4 (the paper's), flow lr 1e-3.",
        f"- {len(steps) * 100} generator steps per main run (the paper: 20,000; the issue: 5,000), seeds "
        f"{', '.join(seeds)}; ablations {n_abl * 100} steps, seed {seeds[0]}.",
        "- FID every 100 steps on 2,000 samples against the MNIST test split, in the features of the "
        "project's MNIST classifier (not Inception): the scale is not the paper's; compare GAN vs FIS-GAN "
        "here, and only the ratio with the paper.",
        f"- Flow {result['flow']} (Real-NVP unless named), N = {result['fis']['n_aug']} augmented points, "
        f"flow batch {result['fis']['flow_batch']}, t = 10 / E = 5, sigma = 1, no weighting, no mixture (the "
        "paper's method). FIS-GAN's FID uses z ~ Q (what `--method flow` samples), the GAN's z ~ N(0, I).",
        "- Main FIS-GAN arm: the Frobenius norm by a 4-probe Hutchinson estimate; the paper's exact norm "
        "(64 forward-mode JVPs per example) is the `fisgan-frobenius` ablation, because at t = 10 it costs "
        "several GAN steps per step on this CPU (see the cost table).",
        "",
        f"## Main comparison: FID averaged over steps 100..{len(steps) * 100}",
        "",
        "| | " + " | ".join(f"seed {s}" for s in seeds) + " | mean +- sample std (ddof=1) over seeds |",
        "|---|" + "---|" * (len(seeds) + 1),
    ]
    for v in ("gan", "fisgan"):
        lines.append(
            f"| {v} | "
            + " | ".join(f"{a:.1f}" for a in avg[v])
            + f" | {avg[v].mean():.1f} +- {avg[v].std(ddof=1) if len(seeds) > 1 else 0:.1f} |"
        )
    diff = avg["fisgan"] - avg["gan"]
    q_std = [main_["fisgan"][s].get("q_std_final") for s in seeds]
    lines += [
        "",
        "Paired difference FIS-GAN - GAN (same seed): "
        + ", ".join(f"{d:+.1f}" for d in diff)
        + f"; mean {diff.mean():+.1f}. Std of FIS-GAN's Q per dimension after the last refit: "
        + ", ".join("-" if q is None else f"{q:.2f}" for q in q_std)
        + " (N(0, I): 1). Coefficient of variation of the Jacobian norms within a batch, mean over the "
        + "logged steps: "
        + ", ".join(
            "-" if c is None else f"{c:.2f}"
            for c in (main_["fisgan"][s].get("jac_norm_cv_mean") for s in seeds)
        )
        + " (a near-uniform importance p_j when small).",
        "",
        "**The paper's claim ("
        + "FIS-GAN's FID averaged over the early steps is lower than the GAN's, beyond the seed spread) "
        + (
            "held here.**"
            if avg["gan"].mean() - avg["fisgan"].mean()
            > max(avg["gan"].std(ddof=1), avg["fisgan"].std(ddof=1))
            else "did not hold here:** the two arms are within the seed spread of each other."
        ),
        "",
        "## FID at the paper's Table 1 steps (mean +- std over seeds; the paper's MNIST numbers beside)",
        "",
        "| step | GAN (here) | FIS-GAN (here) | ratio here | GAN (paper) | FIS-GAN (paper) | ratio paper |",
        "|---|---|---|---|---|---|---|",
    ]
    for st, (pg, pf) in PAPER_MNIST.items():
        if st in steps:
            i = steps.index(st)
            g, f = fid["gan"][:, i], fid["fisgan"][:, i]
            here = f"{g.mean():.1f} +- {g.std(ddof=1):.1f} | {f.mean():.1f} +- {f.std(ddof=1):.1f}"
            here += f" | {f.mean() / g.mean():.2f}"
        else:
            here = "not run | not run | -"
        lines.append(f"| {st} | {here} | {pg} | {pf} | {pf / pg:.2f} |")
    if abl:
        lines += [
            "",
            f"## Ablations (seed {seeds[0]}, {n_abl * 100} steps; mean FID over steps 100..{n_abl * 100} "
            f"and FID at step {n_abl * 100}; std of Q per dimension at the end, N(0, I) = 1)",
            "",
            "| variant | mean FID | final FID | Q std |",
            "|---|---|---|---|",
        ]
        for k, (_, m, _) in {**base, **extra}.items():
            q = abl[k].get("q_std_final") if k in abl else None
            lines.append(f"| {k} | {np.mean(m):.1f} | {m[-1]:.1f} | {'-' if q is None else f'{q:.2f}'} |")
        variants = {k: np.mean(m) for k, (_, m, _) in {**base, **extra}.items() if k != "gan"}
        best = min(variants, key=variants.get)
        gap = variants[best] - np.mean(base["gan"][1])
        lines += [
            "",
            f"Closest FIS-GAN variant to the GAN on this seed: {best} (mean FID {variants[best]:.1f}, "
            f"{gap:+.1f} vs the GAN; one seed, so within noise of the others).",
        ]
    interleaved = Path(args.out).with_name("fisgan_cost.json")
    if interleaved.is_file():
        c = json.loads(interleaved.read_text())
        lines += [
            "",
            f"## Wall-clock cost per training step, interleaved ({c['steps']} steps x "
            f"{len(c['seconds_per_step']['gan'])} alternating runs; `OMP_NUM_THREADS=1 {c['command']}`)",
            "",
            "| variant | s/step (mean) | x GAN |",
            "|---|---|---|",
        ]
        for k, m in c["mean_seconds_per_step"].items():
            lines.append(f"| {k} | {m:.4f} | {c['ratio_to_gan'][k]:.2f} |")
        verdict = ", ".join(
            f"{k} {r:.2f}x ({'within' if r <= 1.3 + 1e-9 else 'above'} the 1.3x target)"
            for k, r in c["ratio_to_gan"].items()
            if k.startswith("fisgan") and "t50" not in k
        )
        lines += ["", f"Cost at t = 10 relative to the GAN, interleaved: {verdict}."]
    if cost:
        lines += [
            "",
            f"## Wall-clock cost per training step, sequential ({args.cost_steps} steps, evaluation off, "
            "one thread, run one after another: other processes' load differs between rows)",
            "",
            "| variant | s/step | x GAN |",
            "|---|---|---|",
        ]
        for k, c in cost.items():
            lines.append(f"| {k} | {c:.4f} | {c / cost['gan']:.2f} |")
    lines += [
        "",
        "Plots: `fisgan_mnist.png` (log FID vs step; blue GAN, red FIS-GAN, bands +- 1 std over seeds; "
        "grid every 100 steps, dark every 500; guides at FID 200/300/500/1000/2000) and "
        "`fisgan_mnist_ablations.png` (seed 0; purple exact Frobenius, brown nuclear, green MAF, orange IAF, "
        "grey t=50/E=50, black anchored, cyan 1-probe Hutchinson).",
        "",
    ]
    Path(args.out).with_suffix(".md").write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--ablation-steps", type=int, default=500)
    ap.add_argument("--cost-steps", type=int, default=200)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument(
        "--ablations",
        nargs="*",
        default=[
            "fisgan-p1",
            "fisgan-frobenius",
            "fisgan-nuclear",
            "fisgan-maf",
            "fisgan-iaf",
            "fisgan-t50e50",
        ],
    )
    ap.add_argument("--work", default="/tmp/fisgan_mnist")
    ap.add_argument("--out", default="benchmarks/results/fisgan_mnist.json")
    ap.add_argument("--report", action="store_true", help="only write the .md and .png from the JSON")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    if args.report:
        return report(json.loads(out.read_text()), args)
    result = json.loads(out.read_text()) if out.is_file() else {}
    command = " ".join(["python", *sys.argv])
    result["commands"] = [c for c in result.get("commands", [result.get("command")]) if c and c != command]
    result["commands"].append(command)
    result.update(
        {
            "command": command,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": 1,
            "width": args.width,
            "flow": FLOW,
            "fis": FIS,
            "paper_mnist_table1": {str(k): v for k, v in PAPER_MNIST.items()},
        }
    )
    result.setdefault("main", {})
    result.setdefault("ablations", {})
    result.setdefault("cost", {})
    for seed in args.seeds:  # the main comparison first: it matters most
        for variant in ("gan", "fisgan"):
            result["main"].setdefault(variant, {})[str(seed)] = run(variant, seed, args.steps, args)
            print(variant, seed, "mean FID", np.mean(result["main"][variant][str(seed)]["fid"]), flush=True)
            save(result, args)
    for variant in args.ablations:
        result["ablations"][variant] = run(variant, args.seeds[0], args.ablation_steps, args)
        print(variant, "mean FID", np.mean(result["ablations"][variant]["fid"]), flush=True)
        save(result, args)
    for variant in ("gan", "fisgan", "fisgan-p1", "fisgan-frobenius", "fisgan-t50e50"):
        result["cost"][variant] = step_cost(variant, args.cost_steps, args)
        print(variant, "s/step", result["cost"][variant], flush=True)
        save(result, args)


if __name__ == "__main__":
    main()
