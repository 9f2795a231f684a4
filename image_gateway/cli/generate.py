"""`image-gateway generate PROMPT -m MODEL ...` and `image-gateway edit IMAGE PROMPT -m MODEL ...`:
each model named runs as one job (`Prefer: respond-async` on `POST /v1/images/generations` or
`/v1/images/edits`), all at once; their images are saved into `--output-dir` as
`<job id>-<index>.<ext>` and a table (or `--json`) says what each cost and took.

The options are the API's common fields (README "Using it"): `-n`, `--size`, `--aspect-ratio`,
`--quality`, `--style`, `--seed`, `--negative-prompt`, `--output-format`, `--background`,
`--response-format`, `--user-id`, `--partial-images` (OpenAI's: how many partial images the
job's events carry, where the gateway streams them), and `--param KEY=VALUE` for
`provider_params` (VALUE read as JSON when it is JSON — `steps=30`, `raw=true` — else as text).
What a model accepts is in `image-gateway models`; a field it cannot honour is the gateway's
400, shown as its message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from image_gateway.cli import display
from image_gateway.cli.client import Gateway, Target, Unusable
from image_gateway.cli.watch import TERMINAL, Run, Send, prepare_output, submit

ASYNC = {"Prefer": "respond-async"}

# (flag, API field, type, help): the common fields, sent when given.
FIELDS: tuple[tuple[str, str, Callable[[str], Any], str], ...] = (
    ("--size", "size", str, "WxH, like 1024x1024 (each model's sizes: image-gateway models)"),
    ("--aspect-ratio", "aspect_ratio", str, "W:H, like 16:9 (for models sized by ratio)"),
    ("--quality", "quality", str, "the model's quality word (low, medium, high, hd, ...)"),
    ("--style", "style", str, "vivid or natural (dall-e-3)"),
    ("--seed", "seed", int, "a whole number >= 0, for repeatable draws where supported"),
    ("--negative-prompt", "negative_prompt", str, "what the image should not show"),
    ("--output-format", "output_format", str, "png, jpeg or webp"),
    ("--background", "background", str, "transparent, opaque or auto (GPT image models)"),
    ("--response-format", "response_format", str, "b64_json or url: how the job keeps images"),
    ("--user-id", "user_id", str, "your end user's id, kept with the job and its usage"),
    (
        "--partial-images",
        "partial_images",
        int,
        "0-3 previews streamed into the job's events by models that stream (counted in "
        "the progress display's partials; other models send none)",
    ),
)


def add_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    """`generate` and `edit` on the top parser's subparsers; `common` holds --url and the like."""
    generate = groups.add_parser(
        "generate",
        parents=[common],
        help="generate images on one or more models, side by side",
        description=__doc__.split("\n\n")[0],
    )
    generate.add_argument("prompt", help="what to draw (quote it)")
    _request_options(generate)
    generate.set_defaults(run=lambda args: asyncio.run(_generate(args)))

    edit = groups.add_parser(
        "edit",
        parents=[common],
        help="edit an image on one or more models, side by side",
        description="Edit IMAGE as PROMPT says (POST /v1/images/edits), on each model named.",
    )
    edit.add_argument("image", type=Path, help="the image to edit (PNG, JPEG or WebP)")
    edit.add_argument("prompt", help="what to change (quote it)")
    edit.add_argument(
        "--image",
        dest="more_images",
        action="append",
        type=Path,
        default=[],
        metavar="IMAGE",
        help="a further input image (repeatable; for models taking several)",
    )
    edit.add_argument("--mask", type=Path, help="where to edit: transparent pixels (a PNG)")
    edit.add_argument("--input-fidelity", help="high or low (GPT image models)")
    _request_options(edit)
    edit.set_defaults(run=lambda args: asyncio.run(_edit(args)))


