"""BFL endpoint catalogue: input schema, concurrency pool, output size and price per endpoint.

Prices (REFERENCE.md §4, in credits, 1 credit = $0.01): flat per image for FLUX.1 / Kontext /
fine-tunes; FLUX.2 is `first + max(0, out_MP - 1) * extra + in_MP * extra` where billing MP are
2**20 px (so 1024x1024 costs exactly the "first MP" price, as in the spec's example
`cost 3.0, output_mp 1.05`). Reported `input_mp` / `output_mp` are px / 1e6 to 2 dp. URL inputs
are never fetched, so each counts as 1 billing MP. Expand is priced like Fill (not in the table).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel

from . import schemas as s
from .images import image_size

MIB = float(2**20)


@dataclass(frozen=True)
class Endpoint:
    name: str
    model: type[BaseModel]
    family: str  # "flux1" | "ultra" | "fill" | "expand" | "kontext" | "flux2"
    price: float  # flat credits, or first-MP credits for FLUX.2
    extra_mp_price: float = 0.0
    pool: str = "default"
    default_format: str = "jpeg"

    @property
    def path(self) -> str:
        return f"/v1/{self.name}"


_ENDPOINTS = [
    Endpoint("flux-pro-1.1", s.FluxPro11Inputs, "flux1", 4.0),
    Endpoint("flux-dev", s.FluxDevInputs, "flux1", 2.5),
    Endpoint("flux-pro-1.1-ultra", s.FluxUltraInput, "ultra", 6.0),
    Endpoint("flux-pro-1.1-ultra-finetuned", s.FinetuneFluxUltraInput, "ultra", 7.0),
    Endpoint("flux-pro-1.0-fill", s.FluxProFillInputs, "fill", 5.0),
    Endpoint("flux-pro-1.0-fill-finetuned", s.FinetuneFluxProFillInputs, "fill", 6.0),
    Endpoint("flux-pro-1.0-expand", s.FluxProExpandInputs, "expand", 5.0),
    Endpoint("flux-kontext-pro", s.FluxKontextProInputs, "kontext", 4.0, default_format="png"),
    Endpoint(
        "flux-kontext-max",
        s.FluxKontextProInputs,
        "kontext",
        8.0,
        pool="kontext-max",
        default_format="png",
    ),
    Endpoint("flux-2-pro", s.Flux2Inputs, "flux2", 3.0, 1.5),
    Endpoint("flux-2-pro-preview", s.Flux2Inputs, "flux2", 3.0, 1.5),
    Endpoint("flux-2-max", s.Flux2Inputs, "flux2", 7.0, 3.0),
    Endpoint("flux-2-flex", s.Flux2FlexInputs, "flux2", 5.0, 5.0),
    Endpoint("flux-2-klein-4b", s.Flux2KleinInputs, "flux2", 1.4, 0.1),
    Endpoint("flux-2-klein-9b", s.Flux2KleinInputs, "flux2", 1.5, 0.2),
    Endpoint("flux-2-klein-9b-preview", s.Flux2KleinInputs, "flux2", 1.5, 0.2),
]
ENDPOINTS: dict[str, Endpoint] = {e.path: e for e in _ENDPOINTS}


@dataclass(frozen=True)
class Plan:
    """What a validated submit will produce and cost."""

    width: int
    height: int
    output_format: str
    cost: float
    input_mp: float
    output_mp: float


def size_for_ratio(ratio: float, megapixels: float = 1.0, step: int = 32) -> tuple[int, int]:
    width = math.sqrt(megapixels * MIB * ratio)
    height = width / ratio
    return max(step, round(width / step) * step), max(step, round(height / step) * step)


def _input_pixels(body: BaseModel) -> list[float]:
    fields = body.image_fields() if isinstance(body, s._Inputs) else []
    out = []
    for value in fields:
        size = None if s.is_http_url(value) else image_size(value)
        out.append(float(size[0] * size[1]) if size else MIB)
    return out


def output_size(ep: Endpoint, body: BaseModel) -> tuple[int, int]:
    data = body.__dict__
    if ep.family == "flux1":
        return int(data["width"]), int(data["height"])
    if ep.family == "ultra":
        return size_for_ratio(s.aspect_ratio_value(data["aspect_ratio"]))
    if ep.family in ("fill", "expand"):
        w, h = image_size(data["image"]) or (1024, 1024)
        if ep.family == "expand":
            w += (data["left"] or 0) + (data["right"] or 0)
            h += (data["top"] or 0) + (data["bottom"] or 0)
        return w, h
    if ep.family == "kontext":
        if data["aspect_ratio"]:
            return size_for_ratio(s.aspect_ratio_value(data["aspect_ratio"]))
        first = data["input_image"]
        size = image_size(first) if first and not s.is_http_url(first) else None
        return size_for_ratio(size[0] / size[1]) if size else (1024, 1024)
    return int(data["width"] or 1024), int(data["height"] or 1024)


def plan(ep: Endpoint, body: BaseModel) -> Plan:
    width, height = output_size(ep, body)
    fmt = body.__dict__.get("output_format")
    fmt_name = fmt.value if isinstance(fmt, s.OutputFormat) else ep.default_format
    in_px = _input_pixels(body)
    if ep.family == "flux2":
        extra_mib = max(0.0, width * height / MIB - 1.0) + sum(in_px) / MIB
        cost = ep.price + extra_mib * ep.extra_mp_price
    else:
        cost = ep.price
    return Plan(
        width=width,
        height=height,
        output_format=fmt_name,
        cost=round(cost, 2),
        input_mp=round(sum(in_px) / 1e6, 2),
        output_mp=round(width * height / 1e6, 2),
    )
