"""Issue 16's two variants of the large-image scenario (`large.py`), each at concurrency 16 on
the same upstream (the OpenAI emulator answering one incompressible 4.2 MB PNG):

- `large-url`: the same generation asked with `response_format: "url"` (the storage path: the
  gateway decodes the provider's base64, writes the PNG to its blob store, a local folder by
  default, and answers a link). Load is the POST alone; before any load, one answer's `url` is
  fetched and must serve a PNG (`url_problem`), so a gateway answering dead links cannot pass.
  Fetching each URL under load would measure `GET /v1/images/files/{id}` (a file read) rather
  than the storage path, so it is not. `direct (b64_json)` is the emulator answering the same
  generation as base64 (gpt-image-1 has no `url` answer, as at OpenAI): the upstream's own cost,
  to compare the gateway's CPU per request with.
- `large-edit`: `POST /v1/images/edits`, multipart, uploading a 4.0 MB incompressible PNG as
  `image`, answered with the 4.2 MB `b64_json`; directly to the emulator and through the gateway.

Both run `--baseline`'s gateway side by side as `gateway (baseline)`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson

from ..load import Target
from ..procs import Processes, Server, http_answer
from ..stack import (
    GATEWAY_KEY,
    OPENAI_KEY,
    Context,
    direct_target,
    gateway_target,
    start_gateway,
    start_upstream,
    url,
)
from .common import IMAGE_SIGNATURES, answer, answering
from .large import measure

URL_BODY = b'{"model":"gpt-image-1","prompt":"x","size":"1024x1024","response_format":"url"}'
UPLOAD_SIDE = 1155  # 1155 x 1155 RGB noise: a 4.0 MB PNG that does not compress
BOUNDARY = "bench-edit-7f3a9c"


def run_url(ctx: Context) -> dict[str, Any]:
    level = ctx.log_levels[0]
    with Processes(ctx.log_dir) as procs:
        upstream = start_upstream(procs, "url-upstream", "large")
        gw = start_gateway(procs, ctx, "url-gateway", upstream, None, level)
        pairs: list[tuple[Target, Server]] = [
            (direct_target(upstream, "direct (b64_json)"), upstream),
            (gateway_target(gw, "gateway", URL_BODY), gw),
        ]
        if ctx.baseline is not None:
            base = start_gateway(
                procs, ctx, "url-gateway-baseline", upstream, None, level, app_dir=ctx.baseline
            )
            pairs.append((gateway_target(base, "gateway (baseline)", URL_BODY), base))
        checked = answering(ctx, [target for target, _ in pairs], " for large url answers")
        for target in checked[1:]:
            problem = url_problem(target)
            if problem is not None:
                raise RuntimeError(f"{target.label}: {problem}")
        return measure(ctx, "large-url", checked, pairs)


def run_edit(ctx: Context) -> dict[str, Any]:
    level = ctx.log_levels[0]
    body, content_type = edit_body()
    with Processes(ctx.log_dir) as procs:
        upstream = start_upstream(procs, "edit-upstream", "large")
        gw = start_gateway(procs, ctx, "edit-gateway", upstream, None, level)
        pairs: list[tuple[Target, Server]] = [
            (_edit_target(url(upstream), "direct", OPENAI_KEY, body, content_type), upstream),
            (_edit_target(url(gw), "gateway", GATEWAY_KEY, body, content_type), gw),
        ]
        if ctx.baseline is not None:
            base = start_gateway(
                procs, ctx, "edit-gateway-baseline", upstream, None, level, app_dir=ctx.baseline
            )
            target = _edit_target(url(base), "gateway (baseline)", GATEWAY_KEY, body, content_type)
            pairs.append((target, base))
        checked = answering(ctx, [target for target, _ in pairs], " for large edits")
        result = measure(ctx, "large-edit", checked, pairs)
    result["upload_bytes"] = _upload_bytes()
    return result


def url_problem(target: Target) -> str | None:
    """What keeps the target's `url` answer from serving an image, or None: one request, then
    one GET of its `data[0].url` (on the same host), which must be a 200 carrying a PNG, JPEG or
    WebP."""
    status, body = answer(target)
    link = orjson.loads(body)["data"][0].get("url") if status == 200 else None
    if not isinstance(link, str):
        return f"answered {status} without data[0].url"
    parts = urlsplit(link)
    port = parts.port or urlsplit(target.url).port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    got, image = http_answer("GET", port, path, None, {}, 30.0)
    if got != 200 or not image.startswith(IMAGE_SIGNATURES):
        return f"its url {link} answered {got} with {image[:16]!r}, not an image"
    return None


def edit_body() -> tuple[bytes, str]:
    """A multipart edit request: model, prompt, size and one 4.0 MB PNG as `image`."""
    from ..upstream import large_image

    fields = {"model": "gpt-image-1", "prompt": "x", "size": "1024x1024"}
    out = []
    for name, value in fields.items():
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        out.append(f"{head}{value}\r\n".encode())
    out.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; '
        f'filename="input.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
    )
    out += [large_image(UPLOAD_SIDE).data, f"\r\n--{BOUNDARY}--\r\n".encode()]
    return b"".join(out), f"multipart/form-data; boundary={BOUNDARY}"


def _edit_target(base: str, label: str, key: str, body: bytes, content_type: str) -> Target:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    return Target(label, f"{base}/v1/images/edits", body, headers)


def _upload_bytes() -> int:
    from ..upstream import large_image

    return len(large_image(UPLOAD_SIDE).data)
