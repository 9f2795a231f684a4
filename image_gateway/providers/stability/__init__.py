"""`stability`: Stability AI's REST v2beta Stable Image API, synchronous multipart
(`kit/sync.SyncMultipartProvider`).

- `config.py`     its settings (`STABILITY_*`; `STABILITY_API_KEY` is the name Stability's
                  own samples read, REFERENCE-MORE §2.1)
- `models.py`     its catalogue: Stable Image Ultra and Core, SD3.5 (`sd3.5-*`, the `sd3`
                  endpoint's `model`), and the edit modes as edit-only models
                  (`stable-image-inpaint`, `-erase`, `-outpaint`, `-search-and-replace`)
- `translate.py`  pure translations: a task to form fields and files, an answer (JSON or
                  image bytes with `finish-reason`/`seed` headers) to images, error bodies
                  (`{id, name, errors}`) to details
- `adapter.py`    the kit's hooks (path, `accept`, the mask) and Stability's own checks
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.stability.config import StabilityConfig

DEFINITION = ProviderDefinition(
    name="stability",
    label="Stability AI (Stable Image)",
    config=StabilityConfig,
    adapter="image_gateway.providers.stability.adapter:StabilityProvider",
    key_prefixes=("sk-",),  # Stability keys are `sk-...` (REFERENCE-MORE §2.1)
)
