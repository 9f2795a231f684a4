"""The pixel sizes Gemini image models make, per image-size tier and aspect ratio
(shared/providers/REFERENCE-MORE.md §1.9: Runway's official SDK `GeminiImage3Pro`,
`GeminiImage3_1Flash`, `Gemini2_5Flash`, consistent with Google's tables as copied by [3P]
sites), and the one lookup between an OpenAI `size` ("WxH") and Gemini's
`imageConfig{aspectRatio, imageSize}`.

A tier is Gemini's `imageSize` as sent on the wire: `"512"`, `"1K"`, `"2K"`, `"4K"` (uppercase
K; REFERENCE-MORE §1.3). Pure data, no provider or host in it: `vertex` reads the same tables.
"""

from __future__ import annotations

from collections.abc import Mapping

Size = tuple[int, int]

# The ten aspect ratios of every Gemini image model (GENAI-PY `ImageConfig`, commit 8b2a4e0).
RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# The four more of the 3.1 Flash Image family (Feb 2026, GENAI-PY commit 8b2a4e0).
EXTRA_RATIOS = ("1:4", "4:1", "1:8", "8:1")

_1K: dict[str, Size] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
_2K: dict[str, Size] = {
    "1:1": (2048, 2048),
    "2:3": (1696, 2528),
    "3:2": (2528, 1696),
    "3:4": (1792, 2400),
    "4:3": (2400, 1792),
    "4:5": (1856, 2304),
    "5:4": (2304, 1856),
    "9:16": (1536, 2752),
    "16:9": (2752, 1536),
    "21:9": (3168, 1344),
}
_4K: dict[str, Size] = {
    "1:1": (4096, 4096),
    "2:3": (3392, 5056),
    "3:2": (5056, 3392),
    "3:4": (3584, 4800),
    "4:3": (4800, 3584),
    "4:5": (3712, 4608),
    "5:4": (4608, 3712),
    "9:16": (3072, 5504),
    "16:9": (5504, 3072),
    "21:9": (6336, 2688),
}
_512: dict[str, Size] = {
    "1:1": (512, 512),
    "2:3": (416, 624),
    "3:2": (624, 416),
    "3:4": (432, 592),
    "4:3": (592, 432),
    "4:5": (448, 576),
    "5:4": (576, 448),
    "9:16": (384, 672),
    "16:9": (672, 384),
    "21:9": (768, 336),
    "1:4": (256, 1024),
    "4:1": (1024, 256),
    "1:8": (176, 1408),
    "8:1": (1408, 176),
}
_EXTRA: dict[str, dict[str, Size]] = {
    "1K": {"1:4": (512, 2048), "4:1": (2048, 512), "1:8": (352, 2816), "8:1": (2816, 352)},
    "2K": {"1:4": (1024, 4096), "4:1": (4096, 1024), "1:8": (704, 5632), "8:1": (5632, 704)},
    "4K": {"1:4": (2048, 8192), "4:1": (8192, 2048), "1:8": (1408, 11264), "8:1": (11264, 1408)},
}

# tier -> ratio -> (width, height): what a model of each family makes.
Tiers = Mapping[str, Mapping[str, Size]]
FLASH_2_5: Tiers = {"1K": _1K}  # 1K only [3P: REFERENCE-MORE §1.3]
PRO_3: Tiers = {"1K": _1K, "2K": _2K, "4K": _4K}
FLASH_3_1: Tiers = {
    "512": _512,
    "1K": {**_1K, **_EXTRA["1K"]},
    "2K": {**_2K, **_EXTRA["2K"]},
    "4K": {**_4K, **_EXTRA["4K"]},
}
DEFAULT_TIER = "1K"  # "If not specified, the model will use default value `1K`" (GENAI-PY)


def size_text(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


def all_sizes(tiers: Tiers) -> tuple[str, ...]:
    """Every "WxH" the tiers make, tier by tier (the closed set a model's `size` accepts)."""
    return tuple(size_text(size) for table in tiers.values() for size in table.values())


def ratios_of(tiers: Tiers) -> tuple[str, ...]:
    """The aspect ratios offered at any tier, in table order."""
    return tuple(dict.fromkeys(ratio for table in tiers.values() for ratio in table))


def config_for(size: Size, tiers: Tiers) -> tuple[str, str] | None:
    """(aspectRatio, imageSize) of a "WxH" the tiers make exactly; None when none makes it."""
    for tier, table in tiers.items():
        for ratio, made in table.items():
            if made == size:
                return ratio, tier
    return None


def tier_named(value: object, tiers: Tiers) -> str | None:
    """The tier `value` names (`"2k"` -> `"2K"`: the wire wants an uppercase K), or None."""
    if not isinstance(value, str):
        return None
    return next((tier for tier in tiers if tier.lower() == value.strip().lower()), None)


def _check_unique(tiers: Tiers) -> None:
    seen: dict[Size, str] = {}
    for tier, table in tiers.items():
        for ratio, size in table.items():
            if size in seen:
                raise ValueError(f"{size_text(size)} is both {seen[size]} and {tier} {ratio}")
            seen[size] = f"{tier} {ratio}"


for _tiers in (FLASH_2_5, PRO_3, FLASH_3_1):
    _check_unique(_tiers)  # a size names one (ratio, tier): `config_for` is a true inverse
