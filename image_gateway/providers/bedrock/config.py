"""`bedrock` settings (`kit/config.py`): `BEDROCK_*`.

Credentials, the first that is set (`auth.py` uses them; README "Amazon Bedrock"):
- `BEDROCK_API_KEY` (also read as `AWS_BEARER_TOKEN_BEDROCK`, the variable the AWS SDKs read):
  a Bedrock API key, sent as `Authorization: Bearer`;
- `BEDROCK_ACCESS_KEY_ID` and `BEDROCK_SECRET_ACCESS_KEY` (and `BEDROCK_SESSION_TOKEN` for
  temporary ones): an IAM identity of Bedrock's own, whatever the process's AWS identity is;
- `BEDROCK_PROFILE` or `BEDROCK_REGION` set alone: botocore's standard credential chain
  (the process environment's `AWS_*` variables, `~/.aws` files with that profile, SSO, web
  identity, a container or instance role). The chain reads the environment, never `.env`.

`BEDROCK_REGION` (else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's region) picks the
endpoint `https://bedrock-runtime.<region>.amazonaws.com` (`.amazonaws.com.cn` in `cn-*`) and
the SigV4 scope; `BEDROCK_BASE_URL` replaces the endpoint (a VPC endpoint, the emulator).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from image_gateway.providers.kit.config import ApiKey, BaseUrl, ProviderConfig, empty_is_none

_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-\d{1,2}")


def check_region(value: str | None) -> str | None:
    if value is not None and not _REGION.fullmatch(value):
        raise ValueError("must be an AWS region name such as us-east-1")
    return value


OptionalText = Annotated[str | None, BeforeValidator(empty_is_none)]
Region = Annotated[str | None, BeforeValidator(empty_is_none), AfterValidator(check_region)]
OptionalBaseUrl = Annotated[BaseUrl | None, BeforeValidator(empty_is_none)]


class BedrockConfig(ProviderConfig):
    base_url: OptionalBaseUrl = None  # type: ignore[assignment]  # None: from the region
    default_model: str = "amazon.nova-canvas-v1:0"
    region: Region = None
    access_key_id: OptionalText = None
    secret_access_key: ApiKey = None
    session_token: ApiKey = None
    profile: OptionalText = None
