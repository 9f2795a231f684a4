"""`local`: the built-in offline renderer (not an AI model): Pillow draws from the prompt.

- `config.py`   its settings
- `models.py`   its one model and the size limits
- `adapter.py`  the provider: normalize, validate, generate (keyless, calls nobody)
- `drawing.py`  the drawing, imported with the first image
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.local.config import LocalConfig

DEFINITION = ProviderDefinition(
    name="local",
    label="Built-in offline renderer (not an AI model)",
    config=LocalConfig,
    adapter="image_gateway.providers.local.adapter:LocalProvider",
)
