"""`replicate`: Replicate's predictions API, submit-and-poll (`kit/polling.py`).

- `config.py`     its settings (`REPLICATE_*`; the key also as the SDK's `REPLICATE_API_TOKEN`)
- `models.py`     its catalogue (typed `ReplicateModel` data) and `owner/name:version` ids
- `translate.py`  pure translations: a task to a prediction's `input`, its answers and error
                  bodies back
- `adapter.py`    the kit's hooks (URLs, `Prefer`/`Cancel-After`) and Replicate's own checks

A Replicate model id has a slash (`black-forest-labs/flux-schnell`), so requests always name
the provider: `model: "replicate/black-forest-labs/flux-schnell"`, and a pinned version
`replicate/<owner>/<name>:<64-hex version id>` (a bare `black-forest-labs/...` would name the
`bfl-flux` provider, whose alias `black-forest-labs` is).
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.replicate.config import ReplicateConfig

DEFINITION = ProviderDefinition(
    name="replicate",
    label="Replicate (predictions)",
    config=ReplicateConfig,
    adapter="image_gateway.providers.replicate.adapter:ReplicateProvider",
    key_variables=("REPLICATE_API_TOKEN",),  # replicate-python-beta `_client.py`
    key_prefixes=("r8_",),
)
