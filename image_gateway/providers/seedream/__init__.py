"""`seedream`: ByteDance Seedream image models on BytePlus ModelArk (or Volcengine Ark), through
Ark's synchronous Images API (`kit/sync.SyncJSONProvider`).

- `config.py`     its settings (`SEEDREAM_*`; the key also as `ARK_API_KEY`, the base URL also
                  as `ARK_BASE_URL`, as volcengine-python-sdk's `Ark` client reads them)
- `models.py`     its catalogue: Seedream 5.0 lite, 4.5, 4.0 (text-to-image and reference-image
                  edits), Seedream 3.0 t2i, SeedEdit 3.0 i2i; sizes, resolutions, parameters
- `translate.py`  pure translations: a task to Ark's JSON body, an `ImagesResponse` to images,
                  the moderation and quota codes of its error bodies
- `adapter.py`    the kit's hooks and Seedream's own checks
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.seedream.config import SeedreamConfig

DEFINITION = ProviderDefinition(
    name="seedream",
    label="ByteDance Seedream (BytePlus ModelArk)",
    config=SeedreamConfig,
    adapter="image_gateway.providers.seedream.adapter:SeedreamProvider",
    aliases=("ark", "modelark"),
    key_variables=("ARK_API_KEY",),
    sdk_variables={"base_url": ("ARK_BASE_URL",)},
)
