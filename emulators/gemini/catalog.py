"""The image models the Gemini emulator serves and what each accepts
(shared/providers/REFERENCE-MORE.md §1.1, §1.3, §1.9): pixel sizes per `imageSize` tier and
`aspectRatio`, the most input images, whether it is a thinking model (Gemini 3: thought parts,
a draft image among them, come before the final image, §1.4), and the image-output tokens of
one image per tier (`usageMetadata`; 2.5 Flash 1290 and 3 Pro 1120/2000 as §9 quotes them,
3.1 Flash derived from its [3P] per-image prices at $60/M tokens [inference]).

Written from the reference, not imported from the gateway: the emulator stands for Google.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Size = tuple[int, int]

RATIOS_10 = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")


def _table(ratios: tuple[str, ...], sizes: str) -> dict[str, Size]:
    """`"1024x1024 832x1248 ..."`, one size per ratio in order."""
    pairs = [tuple(int(n) for n in size.split("x")) for size in sizes.split()]
    return {ratio: (pair[0], pair[1]) for ratio, pair in zip(ratios, pairs, strict=True)}


K1 = _table(
    RATIOS_10,
    "1024x1024 832x1248 1248x832 864x1184 1184x864 896x1152 1152x896 768x1344 1344x768 1536x672",
)
K2 = _table(
    RATIOS_10,
    "2048x2048 1696x2528 2528x1696 1792x2400 2400x1792 "
    "1856x2304 2304x1856 1536x2752 2752x1536 3168x1344",
)
K4 = _table(
    RATIOS_10,
    "4096x4096 3392x5056 5056x3392 3584x4800 4800x3584 "
    "3712x4608 4608x3712 3072x5504 5504x3072 6336x2688",
)
EXTRA = ("1:4", "4:1", "1:8", "8:1")
T512 = _table(
    RATIOS_10 + EXTRA,
    "512x512 416x624 624x416 432x592 592x432 448x576 576x448 384x672 672x384 768x336 "
    "256x1024 1024x256 176x1408 1408x176",
)
K1X = {**K1, **_table(EXTRA, "512x2048 2048x512 352x2816 2816x352")}
K2X = {**K2, **_table(EXTRA, "1024x4096 4096x1024 704x5632 5632x704")}
K4X = {**K4, **_table(EXTRA, "2048x8192 8192x2048 1408x11264 11264x1408")}

THINKING_LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH")  # GENAI-PY `ThinkingLevel`


@dataclass(frozen=True)
class ImageModel:
    id: str
    tiers: dict[str, dict[str, Size]]  # imageSize -> aspectRatio -> (width, height)
    image_tokens: dict[str, int]  # imageSize -> output tokens of one image
    max_images: int  # input images per request
    thinking: bool = False  # a Gemini 3 model: thought parts before the final image
    thinking_levels: tuple[str, ...] = field(default=())

    @property
    def ratios(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for table in self.tiers.values() for r in table))


MODELS: dict[str, ImageModel] = {
    model.id: model
    for model in (
        ImageModel("gemini-2.5-flash-image", {"1K": K1}, {"1K": 1290}, max_images=3),
        ImageModel(
            "gemini-3-pro-image",
            {"1K": K1, "2K": K2, "4K": K4},
            {"1K": 1120, "2K": 1120, "4K": 2000},
            max_images=14,
            thinking=True,
        ),
        ImageModel(
            "gemini-3.1-flash-image",
            {"512": T512, "1K": K1X, "2K": K2X, "4K": K4X},
            {"512": 750, "1K": 1120, "2K": 1680, "4K": 2520},
            max_images=14,
            thinking=True,
            thinking_levels=THINKING_LEVELS,
        ),
    )
}
DEFAULT_TIER = "1K"
