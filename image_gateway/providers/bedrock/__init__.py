"""`bedrock`: Amazon Bedrock's image models (Nova Canvas, Titan Image Generator v2, Stability
AI on Bedrock) through InvokeModel, synchronous (`kit/sync.py`), signed with SigV4 by botocore
or authorized with a Bedrock API key.

- `config.py`     its settings (`BEDROCK_*`: credentials, region, endpoint)
- `auth.py`       credentials (API key, AWS keys, the AWS credential chain) and signing
- `models.py`     its catalogue (typed `BedrockModel` data)
- `translate.py`  the pure translations: bodies per model family, answers, sizes, error names
- `rules.py`      what only Bedrock's models check before anything is sent
- `images.py`     an edit's input images and masks in Nova's conventions
- `adapter.py`    the provider: `kit/sync.py` hooks, Bedrock's checks, its exceptions
"""

from image_gateway.providers.bedrock.config import BedrockConfig
from image_gateway.providers.kit.definition import ProviderDefinition

DEFINITION = ProviderDefinition(
    name="bedrock",
    label="Amazon Bedrock (Nova Canvas, Titan Image, Stability AI)",
    config=BedrockConfig,
    adapter="image_gateway.providers.bedrock.adapter:BedrockProvider",
    # The variable the AWS SDKs read a Bedrock API key from (botocore `utils.py`
    # `get_token_from_environment`: AWS_BEARER_TOKEN_<signing name>).
    key_variables=("AWS_BEARER_TOKEN_BEDROCK",),
    # Bedrock API keys: long-term ones start `ABSK`, short-term ones `bedrock-api-key-`
    # [UNVERIFIED: the AWS console's keys as seen, not a documented format].
    key_prefixes=("ABSK", "bedrock-api-key-"),
)
