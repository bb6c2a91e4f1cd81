"""The API docs pages work offline: Swagger UI's assets come from our own host, never a CDN."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.conftest import ApiClient


class _AssetLinks(HTMLParser):
    """Every URL a page makes the browser fetch: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def _asset_urls(html: str) -> list[str]:
    parser = _AssetLinks()
    parser.feed(html)
    return parser.urls


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(
    ("host", "docs_path"), [("alpha.localhost", "/api/v1/docs"), ("localhost", "/api/platform/docs")]
)
def test_the_docs_page_loads_every_asset_from_its_own_host(tenant_a, host, docs_path):
    client = ApiClient(host)

    page = client.get(docs_path)

    assert page.status_code == 200
    urls = _asset_urls(page.content.decode())
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls)
    assert any(url.endswith("swagger-ui.css") for url in urls)
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is fetched from another host"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(_body(asset)) > 0, url
