"""`xai`: xAI's image models (Grok Imagine, and the legacy grok-2-image) through its
OpenAI-style Images API, synchronous (`kit/sync.py`): JSON for generations and for edits alike.

- `config.py`     its settings (`XAI_*`)
- `models.py`     its model catalogue (typed `XAIModel` data) and the model ids it also accepts
- `translate.py`  the pure translations to and from xAI's Images API, and its aspect ratios
- `errors.py`     xAI's error bodies and the answers the status table would misread
- `adapter.py`    the provider: `kit/sync.py` hooks and xAI's own rules
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.xai.config import XAIConfig

DEFINITION = ProviderDefinition(
    name="xai",
    label="xAI Grok Imagine (images)",
    config=XAIConfig,
    adapter="image_gateway.providers.xai.adapter:XAIProvider",
    key_prefixes=("xai-",),
)
