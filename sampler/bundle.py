"""Bundle reader: manifest schema, safe paths, sha256 integrity, supported methods."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganflow.sampler.errors import BundleError, ComponentMissingError
from ganflow.sampler.onnx_scan import ScanError, external_locations

FORMAT_VERSION = 1
MANIFEST = "config.json"
CARD = "README.md"  # not hashed: the Hub lets owners edit the card
VARIANTS = ("fp16",)  # precision variants a component may carry beside its fp32 graph
# each sampling method's defaults where a manifest sets none: the papers' values (REFERENCES.md:
# LatentRS report Algorithm 2, DGflow Ansari et al. 2021; DRS Azadi et al. 2019, MH-GAN Turner et
# al. 2019, DDLS Che et al. 2020), or a documented choice where a paper gives none or a cost we
# cut. Export writes them into manifests; Bundle.defaults() falls back to them for bundles that
# lack them.
METHOD_DEFAULTS: dict[str, dict[str, Any]] = {
    "plain": {"truncation": None},
    "latent-rs": {"m": 3.0, "max_rounds": 100},
    "dgflow": {"eta": 0.1, "gamma": 0.01, "steps": 25, "f": "kl"},
    # DRS: gamma = the 95th percentile of F over the burn-in (the paper's choice); burn-in 10 000
    # proposals (ours: D*_max is fixed after it); 1000 rounds before a sample is given up (ours)
    "drs": {"percentile": 95.0, "gamma": None, "burn_in": 10_000, "max_rounds": 1000},
    # MH-GAN: K = 640 (the paper's longest chain, its headline setting); data None = the bundle's
    # dataset; calibration on 1000 real + 1000 generated examples (ours)
    "mh-gan": {"k": 640, "data": None, "calibration": 1000},
    # DDLS: eps = 0.01 (the paper's step size); 100 steps (ours, the paper runs ~1000 on CIFAR-10:
    # 4x DGflow's 25 steps of the same graph, and t = 100 eps / 2 = 0.5 of Langevin time, enough
    # to pull samples into the critic's high-ratio regions, not to mix between modes)
    "ddls": {"eps": 0.01, "steps": 100},
}


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Component:
    name: str
    path: Path  # absolute, inside the bundle
    sha256: str
    inputs: list[dict[str, Any]]  # [{"name", "shape" (ints and "batch"), "dtype"}]
    outputs: list[dict[str, Any]]
    opset: int
    # other precisions of the same graph (same signature, float32 I/O): "fp16" -> absolute path
    variants: dict[str, Path] = field(default_factory=dict)
    variant_sha256: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Bundle:
    root: Path
    manifest: dict[str, Any]
    components: dict[str, Component]

    @property
    def latent_dim(self) -> int:
        return int(self.manifest["latent_dim"])

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.manifest["data"]["shape"])

    @property
    def data_range(self) -> tuple[float, float] | None:
        r = self.manifest["data"].get("range")
        return None if r is None else (float(r[0]), float(r[1]))

    def component(self, name: str, needed_for: str = "this") -> Component:
        if name not in self.components:
            raise ComponentMissingError(
                f"bundle {self.root} has no {name!r} component, needed for {needed_for}; it has: "
                f"{', '.join(sorted(self.components))}"
            )
        return self.components[name]

    def defaults(self, method: str) -> dict[str, Any]:
        """The manifest's defaults for `method` over the schema's (METHOD_DEFAULTS)."""
        given = self.manifest.get("defaults", {})
        own = given.get(method, {}) if isinstance(given, dict) else None
        _require(isinstance(own, dict), self.root, f"defaults[{method!r}] is not an object")
        return {**METHOD_DEFAULTS.get(method, {}), **own}


def _require(cond: bool, root: Path, what: str) -> None:
    if not cond:
        raise BundleError(f"malformed manifest {root / MANIFEST}: {what}; re-export the bundle")


def _hf_cache_blobs(root: Path) -> Path | None:
    """The blob store of a Hugging Face cache snapshot (`.../snapshots/<commit>`), else None."""
    if root.parent.name == "snapshots" and (root.parent.parent / "blobs").is_dir():
        return root.parent.parent / "blobs"
    return None


def safe_path(root: Path, rel: Any) -> Path:
    """Resolve a manifest path, refusing absolute paths, '..' and symlinks out of the bundle.

    The one symlink allowed out is a Hugging Face cache snapshot's link to its own blob store
    (`snapshots/<commit>/f -> ../../blobs/<etag>`); the path returned then stays in the bundle.
    """
    _require(isinstance(rel, str) and rel != "", root, f"path {rel!r} is not a string")
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts or "\\" in rel:
        raise BundleError(f"bundle {root}: path {rel!r} leaves the bundle folder; refusing it")
    base = root.resolve()
    full = (root / p).resolve()
    if full.is_relative_to(base):
        return full
    blobs = _hf_cache_blobs(base)
    if blobs is not None and full.parent == blobs.resolve() and (base / p).is_symlink():
        return base / p
    raise BundleError(f"bundle {root}: {rel!r} points outside the bundle (symlink?); refusing it")


def _check_io(root: Path, name: str, items: Any) -> list[dict[str, Any]]:
    _require(isinstance(items, list) and items, root, f"{name} inputs/outputs must be a list")
    for it in items:
        _require(
            isinstance(it, dict) and isinstance(it.get("name"), str),
            root,
            f"{name}: each input/output needs a name",
        )
        shape = it.get("shape")
        _require(
            isinstance(shape, list)
            and all(
                (isinstance(s, int) and not isinstance(s, bool) and s > 0) or s == "batch" for s in shape
            ),
            root,
            f"{name}.{it['name']}: shape must hold positive ints or 'batch'",
        )
    return items


def load_bundle(path: str | Path, verify: bool = True) -> Bundle:
    """Read and check a bundle folder; with `verify`, check every sha256 before returning."""
    root = Path(path)
    if not root.exists():
        raise BundleError(f"no bundle at {root}: pass a folder written by `ganflow export`")
    if not root.is_dir() or not (root / MANIFEST).is_file():
        raise BundleError(f"{root} is not a ganflow bundle (no {MANIFEST}): pass an exported folder")
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{root / MANIFEST} is not valid JSON ({e}); re-export the bundle") from None
    _require(isinstance(manifest, dict), root, "top level must be an object")
    version = manifest.get("format_version")
    _require(isinstance(version, int), root, "format_version missing")
    if version > FORMAT_VERSION:
        raise BundleError(
            f"bundle {root} has format_version {version}, this ganflow reads "
            f"<= {FORMAT_VERSION}: upgrade ganflow"
        )
    d = manifest.get("latent_dim")
    _require(isinstance(d, int) and not isinstance(d, bool) and d > 0, root, "latent_dim must be > 0")
    data = manifest.get("data")
    _require(
        isinstance(data, dict)
        and isinstance(data.get("shape"), list)
        and data["shape"]
        and all(isinstance(s, int) and s > 0 for s in data["shape"]),
        root,
        "data.shape",
    )
    rng = data.get("range")
    _require(
        rng is None
        or (
            isinstance(rng, list)
            and len(rng) == 2
            and all(isinstance(v, (int, float)) for v in rng)
            and rng[0] < rng[1]
        ),
        root,
        "data.range",
    )
    src = data.get("source")  # the user's own data (absent for named data sets and older bundles)
    _require(
        src is None or (isinstance(src, dict) and isinstance(src.get("sha256"), str)),
        root,
        "data.source must be an object with a sha256",
    )
    comps = manifest.get("components")
    _require(isinstance(comps, dict) and comps, root, "components must be a non-empty object")
    components: dict[str, Component] = {}
    for name, c in comps.items():
        _require(isinstance(c, dict), root, f"component {name!r} must be an object")
        sha = c.get("sha256")
        _require(isinstance(sha, str) and len(sha) == 64, root, f"{name}.sha256")
        opset = c.get("opset")
        _require(isinstance(opset, int), root, f"{name}.opset")
        variants = c.get("variants", {})
        _require(isinstance(variants, dict), root, f"{name}.variants must be an object")
        for kind, v in variants.items():
            _require(
                kind in VARIANTS and isinstance(v, dict) and isinstance(v.get("sha256"), str),
                root,
                f"{name}.variants.{kind}: a variant is one of {VARIANTS} with a path and a sha256",
            )
        components[name] = Component(
            name,
            safe_path(root, c.get("path")),
            sha,
            _check_io(root, name, c.get("inputs")),
            _check_io(root, name, c.get("outputs")),
            opset,
            {k: safe_path(root, v.get("path")) for k, v in variants.items()},
            {k: v["sha256"] for k, v in variants.items()},
        )
    files = manifest.get("files", {})
    _require(isinstance(files, dict), root, "files must be an object")
    bundle = Bundle(root, manifest, components)
    if verify:
        checks = [(c.path, c.sha256, name) for name, c in components.items()]
        checks += [
            (c.variants[k], c.variant_sha256[k], f"{name} ({k})")
            for name, c in components.items()
            for k in c.variants
        ]
        checks += [(safe_path(root, rel), sha, rel) for rel, sha in files.items()]
        for full, sha, label in checks:
            if not full.is_file():
                raise BundleError(f"bundle {root} is incomplete: {label} ({full.name}) is missing")
            if sha256_file(full) != sha:
                raise BundleError(
                    f"bundle {root}: {label} fails its sha256 check (tampered or "
                    "corrupt); re-download or re-export it"
                )
        for c in components.values():
            for graph in (c.path, *c.variants.values()):
                check_external_data(root, c, {safe_path(root, rel) for rel in files}, graph)
    return bundle


def check_external_data(root: Path, c: Component, hashed: set[Path], graph: Path | None = None) -> None:
    """A graph may read external tensor data only from files of the bundle that the manifest
    hashes (so they passed the sha256 check); anything else is refused before onnxruntime runs."""
    graph = graph or c.path
    try:
        locations = external_locations(graph.read_bytes())
    except ScanError as e:
        raise BundleError(f"bundle {root}: {c.name} ({graph.name}) is not a valid ONNX file ({e})") from None
    folder = graph.parent.relative_to(root.resolve()) if graph.is_relative_to(root.resolve()) else Path()
    for loc in locations:
        full = safe_path(root, (folder / loc).as_posix() if loc and not Path(loc).is_absolute() else loc)
        if full not in hashed:
            raise BundleError(
                f"bundle {root}: {c.name} reads external data {loc!r} that the manifest does not hash; "
                "refusing it (re-export the bundle)"
            )


def integrity_report(bundle: Bundle) -> dict[str, str]:
    """{file: "ok" | "missing" | "sha256 mismatch"} for every hashed file."""
    out = {}
    entries = [(c.path, c.sha256) for c in bundle.components.values()]
    entries += [(c.variants[k], c.variant_sha256[k]) for c in bundle.components.values() for k in c.variants]
    entries += [(safe_path(bundle.root, r), s) for r, s in bundle.manifest.get("files", {}).items()]
    for full, sha in entries:
        rel = str(full.relative_to(bundle.root.resolve()))
        out[rel] = (
            "missing" if not full.is_file() else "ok" if sha256_file(full) == sha else "sha256 mismatch"
        )
    return out
