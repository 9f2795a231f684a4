"""The types and ranges of provider_params, checked against a provider's `ParamSchemas` (the
JSON Schema fragments `/v1/providers` shows), before anything is spent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from image_gateway.errors import InvalidRequest
from image_gateway.providers.kit.capabilities import ParamSchemas


def check_param_types(params: Mapping[str, Any], schemas: ParamSchemas) -> None:
    """Each provider_param of the right type and range per its schema (`string` with an
    optional `enum`, `number` or `integer` with optional `minimum` / `maximum`): 400 naming
    it otherwise. A name without a schema, or a schema of another type, is not checked."""
    for name, value in params.items():
        schema = schemas.get(name, {})
        kind = schema.get("type")
        ok = True
        if kind == "string":
            ok = isinstance(value, str) and bool(value.strip())
            if ok and "enum" in schema:
                ok = value in schema["enum"]
        elif kind in ("number", "integer"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok and kind == "integer":
                ok = isinstance(value, int) or float(value).is_integer()
            if ok and "minimum" in schema:
                ok = value >= schema["minimum"]
            if ok and "maximum" in schema:
                ok = value <= schema["maximum"]
        if not ok:
            raise InvalidRequest(
                f"provider_params.{name} {value!r:.40} is not valid: {_expected(schema)}",
                param=f"provider_params.{name}",
            )


def _expected(schema: Any) -> str:
    if "enum" in schema:
        return "one of " + ", ".join(schema["enum"])
    low, high = schema.get("minimum"), schema.get("maximum")
    kind = "an integer" if schema.get("type") == "integer" else "a number"
    if schema.get("type") == "string":
        return "a non-empty string"
    if high is None:
        return f"{kind} of at least {low}"
    return f"{kind} from {low} to {high}"
