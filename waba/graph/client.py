"""The only module that talks to Meta's Graph API.

Each thread keeps its own pooled `httpx.Client` per base URL, created on first use (dropped in a
forked child, which builds its own). Not one client shared by all threads: httpcore's pool picks
the connections to drop under its lock but closes them after releasing it, so another thread can
start a request on a connection that is being closed (it then fails with `ReadError: [Errno 9] Bad
file descriptor` after it may have reached Meta: an unknown outcome). A thread sends one request at
a time, so its pool holds about one connection and no other thread ever touches it. A `GraphClient` is a cheap,
per-WABA handle: it holds the access token for its calls, sends it only in the Authorization
header and never logs it.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from platform_core import counters
from waba import meta
from waba.graph.errors import (
    GraphError,
    GraphMediaTooLarge,
    GraphTransientError,
    GraphUnavailable,
    error_from_response,
    error_from_transport,
)

logger = logging.getLogger(__name__)

# Each thread's connections are kept alive, so that no send pays for a new TCP (and TLS) connection.
# An idle one is dropped by us well before servers drop theirs: a request on a connection the server
# is closing at that moment fails with an unknown outcome.
POOL_LIMITS = httpx.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=5.0)
TEMPLATES_PAGE_SIZE = 100

_thread_clients = threading.local()  # .by_base_url: dict[str, httpx.Client]
_clients: weakref.WeakSet[httpx.Client] = weakref.WeakSet()  # every thread's, to close them all
_clients_lock = threading.Lock()


def _forget_clients_after_fork() -> None:
    global _thread_clients, _clients, _clients_lock
    _thread_clients = threading.local()
    _clients = weakref.WeakSet()
    _clients_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_clients_after_fork)


def _thread_http_client(base_url: str) -> httpx.Client:
    """This thread's client for `base_url`."""
    by_base_url: dict[str, httpx.Client] | None = getattr(_thread_clients, "by_base_url", None)
    if by_base_url is None:
        by_base_url = _thread_clients.by_base_url = {}
    client = by_base_url.get(base_url)
    if client is None:
        client = by_base_url[base_url] = httpx.Client(base_url=base_url, limits=POOL_LIMITS)
        with _clients_lock:
            _clients.add(client)
    return client


def close_shared_clients() -> None:
    """Close the pooled connections of every thread of this process (shutdown and tests)."""
    global _thread_clients
    with _clients_lock:
        clients = list(_clients)
        _clients.clear()
        _thread_clients = threading.local()
    for client in clients:
        client.close()


def _setting(name: str, default: Any) -> Any:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        return getattr(settings, name, default)
    except ImproperlyConfigured:  # no Django settings in this process
        return default


