"""`/playground` over plain HTTP: the page and its assets are served by the gateway itself (no key
needed to load them, nothing from another origin), under a strict Content-Security-Policy (no
inline script or style), and the script never writes API text as HTML. `/v1/providers` carries
what the page builds its form from: each model's `provider_params_schema`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.resources import files
from typing import Any

from image_gateway.providers.kit.base import adapter_class
from image_gateway.providers.registry import DEFINITIONS
from tests.conftest import RunningGateway, emulator_settings

STATIC = files("image_gateway") / "playground" / "static"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data


def _directives(policy: str) -> dict[str, str]:
    pairs = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {name: value for name, value in pairs}


def test_the_page_is_served_without_a_key_under_a_strict_policy(gateway: RunningGateway) -> None:
    with gateway.client(key=None) as client:
        page = client.get("/playground")
        head = client.head("/playground")
    assert page.status_code == 200 and head.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert head.headers["content-security-policy"] == page.headers["content-security-policy"]
    policy = _directives(page.headers["content-security-policy"])
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"

    tags = _Tags()
    tags.feed(page.text)
    scripts = [attrs for tag, attrs in tags.tags if tag == "script"]
    assert scripts == [{"type": "module", "src": "playground/assets/playground.js"}]
    assert tags.script_text.strip() == ""
    assert not [attrs for _, attrs in tags.tags if "style" in attrs]
    assert not [name for _, attrs in tags.tags for name in attrs if name.startswith("on")]
    # The elements the tests drive the page by.
    test_ids = {attrs.get("data-testid") for _, attrs in tags.tags}
    assert {"prompt", "models", "run"} <= test_ids


def test_the_assets_are_served_from_the_package(gateway: RunningGateway) -> None:
    with gateway.client(key=None) as client:
        script = client.get("/playground/assets/playground.js")
        module = client.get("/playground/assets/sse.js")
        style = client.get("/playground/assets/playground.css")
        missing = client.get("/playground/assets/nothing.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.content == (STATIC / "playground.js").read_bytes()
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert missing.status_code == 404
    # Every URL the page loads is relative to the gateway (no CDN).
    page = (STATIC / "index.html").read_text()
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_the_script_never_writes_html_and_keeps_the_key_out_of_urls() -> None:
    modules = [f for f in STATIC.iterdir() if f.name.endswith(".js")]
    assert {f.name for f in modules} >= {"playground.js", "sse.js", "form.js", "results.js"}
    script = "\n".join(f.read_text() for f in modules)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    # The key is kept in sessionStorage and sent only as a header.
    assert "localStorage" not in script
    assert '"X-API-Key"' in script


def test_providers_describe_each_provider_param(
    start_gateway: Any, openai_emu: Any, bfl: Any
) -> None:
    gateway = start_gateway(**emulator_settings(openai_emu, bfl))
    with gateway.client() as client:
        providers = {p["id"]: p for p in client.get("/v1/providers").json()["data"]}
    for provider in providers.values():
        for card in provider["models"]:
            assert list(card["provider_params_schema"]) == card["provider_params"], card["id"]
    flux = {m["id"]: m for m in providers["bfl-flux"]["models"]}["flux-pro-1.1"]
    schema = flux["provider_params_schema"]
    assert schema["safety_tolerance"]["type"] == "integer"
    assert schema["prompt_upsampling"] == {"type": "boolean"}
    assert schema["image_prompt"]["contentMediaType"] == "image/*"
    grok = {m["id"]: m for m in providers["xai"]["models"]}["grok-imagine-image"]
    assert grok["provider_params_schema"]["resolution"] == {"type": "string", "enum": ["1k", "2k"]}
    # Every provider_param of BFL's has its type.
    declared = {
        name for card in providers["bfl-flux"]["models"] for name in card["provider_params"]
    }
    typed = {
        name
        for card in providers["bfl-flux"]["models"]
        for name, value in card["provider_params_schema"].items()
        if value
    }
    assert typed == declared


def test_each_provider_types_only_names_its_models_take() -> None:
    """A schema left behind by a removed provider_param would describe nothing."""
    for definition in DEFINITIONS.values():
        adapter = adapter_class(definition)
        names = {name for spec in adapter.models.values() for name in spec.params}
        assert set(adapter.param_schemas) <= names, definition.name
