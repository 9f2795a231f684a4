"""`azure`: Azure OpenAI's image generation and edits, synchronous (`kit/sync.py`), on the
`openai` adapter: the same bodies, answers and per-model checks, posted to a deployment
(`/openai/deployments/{deployment}/images/...?api-version=`) or to the v1 surface.

- `config.py`     its settings: endpoint, key or Entra token, api-version, deployments
- `models.py`     OpenAI's model specs as Azure serves them
- `translate.py`  pure: the paths, and how Azure refuses (content filters, a blocked resource)
- `adapter.py`    `OpenAIProvider` with Azure's auth, deployments and error answers
"""

from image_gateway.providers.azure.config import AzureConfig
from image_gateway.providers.kit.definition import ProviderDefinition

DEFINITION = ProviderDefinition(
    name="azure",
    label="Azure OpenAI (images)",
    config=AzureConfig,
    adapter="image_gateway.providers.azure.adapter:AzureProvider",
    aliases=("azure-openai",),
    # The names openai-python's AzureOpenAI reads (OAI-SDK `lib/azure.py`): AZURE_OPENAI_API_KEY
    # and AZURE_OPENAI_AD_TOKEN through the prefix, the endpoint and api-version by field.
    env_aliases=("AZURE_OPENAI",),
    sdk_variables={"base_url": ("AZURE_OPENAI_ENDPOINT",), "api_version": ("OPENAI_API_VERSION",)},
)
