"""`image-gateway models`: the gateway's catalogue (`GET /v1/providers`) as a table of provider,
model, whether the provider is configured, sizes, n and edits (`no`, `yes`, `only`; `+mask`
when the model takes a mask); `--json` prints the answer as it came. Configured providers come
first; `--configured` shows only them.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from image_gateway.cli import display
from image_gateway.cli.client import Gateway, Target

SIZES_SHOWN = 4


def add_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    models = groups.add_parser(
        "models", parents=[common], help="the gateway's providers and models, what each accepts"
    )
    models.add_argument("--configured", action="store_true", help="configured providers only")
    models.set_defaults(run=lambda args: asyncio.run(_models(args)))


async def _models(args: argparse.Namespace) -> int:
    async with Gateway(Target.from_options(args.url, args.api_key)) as gw:
        catalogue = await gw.get("/v1/providers")
    providers = [p for p in catalogue.get("data", []) if p.get("configured") or not args.configured]
    if args.json:
        display.dump({**catalogue, "data": providers})
        return 0
    providers.sort(key=lambda p: not p.get("configured"))  # stable: the gateway's order within
    rows = [_row(provider, model) for provider in providers for model in provider.get("models", [])]
    display.table(("provider", "model", "configured", "n", "edits", "sizes"), rows)
    return 0


def _row(provider: dict[str, Any], model: dict[str, Any]) -> list[str]:
    """One model of `/v1/providers` (`ModelSpec.card()`): `sizes` is a list of "WxH" or a
    sentence; `n` is `{"max", "per_upstream_call"}`."""
    name = str(model.get("id"))
    if name == provider.get("default_model"):
        name += " (default)"
    n = model.get("n") or {}
    edits = "only" if model.get("requires_input_image") else "yes" if model.get("edits") else "no"
    if model.get("mask"):
        edits += "+mask"
    configured = "yes" if provider.get("configured") else "no"
    return [str(provider.get("id")), name, configured, f"1-{n.get('max', 1)}", edits, _sizes(model)]


def _sizes(model: dict[str, Any]) -> str:
    """A list of sizes, shortened past SIZES_SHOWN (`--json` has them all), or the sentence."""
    sizes = model.get("sizes")
    if not isinstance(sizes, list):
        return str(sizes or "")
    shown = ", ".join(map(str, sizes[:SIZES_SHOWN]))
    if len(sizes) > SIZES_SHOWN:
        shown += f" and {len(sizes) - SIZES_SHOWN} more"
    if model.get("aspect_ratio"):
        shown += (", " if shown else "") + "or aspect_ratio"
    return shown
