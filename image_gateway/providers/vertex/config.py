"""`vertex-ai` settings (`VERTEX_AI_*`): which Google Cloud project and location to call, and the
credentials to call them with (REFERENCE-MORE §1.8; python-genai `_api_client.py`).

- `VERTEX_AI_PROJECT`, `VERTEX_AI_LOCATION` (default `global`, the SDK's default): the path
  `projects/{project}/locations/{location}/publishers/google/models/{model}`. Without a project
  the credentials file's `project_id` (or application default credentials' project) is used.
- `VERTEX_AI_CREDENTIALS_FILE`: a service-account JSON key file (one that does not exist or
  cannot be read stops the start, naming the variable); without one (and with a
  project), application default credentials (`google.auth.default`: `GOOGLE_APPLICATION_
  CREDENTIALS`, gcloud's, the metadata server). Access tokens come from google-auth (`auth.py`).
- `VERTEX_AI_API_KEY`: express mode (`x-goog-api-key`, no project), used only when neither a
  project nor a credentials file is set (a project wins, as in the SDK).
- `VERTEX_AI_BASE_URL`: empty = the host for the location: `global` (and express mode)
  `https://aiplatform.googleapis.com`, `us`/`eu` `https://aiplatform.{us|eu}.rep.googleapis.com`,
  any other `https://{location}-aiplatform.googleapis.com`; set = that host (an emulator, a
  private endpoint), the path unchanged.
- `VERTEX_AI_API_VERSION`: `v1` (Google's REST docs; the SDK uses `v1beta1`).
"""

from __future__ import annotations

import os
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from image_gateway.providers.kit.config import ProviderConfig, check_base_url, empty_is_none

_LOCATION = re.compile(r"[a-z][a-z0-9-]{0,62}")
# Project ids (6-30 lowercase letters, digits, hyphens), project numbers, and the old
# domain-scoped ids (`example.com:project`): nothing that could change the path.
_PROJECT = re.compile(r"[a-z0-9][a-z0-9.:-]{0,99}")


def check_location(value: str) -> str:
    value = value.strip().lower()
    if not _LOCATION.fullmatch(value):
        raise ValueError(
            "must be a Google Cloud location such as global, us-central1 or europe-west4"
        )
    return value


def check_project(value: str | None) -> str | None:
    if value is not None and not _PROJECT.fullmatch(value):
        raise ValueError(
            "must be a Google Cloud project id (lowercase letters, digits, -) or number"
        )
    return value


def check_optional_base_url(value: str | None) -> str | None:
    return None if value is None else check_base_url(value)


def check_credentials_file(value: str | None) -> str | None:
    """A file the gateway can read (its content is read, and checked, at the first call)."""
    if value is None:
        return None
    if not os.path.isfile(value):
        raise ValueError(f"must be a service-account key file: there is no file at {value}")
    if not os.access(value, os.R_OK):
        raise ValueError(f"must be a service-account key file the gateway can read: {value}")
    return value


def check_api_version(value: str) -> str:
    if not re.fullmatch(r"v1(beta1)?", value):
        raise ValueError("must be v1 or v1beta1")
    return value


OptionalBaseUrl = Annotated[
    str | None, BeforeValidator(empty_is_none), AfterValidator(check_optional_base_url)
]
CredentialsFile = Annotated[
    str | None, BeforeValidator(empty_is_none), AfterValidator(check_credentials_file)
]
Project = Annotated[str | None, BeforeValidator(empty_is_none), AfterValidator(check_project)]


class VertexConfig(ProviderConfig):
    # None: the host of the location (`VertexProvider.api_base`).
    base_url: OptionalBaseUrl = None  # type: ignore[assignment]
    default_model: str = "gemini-3-pro-image"
    project: Project = None
    location: Annotated[str, AfterValidator(check_location)] = "global"
    credentials_file: CredentialsFile = None
    api_version: Annotated[str, AfterValidator(check_api_version)] = "v1"
