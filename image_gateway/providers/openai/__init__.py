"""`openai`: the OpenAI Images API and OpenAI-compatible endpoints, synchronous
(`kit/sync.py`): JSON for generations, multipart for edits.

- `config.py`     its settings
- `models.py`     its model catalogue (typed `OpenAIModel` data)
- `translate.py`  the pure translations to and from the Images API, and its size rules
- `adapter.py`    the provider: `kit/sync.py` hooks, OpenAI-only checks, its error codes
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.openai.config import OpenAIConfig

DEFINITION = ProviderDefinition(
    name="openai",
    label="OpenAI Images API",
    config=OpenAIConfig,
    adapter="image_gateway.providers.openai.adapter:OpenAIProvider",
    key_prefixes=("sk-",),
)
