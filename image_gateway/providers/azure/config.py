"""`azure` settings (`kit/config.py`); every `AZURE_*` variable is also read as `AZURE_OPENAI_*`,
and three under the names openai-python's `AzureOpenAI` reads (OAI-SDK `lib/azure.py`):

- `api_key`: `AZURE_API_KEY`, `AZURE_OPENAI_API_KEY` (sent as `api-key`; as Bearer on v1);
- `ad_token`: `AZURE_AD_TOKEN`, `AZURE_OPENAI_AD_TOKEN`, a Microsoft Entra ID access token
  (scope `https://cognitiveservices.azure.com/.default`), sent as `Authorization: Bearer`
  as it is: nothing renews it (Entra tokens last about an hour; azure-identity credentials,
  the SDK's `azure_ad_token_provider`, are not supported yet). A key and a token together are
  refused at start-up (`adapter.py`), as the SDK refuses both;
- `base_url`: the resource endpoint, `https://{resource}.openai.azure.com` (the gateway adds
  `/openai/...`): `AZURE_BASE_URL`, `AZURE_OPENAI_ENDPOINT`. Empty = not configured;
- `api_version`: `AZURE_API_VERSION`, `OPENAI_API_VERSION`, default `2025-04-01-preview` (the
  version gpt-image-1 needs, AZ-DOCS how-to); `v1` selects the v1 surface (`/openai/v1/...`,
  no `api-version`, the deployment name as `model`, the key as Bearer: AZ-DOCS
  api-version-lifecycle);
- `deployments`: `AZURE_DEPLOYMENTS`, `model=deployment` pairs separated by commas
  (`gpt-image-1=images-prod,dall-e-3=dalle`); a model not listed is deployed under its own id.
  Checked at start-up: the syntax here, the model ids in `adapter.py`;
- `trusted_hosts`: origins besides the endpoint's whose image URLs are downloaded through the
  upstream client (DALL-E's `*.blob.core.windows.net`, REFERENCE-MORE §5).

This module is a declaration (pydantic only), merged into `Settings` without the adapter.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_settings import NoDecode

from image_gateway.providers.kit.config import ApiKey, TrustedOrigins, check_base_url
from image_gateway.providers.openai.config import OpenAIConfig

# Azure deployment names: letters, digits, `-`, `_` and `.` [UNVERIFIED: the portal's rule;
# the length limit assumed 64]; nothing that could change the URL path they go into.
DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")
API_VERSION = re.compile(r"v1|\d{4}-\d{2}-\d{2}(-preview)?")
DEFAULT_API_VERSION = "2025-04-01-preview"


def check_endpoint(value: str) -> str:
    """The resource endpoint, without the `/openai` path the gateway adds; "" = not set."""
    if not value.strip():
        return ""
    value = check_base_url(value)
    if value.endswith(("/openai", "/openai/v1")):
        raise ValueError(
            "must be the resource endpoint without /openai "
            "(https://{resource}.openai.azure.com): the gateway adds the path"
        )
    return value


def check_api_version(value: str) -> str:
    value = value.strip()
    if not API_VERSION.fullmatch(value):
        raise ValueError("must be an Azure OpenAI api-version (2025-04-01-preview) or v1")
    return value


def parse_deployments(value: object) -> object:
    """`model=deployment,model=deployment` as a dict; a dict passes through (to be checked)."""
    if not isinstance(value, str):
        return value
    mapping: dict[str, str] = {}
    for pair in filter(None, (item.strip() for item in value.split(","))):
        model, sep, deployment = (part.strip() for part in pair.partition("="))
        if not sep or not model or not deployment:
            raise ValueError(f"expected model=deployment pairs separated by commas, got {pair!r}")
        if model in mapping:
            raise ValueError(f"model {model!r} is mapped twice")
        mapping[model] = deployment
    return mapping


def check_deployments(value: dict[str, str]) -> dict[str, str]:
    for model, deployment in value.items():
        if not DEPLOYMENT_NAME.fullmatch(deployment):
            raise ValueError(
                f"deployment {deployment!r} of {model!r}: letters, digits, '-', '_' and '.' "
                "(at most 64)"
            )
    return value


Endpoint = Annotated[str, AfterValidator(check_endpoint)]
ApiVersion = Annotated[str, AfterValidator(check_api_version)]
Deployments = Annotated[
    dict[str, str], NoDecode, BeforeValidator(parse_deployments), AfterValidator(check_deployments)
]


class AzureConfig(OpenAIConfig):
    """`OpenAIConfig`'s fields (the adapter is `OpenAIProvider`'s) with Azure's endpoint, and
    Azure's own: api-version, Entra token, deployments, trusted result hosts."""

    base_url: Endpoint = ""  # the resource endpoint; no default: each resource has its own
    default_model: str = "gpt-image-1"
    api_version: ApiVersion = DEFAULT_API_VERSION
    ad_token: ApiKey = None
    deployments: Deployments = Field(default_factory=dict)
    trusted_hosts: TrustedOrigins = Field(default_factory=lambda: ["blob.core.windows.net"])

    @property
    def v1(self) -> bool:
        """Whether requests go to the v1 surface (`AZURE_API_VERSION=v1`)."""
        return self.api_version == "v1"