class GraphClient:
    """Graph API calls made with one access token. Methods return Meta's parsed JSON."""

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str | None = None,
        version: str | None = None,
        timeout_s: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._access_token = access_token
        base_url = base_url or _setting("GRAPH_API_BASE_URL", meta.GRAPH_API_DEFAULT_BASE_URL)
        self.base_url: str = base_url.rstrip("/")
        self.version: str = version or _setting("GRAPH_API_VERSION", meta.GRAPH_API_DEFAULT_VERSION)
        timeout_s = timeout_s or _setting("GRAPH_API_TIMEOUT_S", meta.GRAPH_API_DEFAULT_TIMEOUT_S)
        self.timeout = httpx.Timeout(float(timeout_s))
        # tests: a private client around the injected transport; else each thread's own (`_http`)
        self._private_http = httpx.Client(base_url=self.base_url, transport=transport) if transport else None
        self._request_headers = httpx.Headers(self._http.headers)
        self._request_headers.update(self._headers())
        self._request_extensions = {"timeout": self.timeout.as_dict()}

    def __repr__(self) -> str:
        return f"GraphClient(base_url={self.base_url!r}, version={self.version!r})"

    @property
    def _http(self) -> httpx.Client:
        """The calling thread's client: a GraphClient made in one thread may be used in another."""
        return self._private_http or _thread_http_client(self.base_url)

    # --- accounts and phone numbers -----------------------------------------------------------

    def debug_token(self, input_token: str) -> dict[str, Any]:
        """Inspect a token; Meta only takes it as a query parameter, so it is redacted in logs."""
        return self._request(
            "GET", "debug_token", params={"input_token": input_token}, secrets=(input_token,)
        )

    def exchange_code(self, *, app_id: str, app_secret: str, code: str) -> dict[str, Any]:
        """Trade an Embedded Signup code for the business's token (`GET /oauth/access_token`).

        The app authenticates with its secret in the query string, Meta's OAuth way: call it on a
        client made without a token (`GraphClient("")`). The secret and the code are redacted.
        """
        params = {"client_id": app_id, "client_secret": app_secret, "code": code}
        return self._request("GET", "oauth/access_token", params=params, secrets=(app_secret, code))

    def get_business_account(self, waba_id: str, fields: Sequence[str] = meta.WABA_FIELDS) -> dict[str, Any]:
        return self._request("GET", waba_id, params=_fields_param(fields))

    def list_phone_numbers(
        self,
        waba_id: str,
        *,
        fields: Sequence[str] | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = _fields_param(fields)
        if limit:
            params["limit"] = limit
        if after:
            params["after"] = after
        return self._request("GET", f"{waba_id}/phone_numbers", params=params)

    def iter_phone_numbers(
        self, waba_id: str, *, page_size: int = 100, fields: Sequence[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every phone number of the WABA, page after page (following `paging.cursors.after`)."""
        yield from _iter_pages(
            lambda after: self.list_phone_numbers(waba_id, fields=fields, limit=page_size, after=after)
        )

    def get_phone_number(
        self, phone_number_id: str, fields: Sequence[str] = meta.PHONE_NUMBER_FIELDS
    ) -> dict[str, Any]:
        return self._request("GET", phone_number_id, params=_fields_param(fields))

    def register_phone_number(self, phone_number_id: str, pin: str) -> dict[str, Any]:
        body = {"messaging_product": meta.MESSAGING_PRODUCT, "pin": pin}
        return self._request("POST", f"{phone_number_id}/register", json_body=body)

    def subscribe_app(self, waba_id: str) -> dict[str, Any]:
        return self._request("POST", f"{waba_id}/subscribed_apps")

    def unsubscribe_app(self, waba_id: str) -> dict[str, Any]:
        """Stop webhooks of the token's app for this WABA (undoes `subscribe_app`)."""
        return self._request("DELETE", f"{waba_id}/subscribed_apps")

    def list_subscribed_apps(self, waba_id: str) -> dict[str, Any]:
        return self._request("GET", f"{waba_id}/subscribed_apps")

    def set_business_public_key(self, phone_number_id: str, public_key_pem: str) -> dict[str, Any]:
        return self._request(
            "POST",
            f"{phone_number_id}/whatsapp_business_encryption",
            form={"business_public_key": public_key_pem},
        )

    # --- templates ----------------------------------------------------------------------------

    def create_template(
        self,
        waba_id: str,
        name: str,
        language: str,
        category: str,
        components: Sequence[Mapping[str, Any]],
        *,
        parameter_format: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "language": language,
            "category": str(category),
            "components": list(components),
        }
        if parameter_format:
            body["parameter_format"] = parameter_format
        return self._request("POST", f"{waba_id}/message_templates", json_body=body)

    def edit_template(
        self, template_id: str, components: Sequence[Mapping[str, Any]], *, category: str | None = None
    ) -> dict[str, Any]:
        """`POST /{template_id}`: new components (and category, before approval); Meta reviews again."""
        body: dict[str, Any] = {"components": list(components)}
        if category:
            body["category"] = category
        return self._request("POST", template_id, json_body=body)

    def list_templates(
        self,
        waba_id: str,
        *,
        limit: int = TEMPLATES_PAGE_SIZE,
        after: str | None = None,
        fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, **_fields_param(fields)}
        if after:
            params["after"] = after
        return self._request("GET", f"{waba_id}/message_templates", params=params)

    def iter_templates(
        self, waba_id: str, *, page_size: int = TEMPLATES_PAGE_SIZE, fields: Sequence[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every template of the WABA, page after page (following `paging.cursors.after`)."""
        yield from _iter_pages(
            lambda after: self.list_templates(waba_id, limit=page_size, after=after, fields=fields)
        )

    def delete_template(self, waba_id: str, name: str, *, hsm_id: str | None = None) -> dict[str, Any]:
        params = {"name": name}
        if hsm_id:
            params["hsm_id"] = hsm_id
        return self._request("DELETE", f"{waba_id}/message_templates", params=params)

    # --- messages and media -------------------------------------------------------------------

    def send_message(self, phone_number_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        body = {"messaging_product": meta.MESSAGING_PRODUCT}
        body.update((key, value) for key, value in payload.items() if key != "messaging_product")
        return self._request("POST", f"{phone_number_id}/messages", json_body=body)

    def mark_read(
        self, phone_number_id: str, wamid: str, *, typing_indicator: bool = False
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messaging_product": meta.MESSAGING_PRODUCT,
            "status": "read",
            "message_id": wamid,
        }
        if typing_indicator:
            body["typing_indicator"] = {"type": "text"}
        return self._request("POST", f"{phone_number_id}/messages", json_body=body)

    def upload_media(
        self, phone_number_id: str, *, filename: str, content_type: str, data: bytes
    ) -> dict[str, Any]:
        """`POST /{phone_number_id}/media` (multipart); returns `{"id": media_id}`."""
        form = {"messaging_product": meta.MESSAGING_PRODUCT, "type": content_type}
        files = {"file": (filename, data, content_type)}
        return self._request("POST", f"{phone_number_id}/media", form=form, files=files)

    def upload_session_create(
        self, app_id: str, *, file_length: int, file_type: str, file_name: str
    ) -> dict[str, Any]:
        """Start a resumable upload (`POST /{app_id}/uploads`); returns `{"id": "upload:..."}`."""
        params = {"file_length": file_length, "file_type": file_type, "file_name": file_name}
        return self._request("POST", f"{app_id}/uploads", params=params)

    def upload_session_send(self, session_id: str, data: bytes, *, file_offset: int = 0) -> dict[str, Any]:
        """Send the bytes of a resumable upload from `file_offset`; returns `{"h": handle}` when complete."""
        return self._request(
            "POST",
            session_id,
            content=data,
            extra_headers={"file_offset": str(file_offset), "Authorization": f"OAuth {self._access_token}"},
        )

    def get_business_profile(
        self, phone_number_id: str, fields: Sequence[str] = meta.PROFILE_FIELDS
    ) -> dict[str, Any]:
        answer = self._request(
            "GET", f"{phone_number_id}/whatsapp_business_profile", params=_fields_param(fields)
        )
        items = answer.get("data")
        return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}

    def update_business_profile(self, phone_number_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        body = {"messaging_product": meta.MESSAGING_PRODUCT, **fields}
        return self._request("POST", f"{phone_number_id}/whatsapp_business_profile", json_body=body)

    def get_media(self, media_id: str) -> dict[str, Any]:
        """Media metadata: `url` (short-lived), `mime_type`, `sha256`, `file_size`."""
        return self._request("GET", media_id)

    def download_media(self, url: str, max_bytes: int) -> bytes:
        """Fetch a media URL from `get_media`, refusing bodies over `max_bytes` while streaming."""
        self._check_media_host(url)
        started = time.monotonic()
        status: int | str = "error"
        failure: GraphError | None = None
        try:
            with self._http.stream("GET", url, headers=self._headers(), timeout=self.timeout) as response:
                status = response.status_code
                if not response.is_success:
                    response.read()
                    raise error_from_response(response, secrets=self._secrets())
                declared = int(response.headers.get("Content-Length") or 0)
                if declared > max_bytes:
                    raise GraphMediaTooLarge(max_bytes=max_bytes, actual_bytes=declared)
                chunks: list[bytes] = []
                received = 0
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise GraphMediaTooLarge(max_bytes=max_bytes, actual_bytes=received)
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TransportError as exc:
            status = type(exc).__name__
            failure = error_from_transport(exc, secrets=self._secrets())
            raise failure from None
        except GraphError as error:
            failure = error
            raise
        finally:
            self._log("GET", _loggable_url(url), status, started)
            _count_request("media_download", started, failure)

    # --- flows --------------------------------------------------------------------------------

    def create_flow(
        self,
        waba_id: str,
        name: str,
        categories: Sequence[str],
        flow_json: str | Mapping[str, Any] | None = None,
        publish: bool = False,
        *,
        endpoint_uri: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "categories": [str(category) for category in categories]}
        if flow_json is not None:
            body["flow_json"] = flow_json if isinstance(flow_json, str) else json.dumps(flow_json)
            body["publish"] = publish
        if endpoint_uri:
            body["endpoint_uri"] = endpoint_uri
        return self._request("POST", f"{waba_id}/flows", json_body=body)

    def upload_flow_json(self, flow_id: str, flow_json: str) -> dict[str, Any]:
        """Replace a draft flow's JSON; Meta answers `{success, validation_errors}`."""
        return self._request(
            "POST",
            f"{flow_id}/assets",
            form={"name": "flow.json", "asset_type": "FLOW_JSON"},
            files={"file": ("flow.json", flow_json.encode(), "application/json")},
        )

    def publish_flow(self, flow_id: str) -> dict[str, Any]:
        return self._request("POST", f"{flow_id}/publish")

    def deprecate_flow(self, flow_id: str) -> dict[str, Any]:
        return self._request("POST", f"{flow_id}/deprecate")

    def delete_flow(self, flow_id: str) -> dict[str, Any]:
        return self._request("DELETE", flow_id)

    def get_flow(self, flow_id: str, fields: Sequence[str] = meta.FLOW_FIELDS) -> dict[str, Any]:
        return self._request("GET", flow_id, params=_fields_param(fields))

    def list_flows(self, waba_id: str, *, fields: Sequence[str] | None = None) -> dict[str, Any]:
        return self._request("GET", f"{waba_id}/flows", params=_fields_param(fields))

    # --- plumbing -----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        extra_headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
    ) -> dict[str, Any]:
        url_path = f"/{self.version}/{path.lstrip('/')}"
        all_secrets = self._secrets(*secrets)
        started = time.monotonic()
        status: int | str = "error"
        outcome: GraphError | None = None
        try:
            # Built here rather than by `Client.request`, whose URL merging and cookie handling
            # cost more CPU than the rest of a send (the worker makes a thousand a second).
            request = httpx.Request(
                method,
                _absolute_url(self.base_url, url_path),
                params=params,
                json=json_body,
                data=form,
                files=files,
                content=content,
                headers=self._headers_with(extra_headers),
                extensions=self._request_extensions,
            )
            response = self._http.send(request)
            status = response.status_code
        except httpx.TransportError as exc:
            status = type(exc).__name__
            outcome = error_from_transport(exc, secrets=all_secrets)
            raise outcome from None
        finally:
            self._log(method, url_path, status, started)
            if outcome is not None:
                _count_request(path, started, outcome)
        try:
            answer = _parse(response, secrets=all_secrets)
        except GraphError as error:
            _count_request(path, started, error)
            raise
        _count_request(path, started, None)
        return answer

    def _headers_with(self, extra: Mapping[str, str] | None) -> httpx.Headers:
        if not extra:
            return self._request_headers
        headers = self._request_headers.copy()
        headers.update(extra)
        return headers

    def _headers(self) -> dict[str, str]:
        if not self._access_token:  # the OAuth code exchange authenticates with the app's secret
            return {"Accept": "application/json"}
        return {"Authorization": f"Bearer {self._access_token}", "Accept": "application/json"}

    def _secrets(self, *extra: str) -> tuple[str, ...]:
        return (self._access_token, *extra)

    def _check_media_host(self, url: str) -> None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host and host == urlsplit(self.base_url).hostname:
            return
        trusted = any(
            host == suffix or host.endswith("." + suffix) for suffix in meta.MEDIA_DOWNLOAD_HOST_SUFFIXES
        )
        if parts.scheme != "https" or not trusted:
            raise ValueError(f"refusing to send the access token to {parts.scheme}://{host}")

    @staticmethod
    def _log(method: str, path: str, status: int | str, started: float) -> None:
        latency_ms = (time.monotonic() - started) * 1000
        logger.debug("graph %s %s -> %s in %.0f ms", method, path, status, latency_ms)


@functools.lru_cache(maxsize=4096)
def _absolute_url(base_url: str, path: str) -> httpx.URL:
    """Parsed once per endpoint (a number's `messages` edge is called for every send)."""
    return httpx.URL(base_url + path)


_ENDPOINT_KIND = re.compile(r"[a-z_]+")


def endpoint_kind(path: str) -> str:
    """The label a request's latency and errors are counted under: the edge it calls
    (`messages`, `message_templates`, `media`...) or `object` for a bare id (`GET /{media_id}`)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last if _ENDPOINT_KIND.fullmatch(last) else "object"


def _count_request(path: str, started: float, error: GraphError | None) -> None:
    """Count one Graph request for `/metrics` (platform_core.counters): its latency by endpoint
    kind and, when it failed, Meta's error code (`transport` when no answer came)."""
    kind = endpoint_kind(path)
    counters.histogram_observe(
        counters.GRAPH_REQUEST_DURATION, time.monotonic() - started, counters.GRAPH_DURATION_BUCKETS, kind=kind
    )
    if error is not None:
        code = error.code or error.http_status or ("transport" if isinstance(error, GraphUnavailable) else "other")
        counters.counter_add(counters.GRAPH_ERRORS, code=code)


def _parse(response: httpx.Response, *, secrets: Sequence[str]) -> dict[str, Any]:
    if not response.is_success:
        raise error_from_response(response, secrets=secrets)
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        raise GraphTransientError(
            "Graph API answered with a body that is not JSON", http_status=response.status_code
        ) from None
    if isinstance(body, dict) and "error" in body:  # an error with a 2xx status
        raise error_from_response(response, secrets=secrets)
    return body if isinstance(body, dict) else {"data": body}


def _iter_pages(fetch: Callable[[str | None], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Items of a cursor-paged Graph edge; stops on an empty page, no `after`, or a repeated cursor."""
    after: str | None = None
    seen_cursors: set[str] = set()
    while True:
        page = fetch(after)
        items = page.get("data") or []
        yield from items
        after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
        if not items or not after or after in seen_cursors:
            return
        seen_cursors.add(after)


def _fields_param(fields: Sequence[str] | None) -> dict[str, str]:
    return {"fields": ",".join(fields)} if fields else {}


def _loggable_url(url: str) -> str:
    """Host and path only: media URLs carry signatures in the query string."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# httpx logs every request URL at INFO, query string included. The query parameters that carry a
# token, an app secret or an OAuth code (debug_token, the code exchange) are redacted there too.
_TOKEN_QUERY_PARAM = re.compile(r"(\b(?:input_token|access_token|client_secret|code)=)[^&\s\"']+")


class _RedactTokenQueryParams(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _TOKEN_QUERY_PARAM.sub(r"\1[redacted]", str(arg)) if isinstance(arg, httpx.URL | str) else arg
                for arg in record.args
            )
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(existing, _RedactTokenQueryParams) for existing in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactTokenQueryParams())
