"""`gemini` settings: `GEMINI_API_KEY` (or `GOOGLE_API_KEY`, which Google's SDKs read too),
`GEMINI_BASE_URL` (host and API version: `https://generativelanguage.googleapis.com/v1beta`,
REFERENCE-MORE §1.2; the adapter appends `/models/{model}:generateContent`),
`GEMINI_DEFAULT_MODEL`, `GEMINI_TIMEOUT_SECONDS` (`kit/config.py`)."""

from __future__ import annotations

from image_gateway.providers.kit.config import BaseUrl, ProviderConfig


class GeminiConfig(ProviderConfig):
    base_url: BaseUrl = "https://generativelanguage.googleapis.com/v1beta"
    # The GA model with no shutdown announced as of 2026-11-30 (REFERENCE-MORE §1.1).
    default_model: str = "gemini-3-pro-image"
