"""`openai` settings: `OPENAI_API_KEY`, `OPENAI_BASE_URL` (any OpenAI-compatible Images API,
`/v1` included), `OPENAI_DEFAULT_MODEL`, `OPENAI_TIMEOUT_SECONDS` (`kit/config.py`)."""

from __future__ import annotations

from image_gateway.providers.kit.config import BaseUrl, ProviderConfig


class OpenAIConfig(ProviderConfig):
    base_url: BaseUrl = "https://api.openai.com/v1"
    default_model: str = "gpt-image-1"
