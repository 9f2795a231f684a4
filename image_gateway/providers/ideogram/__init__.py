"""`ideogram`: Ideogram's API (`https://api.ideogram.ai`), synchronous multipart
(`kit/sync.SyncMultipartProvider`), images answered as temporary URLs downloaded at once.

- `config.py`     its settings (`IDEOGRAM_*`; `IDEOGRAM_API_KEY` is the variable Ideogram's docs
                  and clients use), and the result host it trusts
- `models.py`     its catalogue: Ideogram 3.0 and 4.0, one model per rendering speed (the
                  price follows the speed), and the sizes and ratios each takes
- `translate.py`  pure translations: a task to the form of `generate`, `remix` or `edit`, an
                  answer `{created, data: [{url, is_image_safe, ...}]}` to images and URLs
- `adapter.py`    the kit's hooks (path, `Api-Key`, the mask) and Ideogram's own checks
"""

from image_gateway.providers.ideogram.config import IdeogramConfig
from image_gateway.providers.kit.definition import ProviderDefinition

DEFINITION = ProviderDefinition(
    name="ideogram",
    label="Ideogram",
    config=IdeogramConfig,
    adapter="image_gateway.providers.ideogram.adapter:IdeogramProvider",
)
