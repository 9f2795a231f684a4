"""`luma`: Luma AI's Photon image models through the Dream Machine API, submit-and-poll
(`kit/polling.py`).

- `config.py`     its settings (`LUMA_*`; the key and base URL also as the SDK's own
                  `LUMAAI_API_KEY`, `LUMAAI_BASE_URL`)
- `models.py`     its catalogue (photon-1, photon-flash-1), aspect ratios, reference fields
- `translate.py`  pure translations: a task to the body of `/generations/image`, a Generation
                  object to an outcome, error bodies to the gateway's terms
- `adapter.py`    the kit's hooks (its own status URL, cancel by DELETE) and Luma's rules
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.luma.config import LumaConfig

DEFINITION = ProviderDefinition(
    name="luma",
    label="Luma AI Photon (Dream Machine API)",
    config=LumaConfig,
    adapter="image_gateway.providers.luma.adapter:LumaProvider",
    aliases=("lumaai", "luma-ai"),
    # lumaai-python `_client.py` reads LUMAAI_API_KEY and LUMAAI_BASE_URL.
    key_variables=("LUMAAI_API_KEY",),
    sdk_variables={"base_url": ("LUMAAI_BASE_URL",)},
)
