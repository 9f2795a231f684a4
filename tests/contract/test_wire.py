"""Every documented field reaches the provider under the provider's own name, with the value it
stands for (`Delivery` in the table: `size` becomes BFL's `width`/`height`, an aspect ratio
OpenAI's closest `size`), sent once. The emulators run strict where they have a strict mode,
so a field sent under a wrong name is an error there rather than silently ignored. Edits
(multipart, with an input image) too, where the table documents one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.contract.harness import Served, brief, each_provider, wire_value
from tests.contract.providers import PRESENT


@pytest.mark.parametrize("provider", each_provider(upstream=True), scope="module")
def test_each_documented_field_reaches_the_provider_under_its_own_name(upstream: Served) -> None:
    contract = upstream.contract
    assert contract.deliveries, f"{contract.provider}: the table documents no field delivery"
    wrong: list[str] = []
    for delivery in contract.deliveries:
        prompt = f"a lighthouse at dusk {uuid.uuid4().hex[:8]}"
        model = delivery.model or (contract.edit_model if delivery.edit else None)
        body = upstream.body(model, **delivery.sent)
        body["prompt"] = prompt
        resp = upstream.send(body, delivery.edit)
        assert resp.status_code == 200, (delivery, brief(resp))
        prompt_field = delivery.prompt_field or contract.prompt_field
        received = [
            record["fields"]
            for record in upstream.emu.requests()
            if _get(record["fields"], prompt_field) == prompt
        ]
        assert len(received) == 1, (delivery, received)
        for name, value in delivery.wire.items():
            try:
                got = wire_value(received[0], name)
            except KeyError as exc:
                wrong.append(f"{dict(delivery.sent)}: {exc} not sent")
                continue
            if value == PRESENT:
                continue
            if got != value and str(got) != str(value):  # multipart fields arrive as text
                wrong.append(f"{dict(delivery.sent)}: {name} = {got!r}, expected {value!r}")
    assert not wrong, wrong


def _get(fields: dict[str, Any], path: str) -> Any:
    try:
        return wire_value(fields, path)
    except KeyError:
        return None
