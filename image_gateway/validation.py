"""Turn a pydantic validation error into the gateway's 400, naming the field, never the value."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from image_gateway.errors import InvalidRequest

Model = TypeVar("Model", bound=BaseModel)


def validate_object(model: type[Model], raw: object) -> Model:
    """A parsed JSON body as `model`: 400 when it is not an object or does not validate."""
    if not isinstance(raw, dict):
        raise InvalidRequest("the body must be a JSON object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise invalid_request_from(exc) from None


def invalid_request_from(exc: ValidationError) -> InvalidRequest:
    err = exc.errors(include_url=False, include_input=False)[0]
    loc = [str(part) for part in err["loc"] if part != "body"]
    field = ".".join(loc) or None
    if err["type"] == "extra_forbidden":
        if field and field.startswith("provider_params["):
            # What the openai SDK makes of extra_body={"provider_params": {...}} in a multipart
            # edit: one form field per key. The gateway reads one field holding JSON.
            return InvalidRequest(
                f"Unrecognized request argument supplied: {field}. In a multipart request send "
                "provider_params as one form field holding a JSON object (provider_params="
                "'{\"strength\": 0.5}'); with the openai SDK, pass extra_body="
                '{"provider_params": json.dumps({...})}',
                param=field,
                code="unknown_parameter",
            )
        return InvalidRequest(
            f"Unrecognized request argument supplied: {field}",
            param=field,
            code="unknown_parameter",
        )
    if err["type"] == "missing":
        return InvalidRequest(
            f"{field} is required", param=field, code="missing_required_parameter"
        )
    message = err["msg"].removeprefix("Value error, ")
    # A field the gateway knows but does not offer (schemas.NOT_OFFERED): OpenAI's own code.
    code = "unsupported_parameter" if err["type"] == "unsupported_parameter" else None
    return InvalidRequest(f"{field}: {message}" if field else message, param=field, code=code)
