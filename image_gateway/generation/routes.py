"""Named routes (aliases) from the operator's `ROUTES_FILE`: one name → models tried in order.

TOML:                                          JSON:
    [routes.fast-square]                           {"routes": {
    models = ["bfl-flux/flux-2-klein-4b",              "fast-square": ["bfl-flux/flux-2-klein-4b",
              "openai/gpt-image-1-mini"]                               "openai/gpt-image-1-mini"],
    description = "cheap and quick"                    "hq": {"models": ["openai/gpt-image-1.5"]}}}

A route is a list of targets, or a table with `models` (and an optional `description`). A
target is `provider/model`, a bare model id one provider owns, or a provider name (its default
model). A route name may be used wherever a model id is (`model`, `fallbacks`, the SDK's
`model=`). Everything is checked at start-up; a problem stops the gateway with a message
naming the file and the entry. Routes cannot name other routes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from image_gateway.errors import GatewayError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
MAX_TARGETS = 8


class RoutesFileError(ValueError):
    """A problem in the routes file; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    targets: tuple[str, ...]
    description: str = ""


def load_routes(
    path: Path,
    check_name: Callable[[str], str | None],
    check_target: Callable[[str], object],
) -> dict[str, Route]:
    """Read and validate `path` (`.json`, else TOML). `check_name(name)` returns why a name is
    unusable (it shadows a provider or model) or None; `check_target(target)` raises a
    GatewayError when a target does not resolve to a provider and model."""
    where = f"ROUTES_FILE {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutesFileError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else _toml(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is one
        raise RoutesFileError(f"{where}: not valid {_kind(path)}: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"routes"}:
        raise RoutesFileError(f'{where}: expected a single top-level "routes" table')
    raw_routes = data.get("routes", {})
    if not isinstance(raw_routes, dict):
        raise RoutesFileError(f'{where}: "routes" must be a table of name = [models]')
    routes: dict[str, Route] = {}
    for name, entry in raw_routes.items():
        at = f"{where}: routes.{name}"
        if not NAME_RE.match(name):
            raise RoutesFileError(
                f"{at}: a route name is 1-64 letters, digits, '.', '_', ':' or '-' (no '/')"
            )
        reason = check_name(name)
        if reason:
            raise RoutesFileError(f"{at}: {reason}")
        targets, description = _entry(entry, at)
        for index, target in enumerate(targets):
            if target in raw_routes:
                raise RoutesFileError(f"{at}.models[{index}]: a route cannot name another route")
            try:
                check_target(target)
            except GatewayError as exc:
                raise RoutesFileError(f"{at}.models[{index}]: {exc.message}") from None
        routes[name] = Route(name, targets, description)
    return routes


def _entry(entry: Any, at: str) -> tuple[tuple[str, ...], str]:
    description = ""
    if isinstance(entry, dict):
        unknown = set(entry) - {"models", "description"}
        if unknown:
            raise RoutesFileError(f"{at}: unknown keys {sorted(unknown)} (models, description)")
        description = entry.get("description", "")
        if not isinstance(description, str):
            raise RoutesFileError(f"{at}.description: must be a string")
        entry = entry.get("models")
    if not isinstance(entry, list) or not entry:
        raise RoutesFileError(f"{at}: expected a non-empty list of models")
    if len(entry) > MAX_TARGETS:
        raise RoutesFileError(f"{at}: at most {MAX_TARGETS} models")
    for index, target in enumerate(entry):
        if not isinstance(target, str) or not target.strip():
            raise RoutesFileError(f"{at}.models[{index}]: must be a model id string")
    return tuple(t.strip() for t in entry), description


def _toml(text: str) -> Any:
    import tomllib  # only with a TOML ROUTES_FILE (issue 16: nothing unused at a cold start)

    return tomllib.loads(text)


def _kind(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "TOML"
