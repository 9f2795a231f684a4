"""The OpenAI emulator as the benchmark's upstream, with a choice of image payload.

    python -m bench.upstream --port 9101 --images tiny

`default` serves the emulator unchanged (a real PNG of the requested size, ~21 kB for
1024x1024); `tiny` answers every generation with a 1x1 PNG (pure overhead, as in the issue's
reference measurement); `large` with one incompressible ~4 MB PNG (the large-images scenario);
`stream` with one incompressible ~1 MB PNG, as every partial and final image of a
`stream: true` answer, whose events come `--partial-interval` seconds apart (the streaming
scenario).
Everything else (auth, validation, response shape, usage) is the emulator's own.
"""

from __future__ import annotations

import argparse
import base64
import io
import random

import uvicorn
from PIL import Image

from emulators.kit.placeholder import Rendered
from emulators.kit.server import KEEP_ALIVE_SECONDS, bind_socket
from emulators.openai_images import OpenAIApp
from emulators.openai_images.images import ImageCache

LARGE_SIDE = 1183  # 1183 x 1183 RGB noise: a 4.2 MB PNG that does not compress
STREAM_SIDE = 577  # 577 x 577 RGB noise: a 1.0 MB PNG, each partial image of a stream


def encode(img: Image.Image) -> Rendered:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=0)
    data = buf.getvalue()
    return Rendered(data, base64.b64encode(data).decode("ascii"))


def tiny_image() -> Rendered:
    return encode(Image.new("RGB", (1, 1), (32, 96, 160)))


def large_image(side: int = LARGE_SIDE) -> Rendered:
    noise = random.Random(5).randbytes(side * side * 3)
    return encode(Image.frombytes("RGB", (side, side), noise))


class FixedImages(ImageCache):
    """Answers every image request with the same pre-encoded image."""

    def __init__(self, image: Rendered) -> None:
        super().__init__()
        self.image = image

    async def get(
        self,
        width: int,
        height: int,
        fmt: str = "png",
        transparent: bool = False,
        compression: int = 100,
        variant: int = 0,
    ) -> Rendered:
        return self.image


def build_app(
    images: str, api_key: str, latency: float, partial_interval: float = 0.05
) -> OpenAIApp:
    app = OpenAIApp(api_key=api_key, latency=latency, partial_interval=partial_interval)
    if images == "tiny":
        app.images = FixedImages(tiny_image())
    elif images == "large":
        app.images = FixedImages(large_image())
    elif images == "stream":
        app.images = FixedImages(large_image(STREAM_SIDE))
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--images", choices=("default", "tiny", "large", "stream"), default="default"
    )
    parser.add_argument("--api-key", default="sk-emulator")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument(
        "--partial-interval", type=float, default=0.05, help="seconds before each stream event"
    )
    args = parser.parse_args(argv)
    app = build_app(args.images, args.api_key, args.latency, args.partial_interval)
    sock = bind_socket("127.0.0.1", args.port)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


if __name__ == "__main__":
    main()
