"""`recraft`: Recraft's image API (`https://external.api.recraft.ai/v1`), OpenAI-shaped and
synchronous (`kit/sync.py`): JSON to `/images/generations`, a multipart form to
`/images/imageToImage` (an edit) and `/images/inpaint` (an edit with a mask).

- `config.py`     its settings (`RECRAFT_*`; the key also as `RECRAFT_API_TOKEN`, Recraft's name)
- `models.py`     its raster models (typed `RecraftModel` data), their sizes and aspect ratios
- `translate.py`  the pure translations to and from Recraft's API, and its error bodies
- `adapter.py`    the provider: `kit/sync.py` hooks and Recraft's own rules
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.recraft.config import RecraftConfig

DEFINITION = ProviderDefinition(
    name="recraft",
    label="Recraft (V4.1, V4, V3, V2 raster models)",
    config=RecraftConfig,
    adapter="image_gateway.providers.recraft.adapter:RecraftProvider",
    key_variables=("RECRAFT_API_TOKEN",),
)
