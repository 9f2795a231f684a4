"""Provider concurrency counted across instances through Redis (BFL's limit is per account)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from emulators.bfl import BFLEmulator
from tests.conftest import BFL_TEST_KEY, RunningGateway
from tests.services import REDIS_URL, redis_prefix  # noqa: F401 - fixture


def test_two_instances_share_one_provider_limit(start_gateway: Any, redis_prefix: str) -> None:  # noqa: F811
    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=0.4, concurrency_limit=None) as bfl:
        shared = {
            "bfl_api_key": BFL_TEST_KEY,
            "bfl_base_url": bfl.base_url,
            "bfl_trusted_hosts": bfl.poll_base_url,
            "redis_url": REDIS_URL,
            "redis_key_prefix": redis_prefix,
            "provider_concurrency": "bfl-flux=2",
        }
        gateways: list[RunningGateway] = [start_gateway(**shared), start_gateway(**shared)]

        def generate(i: int) -> int:
            with gateways[i % 2].client() as http:
                resp = http.post(
                    "/v1/images/generations", json={"model": "flux-dev", "prompt": f"p{i}"}
                )
            return resp.status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(generate, range(8)))
        stats = bfl.stats()
    assert statuses == [200] * 8
    assert stats["submits"] == 8
    assert stats["max_active"] <= 2  # each instance alone would have allowed 2
