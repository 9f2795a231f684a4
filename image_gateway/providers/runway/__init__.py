"""`runway`: Runway's image models (`POST /v1/text_to_image`, then `GET /v1/tasks/{id}`) on
the submit-and-poll kit (`kit/polling.py`), with Runway's mandatory `X-Runway-Version`.

- `config.py`     its settings (`RUNWAY_*`; the key also as `RUNWAYML_API_SECRET`, the base URL
                  as `RUNWAYML_BASE_URL`: what Runway's SDK reads)
- `models.py`     its models (typed `RunwayModel` data): ratios, prompt limits, references
- `translate.py`  the pure translations: the task body, the submit and task answers
- `adapter.py`    the provider: the kit's hooks and Runway's own rules
"""

from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.runway.config import RunwayConfig

DEFINITION = ProviderDefinition(
    name="runway",
    label="Runway (gen4_image and re-hosted image models)",
    config=RunwayConfig,
    adapter="image_gateway.providers.runway.adapter:RunwayProvider",
    key_variables=("RUNWAYML_API_SECRET",),
    sdk_variables={"base_url": ("RUNWAYML_BASE_URL",)},
)