def _request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-m",
        "--model",
        dest="models",
        action="append",
        default=[],
        metavar="MODEL",
        help="a model, provider/model or provider name (repeat to compare; "
        "default: the gateway's default)",
    )
    parser.add_argument("-n", type=int, help="images per model (1-10; default 1)")
    for flag, name, kind, text in FIELDS:
        parser.add_argument(flag, dest=name, type=kind, metavar=name.upper(), help=text)
    parser.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        type=_param,
        metavar="KEY=VALUE",
        help="a provider_params entry (VALUE as JSON when it parses, else text; repeatable)",
    )
    parser.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=Path("."),
        help="where images go, made if missing, checked before anything is sent (default: .)",
    )


def _param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    return key.strip(), parsed


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    """The common fields given on the command line, as the API names them."""
    fields: dict[str, Any] = {}
    if args.n is not None:
        fields["n"] = args.n
    for _flag, name, _kind, _help in FIELDS:
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if getattr(args, "input_fidelity", None) is not None:
        fields["input_fidelity"] = args.input_fidelity
    if args.params:
        fields["provider_params"] = dict(args.params)
    return fields


async def _generate(args: argparse.Namespace) -> int:
    target = Target.from_options(args.url, args.api_key)
    fields = {"prompt": args.prompt, **_fields(args)}

    def send(gw: Gateway, model: str | None) -> Send:
        body = fields if model is None else {**fields, "model": model}
        return lambda: gw.post("/v1/images/generations", json=body, headers=ASYNC)

    return await run_all(target, args, send)


async def _edit(args: argparse.Namespace) -> int:
    target = Target.from_options(args.url, args.api_key)
    images = [_upload(path) for path in [args.image, *args.more_images]]
    mask = _upload(args.mask) if args.mask else None
    form = {"prompt": args.prompt}
    for name, value in _fields(args).items():
        form[name] = json.dumps(value) if name == "provider_params" else str(value)
    files = [("image[]" if len(images) > 1 else "image", image) for image in images]
    if mask is not None:
        files.append(("mask", mask))

    def send(gw: Gateway, model: str | None) -> Send:
        data = form if model is None else {**form, "model": model}
        return lambda: gw.post("/v1/images/edits", data=data, files=files, headers=ASYNC)

    return await run_all(target, args, send)


def _upload(path: Path) -> tuple[str, bytes, str]:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise Unusable(f"cannot read {path}: {exc.strerror or exc}") from None
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, content, mime


async def run_all(
    target: Target, args: argparse.Namespace, send: Callable[[Gateway, str | None], Send]
) -> int:
    """One job per model, all at once, watched to their end; then the results. The exit status
    is the worst of the runs' (0 all saved, 1 a request or job failed, 2 the gateway was
    unusable)."""
    prepare_output(args.output_dir)
    models: list[str | None] = list(dict.fromkeys(args.models)) or [None]
    runs = [Run(label=model or "default") for model in models]
    async with Gateway(target) as gw:
        with display.Progress(runs, quiet=args.quiet) as progress:
            try:
                await asyncio.gather(
                    *(
                        submit(gw, run, send(gw, model), args.output_dir, progress)
                        for run, model in zip(runs, models, strict=True)
                    )
                )
            except asyncio.CancelledError:  # Ctrl+C: say which jobs go on without us
                progress.stop()
                for run in runs:
                    if run.job_id and run.status not in TERMINAL:
                        display.note(
                            f"{run.label}: {run.job_id} goes on on the gateway "
                            f"(image-gateway jobs cancel {run.job_id})"
                        )
                raise
    return report(runs, as_json=args.json)


def report(runs: list[Run], *, as_json: bool) -> int:
    """Errors on stderr (each message once), results on stdout; the exit status."""
    unusable = [run for run in runs if run.exit_code == 2]
    if unusable and len(unusable) == len(runs):
        # Nothing ran (the gateway unreachable, the key refused): the one reason, no table.
        raise Unusable(unusable[0].error or "the gateway is unusable")
    seen: set[str] = set()
    for run in runs:
        if run.error and run.error not in seen:
            seen.add(run.error)
            display.error(f"{run.label}: {run.error}" if len(runs) > 1 else run.error)
    display.results(runs, as_json=as_json)
    return max(run.exit_code for run in runs)
