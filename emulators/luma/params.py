"""What Luma's `POST /generations/image` accepts, checked as pydantic would (lumaai-python
`types/generations/image_create_params.py`): `model` (required) photon-1 | photon-flash-1,
`prompt`, `aspect_ratio` from seven, `format` jpg | png, `image_ref` / `style_ref` [{url,
weight}], `character_ref` {identity0: {images: [url]}}, `modify_image_ref` {url, weight},
`callback_url`, `generation_type` "image", `sync`, `sync_timeout`. References are URLs ("string
(uri)"): anything but http(s) is a 422 here (Luma fetches them; whether it would read a `data:`
URI is [UNVERIFIED], and the emulator reads none). Unknown fields are ignored, or with strict a
422 `extra_forbidden`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import errors as E

MODELS = ("photon-1", "photon-flash-1")
RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
FIELDS = (
    "model",
    "prompt",
    "aspect_ratio",
    "format",
    "image_ref",
    "style_ref",
    "character_ref",
    "modify_image_ref",
    "callback_url",
    "generation_type",
    "sync",
    "sync_timeout",
)


@dataclass
class Ask:
    model: str
    prompt: str
    aspect_ratio: str = "16:9"  # Luma's default (its OpenAPI, as Comfy Router republishes it)
    fmt: str = "jpg"
    references: int = 0  # reference URLs given (none is fetched)


def parse(body: Any, strict: bool) -> Ask:
    if not isinstance(body, dict):
        raise E.invalid("dict_type", [], "Input should be a valid dictionary")
    if strict:
        for name in body:
            if name not in FIELDS:
                raise E.invalid("extra_forbidden", [name], "Extra inputs are not permitted")
    model = body.get("model")
    if model is None:
        raise E.invalid("missing", ["model"], "Field required")
    if model not in MODELS:
        raise E.invalid(
            "literal_error", ["model"], "Input should be 'photon-1' or 'photon-flash-1'", model
        )
    prompt = body.get("prompt", "")
    if not isinstance(prompt, str):
        raise E.invalid("string_type", ["prompt"], "Input should be a valid string", prompt)
    ask = Ask(model, prompt)
    ask.aspect_ratio = _literal(body, "aspect_ratio", RATIOS, ask.aspect_ratio)
    ask.fmt = _literal(body, "format", ("jpg", "png"), ask.fmt)
    _literal(body, "generation_type", ("image",), "image")
    for name in ("image_ref", "style_ref"):
        refs = body.get(name)
        if refs is None:
            continue
        if not isinstance(refs, list):
            raise E.invalid("list_type", [name], "Input should be a valid list", refs)
        for index, ref in enumerate(refs):
            _reference(ref, [name, str(index)])
            ask.references += 1
    if body.get("modify_image_ref") is not None:
        _reference(body["modify_image_ref"], ["modify_image_ref"])
        ask.references += 1
    character = body.get("character_ref")
    if character is not None:
        identity = character.get("identity0") if isinstance(character, dict) else None
        images = identity.get("images") if isinstance(identity, dict) else None
        if not isinstance(images, list):
            raise E.invalid(
                "list_type",
                ["character_ref", "identity0", "images"],
                "Input should be a valid list",
            )
        for index, url in enumerate(images):
            _url(url, ["character_ref", "identity0", "images", str(index)])
            ask.references += 1
    for name in ("sync",):
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise E.invalid("bool_type", [name], "Input should be a valid boolean", body[name])
    return ask


def _literal(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if value not in allowed:
        choices = ", ".join(f"'{a}'" for a in allowed)
        raise E.invalid("literal_error", [name], f"Input should be {choices}", value)
    return str(value)


def _reference(ref: Any, loc: list[str]) -> None:
    if not isinstance(ref, dict):
        raise E.invalid("dict_type", loc, "Input should be a valid dictionary")
    _url(ref.get("url"), [*loc, "url"])
    weight = ref.get("weight")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int | float)):
        raise E.invalid("float_type", [*loc, "weight"], "Input should be a valid number", weight)


def _url(url: Any, loc: list[str]) -> None:
    if not isinstance(url, str):
        raise E.invalid("string_type", loc, "Input should be a valid string", url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise E.invalid("url_scheme", loc, "URL scheme should be 'http' or 'https'", url[:80])
    if not parts.hostname:
        raise E.invalid("url_parsing", loc, "Input should be a valid URL, empty host", url[:80])
