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
