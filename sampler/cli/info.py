"""`ganflow info`: a bundle's manifest, components, methods, defaults and integrity, as readable
lines (or JSON), ending with one verdict line. Registered by main.py."""

from __future__ import annotations

import json
from typing import Any

import typer

INFO_EXAMPLE = "Example: ganflow info bundles/g25  |  ganflow info bundles/g25 --json"


def info(
    bundle: str = typer.Argument(..., help="bundle folder or Hub id (owner/name\\[@revision])"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Show a bundle's manifest, components, supported methods and integrity."""
    from ganflow.sampler.bundle import integrity_report, load_bundle
    from ganflow.sampler.hub import is_hub_ref, pull

    # a local folder is read as it is, to report its integrity; a Hub id is pulled (and verified)
    b = load_bundle(pull(bundle) if is_hub_ref(bundle) else bundle, verify=False)
    doc = describe(b, integrity_report(b))
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
    else:
        for line in lines(doc):
            typer.echo(line)
    if any(v != "ok" for v in doc["integrity"].values()):
        raise typer.Exit(1)


def describe(b: Any, integrity: dict[str, str]) -> dict[str, Any]:
    """The JSON document of `ganflow info --json`."""
    from ganflow.sampler.pipeline import supported_methods

    methods = supported_methods(b)
    return {
        "bundle": str(b.root),
        "family": b.manifest.get("family"),
        "latent_dim": b.latent_dim,
        "data": b.manifest["data"],
        "methods": methods,
        "defaults": _defaults(b, methods),
        "components": {
            k: {
                "path": str(c.path.relative_to(b.root.resolve())),
                "inputs": c.inputs,
                "outputs": c.outputs,
                "opset": c.opset,
                "variants": {v: str(p.relative_to(b.root.resolve())) for v, p in c.variants.items()},
            }
            for k, c in b.components.items()
        },
        "integrity": integrity,
        "provenance": b.manifest.get("provenance", {}),
    }


def _defaults(b: Any, methods: list[str]) -> dict[str, dict[str, Any]]:
    """Each method's settings that have a default (the bundle's over METHOD_DEFAULTS)."""
    from ganflow.sampler.errors import BundleError

    out = {}
    for m in methods:
        try:
            d = {k: v for k, v in b.defaults(m).items() if v is not None}
        except BundleError:  # a malformed manifest: info still reports the rest
            continue
        if d:
            out[m] = d
    return out


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _io(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{i['name']}[{', '.join(str(s) for s in i['shape'])}]" for i in items)


def _data(data: dict[str, Any]) -> str:
    rng = data.get("range")
    text = f"{data.get('dataset')}, shape [{', '.join(map(str, data['shape']))}], "
    text += "range none" if rng is None else f"range [{_num(rng[0])}, {_num(rng[1])}]"
    src = data.get("source")
    if src:
        text += f", from {src.get('name', 'your data')} (sha256 {str(src.get('sha256'))[:12]}...)"
    return text


def _eta_line(record: dict[str, Any]) -> str:
    """The DGflow step size export measured (provenance.dgflow_eta), in words."""
    shares = [f"{far:.1%} far" if far else "none far" for far in record["far"]]
    tried = ", ".join(f"{eta:g} ({share})" for eta, share in zip(record["grid"], shares, strict=False))
    return (
        f"dgflow eta {record['eta']:g}, measured at export on {record['latents']} latents: the largest "
        f"eta that kept every refined sample in range; tried {tried}"
    )


def lines(doc: dict[str, Any]) -> list[str]:
    """`ganflow info` as readable lines; the last says whether every file passed its sha256."""
    out = [
        f"bundle      {doc['bundle']}",
        f"family      {doc['family']}, latent dim {doc['latent_dim']}",
        f"data        {_data(doc['data'])}",
        f"methods     {', '.join(doc['methods'])}",
    ]
    for i, (m, d) in enumerate(doc["defaults"].items()):
        settings = ", ".join(f"{k} {_num(v)}" for k, v in d.items())
        out.append(f"{'defaults' if i == 0 else '':<12}{m}: {settings}")
    prov = doc["provenance"]
    if isinstance(prov.get("dgflow_eta"), dict):
        out.append(f"{'':<12}{_eta_line(prov['dgflow_eta'])}")
    for k, c in doc["components"].items():
        extra = "".join(f", {v}: {p}" for v, p in c["variants"].items())
        sig = f"({_io(c['inputs'])}) -> ({_io(c['outputs'])})"
        out.append(f"component   {k}: {c['path']} {sig}, opset {c['opset']}{extra}")
    metrics = ", ".join(f"{k} {_num(v)}" for k, v in (prov.get("metrics") or {}).items())
    out.append(f"trained     {prov.get('steps')} steps" + (f"; at export: {metrics}" if metrics else ""))
    out.append(verdict(doc["integrity"]))
    return out


def verdict(integrity: dict[str, str]) -> str:
    """One line: "ok: N files verified", or what failed and what to do."""
    bad = {f: s for f, s in integrity.items() if s != "ok"}
    if not bad:
        return f"ok: {len(integrity)} files verified (sha256)"
    listed = ", ".join(f"{f} ({s})" for f, s in bad.items())
    ok = len(integrity) - len(bad)
    return f"TAMPERED: {listed}; {ok} of {len(integrity)} files ok — re-download or re-export"
