"""Strict and lenient handling of fields the provider does not know.

Several real APIs silently ignore unknown fields (BFL's request schemas set no
`additionalProperties`), so a gateway that sends a field under a wrong name gets no error there,
and the field is simply lost. An emulator declares for which of its endpoints the real API is
lenient (`Emulator.LENIENT`); with `strict=True` (`--strict`) those endpoints refuse unknown
fields, in the provider's own validation-error shape, so a test catches the wrong name. Where
the real API already refuses unknown fields (OpenAI), strict changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable


def unknown_fields(received: Iterable[str], known: Iterable[str]) -> list[str]:
    """The received field names that are not known, in the order received."""
    allowed = set(known)
    return [name for name in received if name not in allowed]
