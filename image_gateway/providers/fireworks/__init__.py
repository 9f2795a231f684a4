"""`fireworks`: Fireworks AI's FLUX image workflows, two API shapes in one provider.

- `config.py`     its settings (`FIREWORKS_*`; `FIREWORKS_API_KEY` is what Fireworks' SDKs
                  read), the polling settings of its Kontext tasks
- `models.py`     its catalogue: FLUX.1 [schnell] (synchronous) and FLUX.1 Kontext [pro]/[max]
                  (BFL's task protocol re-hosted: BFL's own model specs)
- `translate.py`  pure translations of the synchronous workflow (JSON in; image bytes or
                  `{id, base64, finishReason, seed}` out)
- `schnell.py`    the synchronous part (`kit/sync.SyncJSONProvider`)
- `errors.py`     Fireworks' error statuses the kit's table would get wrong (412, 413)
- `kontext.py`    the task part: BFL's adapter (`bfl.adapter.BFLProvider`) on Fireworks' URLs
- `adapter.py`    the provider: routes each model to its part
"""

from image_gateway.providers.fireworks.config import FireworksConfig
from image_gateway.providers.kit.definition import ProviderDefinition

DEFINITION = ProviderDefinition(
    name="fireworks",
    label="Fireworks AI (FLUX)",
    config=FireworksConfig,
    adapter="image_gateway.providers.fireworks.adapter:FireworksProvider",
    aliases=("fireworks-ai",),
    key_prefixes=("fw_",),  # Fireworks keys are `fw_...` ([3P]: callers' code)
)
