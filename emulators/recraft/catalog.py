"""The models the Recraft emulator serves and what each takes (RECRAFT-DOCS: `appendix` for the
sizes and prompt limits, `pricing` and the `models/*` pages for the API units; the V2/V3 sizes
are the `ImageSize` enum of Recraft's own client, recraft-ai/mcp-recraft-server at c7a1ed6).

`_vector` models answer SVG (RECRAFT-DOCS models/overview), so the emulator serves a few of them
too: the gateway must not list them (it cannot pass SVG on as an image).
"""

from __future__ import annotations

from dataclasses import dataclass

SIZES_1K = {
    "1:1": "1024x1024", "2:1": "1536x768", "1:2": "768x1536", "3:2": "1280x832",
    "2:3": "832x1280", "4:3": "1216x896", "3:4": "896x1216", "5:4": "1152x896",
    "4:5": "896x1152", "6:10": "832x1344", "14:10": "1280x896", "10:14": "896x1280",
    "16:9": "1344x768", "9:16": "768x1344",
}  # fmt: skip
SIZES_2K = {
    "1:1": "2048x2048", "2:1": "3072x1536", "1:2": "1536x3072", "3:2": "2560x1664",
    "2:3": "1664x2560", "4:3": "2432x1792", "3:4": "1792x2432", "5:4": "2304x1792",
    "4:5": "1792x2304", "6:10": "1664x2688", "14:10": "2560x1792", "10:14": "1792x2560",
    "16:9": "2688x1536", "9:16": "1536x2688",
}  # fmt: skip
SIZES_V3 = {
    "1:1": "1024x1024", "2:1": "2048x1024", "1:2": "1024x2048", "3:2": "1536x1024",
    "2:3": "1024x1536", "4:3": "1365x1024", "3:4": "1024x1365", "5:4": "1280x1024",
    "4:5": "1024x1280", "6:10": "1024x1707", "10:6": "1707x1024", "14:10": "1434x1024",
    "10:14": "1024x1434", "16:9": "1820x1024", "9:16": "1024x1820",
}  # fmt: skip
STYLES_V3 = (
    "realistic_image",
    "digital_illustration",
    "vector_illustration",
    "icon",
    "logo_raster",
)


@dataclass(frozen=True)
class Model:
    """`units`: API units an image costs; `family` v4 (V4, V4.1) or v3/v2 (styles, negative
    prompt, seed); `inpaints`: takes `/images/inpaint`."""

    id: str
    family: str
    sizes: dict[str, str]
    units: int
    vector: bool = False
    inpaints: bool = False

    @property
    def max_prompt(self) -> int:
        return 10000 if self.family == "v4" else 1000

    @property
    def edits(self) -> bool:  # RECRAFT-DOCS tools/image-to-image: V3, V4 and V4.1
        return self.family != "v2"


MODELS = {
    m.id: m
    for m in (
        Model("recraftv4_1", "v4", SIZES_1K, 35),
        Model("recraftv4_1_utility", "v4", SIZES_1K, 35),
        Model("recraftv4_1_pro", "v4", SIZES_2K, 210),
        Model("recraftv4_1_utility_pro", "v4", SIZES_2K, 210),
        Model("recraftv4_1_vector", "v4", SIZES_1K, 80, vector=True),
        Model("recraftv4", "v4", SIZES_1K, 40),
        Model("recraftv4_pro", "v4", SIZES_2K, 250),
        Model("recraftv4_vector", "v4", SIZES_1K, 80, vector=True),
        Model("recraftv4_pro_vector", "v4", SIZES_2K, 300, vector=True),
        Model("recraftv3", "v3", SIZES_V3, 40, inpaints=True),
        Model("recraftv3_vector", "v3", SIZES_V3, 80, vector=True, inpaints=True),
        Model("recraftv2", "v2", SIZES_V3, 22),
        Model("recraftv2_vector", "v2", SIZES_V3, 44, vector=True),
    )
}
DEFAULT_MODEL = "recraftv4_1"  # RECRAFT-DOCS models/recraft-v4-1: the API's default
