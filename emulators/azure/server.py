"""`AzureEmulator`: the Azure OpenAI emulator as a kit `Emulator`, its scenarios and its
command-line switches."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any, ClassVar

from ..kit import cli
from ..kit.emulator import Emulator
from ..kit.scenarios import ScenarioTable
from .app import AzureApp

DEFAULT_PORT = 9501
DEFAULT_AD_TOKEN = "azure-emulator-entra-token"  # noqa: S105 - the emulator's own test token
# What the gateway sends by default (`AZURE_API_VERSION`); the emulator serves any from
# 2023-12-01.
API_VERSION = "2025-04-01-preview"


def deployments_arg(text: str) -> dict[str, str]:
    """`--deployments`: `model=deployment` pairs separated by commas (`AZURE_DEPLOYMENTS`)."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        model, sep, deployment = (part.strip() for part in item.partition("="))
        if not sep or not model or not deployment or "/" in deployment:
            raise argparse.ArgumentTypeError(f"expected model=deployment pairs, got {item!r}")
        pairs[model] = deployment
    return pairs


class AzureEmulator(Emulator):
    """An Azure OpenAI (images) emulator on a real loopback socket (`app.py` says what it
    serves). `base_url` is the resource endpoint (`AZURE_OPENAI_ENDPOINT`'s form, no path).

    `api_key` is accepted as `api-key` (as Bearer on v1); `ad_token`, a static Microsoft Entra
    token, as `Authorization: Bearer`. `deployments` (model -> deployment) renames the
    deployments of those models; every other served model is deployed under its own id.
    `resource_blocked`: every request is refused with the 403 of a blocked resource.
    Azure refuses unknown fields itself (`Unrecognized request argument supplied`), so
    `strict` changes nothing here.
    """

    NAME = "azure"
    TITLE = "Azure OpenAI emulator"
    DEFAULT_PORT = DEFAULT_PORT
    DEFAULT_API_KEY = "azure-emulator-key"
    PROVIDER_ENV_ALIASES = ("AZURE_OPENAI",)
    SCENARIO_FAULTS: ClassVar[ScenarioTable] = {
        "rate_limited": {"status": 429, "headers": {"retry-after": "1", "retry-after-ms": "1000"}},
        "server_error": {"status": 500},
        "hang": {"stall": True},
        "reset_after_send": {"accept_then_reset": True},
        "malformed_json": {
            "status": 200,
            "body": '{"created": 1700000000, "data": [{"b64_json": "',
        },
        "moderated": {"marker": "[moderate]"},  # 400 content_policy_violation + inner_error
        "moderated_200": {"marker": "[filtered-200]"},  # 200 {"error": {"code": "contentFilter"}}
        # no "quota": Azure bills afterwards; its quotas are rate limits (429) [UNVERIFIED]
    }

    app: AzureApp

    def __init__(
        self,
        api_key: str = "azure-emulator-key",
        ad_token: str | None = DEFAULT_AD_TOKEN,
        deployments: Mapping[str, str] | None = None,
        resource_blocked: bool = False,
        latency: float = 0.0,
        url_ttl: float = 86400.0,
        rate_limit: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        strict: bool = False,
    ) -> None:
        self.renamed = dict(deployments or {})
        app = AzureApp(
            api_key=api_key,
            ad_token=ad_token,
            deployments=self.renamed,
            resource_blocked=resource_blocked,
            latency=latency,
            url_ttl=url_ttl,
            rate_limit=rate_limit,
            scenarios=self.SCENARIO_FAULTS,
            strict=strict,
        )
        super().__init__(app, host=host, port=port)

    def gateway_settings(self) -> dict[str, str]:
        """The endpoint and key, the api-version it serves, and its renamed deployments."""
        settings = {**super().gateway_settings(), "API_VERSION": API_VERSION}
        if self.renamed:
            settings["DEPLOYMENTS"] = ",".join(f"{m}={d}" for m, d in self.renamed.items())
        return settings

    @classmethod
    def alias_variables(cls, setting: str) -> list[str]:
        """Also the names openai-python reads (the demo clears them, so none competes), and
        the Entra token's: a token beside the demo's key would be refused at start-up."""
        extra = {
            "BASE_URL": ["AZURE_OPENAI_ENDPOINT"],
            "API_VERSION": ["OPENAI_API_VERSION"],
            "API_KEY": ["AZURE_AD_TOKEN", "AZURE_OPENAI_AD_TOKEN"],
        }
        return [*super().alias_variables(setting), *extra.get(setting, [])]

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--ad-token",
            type=cli.api_key,
            default=DEFAULT_AD_TOKEN,
            help=f"the one accepted Entra token (default {DEFAULT_AD_TOKEN})",
        )
        parser.add_argument(
            "--deployments",
            type=deployments_arg,
            default={},
            help="model=deployment pairs (AZURE_DEPLOYMENTS' form); other models are deployed "
            "under their own ids",
        )
        parser.add_argument(
            "--resource-blocked",
            action="store_true",
            help="refuse every request as a resource Microsoft blocked (403)",
        )
        parser.add_argument(
            "--latency", type=cli.amount, default=0.0, help="seconds added before each image answer"
        )
        parser.add_argument(
            "--url-ttl",
            type=cli.amount,
            default=86400.0,
            help="lifetime of DALL-E result URLs, seconds (Azure: 24 h)",
        )
        parser.add_argument(
            "--rate-limit", type=cli.count, default=0, help="requests per minute; 0 = unlimited"
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AzureEmulator:
        options: dict[str, Any] = cls.standard_options(args)
        return cls(
            **options,
            ad_token=args.ad_token,
            deployments=args.deployments,
            resource_blocked=args.resource_blocked,
            latency=args.latency,
            url_ttl=args.url_ttl,
            rate_limit=args.rate_limit or None,
        )
