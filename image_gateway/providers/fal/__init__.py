"""`fal`: fal.ai's queue API, submit-and-poll (`kit/polling.py`).

- `config.py`     its settings (`FAL_*`; the key also as the SDK's own `FAL_KEY`)
- `models.py`     its catalogue (typed `FalModel` data: each endpoint's own input fields)
- `translate.py`  pure translations: a task to an endpoint's input, queue answers and error
                  bodies back
- `adapter.py`    the kit's hooks (`Authorization: Key`, the server-given URLs, cancel by PUT)

A fal endpoint id has slashes (`fal-ai/flux/dev`), so requests name the provider:
`model: "fal/fal-ai/flux/dev"`.
"""

from image_gateway.providers.fal.config import FalConfig
from image_gateway.providers.kit.definition import ProviderDefinition

DEFINITION = ProviderDefinition(
    name="fal",
    label="fal.ai (queue)",
    config=FalConfig,
    adapter="image_gateway.providers.fal.adapter:FalProvider",
    key_variables=("FAL_KEY",),  # fal-js `config.ts` / fal_client read FAL_KEY
)
