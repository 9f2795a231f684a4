"""`provider_message`: provider error text made safe before it reaches a response or a log."""

from __future__ import annotations

import pytest

from image_gateway.providers.kit.redaction import provider_message
from tests.conftest import BFL_TEST_KEY, OPENAI_TEST_KEY


def pieces(secret: str) -> set[str]:
    return {secret[i : i + 8] for i in range(len(secret) - 7)}


@pytest.mark.parametrize(
    "text",
    [
        f"invalid key {OPENAI_TEST_KEY}",
        f"key prefix {OPENAI_TEST_KEY[:14]}... is wrong",  # a truncated echo
        f"key suffix ...{OPENAI_TEST_KEY[-12:]}",
        f"header x-key: {BFL_TEST_KEY}",
        f'{{"api_key": "{BFL_TEST_KEY}"}}',
        f"Authorization=Bearer {OPENAI_TEST_KEY}",
        f"two keys {OPENAI_TEST_KEY} and {BFL_TEST_KEY}",
    ],
)
def test_no_eight_character_piece_of_a_key_survives(text: str) -> None:
    safe = provider_message(text, [OPENAI_TEST_KEY])
    assert "[redacted]" in safe
    for secret in (OPENAI_TEST_KEY, BFL_TEST_KEY):
        assert not any(piece in safe for piece in pieces(secret)), safe


def test_ordinary_text_is_kept_on_one_trimmed_line() -> None:
    assert provider_message("Invalid size:\r\n  use 1024x1024", ["sk-other"]) == (
        "Invalid size: use 1024x1024"
    )
    assert len(provider_message("x" * 1000, [])) == 300
    assert provider_message(None, []) == ""


def test_a_provider_error_code_or_field_is_passed_on_only_as_a_short_safe_token() -> None:
    """Codes and field names reach the answer and a metric label: no key, no text, no CR/LF."""
    from image_gateway.providers.kit.errors import safe_token

    secret = "k3y-Zq81-ab6e-77f1"
    assert safe_token("insufficient_quota", [secret]) == "insufficient_quota"
    assert safe_token("image[0]", [secret]) == "image[0]"
    assert safe_token("input_image.width", [secret]) == "input_image.width"
    for bad in (
        secret,
        f"bad_{secret[:10]}",  # a piece of the key
        "sk-proj-abcdefghijklmnop",  # key-like
        "code\r\nx-injected: 1",
        "x" * 65,
        "has space",
        "",
        None,
        42,
    ):
        assert safe_token(bad, [secret]) is None, bad
