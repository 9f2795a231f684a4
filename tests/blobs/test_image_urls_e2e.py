"""`response_format: "url"` through the real gateway: signed links, expiry, an S3 bucket."""

from __future__ import annotations

import time

import httpx

from tests.conftest import RunningGateway


def generate_url(gw: RunningGateway) -> str:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={"prompt": "p", "size": "64x64", "response_format": "url"},
        )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["data"][0]["url"])


def test_signed_links_expire(start_gateway) -> None:
    gw = start_gateway(image_url_ttl_seconds=2, image_url_secret="s" * 32)
    url = generate_url(gw)
    assert "expires=" in url and "sig=" in url
    with httpx.Client() as http:
        assert http.get(url).status_code == 200
        assert http.get(url.split("?")[0]).status_code == 404
        assert http.get(url.replace("sig=", "sig=0")).status_code == 404
        time.sleep(3.1)
        expired = http.get(url)
    assert expired.status_code == 404
    assert "expired" in expired.json()["error"]["message"]


def test_links_are_valid_on_another_instance_sharing_the_secret(start_gateway) -> None:
    shared = {"image_url_ttl_seconds": 60, "image_url_secret": "t" * 32}
    first = start_gateway(**shared)
    second = start_gateway(**shared, image_store_dir=first.settings.image_store_dir)
    url = generate_url(first)
    with httpx.Client() as http:
        assert http.get(url.replace(first.url, second.url)).status_code == 200


def test_s3_backed_gateway_serves_and_presigns(start_gateway) -> None:
    import asyncio

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = {
            "image_store": "s3",
            "s3_bucket": "gw-images",
            "s3_endpoint_url": endpoint,
            "s3_access_key_id": "test",
            "s3_secret_access_key": "test-secret",
        }

        async def create_bucket() -> None:
            from aiobotocore.session import get_session

            async with get_session().create_client(
                "s3",
                region_name="us-east-1",
                endpoint_url=endpoint,
                aws_access_key_id="test",
                aws_secret_access_key="test-secret",
            ) as client:
                await client.create_bucket(Bucket="gw-images")

        asyncio.run(create_bucket())
        via_gateway = start_gateway(**s3)
        url = generate_url(via_gateway)
        assert url.startswith(via_gateway.url)
        with httpx.Client() as http:
            assert http.get(url).headers["content-type"] == "image/png"
        presigned = start_gateway(**s3, s3_presign=True, image_url_ttl_seconds=300)
        url = generate_url(presigned)
        assert url.startswith(endpoint) and "Signature" in url
        with httpx.Client() as http:
            assert http.get(url).content.startswith(b"\x89PNG")
        with presigned.client(key=None) as http:
            assert http.get("/readyz").json()["checks"]["image_store"] is True
    finally:
        server.stop()
